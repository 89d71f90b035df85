"""Layout helpers for the jitted kernels: the small named tuples they take, time-major (T, B, ...)
copies, and the input projection x_t W^T of a group of steps for dense inputs or integer tokens
(nn.inputs)."""
from collections import namedtuple

import numpy as np
from numba import njit

from ..nn.inputs import is_tokens

Inputs = namedtuple("Inputs", "x_tm tok_tm")                  # dense (T, B, I) or tokens (T, B): the other empty
Weights = namedtuple("Weights", "w_ih b_ih w_hh b_hh")          # a cell's params (G H, I), (G H,), (G H, H), (G H,)


def time_major_inputs(x, dtype, order=None):
    """Inputs(x_tm (T, B, I), tok_tm (T, B)) with the unused one empty: dense x or integer tokens;
    with order (B,) the rows x[order] (the same one copy)."""
    if is_tokens(x):
        tok = x.T if order is None else x.T[:, order]
        return Inputs(np.empty((0, 0, 0), dtype), np.ascontiguousarray(tok, dtype=np.int64))
    x_tm = x.transpose(1, 0, 2)
    return Inputs(np.ascontiguousarray(x_tm if order is None else x_tm[:, order]), np.empty((0, 0), np.int64))


def longest_first(lengths):
    """None when lengths (B,) never increase (every step's live rows, t < length, are then the
    leading ones: `live_rows`), else the stable order that sorts them so. The kernels run on rows
    in this order, so that each step's products and gate loops skip the rows that have ended: a
    padded batch of random lengths (the regularizers' subsets) is about half padding."""
    if lengths.size < 2 or bool(np.all(lengths[:-1] >= lengths[1:])):
        return None
    return np.argsort(-lengths, kind="stable")


def kernel_batch(x, lengths, s_init, dtype):
    """The kernels' view of a batch -> (order, Inputs, lengths, s_init): its rows longest first
    when lengths (B,) are unequal (order from `longest_first`), else as given (order None)."""
    order = longest_first(lengths)
    if order is not None:
        lengths, s_init = lengths[order], np.ascontiguousarray(s_init[order])
    return order, time_major_inputs(x, dtype, order), lengths, s_init


def rows_of(order, B):
    """The caller's row of each kernel row: order, or 0..B-1 when the rows were not reordered."""
    return np.arange(B) if order is None else order


def caller_rows(a, order, axis=0):
    """a with its kernel-ordered rows (along axis) put back in the caller's order."""
    if order is None:
        return a
    back = np.empty_like(order)
    back[order] = np.arange(order.size)
    return np.take(a, back, axis=axis)


@njit(cache=True)
def live_rows(lengths, t):
    """How many leading rows are live at step t (t < length) for non-increasing lengths."""
    n = lengths.shape[0]
    while n > 0 and lengths[n - 1] <= t:
        n -= 1
    return n


def weights(params):
    """The cell's params as the kernels' Weights."""
    return Weights(params["weight_ih"], params["bias_ih"], params["weight_hh"], params["bias_hh"])


@njit(cache=True)
def project_steps(inputs, w_t, t, n, out):
    """out[k] = x_{t+k} W^T for k < n: one product for dense inputs, a row gather of
    w_t = W^T (I, G*H) for tokens."""
    x_tm, tok_tm = inputs
    B, GH = out.shape[1], out.shape[2]
    if tok_tm.shape[0] > 0:
        for k in range(n):
            for b in range(B):
                row, src = out[k, b], w_t[tok_tm[t + k, b]]
                for j in range(GH):                      # an explicit loop: a row assignment is 5x slower
                    row[j] = src[j]
    else:
        np.dot(x_tm[t:t + n].reshape(n * B, x_tm.shape[2]), w_t, out[:n].reshape(n * B, GH))


@njit(cache=True)
def project_steps_backward(d, inputs, w, t, n, d_w_t, dx_tm):
    """For steps t..t+n-1 with upstream d[:n] (n, B, G*H): d_w_t (I, G*H) += their dW^T, and
    dx_tm[t:t+n] = d W for dense inputs; tokens scatter-add d by token and have no dx."""
    x_tm, tok_tm = inputs
    B, GH = d.shape[1], d.shape[2]
    if tok_tm.shape[0] > 0:
        for k in range(n):
            for b in range(B):
                row, src = d_w_t[tok_tm[t + k, b]], d[k, b]
                for j in range(GH):
                    row[j] += src[j]
    else:
        I = x_tm.shape[2]
        blk = d[:n].reshape(n * B, GH)
        d_w_t += np.dot(x_tm[t:t + n].reshape(n * B, I).T, blk)
        dx_tm[t:t + n] = np.dot(blk, w).reshape(n, B, I)


def from_time_major(y):
    """(T, B, I) -> contiguous (B, T, I) (NumPy's strided copy: faster than a jitted loop, 7x than
    numba's row assignments)."""
    return np.ascontiguousarray(y.transpose(1, 0, 2))


@njit(cache=True)
def dw_hh(d, states, s_init, t):
    """sum_k d_k^T s_{k-1} over the n steps k = t..t+n-1 whose d_k are in d (n, B, G*H), with
    states (T, B, H) and s_{-1} = s_init (B, H), each row's initial state -> (G*H, H).

    BLAS products on views of the states (no shifted copy is made); step 0 pairs with s_init.
    """
    n, B, GH = d.shape
    H = states.shape[2]
    if t > 0:
        return np.dot(d.reshape(n * B, GH).T, states[t - 1:t - 1 + n].reshape(n * B, H))
    out = np.dot(d[0].T, s_init)
    if n > 1:
        out += np.dot(d[1:].reshape((n - 1) * B, GH).T, states[:n - 1].reshape((n - 1) * B, H))
    return out
