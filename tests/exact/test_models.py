"""Models end to end against finite differences (float64, rel < 1e-7), masks included."""
import numpy as np
import pytest

from sire_ref.models.recurrent import DeepSets, Head, RecurrentSetModel
from sire_ref.nn.encoders import MLP, Embedding, Equivariant
from sire_ref.tools.testing import numerical_gradient, relative_error

TOL = 1e-7
LENGTHS = np.array([5, 1, 3, 5])


def _nonzero_s0(model, params, rng):
    if "cell.s0" in params:
        params["cell.s0"] = rng.uniform(-0.5, 0.5, size=params["cell.s0"].shape)
    return params


def _check_model(model, x, seed=0, train=False, lengths=LENGTHS):
    rng = np.random.default_rng(seed)
    params = _nonzero_s0(model, model.init(rng), rng)
    y, cache = model.forward(params, x, lengths, train=train, rng=np.random.default_rng(99))
    dy = rng.normal(size=y.shape)
    grads = model.backward(params, cache, dy)

    def loss(arrays):
        out, _ = model.forward(arrays, x, lengths, train=train, rng=np.random.default_rng(99))
        return float((out * dy).sum())

    numeric = numerical_gradient(loss, params)
    assert set(grads) == set(params)
    for k in params:
        if k in model.frozen:                     # not trained: no gradient is computed
            assert np.all(grads[k] == 0), k
        else:
            assert relative_error(grads[k], numeric[k]) < TOL, k
    return params


@pytest.mark.parametrize("cell", ["rnn", "gru"])
def test_recurrent_model_gradients(cell):
    x = np.random.default_rng(1).normal(size=(4, 5, 2))
    model = RecurrentSetModel(2, 4, 3, cell=cell, encoder=MLP((2, 3), "tanh"),
                              head=Head((5,), offset=2.0, scale=7.0))
    _check_model(model, x)


def test_recurrent_model_with_state_dropout_in_training():
    x = np.random.default_rng(2).normal(size=(4, 5, 2))
    _check_model(RecurrentSetModel(2, 4, 1, cell="gru", head=Head(input_dropout=0.3)), x, train=True)


def test_point_cloud_sire_model_gradients_in_training():
    """The point-cloud SIRE-GRU: DeepSets' equivariant phi before the GRU (its max over the set
    included), rho with dropout before both layers; every gradient against finite differences."""
    x = np.random.default_rng(6).normal(size=(3, 5, 3))
    model = RecurrentSetModel(3, 4, 3, cell="gru", encoder=Equivariant((3, 6, 4), "tanh"),
                              head=Head((5,), input_dropout=0.3, dropout=0.4))
    _check_model(model, x, train=True, lengths=np.array([5, 5, 5]))


@pytest.mark.parametrize("estimator", ["prefix", "subset"])
def test_regularizer_gradients_reach_a_set_reading_encoder(estimator):
    """R_SIRE (Eq. 4.4) on e = phi(x_1..x_n): dR/dparams through the encoder's max, vs finite
    differences (nonzero s0 and biases)."""
    rng = np.random.default_rng(7)
    model = RecurrentSetModel(3, 4, 2, cell="gru", encoder=Equivariant((3, 5, 4), "tanh"))
    params = _nonzero_s0(model, model.init(rng), rng)
    x, L = rng.normal(size=(3, 6, 3)), np.array([6, 6, 6])
    out = model.regularizer(params, x, L, np.random.default_rng(4), "sire", 7, estimator)
    numeric = numerical_gradient(
        lambda p: float(model.regularizer(p, x, L, np.random.default_rng(4), "sire", 7, estimator).value), params)
    assert relative_error(out.grads["encoder.0.weight"], numeric["encoder.0.weight"]) < TOL
    for k in params:
        assert relative_error(out.grads[k], numeric[k]) < TOL, k


def test_a_set_reading_encoder_refuses_padded_sets():
    model = RecurrentSetModel(3, 4, 2, cell="gru", encoder=Equivariant((3, 5), "tanh"))
    params = model.init(np.random.default_rng(0))
    x = np.zeros((2, 4, 3)) + 0.1
    with pytest.raises(ValueError, match=r"lengths must all be 4: the Equivariant encoder reads the whole set"):
        model.forward(params, x, np.array([4, 2]))
    with pytest.raises(ValueError, match=r"lengths must all be 4"):
        model.regularizer(params, x, np.array([4, 2]), np.random.default_rng(0))


def test_recurrent_model_uses_each_sequence_final_state():
    rng = np.random.default_rng(3)
    model = RecurrentSetModel(2, 4, 1, cell="rnn")
    params = _nonzero_s0(model, model.init(rng), rng)
    x = rng.normal(size=(4, 5, 2))
    y, _ = model.forward(params, x, LENGTHS)
    for b, L in enumerate(LENGTHS):
        alone, _ = model.forward(params, x[b:b + 1, :L])
        assert relative_error(y[b], alone[0]) < 1e-14


@pytest.mark.parametrize("encoder", [None, MLP((2, 3), "relu")])
def test_deepsets_gradients(encoder):
    x = np.random.default_rng(4).normal(size=(4, 5, 2))
    _check_model(DeepSets(2, [2 if encoder is None else 3, 6, 4], 2, activation="tanh",
                          encoder=encoder, rho=Head((5,), "tanh", scale=3.0)), x)


def test_deepsets_masks_padding_and_is_permutation_invariant():
    rng = np.random.default_rng(5)
    model = DeepSets(2, [2, 6, 4], 1, rho=Head((5,), "relu"))
    params = model.init(rng)
    x = rng.normal(size=(4, 5, 2))
    y, _ = model.forward(params, x, LENGTHS)
    x2 = x.copy()
    for b, L in enumerate(LENGTHS):
        x2[b, L:] = 50.0                                      # padding must not matter
        x2[b, :L] = x2[b, rng.permutation(L)]                 # nor the order
    y2, _ = model.forward(params, x2, LENGTHS)
    assert relative_error(y, y2) < 1e-13


def test_embedding_encoder_gradients_and_frozen_flag():
    rng = np.random.default_rng(6)
    tokens = rng.integers(0, 7, size=(4, 5))
    for frozen in (False, True):
        model = RecurrentSetModel(1, 4, 1, cell="gru", encoder=Embedding(7, 3, frozen))
        assert model.frozen == ({"encoder.weight"} if frozen else set())
        _check_model(model, tokens)


@pytest.mark.parametrize("kind", ["sire", "sub"])
def test_model_regularizer_gradient_reaches_the_encoder(kind):
    rng = np.random.default_rng(7)
    model = RecurrentSetModel(2, 3, 1, cell="gru", encoder=MLP((2, 3), "tanh"))
    params = _nonzero_s0(model, model.init(rng), rng)
    x = rng.normal(size=(4, 5, 2))

    def reg(p):
        return model.regularizer(p, x, LENGTHS, np.random.default_rng(11), kind, n_samples=9)

    value, grads, dstates = reg(params)
    numeric = numerical_gradient(lambda a: float(reg(a).value), params)
    assert dstates is None                       # the reference folds its own states
    assert value > 0 and np.abs(grads["encoder.0.weight"]).max() > 0
    for k in params:
        assert relative_error(grads[k], numeric[k]) < TOL, k


def test_set_models_refuse_nan_inputs():
    """Issue 28: DeepSets and the point-cloud DeepSets accepted NaN x (the cells refuse it)."""
    from sire_ref.models.pointsets import EquivariantDeepSets
    x = np.random.default_rng(8).normal(size=(2, 4, 3))
    x[1, 2, 0] = np.nan
    for model in (DeepSets(3, [3, 4], 1, rho=Head((5,), "relu")), EquivariantDeepSets(3, 4, 2, 5)):
        params = model.init(np.random.default_rng(0))
        with pytest.raises(ValueError, match="x contains NaN or inf"):
            model.forward(params, x, np.array([4, 4]))


@pytest.mark.parametrize("bad, match", [
    (dict(hidden=(0,)), r"Head.hidden must hold layer widths >= 1"), (dict(activation="gelu"), r"Head.activation"),
    (dict(input_dropout=1.0), r"Head.input_dropout must be in \[0, 1\)"), (dict(dropout=-0.1), r"Head.dropout"),
    (dict(scale=float("nan")), r"Head.scale must be finite")])
def test_a_bad_head_is_refused_with_its_field_named(bad, match):
    with pytest.raises(ValueError, match=match):
        Head(**bad)


def test_deepsets_rho_takes_no_dropout_and_models_take_only_a_head():
    with pytest.raises(ValueError, match="DeepSets' rho takes no dropout"):
        DeepSets(2, [2, 4], 1, rho=Head(dropout=0.2))
    with pytest.raises(TypeError, match="head must be a sire_ref.models.recurrent.Head"):
        RecurrentSetModel(2, 4, 1, head=(5,))
    assert DeepSets(2, [2, 4], 1, activation="tanh").head.activation == "tanh"     # rho follows phi by default


@pytest.mark.parametrize("backend", [None, "numba"])
@pytest.mark.parametrize("reg, estimator", [("sire", "subset"), ("sire", "prefix"), ("sub", "subset")])
@pytest.mark.parametrize("encoder", ["mlp", "equivariant"])
def test_a_deferred_encoder_backward_is_the_sum_of_the_two(encoder, reg, estimator, backend, monkeypatch):
    """A training step passes the loss's and lambda R's gradients on the encoded inputs through the
    encoder once (regularizer(defer_encoder=True), backward(dinputs=)): the same gradients, to
    round-off, as backpropagating each through the encoder and adding (float64, nonzero s0 and
    biases), and the encoder's backward runs once instead of twice."""
    from sire_ref.training import loop
    from sire_ref.data.split import Split
    rng = np.random.default_rng(12)
    enc = MLP((3, 5), "tanh") if encoder == "mlp" else Equivariant((3, 6, 5), "tanh")
    model = RecurrentSetModel(3, 4, 1, cell="gru", encoder=enc, head=Head((5,)), backend=backend)
    params = _nonzero_s0(model, model.init(rng), rng)
    B, T, lam = 6, 5, 0.7
    lengths = np.full(B, T) if encoder == "equivariant" else np.array([5, 3, 5, 2, 4, 5])
    split = Split(x=rng.normal(size=(B, T, 3)), lengths=lengths, y=rng.normal(size=B))
    config = loop.TrainConfig(batch_size=B, loss="l1", metric="rmse", reg=reg, lam=lam, reg_samples=9,
                              estimator=estimator)
    passes = []
    backward = type(enc).backward
    monkeypatch.setattr(type(enc), "backward", lambda self, *a, **k: passes.append(1) or backward(self, *a, **k))
    _, grads, _ = loop._batch_loss(model, params, split, np.arange(B), config, np.random.default_rng(3))
    assert len(passes) == 1
    out, cache = model.forward(params, split.x, lengths, train=True, rng=np.random.default_rng(3))
    r = model.regularizer(params, split.x, lengths, np.random.default_rng(3), reg, 9, estimator, forward_cache=cache)
    assert r.dx is None
    from sire_ref.nn import losses
    _, dpred = losses.LOSSES["l1"](out[:, 0], split.y)
    dstates = None if r.dstates is None else lam * r.dstates
    apart = model.backward(params, cache, dpred[:, None], dstates)
    for k in params:
        assert relative_error(grads[k], apart[k] + lam * r.grads[k]) < 1e-12, k
    assert relative_error(grads["encoder.0.weight"], apart["encoder.0.weight"]) > 1e-6    # R reached the encoder


def test_dinputs_needs_an_encoder_gradient():
    """Integer tokens have no gradient to add dinputs to; a dinputs of the wrong shape is refused."""
    model = RecurrentSetModel(4, 3, 1, cell="gru")
    rng = np.random.default_rng(0)
    params = model.init(rng)
    y, cache = model.forward(params, rng.integers(0, 4, (2, 4)), np.array([4, 2]))
    with pytest.raises(ValueError, match="dinputs: this model computes no gradient on its encoded inputs"):
        model.backward(params, cache, np.ones_like(y), dinputs=np.ones((2, 4, 4)))
    model = RecurrentSetModel(2, 3, 1, cell="gru", encoder=MLP((2, 5), "tanh"))
    params = model.init(rng)
    y, cache = model.forward(params, rng.normal(size=(2, 4, 2)), np.array([4, 2]))
    with pytest.raises(ValueError, match="dinputs"):
        model.backward(params, cache, np.ones_like(y), dinputs=np.ones((2, 4, 3)))      # E is 5
