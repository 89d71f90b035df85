"""The models' fast path (backend "numba"/"auto": kernels, a folded embedding read as one-hot
tokens, SIRE "prefix" on the forward's states) equals the plain reference, and its whole
training objective matches finite differences."""
import numpy as np
import pytest

from sire_ref.data.split import Split
from sire_ref.models.recurrent import DeepSets, Head, RecurrentSetModel, Shortcuts
from sire_ref.nn.encoders import Embedding, Equivariant
from sire_ref.tools.testing import numerical_gradient, relative_error
from sire_ref.training.loop import TrainConfig, _batch_loss

V, D, B, T = 9, 4, 6, 5


def _pair(kind, frozen, cell="gru"):
    enc = Embedding(V, D, frozen=frozen)
    if kind == "deepsets":
        make = lambda backend: DeepSets(1, [D, 5], 1, activation="tanh", encoder=enc,  # noqa: E731
                                        rho=Head((4,), "tanh", offset=1.5, scale=2.0), backend=backend)
    else:
        make = lambda backend: RecurrentSetModel(1, 3, 1, cell=cell, encoder=enc,  # noqa: E731
                                                 head=Head(offset=1.5, scale=2.0), backend=backend)
    return make(None), make("auto")


def _data(rng):
    x = rng.integers(0, V, size=(B, T))
    lengths = rng.integers(2, T + 1, size=B)
    lengths[0] = T
    return Split(x, lengths, rng.normal(size=B) * 3)


def _params(model, rng):
    params = model.init(rng)
    if "cell.s0" in params:
        params["cell.s0"] = rng.uniform(-0.5, 0.5, params["cell.s0"].shape)
    return params


CASES = [("gru", "none", None), ("gru", "sire", "subset"), ("gru", "sire", "prefix"), ("gru", "sub", None),
         ("rnn", "sire", "prefix"), ("deepsets", "none", None)]


@pytest.mark.parametrize("frozen", [True, False])
@pytest.mark.parametrize("model_kind, reg, estimator", CASES)
def test_fast_objective_equals_the_reference(model_kind, reg, estimator, frozen):
    rng = np.random.default_rng(4)
    cell = "rnn" if model_kind == "rnn" else "gru"
    ref, fast = _pair("deepsets" if model_kind == "deepsets" else "recurrent", frozen, cell)
    params, split = _params(ref, rng), _data(rng)
    config = TrainConfig(loss="l1", reg=reg, lam=0.3 if reg != "none" else 0.0, reg_samples=7,
                         estimator=estimator or "subset")
    idx = np.arange(B)
    v_ref, g_ref, _ = _batch_loss(ref, params, split, idx, config, np.random.default_rng(1))
    v_fast, g_fast, _ = _batch_loss(fast, params, split, idx, config, np.random.default_rng(1))
    assert relative_error(v_fast, v_ref) < 1e-13
    assert set(g_fast) == set(g_ref)
    for k in g_ref:
        assert relative_error(g_fast[k], g_ref[k]) < 1e-11, k
    if frozen:
        assert not np.any(g_fast["encoder.weight"])
    else:
        assert np.abs(g_fast["encoder.weight"]).max() > 0


@pytest.mark.parametrize("shortcuts", [Shortcuts(True, False), Shortcuts(False, True), Shortcuts(False, False)])
def test_each_shortcut_is_its_own_choice(shortcuts, monkeypatch):
    """The backend chooses the kernels, `shortcuts` the algorithm: every combination on the numba
    kernels takes the path it names and gives the reference's objective and gradients."""
    from sire_ref.models import recurrent
    calls = []
    original = recurrent.sire_from_states
    monkeypatch.setattr(recurrent, "sire_from_states", lambda *a, **k: calls.append(1) or original(*a, **k))
    rng = np.random.default_rng(5)
    enc = Embedding(V, D, frozen=False)
    ref = RecurrentSetModel(1, 3, 1, cell="gru", encoder=enc, head=Head(offset=1.5, scale=2.0), backend=None)
    fast = RecurrentSetModel(1, 3, 1, cell="gru", encoder=enc, head=Head(offset=1.5, scale=2.0), backend="numba",
                             shortcuts=shortcuts)
    assert ref.shortcuts == Shortcuts(False, False) and fast.shortcuts == shortcuts
    params, split = _params(ref, rng), _data(rng)
    config = TrainConfig(loss="l1", reg="sire", lam=0.3, reg_samples=7, estimator="prefix")
    runs = [_batch_loss(m, params, split, np.arange(B), config, np.random.default_rng(1)) for m in (ref, fast)]
    (v_ref, g_ref, _), (v_fast, g_fast, _) = runs
    assert len(calls) == shortcuts.states_from_forward                  # the prefix states read from the forward
    _, cache = fast.forward(params, split.x, split.lengths)
    assert cache.cell_params["weight_ih"].shape[1] == (V if shortcuts.fold_embedding else D)   # folded: one column a token
    assert relative_error(v_fast, v_ref) < 1e-13
    for k in g_ref:
        assert relative_error(g_fast[k], g_ref[k]) < 1e-11, k


def test_shortcuts_are_checked():
    with pytest.raises(ValueError, match="fold_embedding needs an Embedding"):
        RecurrentSetModel(1, 3, 1, backend="numba", shortcuts=Shortcuts(fold_embedding=True))
    with pytest.raises(TypeError, match="shortcuts must be"):
        RecurrentSetModel(1, 3, 1, shortcuts=(True, True))
    assert RecurrentSetModel(1, 3, 1, backend="auto").shortcuts == Shortcuts(False, True)   # no Embedding to fold


@pytest.mark.parametrize("reg, estimator", [("sire", "prefix"), ("sire", "subset"), ("sub", None)])
def test_fast_objective_matches_finite_differences(reg, estimator):
    """The whole minibatch objective L1 + lambda R on the fast path, trainable embedding included."""
    rng = np.random.default_rng(8)
    _, fast = _pair("recurrent", frozen=False)
    params, split = _params(fast, rng), _data(rng)
    config = TrainConfig(loss="mse", reg=reg, lam=0.5, reg_samples=7, estimator=estimator or "subset")

    def objective(p):
        return _batch_loss(fast, p, split, np.arange(B), config, np.random.default_rng(3))

    _, grads, _ = objective(params)
    numeric = numerical_gradient(lambda p: objective(p)[0], params)
    for k in params:
        assert relative_error(grads[k], numeric[k]) < 1e-7, k


def test_point_cloud_sire_step_fast_equals_reference_and_finite_differences():
    """The point-cloud SIRE-GRU's whole training objective (CE + lambda R_SIRE "prefix", the
    equivariant phi, dropout in rho, the points reshuffled): the fast path ("auto": R from the
    forward's states) equals the reference, and both match finite differences."""
    rng = np.random.default_rng(11)
    make = lambda backend: RecurrentSetModel(3, 4, 3, cell="gru", head=Head((5,), input_dropout=0.3, dropout=0.3),  # noqa: E731
                                             encoder=Equivariant((3, 5, 4), "tanh"), backend=backend)
    ref, fast = make(None), make("auto")
    params = _params(ref, rng)
    split = Split(rng.normal(size=(B, T, 3)), np.full(B, T), rng.integers(0, 3, size=B))
    config = TrainConfig(loss="ce", reg="sire", lam=0.4, reg_samples=7, estimator="prefix", permute_inputs=True)

    def objective(model, p):
        return _batch_loss(model, p, split, np.arange(B), config, np.random.default_rng(5))

    v_ref, g_ref, _ = objective(ref, params)
    v_fast, g_fast, _ = objective(fast, params)
    assert relative_error(v_fast, v_ref) < 1e-13
    numeric = numerical_gradient(lambda p: objective(ref, p)[0], params)
    for k in params:
        assert relative_error(g_fast[k], g_ref[k]) < 1e-11, k
        assert relative_error(g_ref[k], numeric[k]) < 1e-7, k
