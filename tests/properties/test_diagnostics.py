"""sire_ref.training.diagnostics: zero where a model is invariant by construction, positive where it is not,
the SIRE estimate equal to the regularizer, and the bound never below the gap it bounds."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from sire_ref.core.regularizers import sire
from sire_ref.core.samples import sample_sire
from sire_ref.data.parity import make_data
from sire_ref.data.split import Split
from sire_ref.models.recurrent import DeepSets, Head, RecurrentSetModel
from sire_ref.nn.params import take
from sire_ref.training import diagnostics as D
from sire_ref.training.loop import TrainConfig


def _split(rng, B=60, T=7, I=2, min_len=0):
    x = rng.normal(size=(B, T, I))
    return Split(x=x, lengths=rng.integers(min_len, T + 1, size=B), y=np.zeros(B))


def _gru(rng, I=2, H=5):
    model = RecurrentSetModel(I, H, 1, cell="gru")
    params = model.init(rng)
    params["cell.s0"] = rng.uniform(-0.6, 0.6, H)           # nonzero s0 and biases: zeros hide bugs
    params["cell.bias_hh"] = rng.normal(0, 0.5, 3 * H)
    params["cell.bias_ih"] = rng.normal(0, 0.5, 3 * H)
    return model, params


def test_deepsets_is_order_insensitive_and_has_no_recurrent_measures():
    rng = np.random.default_rng(0)
    model = DeepSets(2, [2, 16, 16], 3, activation="tanh", rho=Head((16,), "tanh"))
    params = model.init(rng)
    report = D.diagnose(D.model_subject(model, params, TrainConfig(loss="ce")), _split(rng), rng)
    assert len(report) >= 6
    for row in report.values():
        # Sums taken in another order may differ in the last bit: 1e-12 bounds that, nothing more.
        assert row["order_max"] <= 1e-12 and row["changed"] == 0.0
        assert row["sire"] is None and row["bound_holds"] is None


def test_exact_parity_rnn_is_exactly_invariant():
    report = D.diagnose(D.parity_subject(), make_data(0, n_test=600)["test"], np.random.default_rng(1))
    assert len(report) == 10                                  # the ten test buckets
    for row in report.values():
        assert row["order_max"] == 0.0 and row["changed"] == 0.0 and row["sire"] == 0.0
    short = report["10"]                                      # lengths 2..10: the bound is computed
    assert short["gap_mean"] == 0.0 and short["bound_mean"] == 0.0 and short["bound_holds"]


def test_parity_subject_computes_parity():
    data = make_data(0, n_test=300)["test"]
    out = D.parity_subject().output(data.x, data.lengths)
    assert np.array_equal(out[:, 0], data.y)


def test_random_gru_is_order_sensitive():
    rng = np.random.default_rng(2)
    model, params = _gru(rng)
    report = D.diagnose(D.model_subject(model, params, TrainConfig(loss="l1")), _split(rng, B=200), rng)
    long = [row for g, row in report.items() if int(g) >= 3]
    assert all(row["order_mean"] > 1e-4 and row["sire"] > 1e-4 for row in long)
    assert any(row["changed"] > 0 for row in long)
    for g in ("0", "1"):                                      # nothing to reorder
        assert report[g]["order_max"] == 0.0 and report[g]["sire"] is None


def test_changed_share_counts_a_label_flip_once():
    """decide sees the permuted outputs: a model whose label is the first element's sign flips
    exactly on the sequences whose first element changes sign under some order."""
    x = np.array([[[1.0], [-1.0]], [[1.0], [1.0]], [[-1.0], [2.0]]])
    subject = D.Subject(output=lambda x, lengths: x[:, 0], decide=lambda out: out[:, 0] > 0)
    gaps, changed = D.order_sensitivity(subject, x, np.array([2, 2, 1]), np.random.default_rng(0), 30)
    assert changed.tolist() == [True, False, False]
    assert gaps[0].max() == 2.0 and gaps[1:].max() == 0.0


def test_sire_estimate_is_the_regularizer_on_the_same_draw():
    rng = np.random.default_rng(3)
    model, params = _gru(rng)
    split = _split(rng, min_len=2)
    subject = D.model_subject(model, params, TrainConfig(loss="l1"))
    estimate = D.sire_estimate(subject, split.x, split.lengths, np.random.default_rng(9), 300)
    draw = sample_sire(np.random.default_rng(9), split.lengths, 300, "subset")
    value = sire(model.cell, take("cell", params), split.x, draw, split.lengths).value
    assert estimate == pytest.approx(float(value), rel=1e-12)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2 ** 32 - 1), cell=st.sampled_from(["rnn", "gru"]), scale=st.floats(0.3, 3.0))
def test_bound_is_never_below_the_measured_gap(seed, cell, scale):
    rng = np.random.default_rng(seed)
    model = RecurrentSetModel(2, 4, 1, cell=cell)
    params = model.init(rng)
    params["cell.weight_hh"] *= scale                        # from contracting to expanding updates
    params["cell.bias_hh"] = rng.normal(0, 0.5, params["cell.bias_hh"].shape)
    params["cell.s0"] = rng.uniform(-0.9, 0.9, 4)
    subject = D.model_subject(model, params, TrainConfig(loss="l1"))
    split = _split(rng, B=12, T=6, min_len=2)
    pairs = D.bound_pairs(subject, split.x, split.lengths, rng, n_sequences=12)
    assert len(pairs) == 12
    for gap, bound in pairs:
        assert gap <= bound * (1 + 1e-9) + 1e-12


def test_bound_equals_the_gap_for_one_swap():
    """Length 2: one order differs from the identity by one adjacent swap at s0, so the bound is that
    swap's gap: the measured gap itself."""
    rng = np.random.default_rng(4)
    model, params = _gru(rng)
    subject = D.model_subject(model, params, TrainConfig(loss="l1"))
    x = rng.normal(size=(40, 2, 2))
    pairs = D.bound_pairs(subject, x, np.full(40, 2), rng, n_sequences=40)
    swapped = [(g, b) for g, b in pairs if g > 0]
    assert len(swapped) >= 10                                 # about half the random orders swap
    for gap, bound in swapped:
        assert bound == pytest.approx(gap, rel=1e-12)


def test_gru_with_large_s0_gets_no_bound():
    rng = np.random.default_rng(5)
    model, params = _gru(rng)
    params["cell.s0"][0] = 1.5                                # outside the box of the GRU bound
    subject = D.model_subject(model, params, TrainConfig(loss="l1"))
    assert subject.lipschitz is None
    assert D.bound_pairs(subject, *_split(rng)[:2], rng) == []


def test_bad_arguments_are_named():
    with pytest.raises(TypeError, match="model must be a RecurrentSetModel, DeepSets or EquivariantDeepSets"):
        D.model_subject(object(), {}, TrainConfig())
    with pytest.raises(ValueError, match="n_orders"):
        D.order_sensitivity(D.parity_subject(), np.zeros((1, 2, 1)), np.array([2]), np.random.default_rng(0), 0)
