"""sire_ref.tools.crosscheck: a correct user implementation passes; a planted bug is named (which quantity
disagrees first), in PyTorch and in JAX; bad arguments are refused."""
import numpy as np
import pytest

from sire_ref.tools import crosscheck
from sire_ref.tools.testing import require_framework

ONE, TWO = crosscheck.Problems(count=1), crosscheck.Problems(count=2)


def _torch_user(detach_state=False, order_bug=False):
    """A user-style PyTorch GRU SIRE for "prefix" draws, as the authors' code computes it: one pass
    gives every prefix state, then each drawn pair (t, t+1) is fed in both orders."""
    torch = require_framework("torch").require()

    def step(p, s, x):
        i_r, i_z, i_n = (x @ p["weight_ih"].T + p["bias_ih"]).chunk(3, dim=-1)
        h_r, h_z, h_n = (s @ p["weight_hh"].T + p["bias_hh"]).chunk(3, dim=-1)
        r, z = torch.sigmoid(i_r + h_r), torch.sigmoid(i_z + h_z)
        return (1 - z) * torch.tanh(i_n + r * h_n) + z * s

    def user_sire(params, x, lengths, draw):
        s = params["s0"].expand(x.shape[0], -1)
        states = [s]
        for t in range(x.shape[1]):
            s = step(params, s, x[:, t])
            states.append(s)
        b = draw["seq"]
        s = torch.stack(states, dim=1)[b, draw["size"]]
        s = s.detach() if detach_state else s
        xa, xc = x[b, draw["a"]], x[b, draw["c"]]
        second = (xa, xc) if order_bug else (xc, xa)
        diff = step(params, step(params, s, xa), xc) - step(params, step(params, s, second[0]), second[1])
        return (diff ** 2).sum(dim=1).mean()

    return user_sire


def test_correct_torch_sire_passes():
    result = crosscheck.check(_torch_user(), "torch", kind="sire", estimator="prefix", log=None)
    assert result.ok and len(result.reports) == 3
    assert all(r["value"]["value"] > 0 for r in result.reports)          # nothing compared at zero


def test_gradient_stopped_at_the_state_is_named():
    result = crosscheck.check(_torch_user(detach_state=True), "torch", kind="sire", estimator="prefix", log=None)
    assert not result.ok
    problem, name, rel, _ = result.first_failure
    assert problem == 0 and name == "weight_ih" and rel > 1e-4
    assert result.reports[0]["value"]["rel"] < 1e-12                     # the value alone cannot see it
    assert result.reports[0]["s0"]["rel"] == 1.0                         # s0 gets no gradient at all
    assert "weight_ih disagrees" in str(result)


def test_wrong_formula_is_named_at_the_value():
    result = crosscheck.check(_torch_user(order_bug=True), "torch", kind="sire", estimator="prefix", log=None)
    assert result.first_failure[1] == "value"


def test_prefix_code_on_subset_draws_is_caught():
    """The authors' prefix reading is a different estimator: fed "subset" draws it disagrees."""
    assert not crosscheck.check(_torch_user(), "torch", kind="sire", estimator="subset", log=None).ok


def test_torch_states_of_a_user_rnn():
    torch = require_framework("torch").require()

    def user_states(p, x, lengths, carry_past_length=True):
        s, out = p["s0"].expand(x.shape[0], -1), []
        for t in range(x.shape[1]):
            new = torch.tanh(x[:, t] @ p["weight_ih"].T + p["bias_ih"] + s @ p["weight_hh"].T + p["bias_hh"])
            s = torch.where((t < lengths)[:, None], new, s) if carry_past_length else new
            out.append(s)
        return torch.stack(out, dim=1)

    assert crosscheck.check(user_states, "torch", kind="states", cell="rnn", log=None).ok
    wrong = crosscheck.check(lambda p, x, L: user_states(p, x, L, False), "torch", kind="states", cell="rnn",
                             log=None)
    assert wrong.first_failure[1] == "states"


def _jax_user(stop_state=False):
    """A user-style JAX tanh-RNN SIRE for any draw: fold the drawn subset, then the pair both ways."""
    require_framework("jax")
    import jax
    import jax.numpy as jnp

    def step(p, s, x):
        return jnp.tanh(x @ p["weight_ih"].T + p["bias_ih"] + s @ p["weight_hh"].T + p["bias_hh"])

    def user_sire(params, x, lengths, draw):
        terms = []
        for n in range(draw["seq"].shape[0]):
            b, m = int(draw["seq"][n]), int(draw["size"][n])
            s = params["s0"]
            for t in draw["subset"][n, :m].tolist():
                s = step(params, s, x[b, t])
            s = jax.lax.stop_gradient(s) if stop_state else s
            xa, xc = x[b, int(draw["a"][n])], x[b, int(draw["c"][n])]
            terms.append(jnp.sum((step(params, step(params, s, xa), xc) - step(params, step(params, s, xc), xa)) ** 2))
        return jnp.mean(jnp.stack(terms))

    return user_sire


def test_correct_jax_sire_passes_and_a_stopped_state_is_named():
    assert crosscheck.check(_jax_user(), "jax", kind="sire", cell="rnn", problems=TWO, log=None).ok
    bad = crosscheck.check(_jax_user(stop_state=True), "jax", kind="sire", cell="rnn", problems=TWO, log=None)
    assert bad.first_failure[1] == "weight_ih" and bad.reports[0]["s0"]["rel"] == 1.0


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="framework must be one of"):
        crosscheck.check(lambda *a: 0, "tensorflow")
    with pytest.raises(ValueError, match="kind must be one of"):
        crosscheck.check(lambda *a: 0, "torch", kind="lstm")
    with pytest.raises(TypeError, match="fn must be a function"):
        crosscheck.check(3, "torch")
    with pytest.raises(ValueError, match="batch must be >= 4"):
        crosscheck.problem(np.random.default_rng(0), crosscheck.get_cell("gru"), crosscheck.Problems(batch=3))


def _jax_wrapping(transform):
    """A correct JAX SIRE whose result goes through transform (a planted fault)."""
    user = _jax_user()
    return lambda p, x, L, d: transform(user(p, x, L, d), p)


@pytest.mark.parametrize("name, transform", [
    ("NaN value", lambda v, p: v * float("nan")),
    ("inf value", lambda v, p: v + float("inf")),
    ("NaN-only gradient", lambda v, p: v + 0.0 * __import__("jax").numpy.sqrt(-1.0 - p["s0"] ** 2).sum()),
])
def test_non_finite_results_fail_never_pass(name, transform):
    """Issue 28: NaN compared with `rel > tol` is False, so a NaN result passed; now it is a failure."""
    result = crosscheck.check(_jax_wrapping(transform), "jax", kind="sire", cell="rnn", problems=ONE, log=None)
    assert not result.ok, name
    assert result.first_failure[2] == float("inf")


@pytest.mark.parametrize("kwargs, message", [
    ({"problems": crosscheck.Problems(count=0)}, r"problems.count must be an int >= 1"),
    ({"problems": crosscheck.Problems(count=-1)}, r"problems.count must be an int >= 1"),
    ({"tol": float("nan")}, "tol must be a finite number > 0"), ({"tol": 0.0}, "tol must be a finite number > 0"),
    ({"tol": float("inf")}, "tol must be a finite number > 0"),
    ({"problems": crosscheck.Problems(n_samples=0)}, r"problems.n_samples must be an int >= 1"),
])
def test_empty_work_or_a_non_finite_tolerance_is_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        crosscheck.check(_jax_user(), "jax", kind="sire", cell="rnn", log=None, **kwargs)


@pytest.mark.parametrize("fn, message", [
    (lambda p, x, L, d: np.float64(1.0), r"fn returned numpy.float64; expected a jax array, a scalar"),
    (lambda p, x, L, d: 1.0, r"fn returned builtins.float; expected a jax array"),
    (lambda p, x, L, d: p["s0"] * 2, r"fn returned an array of shape \(5,\); expected a scalar"),
    (lambda p, x, L, d: np.asarray(p["s0"]).sum(), r"fn raised TracerArrayConversionError: .* with jax float64 arrays"),
    (lambda p, x, L, d: x.chunk(3, dim=-1), r"fn raised AttributeError.*framework='jax': is fn written for jax\?"),
])
def test_a_broken_contract_is_named_with_what_fn_returned(fn, message):
    require_framework("jax")
    with pytest.raises(crosscheck.ContractError, match=message):
        crosscheck.check(fn, "jax", kind="sire", cell="rnn", problems=ONE, log=None)


def test_states_of_the_wrong_shape_are_named():
    require_framework("jax")
    import jax.numpy as jnp
    with pytest.raises(crosscheck.ContractError, match=r"shape \(6, 6\); expected states of shape \(6, 6, 5\)"):
        crosscheck.check(lambda p, x, L: jnp.zeros(x.shape[:2]) + p["s0"].sum(), "jax", kind="states",
                         cell="rnn", problems=ONE, log=None)


def test_a_detached_torch_result_is_named():
    torch = require_framework("torch").require()
    user = _torch_user()
    with pytest.raises(crosscheck.ContractError, match="does not depend on params or x"):
        crosscheck.check(lambda p, x, L, d: user(p, x, L, d).detach(), "torch", kind="sire",
                         estimator="prefix", problems=ONE, log=None)
    with pytest.raises(crosscheck.ContractError, match="fn returned numpy.ndarray; expected a torch array"):
        crosscheck.check(lambda p, x, L, d: user(p, x, L, d).detach().numpy(), "torch", kind="sire",
                         estimator="prefix", problems=ONE, log=None)
    nan = crosscheck.check(lambda p, x, L, d: user(p, x, L, d) * torch.tensor(float("nan")), "torch",
                           kind="sire", estimator="prefix", problems=ONE, log=None)
    assert not nan.ok
