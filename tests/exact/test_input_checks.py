"""Bad input gets a clear ValueError/TypeError that names the argument; nothing is coerced."""
import contextlib

import numpy as np
import pytest

from sire_ref.tools.testing import random_problem


@pytest.fixture
def case(cell):
    params, x, lengths, dstates = random_problem(cell, np.random.default_rng(0), batch=3, seq_len=4,
                                                 input_size=2, hidden_size=3)
    return cell, params, x, lengths, dstates


def test_x_wrong_rank(case):
    cell, params, x, _, _ = case
    with pytest.raises(ValueError, match=r"x must have 3 dimensions, got shape \(3, 4\)"):
        cell.forward(params, x[:, :, 0])


def test_x_feature_size_mismatch(case):
    cell, params, x, _, _ = case
    with pytest.raises(ValueError, match=r"x must have shape \(B, T, 2\).*got \(3, 4, 3\)"):
        cell.forward(params, np.zeros((3, 4, 3)))


def test_x_not_an_array(case):
    cell, params, x, _, _ = case
    with pytest.raises(TypeError, match="x must be a numpy or cupy array, got list"):
        cell.forward(params, x.tolist())


def test_x_integer_features_are_not_tokens(case):
    """Integer x of shape (B, T, I) is neither dense floats nor (B, T) tokens: refused, not cast."""
    cell, params, x, _, _ = case
    with pytest.raises(ValueError, match=r"x holds integer tokens, so it must have shape \(B, T\)"):
        cell.forward(params, x.astype(np.int64))


def test_tokens_out_of_range(case):
    cell, params, x, _, _ = case
    I = params["weight_ih"].shape[1]
    with pytest.raises(ValueError, match=rf"x tokens must lie in 0..{I - 1}"):
        cell.forward(params, np.full(x.shape[:2], I))


def test_dtype_mismatch_between_x_and_params(case):
    cell, params, x, _, _ = case
    with pytest.raises(TypeError, match="x has dtype float32 but the parameters are float64"):
        cell.forward(params, x.astype(np.float32))


def test_params_mixed_dtypes(case):
    cell, params, x, _, _ = case
    params["weight_hh"] = params["weight_hh"].astype(np.float32)
    with pytest.raises(TypeError, match=r"params\['weight_hh'\] has dtype float32"):
        cell.forward(params, x)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nonfinite_x(case, bad):
    cell, params, x, _, _ = case
    x[1, 2, 0] = bad
    with pytest.raises(ValueError, match="x contains NaN or inf"):
        cell.forward(params, x)


@pytest.mark.parametrize("key", ["weight_ih", "weight_hh", "bias_ih", "bias_hh", "s0"])
def test_nonfinite_params(case, key):
    cell, params, x, _, _ = case
    params[key].reshape(-1)[0] = np.nan
    with pytest.raises(ValueError, match=rf"params\['{key}'\] contains NaN or inf"):
        cell.forward(params, x)


def test_params_missing_and_unexpected_keys(case):
    cell, params, x, _, _ = case
    del params["bias_hh"]
    params["bias"] = params["bias_ih"]
    with pytest.raises(ValueError, match=r"missing \['bias_hh'\], unexpected \['bias'\]"):
        cell.forward(params, x)


def test_params_wrong_shape(case):
    cell, params, x, _, _ = case
    rows = params["weight_hh"].shape[0]
    params["weight_hh"] = np.zeros((rows, 4))
    with pytest.raises(ValueError, match=rf"params\['weight_hh'\] must have shape \({rows}, 3\), "
                                         rf"got \({rows}, 4\)"):
        cell.forward(params, x)


def test_params_not_a_dict(case):
    cell, _, x, _, _ = case
    with pytest.raises(TypeError, match="params must be a dict"):
        cell.forward([1, 2], x)


@pytest.mark.parametrize("lengths", [[1, 2, 5], [-1, 4, 4]])
def test_lengths_out_of_range(case, lengths):
    cell, params, x, _, _ = case
    with pytest.raises(ValueError, match=r"lengths must lie in 0..4"):
        cell.forward(params, x, np.array(lengths))


@pytest.mark.parametrize("lengths", [np.array([1.0, 2.0, 3.0]), np.array([True, True, False])])
def test_lengths_not_integer(case, lengths):
    cell, params, x, _, _ = case
    with pytest.raises(TypeError, match="lengths must have an integer dtype"):
        cell.forward(params, x, lengths)


def test_lengths_wrong_shape(case):
    cell, params, x, _, _ = case
    with pytest.raises(ValueError, match=r"lengths must have shape \(3,\) to match the batch, got \(2,\)"):
        cell.forward(params, x, np.array([1, 2]))


def test_lengths_wrong_type(case):
    cell, params, x, _, _ = case
    with pytest.raises(TypeError, match="lengths must be an integer array or list"):
        cell.forward(params, x, 3)


def test_dstates_wrong_shape(case):
    cell, params, x, lengths, dstates = case
    _, cache = cell.forward(params, x, lengths)
    with pytest.raises(ValueError, match=r"dstates must have shape \(3, 4, 3\), got \(3, 3, 3\)"):
        cell.backward(params, cache, dstates[:, :3])


def test_dstates_dtype_mismatch(case):
    cell, params, x, lengths, dstates = case
    _, cache = cell.forward(params, x, lengths)
    with pytest.raises(TypeError, match="dstates has dtype float32"):
        cell.backward(params, cache, dstates.astype(np.float32))


def test_dstates_nonfinite(case):
    cell, params, x, lengths, dstates = case
    _, cache = cell.forward(params, x, lengths)
    dstates[0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="dstates contains NaN or inf"):
        cell.backward(params, cache, dstates)


def test_backward_rejects_a_foreign_cache(case):
    cell, params, x, _, dstates = case
    _, step_cache = cell.step(params, np.zeros((3, 3)), x[:, 0])
    with pytest.raises(TypeError, match="cache must be the cache returned by"):
        cell.backward(params, step_cache, dstates)


def test_step_state_wrong_shape(case):
    cell, params, x, _, _ = case
    with pytest.raises(ValueError, match=r"s must have shape \(\*, 3\), got \(3, 2\)"):
        cell.step(params, np.zeros((3, 2)), x[:, 0])


def test_step_input_batch_mismatch(case):
    cell, params, x, _, _ = case
    with pytest.raises(ValueError, match=r"x_t must have shape \(2, 2\).*got \(3, 2\)"):
        cell.step(params, np.zeros((2, 3)), x[:, 0])


def test_step_backward_ds_next_wrong_shape(case):
    cell, params, x, _, _ = case
    _, cache = cell.step(params, np.zeros((3, 3)), x[:, 0])
    with pytest.raises(ValueError, match=r"ds_next must have shape \(3, 3\), got \(3, 4\)"):
        cell.step_backward(params, cache, np.zeros((3, 4)))


@pytest.mark.parametrize("kwargs, err, match", [
    ({"input_size": 0}, ValueError, "input_size must be >= 1, got 0"),
    ({"hidden_size": 2.0}, TypeError, "hidden_size must be an int, got float"),
    ({"rng": 0}, TypeError, "rng must be a numpy.random.Generator"),
    ({"dtype": np.int32}, TypeError, "dtype must be float32 or float64, got int32"),
])
def test_init_params_bad_arguments(cell, kwargs, err, match):
    args = dict(input_size=2, hidden_size=3, rng=np.random.default_rng(0), dtype=np.float64)
    args.update(kwargs)
    with pytest.raises(err, match=match):
        cell.init_params(**args)


# Issue 11.7: backward refuses params or inputs other than its forward's (it used to trust them).
@pytest.mark.parametrize("backend", [None, "numba"])
@pytest.mark.parametrize("change", ["other_params", "params_in_place", "x_in_place"])
def test_backward_refuses_values_other_than_the_forwards(case, backend, change):
    cell, params, x, lengths, dstates = case
    _, cache = cell.forward(params, x, lengths, backend=backend)
    if change == "other_params":
        params = {k: v + 0.1 for k, v in params.items()}
        name = "bias_hh"        # the first key whose values differ is named; any key will do
    elif change == "params_in_place":
        params["weight_hh"][0, 0] += 1e-9
        name = "weight_hh"
    else:
        x[1, 2, 0] += 1e-9
        name = "x"
    with pytest.raises(ValueError, match=rf"{cell.name}.backward: \w+ differs from the values"):
        cell.backward(params, cache, dstates)
    if change != "other_params":
        with pytest.raises(ValueError, match=rf"{name} differs"):
            cell.backward(params, cache, dstates)


@pytest.mark.parametrize("backend", [None, "numba"])
def test_backward_refuses_params_of_another_size(case, backend):
    cell, params, x, lengths, dstates = case
    _, cache = cell.forward(params, x, lengths, backend=backend)
    wider = cell.init_params(params["weight_ih"].shape[1], 5, np.random.default_rng(1))
    with pytest.raises(ValueError, match=r"weight_ih has shape \(\d+, 2\) .* made with shape"):
        cell.backward(wider, cache, dstates)


@pytest.mark.parametrize("backend", [None, "numba"])
@pytest.mark.parametrize("kind", ["recurrent", "deepsets"])
def test_model_backward_refuses_changed_params(backend, kind):
    from sire_ref.models.recurrent import DeepSets, Head, RecurrentSetModel
    model = (RecurrentSetModel(2, 3, 1, cell="gru", backend=backend) if kind == "recurrent"
             else DeepSets(2, [2, 4], 1, rho=Head((3,), "relu"), backend=backend))
    rng = np.random.default_rng(0)
    params = model.init(rng)
    x = rng.normal(size=(3, 4, 2))
    y, cache = model.forward(params, x, [4, 1, 3])
    model.backward(params, cache, np.ones_like(y))                  # unchanged: accepted
    last = sorted(params)[-1]
    kept = params[last].copy()
    params[last] += 1.0
    with pytest.raises(ValueError, match=rf"{type(model).__name__}.backward: {last} differs"):
        model.backward(params, cache, np.ones_like(y))
    params[last] = kept
    x[0, 0, 0] += 1.0
    with pytest.raises(ValueError, match="backward: x differs"):
        model.backward(params, cache, np.ones_like(y))


# Issue 11.9: empty, ragged and masked inputs.
@pytest.mark.parametrize("backend", [None, "numba"])
def test_empty_batch_takes_an_empty_lengths_list(case, backend):
    cell, params, x, _, _ = case
    states, cache = cell.forward(params, x[:0], [], backend=backend)
    grads, dx = cell.backward(params, cache, states)
    assert states.shape == (0, 4, 3) and dx.shape == (0, 4, 2)
    assert all(np.all(g == 0) for g in grads.values())


def test_ragged_lengths_are_named(case):
    cell, params, x, _, _ = case
    with pytest.raises(ValueError, match="lengths must be a flat list of ints, got a ragged nested list"):
        cell.forward(params, x, [[1, 2], [3]])


@pytest.mark.parametrize("backend", [None, "numba"])
def test_masked_arrays_are_refused_on_every_backend(case, backend):
    cell, params, x, lengths, _ = case
    with pytest.raises(TypeError, match="x is a numpy masked array"):
        cell.forward(params, np.ma.masked_array(x, mask=x > 0), lengths, backend=backend)
    with pytest.raises(TypeError, match="lengths is a numpy masked array"):
        cell.forward(params, x, np.ma.masked_array(lengths), backend=backend)


def test_step_and_step_backward_check_dtypes(case):
    cell, params, x, _, _ = case
    with pytest.raises(TypeError, match="s has dtype float32 but the parameters are float64"):
        cell.step(params, np.zeros((3, 3), np.float32), x[:, 0])
    with pytest.raises(TypeError, match="x_t has dtype float32 but the parameters are float64"):
        cell.step(params, np.zeros((3, 3)), x[:, 0].astype(np.float32))
    _, cache = cell.step(params, np.zeros((3, 3)), x[:, 0])
    with pytest.raises(TypeError, match="ds_next has dtype float32"):
        cell.step_backward(params, cache, np.ones((3, 3), np.float32))


def test_trusted_skips_only_the_checks_that_read_every_value():
    """Inside validate.trusted(): NaN, out-of-range lengths and an inconsistent draw pass (no scan);
    a wrong type, dtype or shape is still refused; outside it, all of them are refused."""
    from sire_ref.base.validate import check_array, check_lengths, trusted
    from sire_ref.core.samples import check_samples, sample_sire
    nan, lengths = np.array([1.0, np.nan]), np.array([3, 9])
    draw = sample_sire(np.random.default_rng(0), np.array([3, 2]), 4)
    for inside in (False, True):
        with trusted() if inside else contextlib.nullcontext():
            for value_check in (lambda: check_array(nan, "x"), lambda: check_lengths(lengths, 2, 5),
                                lambda: check_samples(draw, "sire", 2, 5, np.array([3, 3]))):
                if inside:
                    value_check()
                else:
                    with pytest.raises(ValueError):
                        value_check()
            with pytest.raises(ValueError, match="must have shape"):
                check_lengths(lengths, 3, 5)
            with pytest.raises(TypeError, match="integer dtype"):
                check_lengths(lengths.astype(float), 2, 5)


def test_a_training_step_runs_trusted():
    """train() checks its data once; its steps skip the value scans: a NaN weight makes the model's
    own forward refuse, while a step returns a NaN objective (which the epoch's mean shows)."""
    from sire_ref.models.recurrent import RecurrentSetModel
    from sire_ref.nn import optim
    from sire_ref.data.split import Split
    from sire_ref.training.loop import TrainConfig, train, train_step
    rng = np.random.default_rng(0)
    model = RecurrentSetModel(1, 4, 1, cell="gru")
    params = model.init(rng)
    params["cell.weight_hh"][0, 0] = np.nan
    split = Split(x=rng.normal(size=(3, 5, 1)), lengths=np.array([5, 4, 2]), y=rng.normal(size=3))
    with pytest.raises(ValueError, match="contains NaN or inf"):
        model.forward(params, split.x, split.lengths)
    value, _ = train_step(model, params, optim.adam_init(params), split, np.arange(3), TrainConfig(), rng, 1e-3)
    assert np.isnan(value)
    model.init = lambda rng, dtype=np.float64: {k: v.astype(dtype) for k, v in params.items()}   # train from them
    with pytest.raises(FloatingPointError, match="epoch 1: the training objective is nan"):
        train(model, {"train": split, "val": split}, TrainConfig(epochs=2, loss="mse"), log=lambda s: None)
