"""Flax's cells (linen and nnx) load into sire_ref and give the same states and gradients, float64
(< 1e-9); the maps' folded biases; nnx's missing b_hn is refused; the JAX oracle on the cells."""
import numpy as np
import pytest

from sire_ref.core.cells import get_cell
from sire_ref.tools.gradcheck import oracle_report
from sire_ref.tools.testing import random_problem, relative_error, require_framework

J = require_framework("jax")
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
from flax import linen, nnx  # noqa: E402

TOL = 1e-9
LINEN = {"rnn": linen.SimpleCell, "gru": linen.GRUCell}
NNX = {"rnn": nnx.SimpleCell, "gru": nnx.GRUCell}


def _randomized(tree, rng):
    """Every leaf redrawn N(0, 0.5): the biases Flax initializes to zero become nonzero."""
    return jax.tree_util.tree_map(lambda a: jnp.asarray(rng.normal(0, 0.5, a.shape)), tree)


def _flax_run(step, x, lengths, s0, dstates):
    """Flax's own cell over a padded batch (state carried past each length): states and jax.grad of
    sum(dstates * states) with respect to (the cell's variables, x, s0), from step(variables, s, x_t)."""
    def states_of(variables, xj, sj):
        s, out = jnp.broadcast_to(sj, (x.shape[0], sj.shape[0])), []
        for t in range(x.shape[1]):
            s = jnp.where(jnp.asarray(t < lengths)[:, None], step(variables, s, xj[:, t]), s)
            out.append(s)
        return jnp.stack(out, axis=1)
    return states_of, jax.grad(lambda *a: jnp.sum(states_of(*a) * dstates), argnums=(0, 1, 2))


@pytest.mark.parametrize("api", ["linen", "nnx"])
def test_flax_weights_load_and_agree(cell, api):
    """A Flax cell with nonzero biases -> params_from_flax -> our states equal Flax's, and our
    gradients equal jax.grad's mapped (a folded bias's gradient is that of both of ours)."""
    rng = np.random.default_rng(0)
    kind = cell.name
    I, H, B, T = 3, 4, 5, 6
    x = rng.normal(size=(B, T, I))
    lengths = np.array([0, 1, 2, T, 4])
    s0 = rng.uniform(-0.5, 0.5, H)
    dstates = rng.normal(size=(B, T, H))
    with jax.enable_x64(True):
        if api == "linen":
            module = LINEN[kind](features=H, param_dtype=jnp.float64, dtype=jnp.float64)
            variables = _randomized(module.init(jax.random.PRNGKey(0), jnp.zeros((1, H)), jnp.zeros((1, I))), rng)
            step = lambda v, s, xt: module.apply(v, s, xt)[0]              # noqa: E731
            loaded = variables
        else:
            module = NNX[kind](I, H, param_dtype=jnp.float64, dtype=jnp.float64, rngs=nnx.Rngs(0))
            graphdef, state = nnx.split(module)
            pure = _randomized(nnx.to_pure_dict(state), rng)
            nnx.replace_by_pure_dict(state, pure)
            nnx.update(module, state)
            variables, loaded = pure, module

            def step(v, s, xt):
                st = nnx.split(module)[1]
                nnx.replace_by_pure_dict(st, v)
                return nnx.merge(graphdef, st)(s, xt)[0]
        params = J.params_from_flax(loaded, s0)
        states_of, grad = _flax_run(step, x, lengths, s0, dstates)
        f_states = np.asarray(states_of(variables, jnp.asarray(x), jnp.asarray(s0)))
        g_vars, g_x, g_s0 = grad(variables, jnp.asarray(x), jnp.asarray(s0))
    ours, cache = cell.forward(params, x, lengths)
    grads, dx = cell.backward(params, cache, dstates)
    assert relative_error(ours, f_states) < TOL
    assert relative_error(dx, np.asarray(g_x)) < TOL and relative_error(grads["s0"], np.asarray(g_s0)) < TOL
    g_tree = jax.tree_util.tree_map(np.asarray, g_vars)
    mapped = J._from_flax_tree(g_tree, folded_share=True)
    for k in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
        if api == "nnx" and kind == "gru" and k == "bias_hh":       # nnx has no b_hn: compare r, z only
            assert relative_error(grads[k][:2 * H], mapped[k][:2 * H]) < TOL
            continue
        assert relative_error(grads[k], mapped[k]) < TOL, k


def test_round_trip_and_folded_biases(cell):
    params = random_problem(cell, np.random.default_rng(1))[0]
    H = params["s0"].shape[0]
    for api in ("linen", "nnx"):
        if api == "nnx" and cell.name == "gru":
            params = dict(params, bias_hh=np.concatenate([params["bias_hh"][:2 * H], np.zeros(H)]))
        back = J.params_from_flax(J.params_to_flax(params, api), params["s0"])
        x = np.random.default_rng(2).normal(size=(3, 5, params["weight_ih"].shape[1]))
        # The same function (biases summed where Flax has one), so the same states:
        assert relative_error(cell.forward(back, x)[0], cell.forward(params, x)[0]) < 1e-14
        assert np.array_equal(back["weight_ih"], params["weight_ih"])
        assert np.array_equal(back["bias_hh"][:2 * H if cell.name == "gru" else H], np.zeros(2 * H if cell.name == "gru" else H))


def test_nnx_gru_without_b_hn_refuses_a_nonzero_one():
    params = random_problem(get_cell("gru"), np.random.default_rng(3))[0]
    with pytest.raises(ValueError, match="nnx.GRUCell has no recurrent bias b_hn"):
        J.params_to_flax(params, "nnx")
    with pytest.raises(ValueError, match="api must be one of"):
        J.params_to_flax(params, "haiku")
    with pytest.raises(ValueError, match="expected Flax linen variables"):
        J.params_from_flax({"weights": {}})


@pytest.mark.parametrize("seed", [0, 1])
def test_jax_oracle_agrees_with_our_cells(cell, seed):
    problem = random_problem(cell, np.random.default_rng(seed), batch=6, seq_len=7, input_size=3, hidden_size=5)
    problem[2][2] = 0                                                   # an empty sequence too
    for name, r in oracle_report("jax", cell, *problem).items():
        assert r["rel"] < TOL, (name, r)


def test_jax_oracle_catches_a_wrong_backward(cell, problem, monkeypatch):
    original = cell.backward

    def broken(params, cache, dstates):
        grads, dx = original(params, cache, dstates)
        return dict(grads, weight_hh=grads["weight_hh"] * (1 + 1e-6)), dx

    monkeypatch.setattr(cell, "backward", broken)
    assert oracle_report("jax", cell, *problem)["weight_hh"]["rel"] > 1e-8
