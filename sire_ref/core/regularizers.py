r"""The SIRE (Eq. 4.4) and SUB (Eq. 4.1) regularizers on states, with exact gradients.

Both are Monte-Carlo estimates over an explicit draw from `sire_ref.core.samples`
(N rows; sums of squares over the H hidden units, mean over rows):

\[ R_{\mathrm{SIRE}} = \frac{1}{N} \sum_{n=1}^{N} \lVert f(s_n, x_{a_n}, x_{c_n}) - f(s_n, x_{c_n}, x_{a_n}) \rVert^2 \qquad (4.4) \]

where \( s_n = f(s_0, x_{S_n}) \) is a state reached from the data, and

\[ R_{\mathrm{SUB}} = \frac{1}{N} \sum_{n=1}^{N} \lVert f(s_0, x_{S_n}[p_n]) - f(s_0, x_{S_n}[q_n]) \rVert^2 \qquad (4.1) \]

f is the cell's update (Eq. 2.1) and f(s, y_1..y_m) its fold (Eq. 2.2). The
gradient reaches every parameter, s0 included, and flows through the reached
state s_n unless `through_state=False` (then s_n is a constant and only the two
swapped steps are differentiated). With `with_dx=True` the gradient with
respect to x (B, T, I) comes back too, for an encoder in front of the cell.
Both return one shape, a `RegularizerResult(value, grads, dx)` (dx is None unless
with_dx=True).

Batched over rows: the states s_n come from one fold over the gathered subsets
(lengths = |S_n|, 0 allowed), the swaps from one two-step fold of 2N rows that start
from their own states [s_n; s_n] (cell.unchecked_forward's `initial`); the backward pass
is the same chain read in reverse. Inputs are checked once per call; the cell's
unchecked passes do the work. An empty draw (no sequence long enough) gives value 0
with zero gradients.
"""
import dataclasses
from typing import Optional

import numpy as np

from ..base.backend import array_module, resolve, scatter_add
from ..base.validate import check_array, check_inputs
from ..nn.inputs import is_tokens
from .cells import check_cell
from .samples import check_samples


@dataclasses.dataclass(frozen=True)
class RegularizerResult:
    """value: R (a 0-d array); grads: dR/dparams keyed like params; dx: dR/dx (B, T, I) or None;
    dstates: dR/dstates (B, T, H) on the caller's states, which the caller backpropagates through
    its own forward pass (`sire_from_states`, and a model's regularizer on that path), else None.
    As a sequence it is `(value, grads, dx)`, as before dstates joined it: `value, grads, dx = sire(...)`
    and `sire(...)[0]` work; dstates is read by name."""
    value: object
    grads: dict
    dx: Optional[object] = None
    dstates: Optional[object] = None

    def __getitem__(self, index):                 # unpacking and indexing (the sequence protocol)
        return (self.value, self.grads, self.dx)[index]


def _setup(cell, params, x, samples, lengths, reg, with_dx, backend):
    cell = check_cell(cell)
    I, H, dtype = cell.check_params(params)
    check_inputs(x, "x", ("B", "T"), I, dtype)
    resolve(backend, x)                # a bad backend is refused even when the draw is empty
    if with_dx and is_tokens(x):
        raise TypeError("with_dx=True needs dense x (B, T, I): integer tokens have no gradient")
    samples = check_samples(samples, reg, x.shape[0], x.shape[1], lengths)
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


def _swap_terms(cell, params, x, s, smp, grads, dx, backend):
    """sum_n ||f(s_n, x_a, x_c) - f(s_n, x_c, x_a)||^2 / N and its backward (Eq. 4.4 given s), with
    seq, a, c of the draw smp.

    Both orders run as one two-step fold of 2N rows from their own initial states [s; s]
    over the inputs [x_a, x_c; x_c, x_a]. Adds the weights' gradients into grads (and dx
    when not None); returns (value, ds (N, H)).
    """
    xp = array_module(s)
    N = s.shape[0]
    seq, a, c = smp["seq"], smp["a"], smp["c"]
    seq2, first, second = np.concatenate([seq, seq]), np.concatenate([a, c]), np.concatenate([c, a])
    pairs, (rows, cols) = _gather(xp, x, seq2, np.stack([first, second], axis=1))
    states, cache = cell.unchecked_forward(params, pairs, np.full(2 * N, 2), backend,
                                           initial=xp.concatenate([s, s]))
    diff = states[:N, -1] - states[N:, -1]           # f(s, x_a, x_c) - f(s, x_c, x_a)
    value = (diff * diff).sum(axis=1).mean()
    dstates = xp.zeros_like(states)                  # dR/du2 = 2 diff / N, dR/dv2 = -2 diff / N
    dstates[:N, -1] = (2.0 / N) * diff
    dstates[N:, -1] = (-2.0 / N) * diff
    g, d_pairs, ds_initial = cell.unchecked_backward_rows(params, cache, dstates)
    _accumulate(grads, g)
    if dx is not None:
        scatter_add(dx, (rows, cols), d_pairs)
    return value, ds_initial[:N] + ds_initial[N:]


def sire(cell, params, x, samples, lengths=None, through_state=True, with_dx=False, backend=None):
    """R_SIRE of Eq. 4.4 on the draw `samples` (from sample_sire or enumerate_sire).

    cell: sire_ref.core.cells.rnn or gru; params: its parameters; x (B, T, I) the batch the
    draw indexes (or integer tokens (B, T), read as one-hot rows); lengths (B,): the batch's
    lengths, which must be those the draw was made for (None: all T). Returns
    RegularizerResult(value, grads, dx): grads keyed like params, dx (B, T, I) when
    with_dx=True else None. backend: the fold's compute backend (None = the reference;
    "numba" for the kernels).
    """
    cell, smp, xp, grads, dx = _setup(cell, params, x, samples, lengths, "sire", with_dx, backend)
    N = smp["seq"].shape[0]
    if N == 0:
        return RegularizerResult(xp.zeros((), dtype=params["s0"].dtype), grads, dx)
    # s_n = f(s_0, x_{S_n}): the fold over each ordered subset, |S_n| = 0 leaves s_0.
    x_S, index_S = _gather(xp, x, smp["seq"], smp["subset"])
    prefix, prefix_cache = cell.unchecked_forward(params, x_S, smp["size"], backend)
    value, ds = _swap_terms(cell, params, x, prefix[:, -1], smp, grads, dx, backend)
    if through_state:
        dprefix = xp.zeros_like(prefix)
        dprefix[:, -1] = ds                    # the prefix's final state is s
        g_prefix, dx_S = cell.unchecked_backward(params, prefix_cache, dprefix)
        _accumulate(grads, g_prefix)
        if with_dx:
            scatter_add(dx, index_S, dx_S)
    return RegularizerResult(value, grads, dx)


def sire_from_states(cell, params, x, states, samples, lengths=None, with_dx=False, backend=None):
    """R_SIRE of Eq. 4.4 for a "prefix" draw, reading s from the forward pass's own states.

    With S_n = (0, ..., t-1) the reached state f(s_0, x_0..x_{t-1}) IS states[seq_n, t-1]
    of `cell.forward(params, x)` (s_0 when t = 0), so no second fold is run: only the
    swapped pairs are new work. states (B, T, H): that forward pass's states. Returns
    RegularizerResult(value, grads, dx, dstates): the same value and gradient as `sire`
    once dstates (B, T, H), the gradient on `states`, is backpropagated through that
    forward pass (the caller adds it to its own dstates before its backward).
    """
    cell, smp, xp, grads, dx = _setup(cell, params, x, samples, lengths, "sire", with_dx, backend)
    prefix_rows = np.arange(smp["subset"].shape[1])[None, :] < smp["size"][:, None]
    if not np.array_equal(np.where(prefix_rows, smp["subset"], -1),
                          np.where(prefix_rows, np.arange(smp["subset"].shape[1])[None, :], -1)) or \
            not (np.array_equal(smp["a"], smp["size"]) and np.array_equal(smp["c"], smp["size"] + 1)):
        raise ValueError('samples must be a "prefix" draw (S = 0..t-1, a = t, c = t + 1) to read s '
                         'from the forward states; use sire() for other draws')
    check_array(states, "states", shape=(x.shape[0], x.shape[1], params["s0"].shape[0]),
                dtype=params["s0"].dtype)
    dstates = xp.zeros_like(states)
    N = smp["seq"].shape[0]
    if N == 0:
        return RegularizerResult(xp.zeros((), dtype=params["s0"].dtype), grads, dx, dstates)
    seq, size = xp.asarray(smp["seq"]), xp.asarray(smp["size"])
    reached = xp.asarray(smp["size"] > 0)[:, None]
    s = xp.where(reached, states[seq, xp.maximum(size - 1, 0)], params["s0"])
    value, ds = _swap_terms(cell, params, x, s, smp, grads, dx, backend)
    scatter_add(dstates, (seq, xp.maximum(size - 1, 0)), xp.where(reached, ds, 0))
    grads["s0"] += xp.where(reached, 0, ds).sum(axis=0)
    return RegularizerResult(value, grads, dx, dstates)


def sub(cell, params, x, samples, lengths=None, with_dx=False, backend=None):
    """R_SUB of Eq. 4.1 on the draw `samples` (from sample_sub), for a batch x with `lengths`.

    Both orders x_S[p] and x_S[q] of every row run as one batch of 2N sequences.
    Returns RegularizerResult(value, grads, dx) like `sire`.
    """
    cell, smp, xp, grads, dx = _setup(cell, params, x, samples, lengths, "sub", with_dx, backend)
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
