"""The numba kernels equal the reference cells: float64 rel < 1e-12, float32 rel < 1e-5."""
import numpy as np
import pytest

from sire_ref.core.regularizers import sire
from sire_ref.core.samples import sample_sire
from sire_ref.kernels import mathfn
from sire_ref.models.recurrent import Head, RecurrentSetModel
from sire_ref.tools.testing import random_problem, relative_error

TOL = {np.float64: 1e-12, np.float32: 1e-5}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape", [(5, 7, 3, 4), (1, 1, 1, 1), (3, 12, 2, 9), (16, 4, 5, 20)])
def test_numba_equals_reference(cell, dtype, shape):
    B, T, I, H = shape
    params, x, lengths, dstates = random_problem(cell, np.random.default_rng(sum(shape)), B, T, I, H,
                                                 dtype=dtype)
    if B >= 3:
        lengths[2] = 0                                     # an empty sequence too
    ref_states, ref_cache = cell.forward(params, x, lengths)
    ref_grads, ref_dx = cell.backward(params, ref_cache, dstates)
    states, cache = cell.forward(params, x, lengths, backend="numba")
    grads, dx = cell.backward(params, cache, dstates)
    assert states.dtype == dx.dtype == dtype and states.shape == ref_states.shape
    assert relative_error(states, ref_states) < TOL[dtype]
    assert relative_error(dx, ref_dx) < TOL[dtype]
    assert set(grads) == set(ref_grads)
    for k in grads:
        assert grads[k].dtype == dtype
        assert relative_error(grads[k], ref_grads[k]) < TOL[dtype], k


def test_numba_through_the_model_and_the_regularizer(cell):
    rng = np.random.default_rng(0)
    ref = RecurrentSetModel(2, 5, 1, cell=cell.name, head=Head((3,)))
    fast = RecurrentSetModel(2, 5, 1, cell=cell.name, head=Head((3,)), backend="numba")
    params = ref.init(rng)
    x, lengths = rng.normal(size=(6, 8, 2)), rng.integers(1, 9, size=6)
    (y1, c1), (y2, c2) = ref.forward(params, x, lengths), fast.forward(params, x, lengths)
    assert relative_error(y1, y2) < 1e-12
    g1, g2 = ref.backward(params, c1, np.ones_like(y1)), fast.backward(params, c2, np.ones_like(y2))
    for k in g1:
        assert relative_error(g1[k], g2[k]) < 1e-12, k
    from sire_ref.nn.params import take
    p = take("cell", params)
    draw = sample_sire(rng, lengths, 20)
    (v1, r1, _), (v2, r2, _) = sire(cell, p, x, draw, lengths), sire(cell, p, x, draw, lengths, backend="numba")
    assert relative_error(v1, v2) < 1e-12
    for k in r1:
        assert relative_error(r1[k], r2[k]) < 1e-12, k


@pytest.mark.parametrize("order", ["longest first", "shortest first", "equal", "drawn"])
@pytest.mark.parametrize("tokens", [False, True])
def test_rows_of_any_length_order_equal_the_reference(cell, order, tokens):
    """The kernels step only the rows still live (longest first: layout.longest_first) and return
    every output in the caller's row order: states, dx, each row's initial-state gradient (rows
    from their own states, as the regularizers' folds) and the weights' gradients, for lengths
    already longest first, reversed, equal, and in a drawn order with ties and a 0."""
    rng = np.random.default_rng(5)
    B, T, I, H = 7, 6, 3, 4
    params, x, _, dstates = random_problem(cell, rng, B, T, I, H)
    lengths = {"longest first": np.array([6, 5, 5, 3, 2, 1, 0]), "shortest first": np.array([0, 1, 2, 3, 5, 5, 6]),
               "equal": np.full(B, 4), "drawn": np.array([2, 6, 0, 5, 2, 6, 1])}[order]
    if tokens:
        x = rng.integers(0, I, size=(B, T))
    initial = rng.uniform(-0.8, 0.8, size=(B, H))
    (ref, ref_cache), (fast, fast_cache) = (cell.unchecked_forward(params, x, lengths, backend, initial=initial)
                                            for backend in (None, "numba"))
    assert relative_error(fast, ref) < 1e-12
    (g_ref, dx_ref, ds_ref), (g, dx, ds) = (cell.unchecked_backward_rows(params, c, dstates)
                                            for c in (ref_cache, fast_cache))
    assert relative_error(ds, ds_ref) < 1e-12
    assert (dx is None) == tokens and (tokens or relative_error(dx, dx_ref) < 1e-12)
    for k in g_ref:
        assert relative_error(g[k], g_ref[k]) < 1e-12, k


def test_backend_must_match_the_arrays(cell, problem):
    params, x, lengths, _ = problem
    with pytest.raises(ValueError, match="backend must be one of"):
        cell.forward(params, x, lengths, backend="jax")
    with pytest.raises(TypeError, match="backend 'cupy' does not match the arrays"):
        cell.forward(params, x, lengths, backend="cupy")


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_jitted_tanh_and_sigmoid_are_accurate(dtype):
    rng = np.random.default_rng(0)
    a = np.concatenate([rng.normal(size=5000) * 5, rng.normal(size=100) * 1e-9,
                        [0.0, 30.0, -30.0, 700.0, -700.0, 1e-300]]).astype(dtype)
    out, q, bits = np.empty_like(a), np.empty(a.size), np.empty(a.size, np.int64)
    a64 = a.astype(np.float64)
    mathfn.tanh(a, out, q, bits)
    ref = np.tanh(a64)
    ulp = np.finfo(dtype).eps
    assert np.all(np.abs(out - ref) <= 4 * ulp * np.abs(ref) + np.finfo(dtype).tiny)
    mathfn.sigmoid(a, out, q, bits)
    e = np.exp(-np.abs(a64))
    ref = np.where(a64 >= 0, 1, e) / (1 + e)
    ok = ref > np.finfo(dtype).tiny * 1e10                 # below that float32 flushes towards 0
    assert np.all(np.abs(out[ok] - ref[ok]) <= 4 * ulp * ref[ok])


@pytest.mark.parametrize("chunk_steps", [1, 2, 3])
def test_gru_chunked_products_equal_the_reference(monkeypatch, chunk_steps):
    """The GRU groups per-step products C steps at a time; C < T (uneven last chunk) too."""
    from sire_ref.core.cells import gru
    from sire_ref.kernels import gru as kernel
    B, T, I, H = 3, 7, 2, 4
    monkeypatch.setattr(kernel, "CHUNK_ELEMENTS", chunk_steps * B * 3 * H)
    assert kernel._chunk(T, B, H) == chunk_steps
    params, x, lengths, dstates = random_problem(gru, np.random.default_rng(chunk_steps), B, T, I, H)
    ref = gru.backward(params, gru.forward(params, x, lengths)[1], dstates)
    fast = gru.backward(params, gru.forward(params, x, lengths, backend="numba")[1], dstates)
    assert relative_error(fast[1], ref[1]) < 1e-12
    for k in ref[0]:
        assert relative_error(fast[0][k], ref[0][k]) < 1e-12, k


@pytest.mark.parametrize("backend", [None, "numba"])
def test_rows_start_from_their_own_initial_states(cell, backend):
    """unchecked_forward(initial=...) folds each row from its own state (the regularizers'
    swaps); unchecked_backward_rows returns the gradient on those states (finite differences)."""
    from sire_ref.tools.testing import numerical_gradient
    rng = np.random.default_rng(21)
    params, x, lengths, dstates = random_problem(cell, rng, batch=4, seq_len=3, input_size=2, hidden_size=3)
    initial = rng.uniform(-0.8, 0.8, size=(4, 3))
    states, cache = cell.unchecked_forward(params, x, lengths, backend, initial=initial)
    s = initial.copy()
    for t in range(x.shape[1]):                       # the oracle: one checked step at a time
        s = np.where((t < lengths)[:, None], cell.step(params, s, x[:, t])[0], s)
        np.testing.assert_allclose(states[:, t], s, rtol=1e-12, atol=1e-14)
    grads, dx, ds_initial = cell.unchecked_backward_rows(params, cache, dstates)
    assert "s0" not in grads
    with pytest.raises(ValueError, match="unchecked_backward_rows"):
        cell.unchecked_backward(params, cache, dstates)

    def loss(arrays):
        st, _ = cell.unchecked_forward(params, x, lengths, None, initial=arrays["initial"])
        return float((st * dstates).sum())

    numeric = numerical_gradient(loss, {"initial": initial})["initial"]
    assert relative_error(ds_initial, numeric) < 1e-7


def test_float32_rational_activations_are_accurate():
    """The float32 kernels' tanh and sigmoid against float64 NumPy on a dense grid, tails included."""
    a = np.concatenate([np.linspace(-40, 40, 400_001), [0.0, 1e-30, -1e-30, 9.0, -9.0]]).astype(np.float32)
    out = np.empty_like(a)
    exact = a.astype(np.float64)
    mathfn.tanh_f32(a, out)
    assert np.abs(out - np.tanh(exact)).max() < 4e-7
    assert np.all(np.abs(out) <= 1) and out[a == 0][0] == 0
    mathfn.sigmoid_f32(a, out)
    assert np.abs(out - 1 / (1 + np.exp(-exact))).max() < 2e-7
    assert np.all((out >= 0) & (out <= 1))


@pytest.mark.parametrize("backend", [None, "numba"])
def test_an_empty_batch_gives_empty_states_and_zero_gradients(cell, backend):
    params = cell.init_params(3, 4, np.random.default_rng(0))
    states, cache = cell.forward(params, np.zeros((0, 6, 3)), None, backend=backend)
    grads, dx = cell.backward(params, cache, np.zeros((0, 6, 4)))
    assert states.shape == (0, 6, 4) and dx.shape == (0, 6, 3)
    assert all(not np.any(g) for g in grads.values())


def test_auto_runs_the_kernels_on_the_cpu(cell):
    """backend="auto" on NumPy arrays is the kernels at any size (the reference's float32 backward
    is slowed by subnormals on long sequences; the kernels flush them)."""
    params, x, lengths, _ = random_problem(cell, np.random.default_rng(3), batch=3, seq_len=4)
    _, cache = cell.forward(params, x, lengths, backend="auto")
    assert cache["backend"] == "numba"


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_backward_flushes_only_what_is_below_the_floor(cell, dtype):
    """A running state gradient below mathfn.flush_floor (tiny / eps) becomes exactly 0 in the
    kernels (subnormal arithmetic is 10-100x slower); everything above it is untouched. The
    gradient on the last state is set at a scale that puts its one-step-back value below the
    floor: the kernels' ds_init and the gradients of the earlier steps vanish, while the
    reference (no flush) keeps them; at scale 1 both agree as usual."""
    params, x, lengths, dstates = random_problem(cell, np.random.default_rng(3), 2, 3, 2, 4, dtype=dtype)
    lengths[:] = 3
    floor = mathfn.flush_floor(dtype)
    assert floor == np.finfo(dtype).tiny / np.finfo(dtype).eps
    last = np.zeros_like(dstates)
    last[:, -1] = dstates[:, -1]
    for scale, flushed in ((1.0, False), (floor * 1e-3, True)):
        d = (last * dtype(scale)).astype(dtype)
        ref = cell.backward(params, cell.forward(params, x, lengths)[1], d)
        fast = cell.backward(params, cell.forward(params, x, lengths, backend="numba")[1], d)
        assert np.any(ref[1] != 0) and np.any(ref[0]["s0"] != 0)
        if flushed:
            assert not np.any(fast[0]["s0"]) and not np.any(fast[1][:, :2])
        else:
            assert relative_error(fast[0]["s0"], ref[0]["s0"]) < TOL[dtype]
