"""Sequence semantics: lengths, step/forward agreement, dtype policy, float32 vs float64."""
import numpy as np
import pytest

from sire_ref.tools.testing import random_problem, relative_error


def test_forward_is_repeated_step(cell, problem):
    params, x, _, _ = problem
    states, _ = cell.forward(params, x)
    s = np.broadcast_to(params["s0"], (x.shape[0], params["s0"].shape[0]))
    for t in range(x.shape[1]):
        s, _ = cell.step(params, s, x[:, t])
        np.testing.assert_array_equal(states[:, t], s)


def test_lengths_equal_truncated_sequences(cell, problem):
    """states[b, :L] equal a lone run on x[b, :L]; afterwards the final state is carried unchanged."""
    params, x, lengths, _ = problem
    states, _ = cell.forward(params, x, lengths)
    for b, L in enumerate(lengths):
        alone, _ = cell.forward(params, x[b:b + 1, :L])
        np.testing.assert_allclose(states[b, :L], alone[0], rtol=0, atol=1e-15)
        np.testing.assert_array_equal(states[b, L:], np.broadcast_to(states[b, L - 1], states[b, L:].shape))


def test_empty_sequence_stays_at_s0(cell, problem):
    params, x, _, dstates = problem
    lengths = np.array([0, 6, 0, 2, 3])
    states, cache = cell.forward(params, x, lengths)
    np.testing.assert_array_equal(states[0], np.broadcast_to(params["s0"], states[0].shape))
    grads, dx = cell.backward(params, cache, dstates)
    assert np.all(dx[0] == 0) and np.all(dx[2] == 0)
    # The whole upstream gradient of an empty sequence lands on s0.
    _, cache_rest = cell.forward(params, x[[1, 3, 4]], lengths[[1, 3, 4]])
    g_rest, _ = cell.backward(params, cache_rest, dstates[[1, 3, 4]])
    np.testing.assert_allclose(grads["s0"] - g_rest["s0"], dstates[[0, 2]].sum(axis=(0, 1)),
                               rtol=1e-12, atol=1e-14)


def test_padding_does_not_matter(cell, problem):
    """Inputs past a sequence's length affect neither states nor gradients, and get zero dx."""
    params, x, lengths, dstates = problem
    x2 = x.copy()
    for b, L in enumerate(lengths):
        x2[b, L:] = 1e3
    out = [cell.forward(params, xx, lengths) for xx in (x, x2)]
    np.testing.assert_array_equal(out[0][0], out[1][0])
    (g1, dx1), (g2, dx2) = (cell.backward(params, c, dstates) for _, c in out)
    for k in g1:
        np.testing.assert_array_equal(g1[k], g2[k])
    for b, L in enumerate(lengths):
        assert np.all(dx1[b, L:] == 0)
    np.testing.assert_array_equal(dx1, dx2)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_results_keep_the_input_dtype(cell, dtype):
    params, x, lengths, dstates = random_problem(cell, np.random.default_rng(3), dtype=dtype)
    states, cache = cell.forward(params, x, lengths)
    grads, dx = cell.backward(params, cache, dstates)
    assert states.dtype == dtype and dx.dtype == dtype
    assert all(g.dtype == dtype for g in grads.values())
    s1, c = cell.step(params, states[:, 0], x[:, 0])
    g, ds, dx_t = cell.step_backward(params, c, s1)
    assert s1.dtype == ds.dtype == dx_t.dtype == dtype
    assert all(v.dtype == dtype for v in g.values())


def test_float32_agrees_with_float64(cell):
    p64, x64, lengths, d64 = random_problem(cell, np.random.default_rng(5), batch=6, seq_len=20)
    p32 = {k: v.astype(np.float32) for k, v in p64.items()}
    # Compare on the float32-representable inputs so only arithmetic precision differs.
    p64 = {k: v.astype(np.float64) for k, v in p32.items()}
    x32, d32 = x64.astype(np.float32), d64.astype(np.float32)
    out64 = cell.forward(p64, x32.astype(np.float64), lengths)
    out32 = cell.forward(p32, x32, lengths)
    assert relative_error(out32[0], out64[0]) < 1e-5
    g64, dx64 = cell.backward(p64, out64[1], d32.astype(np.float64))
    g32, dx32 = cell.backward(p32, out32[1], d32)
    assert relative_error(dx32, dx64) < 1e-5
    for k in g64:
        assert relative_error(g32[k], g64[k]) < 1e-5, k


def test_init_params_shapes_and_pytorch_range(cell):
    H, I = 7, 3
    params = cell.init_params(I, H, np.random.default_rng(0))
    G = cell.gates
    assert params["weight_ih"].shape == (G * H, I) and params["weight_hh"].shape == (G * H, H)
    assert params["bias_ih"].shape == params["bias_hh"].shape == (G * H,)
    assert params["s0"].shape == (H,) and np.all(params["s0"] == 0)
    bound = 1 / np.sqrt(H)
    for k in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
        assert np.abs(params[k]).max() <= bound and np.abs(params[k]).max() > bound / 2


def test_init_params_is_seeded(cell):
    a = cell.init_params(2, 3, np.random.default_rng(11))
    b = cell.init_params(2, 3, np.random.default_rng(11))
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])


def test_gru_sigmoid_is_stable_and_precise_in_both_tails():
    from sire_ref.core.cells.gru import sigmoid
    a = np.linspace(-30, 30, 61)
    np.testing.assert_allclose(sigmoid(a), 1 / (1 + np.exp(-a)), rtol=1e-15, atol=0)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        tails = sigmoid(np.array([-1e4, 1e4]))
    np.testing.assert_array_equal(tails, [0.0, 1.0])
