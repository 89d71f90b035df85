"""Hand-written backward passes against central finite differences (float64, rel < 1e-7)."""
import numpy as np
import pytest

from sire_ref.tools.gradcheck import finite_difference_report
from sire_ref.tools.testing import numerical_gradient, random_problem

TOL = 1e-7


def test_problem_is_nonzero(problem):
    params, x, lengths, _ = problem
    for name in ("bias_ih", "bias_hh", "s0"):
        assert np.all(params[name] != 0), name
    assert lengths.min() == 1 and lengths.max() == x.shape[1]


def test_sequence_backward_matches_finite_differences(cell, problem):
    report = finite_difference_report(cell, *problem)
    assert set(report) == {"weight_ih", "weight_hh", "bias_ih", "bias_hh", "s0", "x"}
    for name, r in report.items():
        assert r["rel"] < TOL, (name, r)


@pytest.mark.parametrize("seed, batch, seq_len, input_size, hidden_size",
                         [(0, 1, 1, 1, 1), (1, 3, 9, 2, 7), (2, 6, 4, 5, 3)])
def test_sequence_backward_various_shapes(cell, seed, batch, seq_len, input_size, hidden_size):
    problem = random_problem(cell, np.random.default_rng(seed), batch, seq_len, input_size,
                             hidden_size)
    for name, r in finite_difference_report(cell, *problem).items():
        assert r["rel"] < TOL, (name, r)


def test_step_backward_matches_finite_differences(cell):
    rng = np.random.default_rng(7)
    params = cell.init_params(3, 4, rng)
    weights = {k: v for k, v in params.items() if k != "s0"}
    s, x_t = rng.normal(size=(5, 4)), rng.normal(size=(5, 3))
    ds_next = rng.normal(size=(5, 4))

    def loss(arrays):
        p = dict(params, **{k: arrays[k] for k in weights})
        s_next, _ = cell.step(p, arrays["s"], arrays["x_t"])
        return float((s_next * ds_next).sum())

    numeric = numerical_gradient(loss, dict(weights, s=s, x_t=x_t))
    _, cache = cell.step(params, s, x_t)
    grads, ds, dx_t = cell.step_backward(params, cache, ds_next)
    analytic = dict(grads, s=ds, x_t=dx_t)
    for name in numeric:
        err = np.abs(analytic[name] - numeric[name]).max() / np.abs(numeric[name]).max()
        assert err < TOL, (name, err)


def test_finite_difference_report_detects_a_wrong_gradient(cell, problem, monkeypatch):
    """The check itself can fail: a backward that drops the s0 gradient is caught."""
    original = cell.backward

    def broken_backward(params, cache, dstates):
        grads, dx = original(params, cache, dstates)
        grads["s0"] = grads["s0"] * 0.999
        return grads, dx

    monkeypatch.setattr(cell, "backward", broken_backward)
    report = finite_difference_report(cell, *problem)
    assert report["s0"]["rel"] > 1e-4
    assert report["weight_ih"]["rel"] < TOL
