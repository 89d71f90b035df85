"""Keras 3's SimpleRNN and GRU load into sire_ref and give the same states and gradients, float64 on
the JAX backend (< 1e-9); stock float32 layers map too; what cannot be mapped is refused by name."""
import numpy as np
import pytest

from sire_ref.core.cells import get_cell
from sire_ref.tools.gradcheck import oracle_report
from sire_ref.tools.testing import random_problem, relative_error, require_framework

K = require_framework("keras")
keras = K.require()
if keras.backend.backend() != "jax":
    pytest.skip(f"the float64 Keras checks need the JAX backend, Keras runs on {keras.backend.backend()!r}",
                allow_module_level=True)
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402

TOL = 1e-9
LAYERS = {"rnn": keras.layers.SimpleRNN, "gru": keras.layers.GRU}


def _random_weights(layer, rng):
    layer.set_weights([rng.normal(0, 0.5, np.shape(w)).astype(np.asarray(w).dtype) for w in layer.get_weights()])


def test_keras_weights_load_and_agree(cell):
    """A float64 Keras layer (JAX's own tanh / sigmoid, see interop.keras) with nonzero biases ->
    params_from_keras -> our states equal the layer's (masked by the lengths), and our gradients
    equal jax.grad's through the layer, mapped."""
    rng = np.random.default_rng(0)
    I, H, B, T = 3, 4, 5, 6
    x = rng.normal(size=(B, T, I))
    lengths = np.array([0, 1, 2, T, 4])
    s0 = rng.uniform(-0.5, 0.5, H)
    dstates = rng.normal(size=(B, T, H))
    with K._float64():
        extra = {} if cell.name == "rnn" else {"recurrent_activation": jax.nn.sigmoid}
        layer = LAYERS[cell.name](H, return_sequences=True, dtype="float64", activation=jnp.tanh, **extra)
        layer.build((None, None, I))
        _random_weights(layer, rng)
        params = K.params_from_keras(layer, s0)
        mask = np.arange(T)[None, :] < lengths[:, None]

        def loss(values, xj, sj):
            fixed = [v.value for v in layer.non_trainable_variables]
            out = layer.stateless_call(values, fixed, xj, mask=mask, initial_state=[jnp.broadcast_to(sj, (B, H))])[0]
            return jnp.sum(out * dstates), out

        (_, k_states), g = jax.value_and_grad(loss, argnums=(0, 1, 2), has_aux=True)(
            [v.value for v in layer.trainable_variables], jnp.asarray(x), jnp.asarray(s0))
        mapped = K._grads_to_ours(cell.name, layer, [np.asarray(a) for a in g[0]], np.asarray(g[2]))
    ours, cache = cell.forward(params, x, lengths)
    grads, dx = cell.backward(params, cache, dstates)
    assert relative_error(ours, np.asarray(k_states)) < TOL
    assert relative_error(dx, np.asarray(g[1])) < TOL
    for k, v in grads.items():
        assert relative_error(v, mapped[k]) < TOL, k


def test_stock_float32_layers_map_both_ways(cell):
    """Keras's own float32 layer, weights through params_from_keras: our float32 states agree to
    float32 rounding; params_to_keras then gives back exactly the same weights."""
    rng = np.random.default_rng(1)
    layer = LAYERS[cell.name](4, return_sequences=True)
    layer.build((None, None, 3))
    _random_weights(layer, rng)
    x = rng.normal(size=(2, 5, 3)).astype(np.float32)
    params = K.params_from_keras(layer)
    assert params["weight_ih"].dtype == np.float32
    assert relative_error(cell.forward(params, x)[0], np.asarray(layer(x))) < 1e-5
    again = K.params_to_keras(params)
    for a, b in zip(again.get_weights(), layer.get_weights()):
        assert np.array_equal(a, b)


def test_cells_map_like_layers():
    rng = np.random.default_rng(2)
    gru_cell = keras.layers.GRUCell(3)
    gru_cell.build((None, 2))
    _random_weights(gru_cell, rng)
    params = K.params_from_keras(gru_cell)
    x = rng.normal(size=(4, 2)).astype(np.float32)
    s = rng.normal(size=(4, 3)).astype(np.float32)
    ours = get_cell("gru").step(params, s, x)[0]
    assert relative_error(ours, np.asarray(gru_cell(x, [s])[0])) < 1e-5


@pytest.mark.parametrize("make, match", [
    (lambda: keras.layers.GRU(3, reset_after=False), r"reset_after=False\) is Keras's original GRU"),
    (lambda: keras.layers.SimpleRNN(3, activation="relu"), "activation='tanh'"),
    (lambda: keras.layers.GRU(3, recurrent_activation="hard_sigmoid"), "recurrent_activation='sigmoid'"),
    (lambda: keras.layers.GRU(3, use_bias=False), "use_bias=True"),
    (lambda: keras.layers.LSTM(3), "SimpleRNN, SimpleRNNCell, GRU or GRUCell"),
])
def test_what_cannot_be_mapped_is_refused(make, match):
    layer = make()
    layer.build((None, None, 2))
    with pytest.raises((ValueError, TypeError), match=match):
        K.params_from_keras(layer)


def test_unbuilt_layer_and_float64_without_x64_are_refused():
    with pytest.raises(ValueError, match="build it first"):
        K.params_from_keras(keras.layers.GRU(3))
    params = random_problem(get_cell("gru"), np.random.default_rng(3))[0]
    with pytest.raises(ValueError, match="needs x64"), pytest.warns(UserWarning, match="float64 .*not available"):
        K.params_to_keras(params)                      # float64 outside jax.enable_x64: JAX truncates


@pytest.mark.parametrize("seed", [0, 1])
def test_keras_oracle_agrees_with_our_cells(cell, seed):
    problem = random_problem(cell, np.random.default_rng(seed), batch=6, seq_len=7, input_size=3, hidden_size=5)
    problem[2][2] = 0
    for name, r in oracle_report("keras", cell, *problem).items():
        assert r["rel"] < TOL, (name, r)
