"""The SIRE and SUB samplers draw what sire_ref/core/samples.py says, with the stated probabilities.

Validity (shapes, ranges, distinct positions) is a Hypothesis property; the distributions are
checked exactly on small lengths: every possible row is enumerated with its probability from
the samplers' docstring, and a chi-square goodness-of-fit test compares 200 expected draws
per row with a fixed seed. A correct sampler fails such a test with probability ALPHA = 1e-4
for a random seed; with the seed fixed, the outcome is deterministic. A sampler that never
draws one row (say |S| = L - 2) or draws rows with wrong weights fails by a wide margin.
"""
import itertools
import math
from collections import Counter

import numpy as np
from hypothesis import assume, example, given, strategies as st
from scipy.stats import chisquare

from sire_ref.core.samples import check_samples, enumerate_sire, sample_sire, sample_sub

ALPHA = 1e-4
PER_ROW = 200
seeds = st.integers(0, 2 ** 32 - 1)


def _goodness_of_fit(draws, probabilities):
    """Chi-square test of observed row counts against {row: probability} (which must sum to 1)."""
    assert abs(sum(probabilities.values()) - 1) < 1e-12
    unexpected = set(draws) - set(probabilities)
    assert not unexpected, f"rows the distribution does not allow: {sorted(unexpected)[:5]}"
    rows = sorted(probabilities)
    observed = np.array([draws[r] for r in rows], dtype=float)
    expected = np.array([probabilities[r] for r in rows]) * observed.sum()
    assert expected.min() >= 50          # the chi-square approximation is good
    return chisquare(observed, expected).pvalue


def _sire_rows(draw):
    return Counter((int(b), tuple(int(i) for i in S[:m]), int(a), int(c))
                   for b, S, m, a, c in zip(draw["seq"], draw["subset"], draw["size"], draw["a"], draw["c"]))


LENGTHS = np.array([1, 4, 3, 0])            # eligible: sequences 1 and 2 (E = 2)


def test_subset_estimator_distribution():
    probabilities = {}
    for b in (1, 2):
        L = int(LENGTHS[b])
        for m in range(L - 1):
            for first in itertools.permutations(range(L), m + 2):
                probabilities[(b, first[:m], first[m], first[m + 1])] = \
                    0.5 / (L - 1) * math.factorial(L - m - 2) / math.factorial(L)
    n = PER_ROW * len(probabilities)
    draws = _sire_rows(sample_sire(np.random.default_rng(1), LENGTHS, n, "subset"))
    assert _goodness_of_fit(draws, probabilities) > ALPHA


def test_prefix_estimator_distribution():
    probabilities = {(b, tuple(range(t)), t, t + 1): 0.5 / (int(LENGTHS[b]) - 1)
                     for b in (1, 2) for t in range(int(LENGTHS[b]) - 1)}
    n = PER_ROW * 20
    draws = _sire_rows(sample_sire(np.random.default_rng(2), LENGTHS, n, "prefix"))
    assert _goodness_of_fit(draws, probabilities) > ALPHA


def test_sub_distribution():
    lengths = np.array([3, 1, 2])
    probabilities = {}
    for b in (0, 2):
        L = int(lengths[b])
        for m in range(2, L + 1):
            for S in itertools.combinations(range(L), m):
                for p in itertools.permutations(range(m)):
                    for q in itertools.permutations(range(m)):
                        probabilities[(b, S, p, q)] = \
                            0.5 / (L - 1) / math.comb(L, m) / math.factorial(m) ** 2
    draw = sample_sub(np.random.default_rng(3), lengths, PER_ROW * 2 * len(probabilities))
    draws = Counter((int(b), tuple(int(i) for i in S[:m]), tuple(int(i) for i in p[:m]),
                     tuple(int(i) for i in q[:m]))
                    for b, S, m, p, q in zip(draw["seq"], draw["subset"], draw["size"], draw["p"], draw["q"]))
    assert _goodness_of_fit(draws, probabilities) > ALPHA


def test_enumerate_sire_lists_every_reachable_state_and_pair_once():
    """Definition 3's reachable states are ORDERED subsets: every order of every subset of size
    0..L-2 of each sequence, with every pair a < c outside it; nothing else, nothing twice."""
    lengths = np.array([4, 0, 3, 1])
    want = [(b, S, a, c) for b, L in enumerate(lengths.tolist()) for m in range(max(L - 1, 0))
            for S in itertools.permutations(range(L), m)
            for a, c in itertools.combinations([i for i in range(L) if i not in S], 2)]
    got = _sire_rows(enumerate_sire(lengths))
    assert sorted(got) == sorted(want) and set(got.values()) == {1}
    assert len(want) == sum(math.perm(L, m) * math.comb(L - m, 2)
                            for L in (4, 3) for m in range(L - 1))


@given(lengths=st.lists(st.integers(0, 9), min_size=1, max_size=6), n=st.integers(1, 40), seed=seeds,
       estimator=st.sampled_from(["subset", "prefix"]))
@example(lengths=[2, 2], n=5, seed=0, estimator="subset")
@example(lengths=[9], n=1, seed=0, estimator="prefix")
def test_sire_sampler_draws_valid_rows(lengths, n, seed, estimator):
    L = np.array(lengths)
    assume(L.max() >= 2)              # the empty-draw path is tested in test_regularizers
    smp = sample_sire(np.random.default_rng(seed), L, n, estimator)
    check_samples(smp, "sire", len(L), int(L.max()), L)     # shapes, ranges, distinctness
    assert smp["seq"].shape == (n,)
    for b, S, m, a, c in zip(smp["seq"], smp["subset"], smp["size"], smp["a"], smp["c"]):
        used = list(S[:m]) + [a, c]
        assert L[b] >= 2 and all(0 <= p < L[b] for p in used)
        assert len(set(used)) == m + 2 and np.all(S[m:] == -1)
        if estimator == "prefix":
            assert list(S[:m]) == list(range(m)) and (a, c) == (m, m + 1)


@given(lengths=st.lists(st.integers(0, 9), min_size=1, max_size=6), n=st.integers(1, 40), seed=seeds)
@example(lengths=[2], n=3, seed=0)
def test_sub_sampler_draws_valid_rows(lengths, n, seed):
    L = np.array(lengths)
    assume(L.max() >= 2)
    smp = sample_sub(np.random.default_rng(seed), L, n)
    check_samples(smp, "sub", len(L), int(L.max()), L)
    for b, S, m, p, q in zip(smp["seq"], smp["subset"], smp["size"], smp["p"], smp["q"]):
        assert 2 <= m <= L[b]
        assert list(S[:m]) == sorted(set(S[:m])) and all(0 <= i < L[b] for i in S[:m])
        assert sorted(p[:m]) == list(range(m)) and sorted(q[:m]) == list(range(m))
        assert np.all(p[m:] == -1) and np.all(q[m:] == -1)
