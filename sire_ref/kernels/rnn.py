r"""numba fast path of the tanh RNN (same math as sire_ref.cells.rnn, time-major inside).

Only the recurrence runs step by step: the input projection x W_ih^T + b_ih + b_hh, and in
backward dW_ih, dW_hh, db and dx, are single large matrix products over all (t, b) at
once. In the time loop, s W_hh^T and da W_hh call BLAS (np.dot inside the jitted
function) and the elementwise work is fused in numba (kernels.mathfn.tanh).

forward:  a_t = xw_t + s_{t-1} W_hh^T;  s_t = tanh(a_t) where t < length, else s_{t-1}
backward: ds += dstates_t;  da_t = [t < length] ds (1 - s_t^2);  ds = da_t W_hh (active rows)
"""
import numpy as np
from numba import njit

from .mathfn import tanh


@njit(error_model="numpy", cache=True)
def _forward(xw, w_hh_t, s0, lengths, states):
    T, B, H = xw.shape
    s = np.empty((B, H), xw.dtype)
    for b in range(B):
        s[b] = s0
    a = np.empty((B, H), xw.dtype)
    s_new = np.empty((B, H), xw.dtype)
    q, bits = np.empty(B * H), np.empty(B * H, np.int64)
    for t in range(T):
        np.dot(s, w_hh_t, a)
        a += xw[t]
        tanh(a.reshape(B * H), s_new.reshape(B * H), q, bits)
        for b in range(B):
            if t < lengths[b]:
                s[b] = s_new[b]
        states[t] = s


@njit(error_model="numpy", cache=True)
def _backward(states, lengths, dstates, w_hh, da_all):
    T, B, H = states.shape
    ds = np.zeros((B, H), states.dtype)
    da = np.empty((B, H), states.dtype)
    back = np.empty((B, H), states.dtype)
    for t in range(T - 1, -1, -1):
        ds += dstates[t]
        for b in range(B):
            active = t < lengths[b]
            for h in range(H):
                st = states[t, b, h]
                da[b, h] = ds[b, h] * (1 - st * st) if active else 0.0
        da_all[t] = da
        np.dot(da, w_hh, back)
        for b in range(B):
            if t < lengths[b]:
                ds[b] = back[b]
    return ds


def forward(params, x, lengths):
    """x (B, T, I), lengths (B,) host ints -> (states (B, T, H), cache)."""
    B, T, _ = x.shape
    x_tm = np.ascontiguousarray(x.transpose(1, 0, 2))
    xw = x_tm @ params["weight_ih"].T + (params["bias_ih"] + params["bias_hh"])
    states = np.empty((T, B, params["s0"].shape[0]), x.dtype)
    _forward(xw, np.ascontiguousarray(params["weight_hh"].T), params["s0"], lengths, states)
    return states.transpose(1, 0, 2), {"x_tm": x_tm, "states_tm": states, "lengths": lengths}


def backward(params, cache, dstates):
    """dstates (B, T, H) -> (grads keyed like params, dx (B, T, I))."""
    x_tm, states, lengths = cache["x_tm"], cache["states_tm"], cache["lengths"]
    T, B, H = states.shape
    da = np.empty_like(states)
    ds0 = _backward(states, lengths, np.ascontiguousarray(dstates.transpose(1, 0, 2)),
                    np.ascontiguousarray(params["weight_hh"]), da)
    prev = np.concatenate([np.broadcast_to(params["s0"], (1, B, H)), states[:-1]])
    da2 = da.reshape(T * B, H)
    db = da2.sum(axis=0)
    grads = {"weight_ih": da2.T @ x_tm.reshape(T * B, -1), "weight_hh": da2.T @ prev.reshape(T * B, H),
             "bias_ih": db, "bias_hh": db.copy(), "s0": ds0.sum(axis=0)}
    return grads, (da @ params["weight_ih"]).transpose(1, 0, 2)
