r"""Theorem 5, Lemma 6 and Corollary 7, checked exhaustively on small data sets.

Theorem 5: if f(s, x_1, x_2) = f(s, x_2, x_1) (Eq. 4.2) for every state s reachable
from the data (Definition 3), the RNN is subset-permutation invariant (Definition 2).
Lemma 6 / Corollary 7: under Eq. 4.2 any two elements can be swapped.

(a) Models whose update commutes by construction -- additive s + g(x), the max
    aggregator max(s, x), the parity RNN of Eq. 3.2 -- have every swap gap zero (so
    R_SIRE = 0, Eq. 4.4) and give the same state for every order of every subset.
(b) A model that commutes on the reachable states of a data set D but not elsewhere:
    f(s, x) = s + x + relu(s - M) x^2, inputs in {1, 2}, M = the largest reachable state.
    It is invariant on D, as the theorem promises, while the swap gap at an unreachable
    state s > M is |x_a x_c (x_c - x_a)| = 2 (for x_a, x_c = 1, 2): the regularizer must be
    taken over S_{D,Theta}, not all states, or it would penalize a model that is fine on D.
(c) Generic random tanh RNNs and GRUs: R_SIRE > 0 and some order changes the final state.
(d) Beyond the paper: the quantitative version (sire_ref.core.invariance.adjacent_swap_bound),
    permutation gap <= sum of swap gaps times Lipschitz factors, on random cells.
"""
import numpy as np

from sire_ref.core.cells import gru, rnn
from sire_ref.core.constructions import parity_step
from sire_ref.core.invariance import (adjacent_swap_bound, cell_update, pair_gaps, permutation_gaps,
                                      state_lipschitz_bound)
from sire_ref.core.regularizers import sire
from sire_ref.core.samples import enumerate_sire

from . import check


def additive_update(rng, I, H):
    """f(s, x) = s + g(x) with g a random one-hidden-layer tanh net: commutes for every s."""
    A, b, C = rng.normal(size=(I, 8)), rng.normal(size=8), rng.normal(size=(8, H))
    return lambda s, x: s + np.tanh(x @ A + b) @ C


def max_update(s, x):
    """The max aggregator s_{t+1} = max(s_t, x_t) of Section 1 (elementwise, H = I)."""
    return np.maximum(s, x)


def parity_update(s, x):
    """Eq. 3.2 as an update on (N, 1) states and inputs."""
    return parity_step(s[:, 0], x[:, 0])[:, None]


def reachable_only_update(M):
    """f(s, x) = s + x + relu(s - M) x^2: commutes while s <= M, not beyond."""
    return lambda s, x: s + x + np.maximum(s - M, 0) * x * x


def _data(rng, lengths, I, values=None):
    T = max(lengths)
    x = rng.choice(values, size=(len(lengths), T, I)) if values is not None \
        else rng.normal(size=(len(lengths), T, I))
    return x.astype(np.float64), np.array(lengths)


def _worst(update, s0, x, lengths):
    gaps, _ = pair_gaps(update, s0, x, lengths)
    perm = permutation_gaps(update, s0, x, lengths)
    return float(gaps.max()), max(p[2] for p in perm), gaps.size, len(perm)


def check_commuting_models(report, seed=0):
    rng = np.random.default_rng(seed)
    lengths = [5, 4, 3]
    models = {
        "additive s + g(x)": (additive_update(rng, 2, 3), rng.normal(size=3), _data(rng, lengths, 2)),
        "max(s, x)": (max_update, rng.normal(size=2), _data(rng, lengths, 2)),
        "parity RNN (Eq. 3.2)": (parity_update, np.zeros(1), _data(rng, lengths, 1, values=[0, 1])),
    }
    for name, (update, s0, (x, L)) in models.items():
        pair, perm, n_pairs, n_subsets = _worst(update, s0, x, L)
        check(pair <= 1e-12 and perm <= 1e-12,
              f"{name}: commutes by construction, yet swap gap {pair:.2e}, permutation gap {perm:.2e}")
        report(f"(a) {name}: max swap gap {pair:.1e} over {n_pairs} (state, pair) terms, max "
               f"permutation gap {perm:.1e} over every order of {n_subsets} subsets")


def check_reachable_states_matter(report, seed=1):
    rng = np.random.default_rng(seed)
    lengths = [5, 4, 5]
    x, L = _data(rng, lengths, 1, values=[1, 2])
    M = float(x.sum(axis=(1, 2)).max())          # the largest reachable state (inputs are positive)
    update = reachable_only_update(M)
    pair, perm, n_pairs, _ = _worst(update, np.zeros(1), x, L)
    check(pair == 0 and perm == 0, f"(b) model should be exactly invariant on D: {pair}, {perm}")
    s = np.array([[M + 5.0]])                  # a state no subset of D reaches
    one, two = np.array([[1.0]]), np.array([[2.0]])
    off = abs(float((update(update(s, one), two) - update(update(s, two), one))[0, 0]))
    check(off == 2.0, f"(b) swap gap at the unreachable state should be 2, got {off}")
    report(f"(b) s + x + relu(s - {M:g}) x^2 on D (inputs in {{1, 2}}): all {n_pairs} swap gaps over "
           f"S_D are 0 and D is subset-permutation invariant; at the unreachable s = {M + 5:g} the "
           f"swap gap of (1, 2) is {off:g}, so SIRE over all states would penalize a model that is "
           f"exact on D")


def check_generic_cells(report, seed=2):
    rng = np.random.default_rng(seed)
    for cell, name in ((rnn, "rnn"), (gru, "gru")):
        params = cell.init_params(2, 4, rng)
        params["s0"] = rng.uniform(-0.5, 0.5, size=4)
        x, L = _data(rng, [4, 3], 2)
        value = sire(cell, params, x, enumerate_sire(L), L).value
        _, perm, _, _ = _worst(cell_update(cell, params), params["s0"], x, L)
        check(value > 1e-6 and perm > 1e-3, f"(c) generic {name}: R_SIRE {value}, permutation gap {perm}")
        report(f"(c) random {name}: exhaustive R_SIRE = {value:.3e} > 0 and the largest permutation "
               f"gap is {perm:.3e}")


def check_quantitative_bound(report, seed=3, trials=40):
    rng = np.random.default_rng(seed)
    for cell, name in ((rnn, "rnn"), (gru, "gru")):
        worst = 0.0
        for _ in range(trials):
            params = cell.init_params(2, 3, rng)
            params["s0"] = rng.uniform(-1, 1, size=3)
            ys = rng.normal(size=(5, 2))
            gap, bound = adjacent_swap_bound(cell_update(cell, params), params["s0"], ys,
                                             rng.permutation(5), state_lipschitz_bound(name, params))
            check(gap <= bound * (1 + 1e-12) + 1e-15, f"(d) {name}: gap {gap} above bound {bound}")
            worst = max(worst, gap / bound if bound else 0.0)
        report(f"(d) {name}: permutation gap <= sum_j L^(m-i_j-2) delta_j held in {trials} random "
               f"trials (largest gap / bound = {worst:.3f})")


def run(report):
    """Run every Theorem 5 check; `report(text)` receives the findings."""
    check_commuting_models(report)
    check_reachable_states_matter(report)
    check_generic_cells(report)
    check_quantitative_bound(report)
