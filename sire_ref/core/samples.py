"""Explicit, inspectable draws for the SIRE (Eq. 4.4) and SUB (Eq. 4.1) regularizers.

A draw is a dict of plain int64 NumPy arrays, so anyone can recompute the same
terms in their own framework. N samples, K = the largest subset size drawn; rows
are padded with -1 past their own `size`. Positions are 0-based time indices.
Every draw carries the lengths it was made for:
    lengths (B,)  the batch's sequence lengths; the regularizers refuse a call whose
                  lengths differ (a draw for other lengths would read padding).

SIRE draw (`sample_sire`), one term || f(s, x_a, x_c) - f(s, x_c, x_a) ||^2 per row:
    seq (N,)      which sequence b of the batch
    subset (N, K) the ordered positions S; s = f(s_0, x[b, S[0]], ..., x[b, S[size-1]])
    size (N,)     |S| (0 means s = s_0)
    a, c (N,)     two distinct positions of sequence b, both outside S
SUB draw (`sample_sub`), one term || f(s_0, x_S[p]) - f(s_0, x_S[q]) ||^2 per row:
    seq (N,), size (N,) >= 2
    subset (N, K) the positions of S in increasing order
    p, q (N, K)   two permutations of 0..size-1: the orders subset[p] and subset[q]

The distributions (rows independent; tests/properties/test_samplers.py checks each exactly
by a chi-square test on small L). A row's sequence b is uniform among the E sequences with
L = lengths[b] >= 2 (with replacement); then, for the SIRE estimators of s (the README, "The regularizers"):
    "subset" (the paper's text): m = |S| uniform in 0..L-2, and (S, a, c) the first m + 2
             entries of a uniformly random permutation of 0..L-1: every ordered subset S of
             size m and ordered pair (a, c) outside it has probability
             1/E * 1/(L-1) * (L-m-2)!/L!;
    "prefix" (the authors' released code): t uniform in 0..L-2, S = (0..t-1), a = t,
             c = t+1: probability 1/E * 1/(L-1) each;
and for SUB: m = |S| uniform in 2..L, S a uniformly random m-subset (stored in increasing
order), p and q independent uniform permutations of 0..m-1: probability
1/E * 1/(L-1) * 1/C(L, m) * 1/(m!)^2 per (S, p, q) (p = q happens, with probability 1/m!).
When no sequence is long enough the draw is empty (N = 0) and a RuntimeWarning says so;
the regularizers then return 0 with zero gradients.
"""
import itertools
import warnings

import numpy as np

from ..base import backend
from ..base.validate import check_lengths, check_positive_int, check_rng, is_trusted

ESTIMATORS = ("subset", "prefix")


def _eligible(rng, lengths, n_samples, what):
    """Sequence index per sample, drawn among sequences with length >= 2 (empty when none)."""
    eligible = np.flatnonzero(lengths >= 2)
    if eligible.size == 0:
        warnings.warn(f"{what}: no sequence has length >= 2, so no pair can be drawn; the draw is "
                      f"empty and the regularizer is 0 with zero gradients", RuntimeWarning,
                      stacklevel=3)
        return np.zeros(0, dtype=np.int64)
    return eligible[rng.integers(eligible.size, size=n_samples)]


def random_orders(rng, lengths, width):
    """(N, width) int: row n starts with a uniformly random permutation of 0..lengths[n]-1,
    followed by the padding positions lengths[n]..width-1 (random keys sorted; padding keys inf)."""
    keys = rng.random((len(lengths), width))
    keys[np.arange(width)[None, :] >= np.asarray(lengths)[:, None]] = np.inf   # padding sorts last
    return np.argsort(keys, axis=1)


def permute_rows(rng, x, lengths):
    """x (N, T, ...) with row n's first lengths[n] positions randomly reordered (padding kept).

    A fresh uniformly random order of each sequence: the pi-SGD training input
    (Murphy et al. 2018), also used to test invariance empirically.
    """
    N, T = x.shape[:2]
    order = random_orders(rng, lengths, T)
    xp = backend.array_module(x)
    return x[xp.asarray(np.arange(N)[:, None]), xp.asarray(order)]


def _random_orders(rng, L):
    """Row n: a uniformly random permutation of 0..L[n]-1, padded with -1 to max(L) columns."""
    width = int(L.max(initial=0))
    order = random_orders(rng, L, width)
    order[np.arange(width)[None, :] >= L[:, None]] = -1
    return order


def _first(order, size):
    """The first size[n] columns of each row, -1 elsewhere, trimmed to max(size) columns."""
    K = int(size.max(initial=0))
    out = order[:, :K].copy()
    out[np.arange(K)[None, :] >= size[:, None]] = -1
    return out


def sample_sire(rng, lengths, n_samples, estimator="subset"):
    """Draw SIRE terms (Eq. 4.4): states s reachable from subsets of each sequence, pairs outside.

    rng: numpy.random.Generator; lengths (B,) ints; n_samples: terms to draw;
    estimator: "subset" or "prefix" (module docstring). Returns the dict described there.
    """
    check_rng(rng)
    lengths = check_lengths(lengths)
    n_samples = check_positive_int(n_samples, "n_samples")
    if estimator not in ESTIMATORS:
        raise ValueError(f"estimator must be one of {ESTIMATORS}, got {estimator!r}")
    seq = _eligible(rng, lengths, n_samples, "sample_sire")
    L = lengths[seq]
    size = np.floor(rng.random(seq.size) * (L - 1)).astype(np.int64)   # uniform in 0..L-2
    if estimator == "subset":
        order = _random_orders(rng, L)
    else:
        order = np.broadcast_to(np.arange(int(L.max(initial=0))), (seq.size, int(L.max(initial=0))))
    rows = np.arange(seq.size)
    a, c = order[rows, size], order[rows, size + 1]
    return {"seq": seq, "subset": _first(order, size), "size": size, "a": a, "c": c, "lengths": lengths}


def sample_sub(rng, lengths, n_samples):
    """Draw SUB terms (Eq. 4.1): a random subset S (|S| uniform in 2..L) and two random orders of it.

    Returns the dict described in the module docstring.
    """
    check_rng(rng)
    lengths = check_lengths(lengths)
    n_samples = check_positive_int(n_samples, "n_samples")
    seq = _eligible(rng, lengths, n_samples, "sample_sub")
    L = lengths[seq]
    size = 2 + np.floor(rng.random(seq.size) * (L - 1)).astype(np.int64)  # uniform in 2..L
    chosen = _first(_random_orders(rng, L), size)
    subset = np.sort(np.where(chosen < 0, np.iinfo(np.int64).max, chosen), axis=1)  # padding last
    subset[subset == np.iinfo(np.int64).max] = -1
    p, q = (_first(_random_orders(rng, size), size) for _ in range(2))
    return {"seq": seq, "subset": subset, "size": size, "p": p, "q": q, "lengths": lengths}


def enumerate_sire(lengths):
    """Every SIRE term of a small batch: each sequence b, each ordered subset S of its positions
    (every reachable state of Definition 3), each pair a < c outside S. Same dict as `sample_sire`.

    The count grows like L! per sequence: meant for exhaustive checks on lengths up to about 6.
    """
    lengths = check_lengths(lengths)
    rows = []
    for b, L in enumerate(lengths.tolist()):
        for m in range(L - 1):
            for S in itertools.permutations(range(L), m):
                rest = [i for i in range(L) if i not in S]
                rows.extend((b, S, a, c) for a, c in itertools.combinations(rest, 2))
    K = max((len(r[1]) for r in rows), default=0)
    subset = np.full((len(rows), K), -1, dtype=np.int64)
    for n, (_, S, _, _) in enumerate(rows):
        subset[n, :len(S)] = S
    col = lambda j: np.array([r[j] for r in rows], dtype=np.int64)  # noqa: E731
    return {"seq": col(0), "subset": subset, "size": np.array([len(r[1]) for r in rows], np.int64),
            "a": col(2), "c": col(3), "lengths": lengths}


def _check_positions(name, pos, valid, row_lengths):
    """Positions lie inside their own sequence (0..L-1 of row n's sequence), -1 past `size`."""
    inside = (pos >= 0) & (pos < row_lengths.reshape((-1,) + (1,) * (pos.ndim - 1)))
    if not np.all(inside[valid]) or not np.all(pos[~valid] == -1):
        raise ValueError(f"samples['{name}'] must hold positions inside each row's sequence "
                         f"(0..lengths[seq]-1) within the row's size, and -1 after it")


def check_samples(samples, reg, batch, seq_len, lengths=None):
    """Validate a SIRE (reg="sire") or SUB (reg="sub") draw for x of shape (batch, seq_len, ...)
    with these `lengths` (None: every sequence has length seq_len). The draw's own "lengths"
    must equal them: positions beyond a sequence's length would read its padding. Returns the
    draw's position arrays as int64 (without "lengths")."""
    keys = {"sire": ("seq", "subset", "size", "a", "c"), "sub": ("seq", "subset", "size", "p", "q")}[reg]
    keys = keys + ("lengths",)
    if not isinstance(samples, dict) or set(samples) != set(keys):
        raise TypeError(f"samples must be a dict with keys {keys} (from sample_{reg}), got "
                        f"{sorted(samples) if isinstance(samples, dict) else type(samples).__name__}")
    lengths = check_lengths(lengths, batch, seq_len)
    made_for = check_lengths(samples["lengths"], name="samples['lengths']")
    if not is_trusted() and not np.array_equal(made_for, lengths):
        raise ValueError(f"samples were drawn for lengths {made_for.tolist()[:8]} but this call has "
                         f"lengths {lengths.tolist()[:8]} (lengths=None means all {seq_len}); "
                         f"draw again with sample_{reg}(rng, lengths, ...) or pass the lengths the "
                         f"draw was made for")
    arr = {k: np.asarray(samples[k]) for k in keys if k != "lengths"}
    for k, v in arr.items():
        if not np.issubdtype(v.dtype, np.integer):
            raise TypeError(f"samples['{k}'] must be an integer array, got {v.dtype}")
        arr[k] = v.astype(np.int64, copy=False)        # the folds index and mask with int64
    N = arr["seq"].shape[0]
    K = arr["subset"].shape[1] if arr["subset"].ndim == 2 else -1
    for k in arr:
        want = (N, K) if k in ("subset", "p", "q") else (N,)
        if arr[k].shape != want:
            raise ValueError(f"samples['{k}'] must have shape {want}, got {arr[k].shape}")
    if is_trusted():                    # a training step's own fresh draw: no value scans
        return arr
    if N and (arr["seq"].min() < 0 or arr["seq"].max() >= batch):
        raise ValueError(f"samples['seq'] must index the batch 0..{batch - 1}")
    low = 2 if reg == "sub" else 0
    if N and (arr["size"].min() < low or arr["size"].max() > K):
        raise ValueError(f"samples['size'] must lie in {low}..{K} (the subset width)")
    valid = np.arange(K)[None, :] < arr["size"][:, None]
    row_lengths = lengths[arr["seq"]]
    _check_positions("subset", arr["subset"], valid, row_lengths)
    used = [np.where(valid, arr["subset"], -2 - np.arange(K))]   # padding made distinct
    if reg == "sire":
        _check_positions("a", arr["a"], np.ones(N, bool), row_lengths)
        _check_positions("c", arr["c"], np.ones(N, bool), row_lengths)
        used += [arr["a"][:, None], arr["c"][:, None]]
    else:
        for k in ("p", "q"):
            if not (np.array_equal(np.sort(np.where(valid, arr[k], K), axis=1),
                                   np.where(valid, np.arange(K)[None, :], K))
                    and np.all(arr[k][~valid] == -1)):
                raise ValueError(f"samples['{k}'] rows must be permutations of 0..size-1, -1 after")
    if np.any(np.diff(np.sort(np.concatenate(used, axis=1), axis=1), axis=1) == 0):
        raise ValueError("samples: the positions of a row (subset, and a, c for SIRE) must be distinct")
    return arr
