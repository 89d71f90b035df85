"""Cells against PyTorch autograd in float64 (rel < 1e-9); parameter maps; GRU bias identities."""
import numpy as np
import pytest

from sire_ref.tools.interop.torch import INSTALL as TORCH_INSTALL

torch = pytest.importorskip("torch", reason=f"torch not installed: {TORCH_INSTALL}")

from sire_ref.core.cells import gru, rnn  # noqa: E402
from sire_ref.tools.gradcheck import oracle_report  # noqa: E402
from sire_ref.tools.interop.torch import oracle, params_from_torch, params_to_torch  # noqa: E402
from sire_ref.tools.testing import random_problem, relative_error  # noqa: E402

TOL = 1e-9


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_states_and_gradients_match_torch(cell, seed):
    problem = random_problem(cell, np.random.default_rng(seed), batch=6, seq_len=8, input_size=3,
                             hidden_size=5)
    report = oracle_report("torch", cell, *problem)
    assert set(report) == {"weight_ih", "weight_hh", "bias_ih", "bias_hh", "s0", "x", "states"}
    for name, r in report.items():
        assert r["rel"] < TOL, (name, r)


def test_torch_report_detects_a_wrong_forward(cell, problem, monkeypatch):
    """The oracle comparison can fail: states off by 1e-6 on our side only show up."""
    params, x, lengths, dstates = problem
    original = cell.forward

    def shifted_forward(p, xx, ll=None):
        states, cache = original(p, xx, ll)
        return states + 1e-6, cache

    monkeypatch.setattr(cell, "forward", shifted_forward)
    assert oracle_report("torch", cell, params, x, lengths, dstates)["states"]["rel"] > 1e-8


def test_step_matches_torch_cells(cell):
    rng = np.random.default_rng(9)
    params, x, _, _ = random_problem(cell, rng, batch=4, seq_len=1, input_size=3, hidden_size=5)
    s = rng.normal(size=(4, 5))
    module = params_to_torch(params, cell=True)
    assert type(module) is {rnn: torch.nn.RNNCell, gru: torch.nn.GRUCell}[cell]
    ours, _ = cell.step(params, s, x[:, 0])
    theirs = module(torch.tensor(x[:, 0]), torch.tensor(s)).detach().numpy()
    assert relative_error(ours, theirs) < 1e-14


def test_step_backward_matches_torch_cells(cell):
    rng = np.random.default_rng(10)
    params, x, _, _ = random_problem(cell, rng, batch=4, seq_len=1, input_size=3, hidden_size=5)
    s, ds_next = rng.normal(size=(4, 5)), rng.normal(size=(4, 5))
    module = params_to_torch(params, cell=True)
    xt, st = torch.tensor(x[:, 0], requires_grad=True), torch.tensor(s, requires_grad=True)
    (module(xt, st) * torch.tensor(ds_next)).sum().backward()
    _, cache = cell.step(params, s, x[:, 0])
    grads, ds, dx_t = cell.step_backward(params, cache, ds_next)
    assert relative_error(ds, st.grad.numpy()) < TOL
    assert relative_error(dx_t, xt.grad.numpy()) < TOL
    for k, g in grads.items():
        assert relative_error(g, getattr(module, k).grad.numpy()) < TOL, k


def test_gru_bias_gradient_identities():
    """dL/db_ir == dL/db_hr and dL/db_iz == dL/db_hz; dL/db_in != dL/db_hn (r multiplies b_hn only)."""
    params, x, lengths, dstates = random_problem(gru, np.random.default_rng(4), batch=5, seq_len=7,
                                                 input_size=3, hidden_size=4)
    H = 4
    _, cache = gru.forward(params, x, lengths)
    ours, _ = gru.backward(params, cache, dstates)
    _, theirs, _ = oracle(params, x, lengths, dstates)
    for g in (ours, theirs):
        np.testing.assert_allclose(g["bias_ih"][:2 * H], g["bias_hh"][:2 * H], rtol=1e-12, atol=1e-15)
        assert relative_error(g["bias_ih"][2 * H:], g["bias_hh"][2 * H:]) > 1e-2


@pytest.mark.parametrize("make", [
    lambda: torch.nn.RNN(3, 5, batch_first=True, dtype=torch.float64),
    lambda: torch.nn.GRU(3, 5, dtype=torch.float64),
    lambda: torch.nn.RNNCell(3, 5, dtype=torch.float32),
    lambda: torch.nn.GRUCell(3, 5, dtype=torch.float64),
], ids=["RNN", "GRU", "RNNCell", "GRUCell"])
def test_parameter_maps_round_trip_exactly(make):
    torch.manual_seed(0)
    module = make()
    is_cell = isinstance(module, (torch.nn.RNNCell, torch.nn.GRUCell))
    s0 = torch.randn(5, dtype=module.weight_ih.dtype if is_cell else module.weight_ih_l0.dtype)
    params = params_from_torch(module, s0=s0)
    np.testing.assert_array_equal(params["s0"], s0.numpy())
    back = params_to_torch(params, cell=is_cell)
    assert type(back) is type(module)
    sd, sd_back = module.state_dict(), back.state_dict()
    assert sd.keys() == sd_back.keys()
    for k in sd:
        assert sd[k].dtype == sd_back[k].dtype
        assert torch.equal(sd[k], sd_back[k]), k


def test_params_from_torch_default_s0_is_zero():
    params = params_from_torch(torch.nn.GRU(2, 3, dtype=torch.float64))
    assert params["s0"].dtype == np.float64 and np.all(params["s0"] == 0)


@pytest.mark.parametrize("module, match", [
    (lambda: torch.nn.LSTM(2, 3), "module must be nn.RNN"),
    (lambda: torch.nn.RNN(2, 3, nonlinearity="relu"), "nonlinearity='tanh'"),
    (lambda: torch.nn.GRU(2, 3, num_layers=2), "single-layer"),
    (lambda: torch.nn.GRU(2, 3, bidirectional=True), "single-layer"),
    (lambda: torch.nn.GRUCell(2, 3, bias=False), "bias=True"),
], ids=["lstm", "relu", "layers", "bidirectional", "nobias"])
def test_params_from_torch_rejects_unsupported_modules(module, match):
    with pytest.raises((TypeError, ValueError), match=match):
        params_from_torch(module())


def test_params_from_torch_checks_s0():
    module = torch.nn.GRU(2, 3, dtype=torch.float64)
    with pytest.raises(ValueError, match=r"s0 must have shape \(3,\)"):
        params_from_torch(module, s0=np.zeros(4))
    with pytest.raises(TypeError, match="s0 has dtype float32"):
        params_from_torch(module, s0=np.zeros(3, dtype=np.float32))
