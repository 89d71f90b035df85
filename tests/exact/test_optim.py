"""Adam and SGD against steps computed by hand (no PyTorch needed), with bias correction, weight
decay, momentum and clipping; each number below follows from the update rules in the
docstring of sire_ref/nn/optim.py, written out for scalars."""
import math

import numpy as np
import pytest

from sire_ref.kernels.adam import fused_update
from sire_ref.nn import optim


FUSED = pytest.mark.parametrize("fused", [None, fused_update])     # the reference lines, the jitted pass


def _adam(theta, grads, lr, wd=0.0, eps=1e-8, betas=(0.9, 0.999), fused=None):
    params = {"w": np.array([theta])}
    state = optim.adam_init(params)
    path = []
    for g in grads:
        optim.adam_step(params, {"w": np.array([g])}, state, lr=lr, betas=betas, eps=eps, weight_decay=wd,
                        fused_update=fused)
        path.append(float(params["w"][0]))
    return path


@FUSED
def test_adam_first_step_is_lr_times_the_sign(fused):
    """With bias correction m_hat = g and v_hat = g^2 after one step, so the step is
    lr g / (|g| + eps): lr in the direction of -g whatever |g| is. Without the correction it
    would be lr (1 - b1) g / (sqrt(1 - b2) |g|), 3.16 lr."""
    for g in (0.5, -3e-4, 20.0):
        (theta,) = _adam(1.0, [g], lr=0.1, fused=fused)
        assert theta == pytest.approx(1.0 - 0.1 * g / (abs(g) + 1e-8), rel=1e-14)


@FUSED
def test_adam_two_steps_by_hand(fused):
    """theta = 1, g = 0.5 then -0.3, lr 0.1, weight decay 0.1 (added to g):
    step 1: g' = 0.6, m = 0.06, v = 0.00036, m_hat = 0.6, v_hat = 0.36, theta = 1 - 0.1 * 0.6 / (0.6 + eps);
    step 2: g' = -0.3 + 0.1 theta_1, m = 0.9 m + 0.1 g', v = 0.999 v + 0.001 g'^2,
            theta_2 = theta_1 - 0.1 (m / 0.19) / (sqrt(v / (1 - 0.999^2)) + eps)."""
    eps = 1e-8
    theta1 = 1 - 0.1 * 0.6 / (0.6 + eps)
    g2 = -0.3 + 0.1 * theta1
    m2, v2 = 0.9 * 0.06 + 0.1 * g2, 0.999 * 0.00036 + 0.001 * g2 ** 2
    theta2 = theta1 - 0.1 * (m2 / (1 - 0.9 ** 2)) / (math.sqrt(v2 / (1 - 0.999 ** 2)) + eps)
    assert _adam(1.0, [0.5, -0.3], lr=0.1, wd=0.1, fused=fused) == pytest.approx([theta1, theta2], rel=1e-14)
    # By hand, to 5 digits: g' = -0.21, m = 0.033, v = 0.00040374, m_hat = 0.17368,
    # v_hat = 0.20197, step = 0.1 * 0.17368 / 0.44941 = 0.038647: theta_2 = 0.86135.
    assert theta2 == pytest.approx(0.86135, abs=1e-5)


@FUSED
def test_adam_weight_decay_alone_shrinks_towards_zero(fused):
    (theta,) = _adam(-2.0, [0.0], lr=0.01, wd=0.5, fused=fused)              # g' = 0.5 * -2 = -1
    assert theta == pytest.approx(-2.0 + 0.01 / (1 + 1e-8), rel=1e-14)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("wd", [0.0, 0.05])
def test_fused_adam_is_the_reference_bit_for_bit(dtype, wd):
    """kernels.adam.fused_update (one jitted pass per array) leaves theta, m and v exactly as the
    reference lines do, step after step, in float32 (where every scalar is rounded as NumPy rounds
    it) and float64; gradients from 1e-9 (about eps) to 10. A non-contiguous param (a transposed
    view) takes the reference lines and is still updated in place."""
    rng = np.random.default_rng(3)
    shapes = {"w": (7, 5), "b": (5,), "s0": (3,), "t": (6, 4)}
    start = {k: rng.normal(size=s).astype(dtype) for k, s in shapes.items()}
    grads = [{k: (rng.normal(size=s) * 10.0 ** rng.integers(-9, 2, s)).astype(dtype) for k, s in shapes.items()}
             for _ in range(6)]
    runs = {}
    for fused in (None, fused_update):
        params = {k: v.copy() for k, v in start.items()}
        params["t"] = np.ascontiguousarray(start["t"].T).T        # the same values, not C-contiguous
        state, path = optim.adam_init(params), []
        for g in grads:
            optim.adam_step(params, g, state, lr=3e-3, weight_decay=wd, fused_update=fused)
            path.append({k: (params[k].copy(), state["m"][k].copy(), state["v"][k].copy()) for k in params})
        runs[fused] = path
    for ref, one_pass in zip(runs[None], runs[fused_update]):
        for k in ref:
            for a, b in zip(ref[k], one_pass[k]):
                assert a.dtype == b.dtype == dtype and np.array_equal(a, b), k
    assert not np.array_equal(runs[None][-1]["w"][0], start["w"])          # it moved


def test_sgd_momentum_and_weight_decay_by_hand():
    """buf_1 = g_1', theta_1 = theta_0 - lr buf_1; buf_2 = mu buf_1 + g_2', with g' = g + wd theta."""
    params = {"w": np.array([1.0, -1.0])}
    state = optim.sgd_init(params)
    optim.sgd_step(params, {"w": np.array([0.5, 0.0])}, state, lr=0.1, momentum=0.9, weight_decay=0.2)
    buf1 = np.array([0.5 + 0.2, 0.0 - 0.2])
    theta1 = np.array([1.0, -1.0]) - 0.1 * buf1
    np.testing.assert_allclose(params["w"], theta1, rtol=1e-15)
    optim.sgd_step(params, {"w": np.array([-1.0, 2.0])}, state, lr=0.1, momentum=0.9, weight_decay=0.2)
    buf2 = 0.9 * buf1 + np.array([-1.0, 2.0]) + 0.2 * theta1
    np.testing.assert_allclose(params["w"], theta1 - 0.1 * buf2, rtol=1e-15)


def test_frozen_copy_is_untouched_and_state_is_per_parameter():
    params = {"a": np.array([1.0]), "b": np.array([5.0])}
    state = optim.adam_init(params)
    optim.adam_step(params, {"a": np.array([1.0]), "b": np.array([-1.0])}, state, lr=0.1)
    assert params["a"][0] < 1.0 < 5.0 < params["b"][0] and state["t"] == 1


def test_clipping_scales_every_gradient_by_one_factor():
    grads = {"a": np.array([3.0, 0.0]), "b": np.array([[-4.0]])}
    before = optim.clip_grad_norm(grads, 2.5)
    assert before == 5.0
    np.testing.assert_allclose(grads["a"], [1.5, 0.0], rtol=1e-11)       # factor 2.5 / 5
    np.testing.assert_allclose(grads["b"], [[-2.0]], rtol=1e-11)
    assert optim.clip_grad_norm(grads, None) == pytest.approx(2.5)       # None: measure only
    np.testing.assert_allclose(grads["a"], [1.5, 0.0], rtol=1e-11)


def test_default_hyperparameters_are_pytorchs():
    """Adam's defaults are PyTorch's betas (0.9, 0.999) and eps 1e-8 (the same path as with them
    given, over steps where they matter); SGD's momentum and weight decay default to 0 (two
    plain steps add up, no buffer)."""
    params = {"w": np.array([1.0])}
    state = optim.adam_init(params)
    path = []
    for g in (2e-8, -5e-8, 1e-7):                      # |g| ~ eps: eps and both betas matter
        optim.adam_step(params, {"w": np.array([g])}, state, lr=0.1)
        path.append(float(params["w"][0]))
    assert path == _adam(1.0, [2e-8, -5e-8, 1e-7], lr=0.1, eps=1e-8, betas=(0.9, 0.999))
    assert path != _adam(1.0, [2e-8, -5e-8, 1e-7], lr=0.1, eps=1e-8, betas=(0.8, 0.999))
    params = {"w": np.array([1.0])}
    state = optim.sgd_init(params)
    for g in (0.5, 0.25):
        optim.sgd_step(params, {"w": np.array([g])}, state, lr=0.1)
    assert params["w"][0] == pytest.approx(1.0 - 0.1 * 0.75, rel=1e-15)


@pytest.mark.parametrize("backend, fused", [(None, False), ("numpy", False), ("auto", True), ("numba", True)])
def test_train_step_fuses_adam_where_the_model_runs_on_the_kernels(backend, fused, monkeypatch):
    """train_step hands Adam the jitted pass exactly when the model's backend resolves to numba."""
    from sire_ref.data import parity
    from sire_ref.kernels import adam
    from sire_ref.models.recurrent import RecurrentSetModel
    from sire_ref.training.loop import TrainConfig, train_step
    calls = []
    monkeypatch.setattr(adam, "fused_update", lambda *a: calls.append(a) or fused_update(*a))
    rng = np.random.default_rng(0)
    split = parity.make_split(rng, 8, 2, 5)
    model = RecurrentSetModel(1, 4, 1, cell="gru", backend=backend)
    params = model.init(rng)
    config = TrainConfig(batch_size=8, loss="bce")
    train_step(model, params, optim.adam_init(params), split, np.arange(8), config, rng, 0.01)
    assert (len(calls) == len(params)) if fused else calls == []
