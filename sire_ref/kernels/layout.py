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
def dw_hh(d, states, s0, t):
    """sum_k d_k^T s_{k-1} over the n steps k = t..t+n-1 whose d_k are in d (n, B, G*H), with
    states (T, B, H) and s_{-1} = s0 -> (G*H, H).

    BLAS products on views of the states (no shifted copy is made); step 0 pairs with s0.
    """
    n, B, GH = d.shape
    H = states.shape[2]
    if t > 0:
        return np.dot(d.reshape(n * B, GH).T, states[t - 1:t - 1 + n].reshape(n * B, H))
    out = np.outer(d[0].sum(axis=0), s0)
    if n > 1:
        out += np.dot(d[1:].reshape((n - 1) * B, GH).T, states[:n - 1].reshape((n - 1) * B, H))
    return out
