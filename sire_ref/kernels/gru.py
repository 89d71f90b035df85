r"""numba fast path of the GRU (same math as sire_ref.cells.gru, time-major inside).

gi = x W_ih^T + b_ih for all steps is one matrix product; in the loop gh = s W_hh^T + b_hh
calls BLAS and the gates are fused elementwise loops (kernels.mathfn). Backward keeps
dgi_t and dgh_t for every step, so dW_ih, dW_hh, the biases and dx are again single
products after the loop; only ds_{t-1} = ds_t z + dgh_t W_hh is sequential.
Symbols as in cells/gru.py: r, z, n, gh_n = W_hn s + b_hn.
"""
import numpy as np
from numba import njit

from .mathfn import sigmoid, tanh


@njit(error_model="numpy", cache=True)
def _forward(gi, w_hh_t, b_hh, s0, lengths, states, r_all, z_all, n_all, ghn_all):
    T, B, H3 = gi.shape
    H = H3 // 3
    n_el = B * H
    s = np.empty((B, H), gi.dtype)
    for b in range(B):
        s[b] = s0
    gh = np.empty((B, H3), gi.dtype)
    pre = np.empty((3, B, H), gi.dtype)
    pre_r, pre_z, pre_n = pre[0], pre[1], pre[2]
    gates = np.empty((3, B, H), gi.dtype)
    r, z, n = gates[0], gates[1], gates[2]
    q, bits = np.empty(n_el), np.empty(n_el, np.int64)
    for t in range(T):
        np.dot(s, w_hh_t, gh)
        for b in range(B):
            for h in range(H):
                pre_r[b, h] = gi[t, b, h] + gh[b, h] + b_hh[h]
                pre_z[b, h] = gi[t, b, H + h] + gh[b, H + h] + b_hh[H + h]
        sigmoid(pre_r.reshape(n_el), r.reshape(n_el), q, bits)
        sigmoid(pre_z.reshape(n_el), z.reshape(n_el), q, bits)
        for b in range(B):
            for h in range(H):
                ghn = gh[b, 2 * H + h] + b_hh[2 * H + h]
                ghn_all[t, b, h] = ghn
                pre_n[b, h] = gi[t, b, 2 * H + h] + r[b, h] * ghn
        tanh(pre_n.reshape(n_el), n.reshape(n_el), q, bits)
        for b in range(B):
            if t < lengths[b]:
                for h in range(H):
                    s[b, h] = (1 - z[b, h]) * n[b, h] + z[b, h] * s[b, h]
        states[t] = s
        r_all[t], z_all[t], n_all[t] = r, z, n


@njit(error_model="numpy", cache=True)
def _backward(states, s0, lengths, dstates, w_hh, r_all, z_all, n_all, ghn_all, dgi_all, dgh_all):
    T, B, H = states.shape
    ds = np.zeros((B, H), states.dtype)
    dgh = np.empty((B, 3 * H), states.dtype)
    back = np.empty((B, H), states.dtype)
    for t in range(T - 1, -1, -1):
        ds += dstates[t]
        for b in range(B):
            active = t < lengths[b]
            for h in range(H):
                g = ds[b, h] if active else 0.0
                r, z, n = r_all[t, b, h], z_all[t, b, h], n_all[t, b, h]
                s_prev = states[t - 1, b, h] if t > 0 else s0[h]
                dan = g * (1 - z) * (1 - n * n)
                dar = dan * ghn_all[t, b, h] * r * (1 - r)
                daz = g * (s_prev - n) * z * (1 - z)
                dgi_all[t, b, h], dgi_all[t, b, H + h], dgi_all[t, b, 2 * H + h] = dar, daz, dan
                dgh[b, h], dgh[b, H + h], dgh[b, 2 * H + h] = dar, daz, dan * r
        dgh_all[t] = dgh
        np.dot(dgh, w_hh, back)
        for b in range(B):
            if t < lengths[b]:
                for h in range(H):
                    ds[b, h] = ds[b, h] * z_all[t, b, h] + back[b, h]
    return ds


def forward(params, x, lengths):
    """x (B, T, I), lengths (B,) host ints -> (states (B, T, H), cache)."""
    B, T, _ = x.shape
    H = params["s0"].shape[0]
    x_tm = np.ascontiguousarray(x.transpose(1, 0, 2))
    gi = x_tm @ params["weight_ih"].T + params["bias_ih"]
    states, r, z, n, ghn = (np.empty((T, B, H), x.dtype) for _ in range(5))
    _forward(gi, np.ascontiguousarray(params["weight_hh"].T), params["bias_hh"], params["s0"], lengths,
             states, r, z, n, ghn)
    cache = {"x_tm": x_tm, "states_tm": states, "lengths": lengths, "r": r, "z": z, "n": n, "ghn": ghn}
    return states.transpose(1, 0, 2), cache


def backward(params, cache, dstates):
    """dstates (B, T, H) -> (grads keyed like params, dx (B, T, I))."""
    x_tm, states = cache["x_tm"], cache["states_tm"]
    T, B, H = states.shape
    dgi = np.empty((T, B, 3 * H), states.dtype)
    dgh = np.empty((T, B, 3 * H), states.dtype)
    ds0 = _backward(states, params["s0"], cache["lengths"],
                    np.ascontiguousarray(dstates.transpose(1, 0, 2)),
                    np.ascontiguousarray(params["weight_hh"]), cache["r"], cache["z"], cache["n"],
                    cache["ghn"], dgi, dgh)
    prev = np.concatenate([np.broadcast_to(params["s0"], (1, B, H)), states[:-1]])
    dgi2, dgh2 = dgi.reshape(T * B, 3 * H), dgh.reshape(T * B, 3 * H)
    grads = {"weight_ih": dgi2.T @ x_tm.reshape(T * B, -1), "weight_hh": dgh2.T @ prev.reshape(T * B, H),
             "bias_ih": dgi2.sum(axis=0), "bias_hh": dgh2.sum(axis=0), "s0": ds0.sum(axis=0)}
    return grads, (dgi @ params["weight_ih"]).transpose(1, 0, 2)
