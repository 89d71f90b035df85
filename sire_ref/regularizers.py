r"""The SIRE (Eq. 4.4) and SUB (Eq. 4.1) regularizers on states, with exact gradients.

Both are Monte-Carlo estimates over an explicit draw from `sire_ref.samples`
(N rows; sums of squares over the H hidden units, mean over rows):

    R_SIRE = 1/N sum_n || f(s_n, x_a, x_c) - f(s_n, x_c, x_a) ||^2,   s_n = f(s_0, x_{S_n})   (4.4)
    R_SUB  = 1/N sum_n || f(s_0, x_{S_n}[p_n]) - f(s_0, x_{S_n}[q_n]) ||^2                     (4.1)

f is the cell's update (Eq. 2.1) and f(s, y_1..y_m) its fold (Eq. 2.2). The
gradient reaches every parameter, s0 included, and flows through the reached
state s_n unless `through_state=False` (then s_n is a constant and only the two
swapped steps are differentiated). With `with_dx=True` the gradient with
respect to x (B, T, I) comes back too, for an encoder in front of the cell.
Both return one shape, a `RegularizerResult(value, grads, dx)` (dx is None unless
with_dx=True).

Batched over rows: the states s_n come from one fold over the gathered subsets
(lengths = |S_n|, 0 allowed), the swaps from four batched steps; the backward pass
is the same chain read in reverse. Inputs are checked once per call; the cell's
unchecked passes do the work. An empty draw (no sequence long enough) gives value 0
with zero gradients.
"""
from typing import NamedTuple, Optional

import numpy as np

from .backend import array_module, scatter_add
from .cells import check_cell
from .samples import check_samples
from .nn.inputs import is_tokens
from .validate import check_inputs


class RegularizerResult(NamedTuple):
    """value: R (a 0-d array); grads: dR/dparams keyed like params; dx: dR/dx (B, T, I) or None."""
    value: object
    grads: dict
    dx: Optional[object] = None


def _setup(cell, params, x, samples, kind, with_dx):
    cell = check_cell(cell)
    I, H, dtype = cell.check_params(params)
    check_inputs(x, "x", ("B", "T"), I, dtype)
    if with_dx and is_tokens(x):
        raise TypeError("with_dx=True needs dense x (B, T, I): integer tokens have no gradient")
    samples = check_samples(samples, kind, x.shape[0], x.shape[1])
    xp = array_module(x)
    grads = {k: xp.zeros_like(v) for k, v in params.items()}
    return cell, samples, xp, grads, (xp.zeros_like(x) if with_dx else None)


def _gather(xp, x, seq, positions):
    """x[seq[n], positions[n, j]] -> (N, max(K, 1), I); padding (-1) reads position 0 (masked later)."""
    if positions.shape[1] == 0:
        positions = np.full((positions.shape[0], 1), -1)
    rows = xp.asarray(np.broadcast_to(seq[:, None], positions.shape))
    cols = xp.asarray(np.maximum(positions, 0))
    return x[rows, cols], (rows, cols)


def _accumulate(total, part):
    for k in part:
        total[k] += part[k]


def sire(cell, params, x, samples, through_state=True, with_dx=False, backend=None):
    """R_SIRE of Eq. 4.4 on the draw `samples` (from sample_sire or enumerate_sire).

    cell: sire_ref.cells.rnn or gru; params: its parameters; x (B, T, I) the batch
    the draw indexes. Returns RegularizerResult(value, grads, dx): grads keyed like
    params, dx (B, T, I) when with_dx=True else None. backend: the fold's compute
    backend (None = the reference; "numba" for the kernels).
    """
    cell, smp, xp, grads, dx = _setup(cell, params, x, samples, "sire", with_dx)
    N = smp["seq"].shape[0]
    if N == 0:
        return RegularizerResult(xp.zeros((), dtype=params["s0"].dtype), grads, dx)
    seq, a, c = smp["seq"], xp.asarray(smp["a"]), xp.asarray(smp["c"])
    # s_n = f(s_0, x_{S_n}): the fold over each ordered subset, |S_n| = 0 leaves s_0.
    x_S, index_S = _gather(xp, x, seq, smp["subset"])
    prefix, prefix_cache = cell.unchecked_forward(params, x_S, smp["size"], backend)
    s = prefix[:, -1]
    seq_x = xp.asarray(seq)
    x_a, x_c = x[seq_x, a], x[seq_x, c]
    u1, cu1 = cell.unchecked_step(params, s, x_a)      # f(s, x_a, x_c)
    u2, cu2 = cell.unchecked_step(params, u1, x_c)
    v1, cv1 = cell.unchecked_step(params, s, x_c)      # f(s, x_c, x_a)
    v2, cv2 = cell.unchecked_step(params, v1, x_a)
    diff = u2 - v2
    value = (diff * diff).sum(axis=1).mean()
    # Backward: dR/du2 = 2 diff / N, dR/dv2 = -2 diff / N, then each branch in reverse.
    g = (2.0 / N) * diff
    g_u2, du1, dx_c_u = cell.unchecked_step_backward(params, cu2, g)
    g_u1, ds_u, dx_a_u = cell.unchecked_step_backward(params, cu1, du1)
    g_v2, dv1, dx_a_v = cell.unchecked_step_backward(params, cv2, -g)
    g_v1, ds_v, dx_c_v = cell.unchecked_step_backward(params, cv1, dv1)
    for part in (g_u2, g_u1, g_v2, g_v1):
        _accumulate(grads, part)
    if with_dx:
        scatter_add(dx, (seq_x, a), dx_a_u + dx_a_v)
        scatter_add(dx, (seq_x, c), dx_c_u + dx_c_v)
    if through_state:
        dprefix = xp.zeros_like(prefix)
        dprefix[:, -1] = ds_u + ds_v           # the prefix's final state is s
        g_prefix, dx_S = cell.unchecked_backward(params, prefix_cache, dprefix)
        _accumulate(grads, g_prefix)
        if with_dx:
            scatter_add(dx, index_S, dx_S)
    return RegularizerResult(value, grads, dx)


def sub(cell, params, x, samples, with_dx=False, backend=None):
    """R_SUB of Eq. 4.1 on the draw `samples` (from sample_sub).

    Both orders x_S[p] and x_S[q] of every row run as one batch of 2N sequences.
    Returns RegularizerResult(value, grads, dx) like `sire`.
    """
    cell, smp, xp, grads, dx = _setup(cell, params, x, samples, "sub", with_dx)
    N = smp["seq"].shape[0]
    if N == 0:
        return RegularizerResult(xp.zeros((), dtype=params["s0"].dtype), grads, dx)
    subset, size = smp["subset"], smp["size"]
    rows = np.arange(N)[:, None]
    orders = [np.where(perm >= 0, subset[rows, np.maximum(perm, 0)], -1) for perm in (smp["p"], smp["q"])]
    x_pq, (seq_idx, pos_idx) = _gather(xp, x, np.concatenate([smp["seq"]] * 2),
                                       np.concatenate(orders))
    states, cache = cell.unchecked_forward(params, x_pq, np.concatenate([size, size]), backend)
    diff = states[:N, -1] - states[N:, -1]
    value = (diff * diff).sum(axis=1).mean()
    dstates = xp.zeros_like(states)
    dstates[:N, -1] = (2.0 / N) * diff
    dstates[N:, -1] = (-2.0 / N) * diff
    g, dx_pq = cell.unchecked_backward(params, cache, dstates)
    _accumulate(grads, g)
    if with_dx:
        scatter_add(dx, (seq_idx, pos_idx), dx_pq)
    return RegularizerResult(value, grads, dx)
