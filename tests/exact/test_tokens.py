"""Integer tokens are one-hot rows: the cells, regularizers and kernels give exactly what the
dense one-hot input gives (states, every gradient), with no dx."""
import numpy as np
import pytest

from sire_ref.core.regularizers import sire, sub
from sire_ref.core.samples import sample_sire, sample_sub
from sire_ref.nn import inputs, linear
from sire_ref.tools.testing import random_problem, relative_error

V = 7


def _tokens(cell, seed=3, B=5, T=6, H=4):
    params, _, lengths, dstates = random_problem(cell, np.random.default_rng(seed), batch=B, seq_len=T,
                                                 input_size=V, hidden_size=H)
    tokens = np.random.default_rng(seed + 1).integers(0, V, size=(B, T))
    return params, tokens, np.eye(V)[tokens], lengths, dstates


@pytest.mark.parametrize("backend", [None, "numba"])
def test_tokens_equal_their_one_hot_rows(cell, backend):
    params, tokens, one_hot, lengths, dstates = _tokens(cell)
    s_tok, c_tok = cell.forward(params, tokens, lengths, backend=backend)
    s_hot, c_hot = cell.forward(params, one_hot, lengths)          # the dense reference
    assert relative_error(s_tok, s_hot) < 1e-13
    g_tok, dx_tok = cell.backward(params, c_tok, dstates)
    g_hot, _ = cell.backward(params, c_hot, dstates)
    assert dx_tok is None
    for k in g_hot:
        assert relative_error(g_tok[k], g_hot[k]) < 1e-12, k


def test_numba_float32_tokens_match_the_reference(cell):
    params, tokens, _, lengths, dstates = _tokens(cell, seed=9)
    p32 = {k: v.astype(np.float32) for k, v in params.items()}
    s_ref, c_ref = cell.forward(p32, tokens, lengths)
    s_fast, c_fast = cell.forward(p32, tokens, lengths, backend="numba")
    assert s_fast.dtype == np.float32 and relative_error(s_fast, s_ref) < 1e-5
    g_ref, _ = cell.backward(p32, c_ref, dstates.astype(np.float32))
    g_fast, _ = cell.backward(p32, c_fast, dstates.astype(np.float32))
    for k in g_ref:
        assert g_fast[k].dtype == np.float32 and relative_error(g_fast[k], g_ref[k]) < 1e-5, k


@pytest.mark.parametrize("kind", ["sire-subset", "sire-prefix", "sub"])
@pytest.mark.parametrize("backend", [None, "numba"])
def test_regularizers_on_tokens_equal_one_hot(cell, kind, backend):
    params, tokens, one_hot, lengths, _ = _tokens(cell, seed=5)
    rng = np.random.default_rng(2)
    if kind == "sub":
        draw = sample_sub(rng, lengths, 9)
        a, b = sub(cell, params, tokens, draw, lengths, backend=backend), sub(cell, params, one_hot, draw, lengths)
    else:
        draw = sample_sire(rng, lengths, 9, kind.split("-")[1])
        a, b = sire(cell, params, tokens, draw, lengths, backend=backend), sire(cell, params, one_hot, draw, lengths)
    assert float(b.value) > 0 and relative_error(a.value, b.value) < 1e-12
    for k in b.grads:
        assert relative_error(a.grads[k], b.grads[k]) < 1e-12, k


def test_with_dx_on_tokens_is_refused(cell):
    params, tokens, _, lengths, _ = _tokens(cell)
    with pytest.raises(TypeError, match="integer tokens have no gradient"):
        sire(cell, params, tokens, sample_sire(np.random.default_rng(0), lengths, 4), lengths, with_dx=True)


def test_linear_layer_reads_tokens_as_one_hot():
    rng = np.random.default_rng(0)
    params = linear.init(V, 3, rng)
    tokens = rng.integers(0, V, size=(4, 5))
    y_tok, c_tok = linear.forward(params, tokens)
    y_hot, c_hot = linear.forward(params, np.eye(V)[tokens])
    assert relative_error(y_tok, y_hot) < 1e-15
    dy = rng.normal(size=y_hot.shape)
    (g_tok, dx_tok), (g_hot, _) = linear.backward(params, c_tok, dy), linear.backward(params, c_hot, dy)
    assert dx_tok is None
    for k in g_hot:
        assert relative_error(g_tok[k], g_hot[k]) < 1e-14


def test_project_backward_scatters_repeated_tokens():
    """A token seen twice collects both upstream rows (a plain fancy-index += would keep one)."""
    w = np.arange(6.0).reshape(2, 3)             # (O, I) = (2, 3)
    dw, dx = inputs.project_backward(np.array([[1.0, 2.0], [10.0, 20.0]]), np.array([1, 1]), w)
    assert dx is None
    np.testing.assert_array_equal(dw, [[0.0, 11.0, 0.0], [0.0, 22.0, 0.0]])
