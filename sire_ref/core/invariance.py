r"""Exhaustive invariance checks on small data: Definitions 2-3, Theorem 5, Lemma 6, Corollary 7.

Everything here takes a generic batched update `update(s, x) -> s_next` with
s (N, H) and x (N, I), so the same code checks our cells (`cell_update`) and
hand-built models (additive, max-aggregator, the parity RNN of Eq. 3.2).
Data are a padded batch x (B, T, I) with lengths (B,), as everywhere else.

Notation as in the paper: f(s, y_1..y_m) is the fold of Eq. 2.2; the states
reachable from the data (Definition 3) are f(s_0, x_S) over ordered subsets S of
a sequence's positions; the swap gap of a reachable s and a pair (a, c) is

\[ \delta = \lVert f(s, x_a, x_c) - f(s, x_c, x_a) \rVert \]

(the root of one SIRE term, Eq. 4.4).
"""
import itertools

import numpy as np

from .samples import enumerate_sire


def cell_update(cell, params):
    """The update f of a cell module (rnn or gru) with fixed params, as update(s, x) -> s_next."""
    return lambda s, x: cell.step(params, s, x)[0]


def fold(update, s, xs):
    """f(s, xs[:, 0], ..., xs[:, m-1]) for a batch: s (N, H), xs (N, m, I) -> (N, H)."""
    for t in range(xs.shape[1]):
        s = update(s, xs[:, t])
    return s


def _start(s0, n):
    return np.broadcast_to(np.asarray(s0), (n, np.asarray(s0).shape[0]))


def swap_gaps(update, s0, x, draw):
    """The swap gap || f(s, x_a, x_c) - f(s, x_c, x_a) || of every row of a SIRE draw (N,), with
    s = f(s_0, x[b, S]) (samples.sample_sire or enumerate_sire); the mean of their squares is
    R_SIRE of Eq. 4.4 on that draw. Rows are folded together by subset size."""
    gaps = np.zeros(draw["seq"].shape[0])
    for m in np.unique(draw["size"]):
        rows = np.flatnonzero(draw["size"] == m)
        b = draw["seq"][rows]
        s = fold(update, _start(s0, rows.size), x[b[:, None], draw["subset"][rows, :m]])
        ac = np.stack([draw["a"][rows], draw["c"][rows]], axis=1)
        d = fold(update, s, x[b[:, None], ac]) - fold(update, s, x[b[:, None], ac[:, ::-1]])
        gaps[rows] = np.linalg.norm(d.reshape(rows.size, -1), axis=1)
    return gaps


def pair_gaps(update, s0, x, lengths):
    """Swap gaps over EVERY reachable state and pair of the data (Theorem 5's condition, Eq. 4.2).

    Returns (gaps (N,), draw) where draw = enumerate_sire(lengths) names each row
    (sequence, ordered subset S, positions a < c outside S). Theorem 5: all gaps
    zero implies subset-permutation invariance (Definition 2).
    """
    draw = enumerate_sire(lengths)
    return swap_gaps(update, s0, x, draw), draw


def permutation_gaps(update, s0, x, lengths, min_size=2):
    """Definition 2 checked exhaustively: for every sequence b and every subset U of its positions
    (|U| >= min_size), the largest || f(s_0, x_U[pi]) - f(s_0, x_U) || over all orders pi of U.

    Returns a list of (b, U, gap, worst_order). Grows like L! per sequence: small data only.
    """
    out = []
    for b, L in enumerate(np.asarray(lengths).tolist()):
        for m in range(min_size, L + 1):
            for U in itertools.combinations(range(L), m):
                orders = np.array(list(itertools.permutations(U)))
                final = fold(update, _start(s0, len(orders)), x[b][orders])
                dist = np.linalg.norm(final - final[0], axis=1)  # orders[0] is U itself
                out.append((b, U, float(dist.max()), tuple(orders[dist.argmax()])))
    return out


def adjacent_swap_bound(update, s0, ys, order, lipschitz):
    r"""A quantitative Lemma 6 / Corollary 7 (beyond the paper): how far one order can drift.

    Sort `order` (a permutation of 0..m-1) into the identity by adjacent swaps
    (bubble sort). Swap j exchanges the entries at positions i_j, i_j + 1 of the
    current order y^(j); the state before it, s_j = f(s_0, y^(j)_1..y^(j)_{i_j}), is
    reachable, and its swap gap delta_j then travels through m - i_j - 2 more steps,
    each of which stretches distances by at most L (the Lipschitz constant of
    s -> f(s, x) in the 2-norm on the states involved). The triangle inequality gives

        || f(s_0, ys[order]) - f(s_0, ys) ||  <=  sum_j  L^(m - i_j - 2) * delta_j.

    ys (m, I); returns (gap, bound). With every delta_j = 0 this is Lemma 6 again.
    """
    cur, m = list(order), len(order)
    bound = 0.0
    for _ in range(m * m):                       # bubble sort finishes within m^2 swaps
        i = next((k for k in range(m - 1) if cur[k] > cur[k + 1]), None)
        if i is None:
            break
        s = fold(update, _start(s0, 1), ys[None, cur[:i]])
        pair = ys[None, [cur[i], cur[i + 1]]]
        delta = np.linalg.norm(fold(update, s, pair) - fold(update, s, pair[:, ::-1]))
        bound += lipschitz ** (m - i - 2) * delta
        cur[i], cur[i + 1] = cur[i + 1], cur[i]
    start = _start(s0, 1)
    gap = np.linalg.norm(fold(update, start, ys[None, list(order)]) - fold(update, start, ys[None]))
    return float(gap), float(bound)


def state_lipschitz_bound(cell_name, params):
    r"""An upper bound L on the 2-norm Lipschitz constant of s -> f(s, x), uniform in x.

    rnn: f = tanh(W_ih x + b_ih + W_hh s + b_hh) and tanh is 1-Lipschitz, so L = ||W_hh||_2.
    gru: on the box |s_i| <= 1 (which holds for every state when |s_0| <= 1, since s_next
    is a convex combination of s and n = tanh(.)), the Jacobian is
        diag(z) + diag((1-z)(1-n^2) r) W_hn + diag((1-z)(1-n^2) gh_n r(1-r)) W_hr
        + diag((s - n) z(1-z)) W_hz,
    and with 0 < z, r < 1, r(1-r), z(1-z) <= 1/4, |s - n| <= 2, |gh_n| <= G,
        L = 1 + ||W_hn||_2 + (G / 4) ||W_hr||_2 + (1 / 2) ||W_hz||_2,
    G = max_i (sum_j |W_hn[i, j]| + |b_hn[i]|).
    """
    W = params["weight_hh"]
    if cell_name == "rnn":
        return float(np.linalg.norm(W, 2))
    if cell_name != "gru":
        raise ValueError(f"cell_name must be 'rnn' or 'gru', got {cell_name!r}")
    if np.abs(params["s0"]).max() > 1:
        raise ValueError("the GRU bound needs |s0| <= 1 so that every state stays in the box")
    H = params["s0"].shape[0]
    W_hr, W_hz, W_hn = W[:H], W[H:2 * H], W[2 * H:]
    G = float((np.abs(W_hn).sum(axis=1) + np.abs(params["bias_hh"][2 * H:])).max())
    norm = lambda A: float(np.linalg.norm(A, 2))  # noqa: E731
    return 1 + norm(W_hn) + G / 4 * norm(W_hr) + norm(W_hz) / 2
