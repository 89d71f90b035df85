"""Point-cloud pieces (Section 6.3): set max-pool, the permutation-equivariant layer, DeepSets for
point clouds, and truncated BPTT in the recurrent model. Gradients against central differences
(float64, rel < 1e-7, nonzero biases and s0), equivariance exactly, torch float64 where installed."""
import numpy as np
import pytest

from sire_ref.models.pointsets import EquivariantDeepSets
from sire_ref.models.recurrent import Head, RecurrentSetModel
from sire_ref.nn import equivariant, setpool
from sire_ref.kernels import setpool as setpool_kernel
from sire_ref.kernels.setpool import max_over_set
from sire_ref.models import pointsets, recurrent
from sire_ref.nn.encoders import MLP, Equivariant
from sire_ref.tools.interop.torch import INSTALL as TORCH_INSTALL
from sire_ref.tools.testing import nonzero_relative_error, numerical_gradient

TOL = 1e-7


def _check_model(model, params, x, rng, **forward_kwargs):
    y, cache = model.forward(params, x, **forward_kwargs)
    dy = rng.normal(size=y.shape)
    grads = model.backward(params, cache, dy)
    numeric = numerical_gradient(lambda a: float((model.forward(a, x, **forward_kwargs)[0] * dy).sum()), params)
    for k in params:
        assert nonzero_relative_error(grads[k], numeric[k]) < TOL, k


def test_setpool_and_equivariant_gradients():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3, 5, 4))
    y, cache = setpool.forward(x)
    assert np.array_equal(y, x.max(axis=1))
    dy = rng.normal(size=y.shape)
    numeric = numerical_gradient(lambda a: float((setpool.forward(a["x"])[0] * dy).sum()), {"x": x})
    assert nonzero_relative_error(setpool.backward(cache, dy), numeric["x"]) < TOL
    params = equivariant.init(4, 6, rng)
    y, cache = equivariant.forward(params, x)
    dy = rng.normal(size=y.shape)
    grads, dx = equivariant.backward(params, cache, dy)
    numeric = numerical_gradient(lambda a: float((equivariant.forward({k: a[k] for k in params}, a["x"])[0]
                                                  * dy).sum()), dict(params, x=x))
    for k in params:
        assert nonzero_relative_error(grads[k], numeric[k]) < TOL, k
    assert nonzero_relative_error(dx, numeric["x"]) < TOL


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_numba_max_over_a_set_is_numpys_max_and_first_argmax(dtype):
    rng = np.random.default_rng(5)
    x = rng.normal(size=(4, 9, 6)).astype(dtype)
    x[0, [2, 7], 1] = 5.0                    # a tie: the first holder wins
    x[1, :, 2] = -1.0                        # all equal: element 0
    x[2, [3, 6], 0] = np.nan                 # NaN: the first NaN wins, as argmax
    x[2, 1, 0] = 9.0                         # ... even after a larger value
    x[3, 0, 3] = np.nan                      # a NaN first stays the winner
    x[3, -1, 4] = np.inf
    y, winner = max_over_set(x)
    assert y.dtype == dtype and winner.shape == (4, 6)
    assert np.array_equal(winner, x.argmax(axis=1))
    assert np.array_equal(y, x.max(axis=1), equal_nan=True)
    assert (winner[0, 1], winner[1, 2], winner[2, 0], winner[3, 3], winner[3, 4]) == (2, 0, 3, 0, 8)


@pytest.mark.parametrize("module, make", [
    (pointsets, lambda: EquivariantDeepSets(width=6, out_size=4, dropout_rate=0.0, backend="numba")),
    (recurrent, lambda: RecurrentSetModel(3, 4, 3, cell="gru", encoder=Equivariant((3, 6, 5), "tanh"), backend="numba"))])
def test_the_numba_max_changes_no_number_of_a_step(module, make, monkeypatch):
    """backend "numba" takes the max over the points from kernels.setpool (each layer's and the pool's):
    the same values and winners, so the same outputs and gradients bit for bit as NumPy's argmax."""
    rng = np.random.default_rng(6)
    model, calls = make(), []
    params, x = model.init(rng), rng.normal(size=(3, 7, 3))
    x[0, 4] = x[0, 2]                          # two equal points: tied maxima in every layer
    monkeypatch.setattr(setpool_kernel, "max_over_set", lambda h: calls.append(h.shape) or max_over_set(h))
    y_fast, c_fast = model.forward(params, x)
    assert len(calls) == (4 if module is pointsets else 2)
    monkeypatch.setattr(module, "max_over_set", lambda backend, h: None)          # NumPy's argmax instead
    y, cache = model.forward(params, x)
    assert len(calls) == (4 if module is pointsets else 2)
    dy = rng.normal(size=y.shape)
    assert np.array_equal(y, y_fast)
    g_ref, g_fast = model.backward(params, cache, dy), model.backward(params, c_fast, dy)
    assert all(np.array_equal(g_ref[k], g_fast[k]) for k in params)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("module, make", [
    (pointsets, lambda: EquivariantDeepSets(width=6, out_size=4, dropout_rate=0.0, backend="numba")),
    (recurrent, lambda: RecurrentSetModel(3, 4, 3, cell="gru", encoder=Equivariant((3, 6, 5), "tanh"), backend="numba"))])
def test_the_fused_tanh_backward_changes_no_number_of_a_step(module, make, dtype, monkeypatch):
    """backend "numba" does each equivariant layer's tanh backward and its set sum in one numba pass
    (kernels.setpool.tanh_grad_and_set_sum): every gradient bit for bit as the layers' own lines."""
    rng = np.random.default_rng(8)
    model, calls = make(), []
    params, x = model.init(rng, dtype=dtype), rng.normal(size=(3, 7, 3)).astype(dtype)
    y, cache = model.forward(params, x)
    dy = rng.normal(size=y.shape).astype(dtype)
    fused = setpool_kernel.tanh_grad_and_set_sum
    monkeypatch.setattr(setpool_kernel, "tanh_grad_and_set_sum", lambda h, d: calls.append(h.shape) or fused(h, d))
    g_fast = model.backward(params, cache, dy)
    assert len(calls) == (model.layers if module is pointsets else 2)
    monkeypatch.setattr(module, "tanh_grad_and_set_sum", lambda backend, h: None)     # the layers' own lines
    g_ref = model.backward(params, cache, dy)
    assert len(calls) == (model.layers if module is pointsets else 2)
    assert all(g_ref[k].dtype == dtype and np.array_equal(g_ref[k], g_fast[k]) for k in params)
    assert np.any(g_ref["phi.0.weight" if module is pointsets else "encoder.0.weight"])


def test_the_equivariant_layer_skips_dx_only_where_asked():
    rng = np.random.default_rng(7)
    params, x = equivariant.init(3, 4, rng), rng.normal(size=(2, 5, 3))
    y, cache = equivariant.forward(params, x)
    dy = rng.normal(size=y.shape)
    (g_all, dx), (g_first, none) = equivariant.backward(params, cache, dy), equivariant.backward(params, cache, dy,
                                                                                                  need_dx=False)
    assert none is None and dx.shape == x.shape
    assert all(np.array_equal(g_all[k], g_first[k]) for k in params)


def test_equivariance_and_invariance_exactly():
    """Permuting the points permutes the equivariant layer's rows and leaves the model's output."""
    rng = np.random.default_rng(1)
    model = EquivariantDeepSets(width=8, out_size=5)
    params = model.init(rng)
    x = rng.normal(size=(2, 7, 3))
    perm = rng.permutation(7)
    y_layer = equivariant.forward({k[6:]: v for k, v in params.items() if k.startswith("phi.0.")}, x)[0]
    y_perm = equivariant.forward({k[6:]: v for k, v in params.items() if k.startswith("phi.0.")}, x[:, perm])[0]
    assert np.array_equal(y_layer[:, perm], y_perm)
    assert np.allclose(model.forward(params, x)[0], model.forward(params, x[:, perm])[0], rtol=0, atol=1e-14)


def test_point_deepsets_gradients_with_and_without_dropout():
    rng = np.random.default_rng(2)
    model = EquivariantDeepSets(width=5, out_size=4, dropout_rate=0.3)
    params, x = model.init(rng), rng.normal(size=(3, 6, 3))
    _check_model(model, params, x, rng)
    seeded = {"train": True}

    def forward_kwargs():
        return dict(seeded, rng=np.random.default_rng(0))
    y, cache = model.forward(params, x, **forward_kwargs())
    assert cache.rho[0] is not None and (cache.rho[0] == 0).any()       # a mask that drops some units
    dy = rng.normal(size=y.shape)
    grads = model.backward(params, cache, dy)
    numeric = numerical_gradient(lambda a: float((model.forward(a, x, **forward_kwargs())[0] * dy).sum()), params)
    for k in params:
        assert nonzero_relative_error(grads[k], numeric[k]) < TOL, k


def test_point_deepsets_refuses_partial_sets_and_regularizers():
    rng = np.random.default_rng(3)
    model = EquivariantDeepSets(width=4, out_size=3)
    params, x = model.init(rng), rng.normal(size=(2, 5, 3))
    with pytest.raises(ValueError, match="every length must be N"):
        model.forward(params, x, lengths=[5, 4])
    with pytest.raises(ValueError, match=r"\(B, N, 3\) point clouds"):
        model.forward(params, x[..., :2])
    with pytest.raises(ValueError, match="no recurrent states"):
        model.regularizer(params, x, None, rng)


def test_point_deepsets_against_torch_float64():
    torch = pytest.importorskip("torch", reason=f"torch not installed: {TORCH_INSTALL}")
    rng = np.random.default_rng(4)
    model = EquivariantDeepSets(width=6, out_size=4, dropout_rate=0.0)
    params, x = model.init(rng), rng.normal(size=(3, 7, 3))
    y, cache = model.forward(params, x)
    dy = rng.normal(size=y.shape)
    grads = model.backward(params, cache, dy)
    t = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    h = torch.tensor(x)
    for i in range(3):        # the public DeepSets PermEqui1_max: Gamma(x - max over the set)
        h = torch.tanh(torch.nn.functional.linear(h - h.max(1, keepdim=True)[0], t[f"phi.{i}.weight"],
                                                  t[f"phi.{i}.bias"]))
    h = torch.tanh(torch.nn.functional.linear(h.max(1)[0], t["rho.0.weight"], t["rho.0.bias"]))
    out = torch.nn.functional.linear(h, t["rho.1.weight"], t["rho.1.bias"])
    (out * torch.tensor(dy)).sum().backward()
    assert nonzero_relative_error(y, out.detach().numpy()) < 1e-12
    for k in params:
        assert nonzero_relative_error(grads[k], t[k].grad.numpy()) < 1e-12, k


def _sire_model(backend=None, tbptt=None):
    return RecurrentSetModel(3, 4, 3, cell="gru", head=Head((5,)), encoder=MLP([3, 6, 4], "tanh"),
                             backend=backend, tbptt=tbptt)


@pytest.mark.parametrize("backend", [None, "numba"])
def test_tbptt_window_as_long_as_the_sequence_is_full_bptt(backend):
    rng = np.random.default_rng(5)
    full, windowed = _sire_model(backend), _sire_model(backend, tbptt=9)
    params, x = full.init(rng), rng.normal(size=(3, 9, 3))
    lengths = [9, 4, 7]
    y1, c1 = full.forward(params, x, lengths)
    y2, c2 = windowed.forward(params, x, lengths)
    dy = rng.normal(size=y1.shape)
    g1, g2 = full.backward(params, c1, dy), windowed.backward(params, c2, dy)
    assert np.array_equal(y1, y2) and all(np.array_equal(g1[k], g2[k]) for k in g1)


@pytest.mark.parametrize("backend", [None, "numba"])
def test_tbptt_gradient_is_that_of_a_detached_carry(backend):
    """Windows of 3 over T = 8 (windows 0-2, 3-5, 6-7), lengths 8, 5 and 2, and an extra state
    gradient at every step: the gradient equals central differences of the objective in which
    each window starts from the previous window's last state FROZEN at the current parameters
    (what h.detach() does), computed by an independent window-by-window fold."""
    rng = np.random.default_rng(6)
    model = _sire_model(backend, tbptt=3)
    params = model.init(rng)
    params["cell.s0"] = rng.uniform(-0.5, 0.5, 4)
    x, lengths = rng.normal(size=(3, 8, 3)), np.array([8, 5, 2])
    y, cache = model.forward(params, x, lengths)
    full_y, _ = _sire_model(backend).forward(params, x, lengths)
    assert np.allclose(y, full_y, rtol=0, atol=1e-14)             # truncation changes no forward value
    dy, dstates = rng.normal(size=y.shape), rng.normal(size=(3, 8, 4))
    grads = model.backward(params, cache, dy, dstates)
    frozen_states = cache.states.copy()

    def objective(p):
        e = _sire_model().encoder.forward(p, x)[0]
        cell = {k[5:]: v for k, v in p.items() if k.startswith("cell.")}
        states = np.empty((3, 8, 4))
        for a in (0, 3, 6):
            b = min(a + 3, 8)
            s = np.broadcast_to(cell["s0"], (3, 4)) if a == 0 else frozen_states[:, a - 1]
            for t in range(a, b):
                s_next, _ = model.cell.step(cell, np.ascontiguousarray(s), e[:, t])
                s = np.where((t < lengths)[:, None], s_next, s)
                states[:, t] = s
        head = {k[5:]: v for k, v in p.items() if k.startswith("head.")}
        from sire_ref.nn import mlp
        out = mlp.forward(head, states[:, -1])[0]
        return float((out * dy).sum() + (states * dstates).sum())

    numeric = numerical_gradient(objective, params)
    for k in params:
        assert nonzero_relative_error(grads[k], numeric[k]) < TOL, k


def test_model_refuses_misshapen_dstates():
    rng = np.random.default_rng(7)
    model = _sire_model()
    params, x = model.init(rng), rng.normal(size=(2, 4, 3))
    y, cache = model.forward(params, x)
    with pytest.raises(ValueError, match="dstates"):
        model.backward(params, cache, np.ones_like(y), np.zeros((2, 3, 4)))
    with pytest.raises(ValueError, match="tbptt must be None or a positive int"):
        _sire_model(tbptt=0)
