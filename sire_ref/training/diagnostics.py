r"""How invariant is a trained model? Order sensitivity, the SIRE estimate and the bound (beyond the paper).

The paper says lambda moves a model along a "variance-invariance spectrum" (Section 7) but does
not measure where a model sits on it. Here a model is a `Subject`: its outputs y(x) (N, out), the
labels it decides, and, for recurrent models, its update f(s, e), s_0 and encoder e = enc(x).
On a split (x (N, T, ...), lengths (N,)), per group (test length, or length bucket):

- order sensitivity: for K random orders pi_k of each sequence's own positions (padding stays),
      d_nk = max_j | y(x_n)_j - y(pi_k x_n)_j |      (the outputs' units)
  reported as the mean, 95th percentile and max over all n, k, and `changed`: the share of
  sequences whose decided label changes under at least one of the K orders. A permutation-
  invariant model (Definition 1) gives 0, up to the rounding of sums taken in another order.
- sire: R_SIRE (Eq. 4.4) on a "subset" draw of the group's sequences (reachable states s =
  f(s_0, e_S), pairs (a, c) outside S): mean ||f(s, e_a, e_c) - f(s, e_c, e_a)||^2.
- bound (sequences of length <= MAX_BOUND_LENGTH): the state gap ||f(s_0, e[pi]) - f(s_0, e)||
  of one random order per sequence beside invariance.adjacent_swap_bound's
  sum_j Lip^(m - i_j - 2) delta_j, Lip = invariance.state_lipschitz_bound; a bound on the
  final STATE (the head multiplies it by its own Lipschitz constant). None where Lip is
  unknown (a GRU whose |s_0| exceeds 1).
"""
import dataclasses
from typing import Callable, Optional

import numpy as np

from ..base import backend
from ..base.validate import check_positive_int
from ..core.constructions import parity_step
from ..core.invariance import adjacent_swap_bound, cell_update, state_lipschitz_bound, swap_gaps
from ..core.samples import permute_rows, sample_sire
from ..data.split import Split
from ..models.pointsets import EquivariantDeepSets
from ..models.recurrent import DeepSets, RecurrentSetModel
from ..nn.params import take
from .loop import decide, predict

MAX_BOUND_LENGTH = 12       # the bound's bubble sort folds O(m^3) steps per sequence


@dataclasses.dataclass
class Subject:
    """What the diagnostics need of a model. output(x, lengths) -> (N, out); decide(out) -> labels
    (None: no labels, e.g. a regression scored by RMSE); update(s (N, H), e (N, I)) -> (N, H),
    s0 (H,), encode(x) -> e (N, T, I) and lipschitz (a bound on s -> f(s, e), or None) for
    recurrent models, else None."""
    output: Callable
    decide: Optional[Callable] = None
    update: Optional[Callable] = None
    s0: Optional[np.ndarray] = None
    encode: Optional[Callable] = None
    lipschitz: Optional[float] = None


def model_subject(model, params, config):
    """The Subject of a trained set model (params on the host): outputs by its forward (eval mode),
    labels decided as the run's TrainConfig scores them (none for an RMSE metric), and for a
    RecurrentSetModel its cell's update, s0, encoder and Lipschitz bound."""
    if not isinstance(model, (RecurrentSetModel, DeepSets, EquivariantDeepSets)):
        raise TypeError(f"model must be a RecurrentSetModel, DeepSets or EquivariantDeepSets, got "
                        f"{type(model).__name__}")
    params = {k: backend.to_numpy(v) for k, v in params.items()}
    subject = Subject(output=lambda x, lengths: predict(model, params, Split(x, lengths, None)),
                      decide=None if config.metric == "rmse" else (lambda out: decide(config, out)))
    if isinstance(model, RecurrentSetModel):
        cell_params = take("cell", params)
        subject.update = cell_update(model.cell, cell_params)
        subject.s0 = cell_params["s0"]
        subject.encode = lambda x: model.encode(params, x)
        try:
            subject.lipschitz = state_lipschitz_bound(model.cell.name, cell_params)
        except ValueError:                     # a GRU with |s0| > 1: no box, no bound
            subject.lipschitz = None
    return subject


def parity_subject():
    """The exact parity RNN of Theorem 4 (Eq. 3.2) as a Subject: output the final state (0 or 1),
    label state > 0.5; update on states (N, 1). Its s -> f(s, x) has slope at most 2 (W1 . W3)."""
    def update(s, x):
        return parity_step(s[:, 0], x[:, 0])[:, None]

    def output(x, lengths):
        s = np.zeros((x.shape[0], 1))
        for t in range(x.shape[1]):
            s = np.where((t < lengths)[:, None], update(s, x[:, t]), s)
        return s

    return Subject(output=output, decide=lambda out: out[:, 0] > 0.5, update=update, s0=np.zeros(1),
                   encode=lambda x: np.asarray(x, dtype=np.float64), lipschitz=2.0)


def order_sensitivity(subject, x, lengths, rng, n_orders=10):
    """(gaps (N, n_orders), changed (N,) bool or None): d_nk of the module docstring for n_orders
    fresh random orders of every sequence, and whether the decided label changed under any."""
    check_positive_int(n_orders, "n_orders")
    base = subject.output(x, lengths)
    gaps = np.zeros((len(lengths), n_orders))
    changed = None if subject.decide is None else np.zeros(len(lengths), dtype=bool)
    for k in range(n_orders):
        out = subject.output(permute_rows(rng, x, lengths), lengths)
        gaps[:, k] = np.abs(out - base).reshape(len(lengths), -1).max(axis=1)
        if changed is not None:
            changed |= subject.decide(out) != subject.decide(base)
    return gaps, changed


def sire_estimate(subject, x, lengths, rng, n_samples=1000):
    """R_SIRE (Eq. 4.4) of a recurrent Subject on a "subset" draw of n_samples terms (None for a
    Subject without an update, or sequences too short to swap)."""
    if subject.update is None or int(np.max(lengths, initial=0)) < 2:
        return None
    draw = sample_sire(rng, lengths, n_samples, "subset")
    return float(np.mean(swap_gaps(subject.update, subject.s0, subject.encode(x), draw) ** 2))


def bound_pairs(subject, x, lengths, rng, n_sequences=20):
    """[(gap, bound)] for up to n_sequences sequences of length 2..MAX_BOUND_LENGTH, one random
    order each (adjacent_swap_bound); [] where there is no update or no Lipschitz bound."""
    if subject.update is None or subject.lipschitz is None:
        return []
    rows = np.flatnonzero((lengths >= 2) & (lengths <= MAX_BOUND_LENGTH))[:n_sequences]
    e = subject.encode(x[rows])
    return [adjacent_swap_bound(subject.update, subject.s0, e[i, :L], rng.permutation(L), subject.lipschitz)
            for i, L in enumerate(lengths[rows].tolist())]


def diagnose(subject, split, rng, n_orders=10, n_sire=1000, n_bound=20):
    """{group label: {n, order_mean, order_p95, order_max, changed, sire, gap_mean, bound_mean,
    bound_holds}} on a Split, grouped by split.groups when it has them, else by length."""
    lengths = backend.to_numpy(split.lengths)
    x = backend.to_numpy(split.x)
    groups = lengths if split.groups is None else backend.to_numpy(split.groups)
    report = {}
    for g in np.unique(groups):
        rows = np.flatnonzero(groups == g)
        T = max(int(lengths[rows].max()), 1)
        xg, lg = x[rows, :T], lengths[rows]
        gaps, changed = order_sensitivity(subject, xg, lg, rng, n_orders)
        pairs = bound_pairs(subject, xg, lg, rng, n_bound)
        report[str(g)] = {
            "n": int(rows.size), "order_mean": float(gaps.mean()),
            "order_p95": float(np.percentile(gaps, 95)), "order_max": float(gaps.max()),
            "changed": None if changed is None else float(changed.mean()),
            "sire": sire_estimate(subject, xg, lg, rng, n_sire),
            "gap_mean": float(np.mean([p[0] for p in pairs])) if pairs else None,
            "bound_mean": float(np.mean([p[1] for p in pairs])) if pairs else None,
            "bound_holds": bool(all(gap <= bound * (1 + 1e-9) + 1e-12 for gap, bound in pairs))
            if pairs else None}
    return report
