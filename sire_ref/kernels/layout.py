"""Layout helpers for the jitted kernels: (B, T, ...) <-> time-major (T, B, ...) copies."""
import numpy as np
from numba import njit


@njit(cache=True)
def to_time_major(x, out):
    """Copy (B, T, I) into the contiguous (T, B, I) array out."""
    B, T, I = x.shape
    for b in range(B):
        for t in range(T):
            out[t, b] = x[b, t]


@njit(cache=True)
def from_time_major(y):
    """(T, B, I) -> contiguous (B, T, I)."""
    T, B, I = y.shape
    out = np.empty((B, T, I), y.dtype)
    for b in range(B):
        for t in range(T):
            out[b, t] = y[t, b]
    return out


@njit(cache=True)
def dw_hh(d_all, states, s0):
    """sum_t d_t^T s_{t-1} with s_{-1} = s0: d_all (T, B, G*H), states (T, B, H) -> (G*H, H).

    Two BLAS products on views (steps 1..T-1 against states 0..T-2, then step 0 against s0),
    so no shifted copy of the states is made.
    """
    T, B, GH = d_all.shape
    H = states.shape[2]
    out = np.outer(d_all[0].sum(axis=0), s0)
    if T > 1:
        out += np.dot(d_all[1:].reshape((T - 1) * B, GH).T, states[:-1].reshape((T - 1) * B, H))
    return out
