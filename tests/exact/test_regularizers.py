"""SIRE (Eq. 4.4) and SUB (Eq. 4.1): values from first principles, gradients vs finite differences
(float64, rel < 1e-7) and vs PyTorch autograd on the same explicit draw (rel < 1e-9)."""
import warnings

import numpy as np
import pytest

from sire_ref.core.regularizers import sire, sub
from sire_ref.core.samples import enumerate_sire, sample_sire, sample_sub
from sire_ref.tools.interop.torch import INSTALL as TORCH_INSTALL
from sire_ref.tools.testing import (nonzero_relative_error, numerical_gradient, random_problem, relative_error,
                                    require_framework)

FD_TOL, TORCH_TOL = 1e-7, 1e-9
ESTIMATORS = ["subset", "prefix"]


def _case(cell, seed=0, batch=4, seq_len=6):
    params, x, lengths, _ = random_problem(cell, np.random.default_rng(seed), batch=batch,
                                           seq_len=seq_len, input_size=3, hidden_size=4)
    lengths[0] = 2  # a sequence with exactly one possible pair
    return params, x, lengths


def _draw(kind, seed, lengths, estimator="subset", n=7):
    rng = np.random.default_rng(seed)
    return sample_sire(rng, lengths, n, estimator) if kind == "sire" else sample_sub(rng, lengths, n)


def _run(kind, cell, params, x, samples, through_state=True):
    """The regularizer on the lengths the draw was made for."""
    if kind == "sire":
        return sire(cell, params, x, samples, samples["lengths"], through_state=through_state,
                    with_dx=True)
    return sub(cell, params, x, samples, samples["lengths"], with_dx=True)


def _fold(cell, params, s, xs):
    for x_t in xs:
        s, _ = cell.step(params, s, x_t[None])
    return s


@pytest.mark.parametrize("estimator", ESTIMATORS)
def test_sire_value_is_the_formula(cell, estimator):
    """Row by row with cell.step: mean over rows of ||f(s, x_a, x_c) - f(s, x_c, x_a)||^2."""
    params, x, lengths = _case(cell)
    smp = _draw("sire", 1, lengths, estimator)
    terms = []
    for b, S, m, a, c in zip(smp["seq"], smp["subset"], smp["size"], smp["a"], smp["c"]):
        s = _fold(cell, params, params["s0"][None], x[b, S[:m]])
        d = _fold(cell, params, s, x[b, [a, c]]) - _fold(cell, params, s, x[b, [c, a]])
        terms.append((d * d).sum())
    value = sire(cell, params, x, smp, lengths).value
    assert value > 0 and value == pytest.approx(np.mean(terms), rel=1e-13)


def test_sub_value_is_the_formula(cell):
    params, x, lengths = _case(cell)
    smp = _draw("sub", 2, lengths)
    terms = []
    for b, S, m, p, q in zip(smp["seq"], smp["subset"], smp["size"], smp["p"], smp["q"]):
        S = S[:m]
        d = (_fold(cell, params, params["s0"][None], x[b, S[p[:m]]])
             - _fold(cell, params, params["s0"][None], x[b, S[q[:m]]]))
        terms.append((d * d).sum())
    value = sub(cell, params, x, smp, lengths).value
    assert value > 0 and value == pytest.approx(np.mean(terms), rel=1e-13)


@pytest.mark.parametrize("kind, estimator, through_state", [
    ("sire", "subset", True), ("sire", "prefix", True), ("sire", "subset", False),
    ("sire", "prefix", False), ("sub", None, True)])
def test_gradients_match_finite_differences(cell, kind, estimator, through_state):
    params, x, lengths = _case(cell)
    smp = _draw(kind, 3, lengths, estimator)
    _, grads, dx = _run(kind, cell, params, x, smp, through_state)

    def loss(arrays):
        p = {k: arrays[k] for k in params}
        if through_state:
            return float(_run(kind, cell, p, arrays["x"], smp)[0])
        return float(_stopped_sire(cell, p, params, arrays["x"], x, smp))  # s held constant

    numeric = numerical_gradient(loss, dict(params, x=x))
    for name, g in dict(grads, x=dx).items():
        if name == "s0" and not through_state:      # s held constant: s0 has no path, exactly
            assert np.all(g == 0) and np.abs(numeric[name]).max() < 1e-9
            continue
        err = nonzero_relative_error(g, numeric[name])   # every other gradient must be nonzero
        assert err < FD_TOL, (name, err)


def _stopped_sire(cell, p, p_state, x, x_state, smp):
    """SIRE with s computed from fixed (params, x) and the swaps from the perturbed ones."""
    value = 0.0
    for n, (b, m) in enumerate(zip(smp["seq"], smp["size"])):
        s = _fold(cell, p_state, p_state["s0"][None], x_state[b, smp["subset"][n, :m]])
        a, c = smp["a"][n], smp["c"][n]
        d = _fold(cell, p, s, x[b, [a, c]]) - _fold(cell, p, s, x[b, [c, a]])
        value += (d * d).sum()
    return value / len(smp["seq"])


def test_stop_gradient_gives_no_gradient_to_s0(cell):
    params, x, lengths = _case(cell)
    grads = sire(cell, params, x, _draw("sire", 4, lengths), lengths, through_state=False).grads
    assert np.all(grads["s0"] == 0)
    grads = sire(cell, params, x, _draw("sire", 4, lengths), lengths, through_state=True).grads
    assert np.any(grads["s0"] != 0)




@pytest.mark.parametrize("framework", ["torch", "jax", "keras"])
@pytest.mark.parametrize("kind, estimator, through_state", [
    ("sire", "subset", True), ("sire", "prefix", True), ("sire", "subset", False), ("sub", None, True)])
def test_gradients_match_autograd(cell, kind, estimator, through_state, framework):
    """PyTorch autograd, jax.grad through Flax's cells, and Keras (JAX backend), float64, < 1e-9."""
    regularizer_oracle = require_framework(framework).regularizer_oracle

    params, x, lengths = _case(cell, seed=5, batch=5, seq_len=7)
    smp = _draw(kind, 6, lengths, estimator, n=12)
    value, grads, dx = _run(kind, cell, params, x, smp, through_state)
    t_value, t_grads, t_dx = regularizer_oracle(kind, params, x, smp, lengths, through_state)
    assert nonzero_relative_error(value, t_value) < TORCH_TOL
    for name, g in dict(grads, x=dx).items():
        if name == "s0" and not through_state:
            assert np.all(g == 0) and np.all(t_grads["s0"] == 0)
            continue
        err = nonzero_relative_error(g, dict(t_grads, x=t_dx)[name])
        assert err < TORCH_TOL, (name, err)


def test_exhaustive_draw_matches_torch(cell):
    """Every reachable state and pair of a small batch (enumerate_sire) against autograd."""
    pytest.importorskip("torch", reason=f"torch not installed: {TORCH_INSTALL}")
    from sire_ref.tools.interop.torch import regularizer_oracle

    params, x, _ = _case(cell, seed=8, batch=2, seq_len=4)
    smp = enumerate_sire(np.array([4, 3]))
    value, grads, dx = _run("sire", cell, params, x, smp)
    t_value, t_grads, t_dx = regularizer_oracle("sire", params, x, smp, [4, 3])
    assert nonzero_relative_error(value, t_value) < TORCH_TOL
    for name, g in dict(grads, x=dx).items():
        assert nonzero_relative_error(g, dict(t_grads, x=t_dx)[name]) < TORCH_TOL, name


@pytest.mark.parametrize("kind", ["sire", "sub"])
def test_nothing_to_draw_gives_zero_and_a_warning(cell, kind):
    params, x, _ = _case(cell)
    with pytest.warns(RuntimeWarning, match="no sequence has length >= 2"):
        smp = _draw(kind, 0, np.array([1, 0, 1, 1]))
    assert smp["seq"].shape == (0,)
    value, grads, dx = _run(kind, cell, params, x, smp)
    assert value == 0 and np.all(dx == 0)
    assert all(np.all(g == 0) for g in grads.values())


def test_short_sequences_are_never_drawn():
    lengths = np.array([1, 5, 0, 2])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for smp in (sample_sire(np.random.default_rng(0), lengths, 200),
                    sample_sub(np.random.default_rng(0), lengths, 200)):
            assert set(smp["seq"].tolist()) == {1, 3}


def test_float32_regularizers_agree_with_float64(cell):
    params, x, lengths = _case(cell)
    for kind in ("sire", "sub"):
        smp = _draw(kind, 9, lengths)
        v64, g64, dx64 = _run(kind, cell, params, x, smp)
        p32 = {k: v.astype(np.float32) for k, v in params.items()}
        v32, g32, dx32 = _run(kind, cell, p32, x.astype(np.float32), smp)
        assert np.asarray(v32).dtype == np.float32 and dx32.dtype == np.float32
        assert relative_error(v32, v64) < 1e-4
        for k in g64:
            assert relative_error(g32[k], g64[k]) < 1e-4, k


def test_bad_samples_are_rejected(cell):
    params, x, lengths = _case(cell)
    smp = _draw("sire", 0, lengths)
    with pytest.raises(TypeError, match="samples must be a dict with keys"):
        sire(cell, params, x, {"seq": smp["seq"]}, lengths)
    bad = dict(smp, a=smp["c"].copy())
    with pytest.raises(ValueError, match="must be distinct"):
        sire(cell, params, x, bad, lengths)
    bad = dict(smp, seq=smp["seq"] + 10)
    with pytest.raises(ValueError, match=r"samples\['seq'\] must index the batch 0..3"):
        sire(cell, params, x, bad, lengths)
    sub_smp = _draw("sub", 0, lengths)
    bad = dict(sub_smp, p=np.where(sub_smp["p"] >= 0, 0, -1))
    with pytest.raises(ValueError, match=r"samples\['p'\] rows must be permutations"):
        sub(cell, params, x, bad, lengths)
    with pytest.raises(TypeError, match="samples must be a dict with keys"):
        sub(cell, params, x, smp, lengths)
    with pytest.raises(TypeError, match="cell must be sire_ref.core.cells.rnn"):
        sire("gru", params, x, smp, lengths)


@pytest.mark.parametrize("kind", ["sire", "sub"])
def test_a_draw_for_other_lengths_is_refused(cell, kind):
    """Issue 11.8: a draw made for other lengths would read padding; the call's lengths must be the
    draw's. Here only the padding of sequence 1 changes, which would change the value."""
    params, x, lengths = _case(cell)
    lengths[1] = 3
    smp = _draw(kind, 2, np.full(len(lengths), x.shape[1]), n=40)
    assert np.any(smp["seq"] == 1)
    with pytest.raises(ValueError, match=r"samples were drawn for lengths \[6, 6, 6, 6\] but this call "
                                         r"has lengths \[2, 3,"):
        (sire if kind == "sire" else sub)(cell, params, x, smp, lengths)
    with pytest.raises(ValueError, match="samples were drawn for lengths"):   # None: all T
        (sire if kind == "sire" else sub)(cell, params, x, _draw(kind, 2, lengths))
    hand_made = dict(smp, lengths=lengths)      # a draw whose positions lie past its own lengths
    with pytest.raises(ValueError, match=r"positions inside each row's sequence"):
        (sire if kind == "sire" else sub)(cell, params, x, hand_made, lengths)


@pytest.mark.parametrize("kind", ["sire", "sub"])
def test_parameters_are_validated_once_per_call(cell, problem, kind, monkeypatch):
    """One public call checks (and NaN-scans) the parameters once, not once per step or sample."""
    from sire_ref.core.cells import recurrence
    params, x, lengths, _ = problem
    seen = []
    original = recurrence.check_array

    def counting(a, name, *args, **kwargs):
        seen.append(name)
        return original(a, name, *args, **kwargs)

    monkeypatch.setattr(recurrence, "check_array", counting)
    _run(kind, cell, params, x, _draw(kind, 3, lengths, "subset" if kind == "sire" else None))
    assert seen.count("params['s0']") == 1


@pytest.mark.parametrize("backend", [None, "numba"])
def test_sire_from_states_equals_the_prefix_fold(cell, problem, backend):
    """Reading s from the forward states, then backpropagating dstates through that forward,
    gives sire()'s value and every gradient (dx included) on the same prefix draw."""
    from sire_ref.core.regularizers import sire_from_states
    params, x, lengths, _ = problem
    draw = _draw("sire", 11, lengths, "prefix", n=9)
    assert (draw["size"] == 0).any() and (draw["size"] > 0).any()       # both branches of s
    want = sire(cell, params, x, draw, lengths, with_dx=True)
    states, cache = cell.forward(params, x, lengths, backend=backend)
    got = sire_from_states(cell, params, x, states, draw, lengths, with_dx=True)
    g_fold, dx_fold = cell.backward(params, cache, got.dstates)
    assert relative_error(got.value, want.value) < 1e-13
    for k in want.grads:
        assert relative_error(got.grads[k] + g_fold[k], want.grads[k]) < 1e-12, k
    assert relative_error(got.dx + dx_fold, want.dx) < 1e-12


def test_sire_from_states_refuses_a_subset_draw(cell, problem):
    from sire_ref.core.regularizers import sire_from_states
    params, x, lengths, _ = problem
    states, _ = cell.forward(params, x, lengths)
    with pytest.raises(ValueError, match='must be a "prefix" draw'):
        sire_from_states(cell, params, x, states, _draw("sire", 3, lengths, "subset", n=20), lengths)
