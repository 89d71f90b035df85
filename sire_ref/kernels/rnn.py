r"""numba fast path of the tanh RNN: the math of sire_ref.cells.rnn in two jitted calls.

Time-major inside. Only the recurrence runs step by step; the input projection
x W_ih^T + b_ih + b_hh and, in backward, dW_ih, dW_hh, db and dx are each one large
matrix product over all (t, b). BLAS does every product (np.dot inside the jitted
code); the elementwise work is fused loops (kernels.mathfn.tanh vectorizes).

forward:  a_t = xw_t + s_{t-1} W_hh^T;  s_t = tanh(a_t) where t < length, else s_{t-1}
backward: ds += dstates_t;  da_t = [t < length] ds (1 - s_t^2);  ds = da_t W_hh (active rows);
          dW_ih = sum_t da_t^T x_t;  dW_hh = sum_t da_t^T s_{t-1};  db = sum da;  dx_t = da_t W_ih
"""
import numpy as np
from numba import njit

from .layout import dw_hh, from_time_major, to_time_major
from .mathfn import tanh


@njit(error_model="numpy", cache=True)
def _forward(x, w_ih, bias, w_hh, s0, lengths, x_tm, xw, states):
    B, T, I = x.shape
    H = s0.shape[0]
    to_time_major(x, x_tm)
    np.dot(x_tm.reshape(T * B, I), w_ih.T, xw.reshape(T * B, H))
    s = np.empty((B, H), x.dtype)
    for b in range(B):
        s[b] = s0
    a, s_new = np.empty((B, H), x.dtype), np.empty((B, H), x.dtype)
    q, bits = np.empty(B * H), np.empty(B * H, np.int64)
    w_hh_t = np.ascontiguousarray(w_hh.T)
    for t in range(T):
        np.dot(s, w_hh_t, a)
        for b in range(B):
            for h in range(H):
                a[b, h] += xw[t, b, h] + bias[h]
        tanh(a.reshape(B * H), s_new.reshape(B * H), q, bits)
        for b in range(B):
            if t < lengths[b]:
                s[b] = s_new[b]
        states[t] = s


@njit(error_model="numpy", cache=True)
def _backward(x_tm, states, s0, lengths, dstates, w_ih, w_hh, da_all):
    T, B, H = states.shape
    ds = np.zeros((B, H), states.dtype)
    back = np.empty((B, H), states.dtype)
    for t in range(T - 1, -1, -1):
        for b in range(B):
            active = t < lengths[b]
            for h in range(H):
                ds[b, h] += dstates[b, t, h]
                st = states[t, b, h]
                da_all[t, b, h] = ds[b, h] * (1 - st * st) if active else 0.0
        np.dot(da_all[t], w_hh, back)
        for b in range(B):
            if t < lengths[b]:
                ds[b] = back[b]
    da = da_all.reshape(T * B, H)
    d_w_ih = np.dot(da.T, x_tm.reshape(T * B, x_tm.shape[2]))
    d_w_hh = dw_hh(da_all, states, s0, 0)
    ones = np.ones(T * B, states.dtype)     # column sums as BLAS gemv: numba's sum(axis=0) is slow
    dx = from_time_major(np.dot(da, w_ih).reshape(T, B, w_ih.shape[1]))
    return d_w_ih, d_w_hh, np.dot(ones, da), np.dot(ones[:B], ds), dx


def forward(params, x, lengths):
    """x (B, T, I), lengths (B,) host ints -> (states (B, T, H), cache).

    The large buffers are allocated here by NumPy (huge pages: cheaper first touch than
    numba's allocator), then filled by the jitted code.
    """
    B, T, I = x.shape
    H = params["s0"].shape[0]
    x_tm = np.empty((T, B, I), x.dtype)
    xw, states = np.empty((T, B, H), x.dtype), np.empty((T, B, H), x.dtype)
    _forward(x, params["weight_ih"], params["bias_ih"] + params["bias_hh"], params["weight_hh"],
             params["s0"], lengths, x_tm, xw, states)
    return states.transpose(1, 0, 2), {"x_tm": x_tm, "states_tm": states, "lengths": lengths}


def backward(params, cache, dstates):
    """dstates (B, T, H) -> (grads keyed like params, dx (B, T, I))."""
    states = cache["states_tm"]
    d_w_ih, d_w_hh, db, ds0, dx = _backward(cache["x_tm"], states, params["s0"], cache["lengths"],
                                            dstates, params["weight_ih"], params["weight_hh"],
                                            np.empty_like(states))
    return {"weight_ih": d_w_ih, "weight_hh": d_w_hh, "bias_ih": db, "bias_hh": db.copy(), "s0": ds0}, dx
