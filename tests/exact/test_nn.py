"""Layers, losses and optimizers: gradients vs finite differences (float64, rel < 1e-7), stability,
and the optimizers against PyTorch's update rules."""
import numpy as np
import pytest

from sire_ref.nn import dropout, embedding, linear, losses, mlp, optim
from sire_ref.tools.interop.torch import INSTALL as TORCH_INSTALL
from sire_ref.tools.testing import check_layer_gradients, numerical_gradient, relative_error

TOL = 1e-7


def test_linear_gradients():
    rng = np.random.default_rng(0)
    check_layer_gradients(linear.forward, linear.backward, linear.init(3, 4, rng), rng.normal(size=(2, 5, 3)), rng)


@pytest.mark.parametrize("activation", ["tanh", "relu"])
@pytest.mark.parametrize("final", [False, True])
def test_mlp_gradients(activation, final):
    rng = np.random.default_rng(1)
    params = mlp.init([3, 6, 5, 2], rng)
    fwd = lambda p, x: mlp.forward(p, x, activation, final_activation=final)  # noqa: E731
    check_layer_gradients(fwd, mlp.backward, params, rng.normal(size=(4, 3)), rng)


def test_embedding_gradient_accumulates_repeated_tokens():
    rng = np.random.default_rng(2)
    params = embedding.init(5, 3, rng)
    idx = np.array([[0, 2, 2], [4, 2, 0]])
    dy = rng.normal(size=(2, 3, 3))
    y, cache = embedding.forward(params, idx)
    np.testing.assert_array_equal(y, params["weight"][idx])
    g, _ = embedding.backward(params, cache, dy)
    expect = np.zeros((5, 3))
    for (b, t), v in np.ndenumerate(idx):
        expect[v] += dy[b, t]
    np.testing.assert_allclose(g["weight"], expect, rtol=1e-15)
    with pytest.raises(ValueError, match=r"idx must lie in 0..4"):
        embedding.forward(params, np.array([5]))
    with pytest.raises(TypeError, match="idx must be an integer array"):
        embedding.forward(params, np.array([1.0]))


def test_dropout_train_and_eval():
    rng = np.random.default_rng(3)
    x = np.ones((2000, 10))
    y, cache = dropout.forward(x, 0.25, rng, train=True)
    assert set(np.unique(y)) == {0.0, 4 / 3}
    assert abs((y == 0).mean() - 0.25) < 0.02
    np.testing.assert_array_equal(dropout.backward(cache, x), y)          # same mask, same scale
    y_eval, c_eval = dropout.forward(x, 0.25, rng, train=False)
    assert y_eval is x and dropout.backward(c_eval, x) is x
    with pytest.raises(ValueError, match=r"rate must be in \[0, 1\)"):
        dropout.forward(x, 1.0, rng, True)


@pytest.mark.parametrize("name", ["bce", "ce", "l1", "mse"])
def test_loss_gradients(name):
    rng = np.random.default_rng(4)
    z = rng.normal(size=(6, 3)) if name == "ce" else rng.normal(size=6)
    y = {"bce": rng.integers(0, 2, 6).astype(float), "ce": rng.integers(0, 3, 6),
         "l1": rng.normal(size=6), "mse": rng.normal(size=6)}[name]
    value, dz = losses.LOSSES[name](z, y)
    numeric = numerical_gradient(lambda a: float(losses.LOSSES[name](a["z"], y)[0]), {"z": z})["z"]
    assert relative_error(dz, numeric) < TOL


def test_losses_match_their_definitions_and_survive_huge_logits():
    z = np.array([-1000.0, -3.0, 0.0, 3.0, 1000.0])
    y = np.array([1.0, 0.0, 1.0, 1.0, 0.0])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        value, dz = losses.bce_with_logits(z, y)
    direct = np.mean([np.log1p(np.exp(-v)) if t else np.log1p(np.exp(v))
                      for v, t in zip(z[1:4], y[1:4])] + [1000.0, 1000.0])
    assert value == pytest.approx(direct, rel=1e-15)
    assert np.all(np.isfinite(dz))
    logits = np.array([[1000.0, 0.0, -1000.0], [0.1, 0.2, 0.3]])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        value, _ = losses.softmax_cross_entropy(logits, np.array([1, 2]))
    row2 = np.log(np.exp([0.1, 0.2, 0.3]).sum()) - 0.3
    assert value == pytest.approx((1000.0 + row2) / 2, rel=1e-15)
    with pytest.raises(ValueError, match="target must have the prediction's shape"):
        losses.l1(np.zeros(3), np.zeros(4))


def test_adam_and_sgd_follow_pytorch():
    torch = pytest.importorskip("torch", reason=f"torch not installed: {TORCH_INSTALL}")
    rng = np.random.default_rng(5)
    for name, kwargs, t_cls, t_kwargs in [
            ("adam", dict(lr=0.01, eps=1e-6, weight_decay=0.1), torch.optim.Adam,
             dict(lr=0.01, eps=1e-6, weight_decay=0.1)),
            ("sgd", dict(lr=0.1, momentum=0.9, weight_decay=0.01), torch.optim.SGD,
             dict(lr=0.1, momentum=0.9, weight_decay=0.01))]:
        params = {"w": rng.normal(size=(3, 2))}
        tw = torch.tensor(params["w"].copy(), requires_grad=True)
        init, step = optim.OPTIMIZERS[name]
        state, t_opt = init(params), t_cls([tw], **t_kwargs)
        for _ in range(5):
            g = rng.normal(size=(3, 2))
            step(params, {"w": g}, state, **kwargs)
            tw.grad = torch.tensor(g)
            t_opt.step()
        assert relative_error(params["w"], tw.detach().numpy()) < 1e-12, name


def test_clip_grad_norm_and_step_schedule():
    grads = {"a": np.array([3.0, 0.0]), "b": np.array([[4.0]])}
    assert optim.clip_grad_norm(grads, 1.0) == pytest.approx(5.0)
    assert np.sqrt(sum((g ** 2).sum() for g in grads.values())) == pytest.approx(1.0)
    assert optim.clip_grad_norm(grads, 10.0) == pytest.approx(1.0)       # below: untouched
    assert [optim.step_lr(1.0, e, 10, 0.5) for e in (0, 9, 10, 25)] == [1.0, 1.0, 0.5, 0.25]
    assert optim.step_lr(0.3, 100, None, 0.5) == 0.3
