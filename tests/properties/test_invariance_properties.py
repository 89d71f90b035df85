"""Hypothesis property tests of Theorem 5 and the samplers (bounded example counts)."""
import numpy as np
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from sire_ref.cells import gru, rnn
from proofs.invariance import (adjacent_swap_bound, cell_update, pair_gaps, permutation_gaps,
                                 state_lipschitz_bound)
from sire_ref.samples import check_samples, sample_sire, sample_sub

SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow])
seeds = st.integers(0, 2 ** 32 - 1)
small_lengths = st.lists(st.integers(0, 4), min_size=1, max_size=3)


def _commuting(kind, rng, H):
    """Updates that commute by construction: f(f(s, a), c) = f(f(s, c), a) for every s."""
    A, C = rng.normal(size=(H, 6)), rng.normal(size=(6, H))
    g = lambda x: np.tanh(x @ A) @ C  # noqa: E731
    return {"additive": lambda s, x: s + g(x),
            "multiplicative": lambda s, x: s * np.exp(0.3 * np.tanh(x)),
            "max": lambda s, x: np.maximum(s, x),
            "softplus-sum": lambda s, x: s + np.log1p(np.exp(x))}[kind]


def _maybe_broken(update, eps, rng, H):
    """update + eps * a non-commuting term; eps = 0 keeps the update commutative."""
    M = rng.normal(size=(H, H))
    return lambda s, x: update(s, x) + eps * np.tanh(s @ M) * x


@settings(max_examples=40, **SETTINGS)
@given(kind=st.sampled_from(["additive", "multiplicative", "max", "softplus-sum"]),
       eps=st.sampled_from([0.0, 0.0, 1e-3, 0.5]), lengths=small_lengths, seed=seeds)
@example(kind="additive", eps=0.0, lengths=[0, 1], seed=0)      # nothing to permute
@example(kind="max", eps=0.5, lengths=[2], seed=1)
def test_zero_pair_penalty_implies_subset_permutation_invariance(kind, eps, lengths, seed):
    rng = np.random.default_rng(seed)
    H = 2
    update = _maybe_broken(_commuting(kind, rng, H), eps, rng, H)
    s0 = rng.normal(size=H)
    x = rng.normal(size=(len(lengths), max(max(lengths), 1), H))
    L = np.array(lengths)
    gaps, _ = pair_gaps(update, s0, x, L)
    perm = permutation_gaps(update, s0, x, L)
    if eps == 0.0:
        assert gaps.max(initial=0.0) <= 1e-12              # the premise holds by construction
    if gaps.max(initial=0.0) <= 1e-12:                    # Theorem 5: premise => Definition 2
        assert max((p[2] for p in perm), default=0.0) <= 1e-10


@settings(max_examples=25, **SETTINGS)
@given(cell=st.sampled_from([rnn, gru]), lengths=st.lists(st.integers(2, 4), min_size=1, max_size=2),
       seed=seeds)
def test_order_dependence_implies_a_nonzero_swap_gap(cell, lengths, seed):
    """Contrapositive of Theorem 5 on generic cells: a subset whose orders disagree has a reachable
    state and a pair (from the same sequence) with a nonzero swap gap."""
    rng = np.random.default_rng(seed)
    params = cell.init_params(2, 3, rng)
    params["s0"] = rng.uniform(-1, 1, size=3)
    x = rng.normal(size=(len(lengths), max(lengths), 2))
    update = cell_update(cell, params)
    gaps, draw = pair_gaps(update, params["s0"], x, np.array(lengths))
    for b, _, gap, _ in permutation_gaps(update, params["s0"], x, np.array(lengths)):
        if gap > 1e-9:
            assert gaps[draw["seq"] == b].max() > 0


@settings(max_examples=30, **SETTINGS)
@given(cell=st.sampled_from([rnn, gru]), m=st.integers(2, 6), seed=seeds,
       scale=st.sampled_from([0.5, 1.0, 3.0]))
@example(cell=gru, m=2, seed=0, scale=3.0)
def test_permutation_gap_is_bounded_by_propagated_swap_gaps(cell, m, seed, scale):
    rng = np.random.default_rng(seed)
    params = {k: v * scale for k, v in cell.init_params(2, 3, rng).items()}
    params["s0"] = rng.uniform(-1, 1, size=3)
    ys = rng.normal(size=(m, 2)) * scale
    L = state_lipschitz_bound(cell.name, params)
    gap, bound = adjacent_swap_bound(cell_update(cell, params), params["s0"], ys, rng.permutation(m), L)
    assert gap <= bound * (1 + 1e-12) + 1e-14


def test_swap_bound_is_tight_for_one_swap_of_the_last_pair():
    """For a swap of the last two elements nothing follows it: the bound equals the gap."""
    rng = np.random.default_rng(0)
    params = rnn.init_params(2, 3, rng)
    ys = rng.normal(size=(4, 2))
    gap, bound = adjacent_swap_bound(cell_update(rnn, params), params["s0"], ys, [0, 1, 3, 2], 7.0)
    assert gap > 0 and abs(gap - bound) <= 1e-15


@settings(max_examples=60, **SETTINGS)
@given(lengths=st.lists(st.integers(0, 9), min_size=1, max_size=6), n=st.integers(1, 40), seed=seeds,
       estimator=st.sampled_from(["subset", "prefix"]))
@example(lengths=[2, 2], n=5, seed=0, estimator="subset")
@example(lengths=[9], n=1, seed=0, estimator="prefix")
def test_sire_sampler_draws_valid_rows(lengths, n, seed, estimator):
    L = np.array(lengths)
    if L.max() < 2:
        return  # the empty-draw path is tested in test_regularizers
    smp = sample_sire(np.random.default_rng(seed), L, n, estimator)
    check_samples(smp, "sire", len(L), int(L.max()), L)     # shapes, ranges, distinctness
    assert smp["seq"].shape == (n,)
    for b, S, m, a, c in zip(smp["seq"], smp["subset"], smp["size"], smp["a"], smp["c"]):
        used = list(S[:m]) + [a, c]
        assert L[b] >= 2 and all(0 <= p < L[b] for p in used)
        assert len(set(used)) == m + 2 and np.all(S[m:] == -1)
        if estimator == "prefix":
            assert list(S[:m]) == list(range(m)) and (a, c) == (m, m + 1)


@settings(max_examples=60, **SETTINGS)
@given(lengths=st.lists(st.integers(0, 9), min_size=1, max_size=6), n=st.integers(1, 40), seed=seeds)
@example(lengths=[2], n=3, seed=0)
def test_sub_sampler_draws_valid_rows(lengths, n, seed):
    L = np.array(lengths)
    if L.max() < 2:
        return
    smp = sample_sub(np.random.default_rng(seed), L, n)
    check_samples(smp, "sub", len(L), int(L.max()), L)
    for b, S, m, p, q in zip(smp["seq"], smp["subset"], smp["size"], smp["p"], smp["q"]):
        assert 2 <= m <= L[b]
        assert list(S[:m]) == sorted(set(S[:m])) and all(0 <= i < L[b] for i in S[:m])
        assert sorted(p[:m]) == list(range(m)) and sorted(q[:m]) == list(range(m))
        assert np.all(p[m:] == -1) and np.all(q[m:] == -1)
