r"""Keras 3 interop: maps for SimpleRNN and GRU (layers or cells), and an oracle on Keras's backend.

keras is optional (`pip install "sire_ref[keras]"`, which brings JAX as its backend). Keras chooses
its backend once, at import, from $KERAS_BACKEND; when keras is not imported yet and the variable
is unset, this module sets it to "jax" if jax is installed, else "torch" (Keras's own default,
TensorFlow, is not needed by sire_ref). The weight maps work on any backend (get_weights /
set_weights). Float64 layers and the oracle (jax.grad inside jax.enable_x64(True)) need the JAX
backend: on torch, Keras 3.15 computes some float64 operations in float32 (measured: states off
by 1e-8 relative), far too coarse for an oracle held to 1e-9, so they are refused there.

Keras's weights (x (B, I), h (B, H); kernels act on the right: a kernel is our weight transposed):

SimpleRNN / SimpleRNNCell: [kernel (I, H), recurrent_kernel (H, H), bias (H,)]
    h' = tanh(x kernel + bias + h recurrent_kernel)
    ours = kernel^T, recurrent_kernel^T; one bias: to Keras bias = bias_ih + bias_hh, from Keras
    bias_ih = bias, bias_hh = 0 (only the sum is a parameter of the function).
GRU / GRUCell with reset_after=True: [kernel (I, 3H), recurrent_kernel (H, 3H), bias (2, 3H)],
    column blocks in KERAS's gate order z | r | h (ours: r | z | n); bias[0] the input biases,
    bias[1] the recurrent ones:
    z = sigmoid(x K_z + b_z + h U_z + c_z), r = sigmoid(x K_r + b_r + h U_r + c_r),
    hh = tanh(x K_h + b_h + r * (h U_h + c_h)), h' = z h + (1 - z) hh
    These are PyTorch's equations (our z, n = Keras's z, hh): the map is one to one.
GRU with reset_after=False (Keras's "original" GRU): hh = tanh(x K_h + b_h + (r * h) U_h), the reset
    gate applied BEFORE the recurrent matrix. No weights of our cell compute that function, so it
    is refused (a variant of our GRU with its own backward would be needed to support it).
Also required: activation tanh, recurrent_activation sigmoid, use_bias True, a single layer.

Float64: Keras 3 (3.15) computes keras.activations.tanh / sigmoid in float32 on JAX even for
float64 tensors (its type promotion turns 64-bit results into 32 bits), so a stock float64
SimpleRNN or GRU does not run on JAX (its scan's carry changes dtype). params_to_keras therefore
builds float64 layers with jax.numpy's own tanh and sigmoid (the same functions, in float64);
everything else is Keras's code.
s0 is Keras's initial_state, not a weight: pass it separately. Masked steps carry the state, which
is our semantics for steps past a sequence's length (the oracle masks with the lengths).
"""
import contextlib
import importlib.util
import os
import sys

import numpy as np

from ...base import backend
from ...base.validate import check_array, check_lengths
from ...core.cells import get_cell, kind_of
from .formulas import check_oracle_inputs, regularizer_differences

INSTALL = 'pip install "sire_ref[keras]"   (keras 3 with JAX as its backend, CPU builds)'


def require():
    """The keras module, its backend chosen as the module docstring says; ImportError naming the extra."""
    if "keras" not in sys.modules and not os.environ.get("KERAS_BACKEND"):
        for name in ("jax", "torch"):
            if importlib.util.find_spec(name) is not None:
                os.environ["KERAS_BACKEND"] = name
                break
    try:
        import keras
    except ImportError as err:
        raise ImportError(f"sire_ref.tools.interop.keras needs Keras 3 and a backend (jax or torch): {INSTALL}") from err
    return keras


def _float64_activations():
    """(tanh, sigmoid) of JAX itself, which keep float64 (see the module docstring)."""
    name = require().backend.backend()
    if name != "jax":
        raise RuntimeError(f"float64 Keras layers and the Keras oracle need the JAX backend, and Keras runs on "
                           f"{name!r} (where Keras computes some float64 operations in float32): set "
                           f"KERAS_BACKEND=jax before keras is imported, or use float32 params")
    import jax
    return jax.numpy.tanh, jax.nn.sigmoid


def _is(fn, name):
    """Is fn Keras's activation `name`, or the backend's float64 one that params_to_keras uses?"""
    keras = require()
    if fn is getattr(keras.activations, name):
        return True
    try:
        return fn is _float64_activations()[("tanh", "sigmoid").index(name)]
    except RuntimeError:
        return False


def _check_layer(layer):
    """("rnn" | "gru", the cell) of a supported Keras layer or cell, else a clear error."""
    keras = require()
    L = keras.layers
    kinds = {L.SimpleRNN: "rnn", L.SimpleRNNCell: "rnn", L.GRU: "gru", L.GRUCell: "gru"}
    if type(layer) not in kinds:
        raise TypeError(f"layer must be keras.layers.SimpleRNN, SimpleRNNCell, GRU or GRUCell, got "
                        f"{type(layer).__name__}")
    cell = getattr(layer, "cell", layer)
    if not _is(cell.activation, "tanh"):
        raise ValueError(f"layer must use activation='tanh', got {cell.activation.__name__}")
    if kinds[type(layer)] == "gru":
        if not _is(cell.recurrent_activation, "sigmoid"):
            raise ValueError(f"layer must use recurrent_activation='sigmoid', got {cell.recurrent_activation.__name__}")
        if not cell.reset_after:
            raise ValueError("GRU(reset_after=False) is Keras's original GRU: hh = tanh(x K_h + b_h + (r * h) U_h) "
                             "applies the reset gate before the recurrent matrix, a function no weights of our "
                             "(PyTorch's) GRU compute; build the layer with reset_after=True")
    if not cell.use_bias:
        raise ValueError("layer must have use_bias=True (our cells always carry bias_ih and bias_hh)")
    if not cell.built:
        raise ValueError("layer has no weights yet: build it first (call it once, or layer.build(input_shape))")
    return kinds[type(layer)], cell


def _zrn(a, H, axis):
    """Keras's z | r | h blocks -> ours r | z | n (or back: the swap is its own inverse)."""
    z, r, n = np.split(a, [H, 2 * H], axis=axis)
    return np.concatenate([r, z, n], axis=axis)


def _to_ours(kind, kernel, recurrent, bias, folded_share):
    """Our weight keys from Keras's [kernel, recurrent_kernel, bias] (weights or their gradients).
    folded_share: SimpleRNN's one bias is the sum of ours; a gradient map gives both its value, a
    parameter map puts it all in bias_ih and 0 in bias_hh."""
    if kind == "rnn":
        return {"weight_ih": kernel.T.copy(), "weight_hh": recurrent.T.copy(), "bias_ih": bias.copy(),
                "bias_hh": bias.copy() if folded_share else np.zeros_like(bias)}
    H = recurrent.shape[0]
    return {"weight_ih": _zrn(kernel, H, 1).T.copy(), "weight_hh": _zrn(recurrent, H, 1).T.copy(),
            "bias_ih": _zrn(bias[0], H, 0), "bias_hh": _zrn(bias[1], H, 0)}


def params_from_keras(layer, s0=None):
    """Our params dict (NumPy, the layer's dtype) from a built Keras SimpleRNN / GRU layer or cell;
    s0 (H,) the initial state (None: zeros, Keras's default)."""
    kind, cell = _check_layer(layer)
    kernel, recurrent, bias = (np.asarray(w) for w in cell.get_weights())
    H = recurrent.shape[0]
    params = _to_ours(kind, kernel, recurrent, bias, folded_share=False)
    params["s0"] = np.zeros(H, dtype=kernel.dtype) if s0 is None else np.array(backend.to_numpy(s0))
    check_array(params["s0"], "s0", shape=(H,), dtype=kernel.dtype)
    get_cell(kind).check_params(params, name="Keras weights")
    return params


def weights_to_keras(params):
    """Our params as the Keras weight list [kernel, recurrent_kernel, bias] (for layer.set_weights)."""
    kind = kind_of(params)
    _, H, _ = get_cell(kind).check_params(params)
    p = {k: backend.to_numpy(v) for k, v in params.items()}
    if kind == "rnn":
        return [p["weight_ih"].T.copy(), p["weight_hh"].T.copy(), p["bias_ih"] + p["bias_hh"]]
    return [_zrn(p["weight_ih"].T, H, 1), _zrn(p["weight_hh"].T, H, 1),
            np.stack([_zrn(p["bias_ih"], H, 0), _zrn(p["bias_hh"], H, 0)])]


def params_to_keras(params, cell=False):
    """A new, built Keras layer holding exactly our weights: SimpleRNN / GRU(reset_after=True) with
    return_sequences=True (cell=False) or SimpleRNNCell / GRUCell, in the params' dtype (float64
    with the backend's own tanh and sigmoid: module docstring). On the JAX backend, float64 needs
    x64 on (jax.enable_x64(True), or JAX_ENABLE_X64=1): without it the layer would hold float32,
    so that is refused."""
    keras = require()
    kind = kind_of(params)
    I, H, dtype = get_cell(kind).check_params(params)
    L = keras.layers
    tanh, sigmoid = _float64_activations() if dtype == np.float64 else ("tanh", "sigmoid")
    kwargs = dict(dtype=str(dtype), activation=tanh) if kind == "rnn" else \
        dict(dtype=str(dtype), activation=tanh, recurrent_activation=sigmoid)
    if cell:
        layer = (L.SimpleRNNCell if kind == "rnn" else L.GRUCell)(H, **kwargs)
    else:
        layer = (L.SimpleRNN if kind == "rnn" else L.GRU)(H, return_sequences=True, **kwargs)
    layer.build((None, I) if cell else (None, None, I))
    layer.set_weights(weights_to_keras(params))
    held = np.asarray(layer.get_weights()[0]).dtype
    if held != dtype:
        raise ValueError(f"the Keras layer holds {held}, not {dtype}: on the JAX backend float64 needs x64 "
                         f"(jax.enable_x64(True) around the call, or JAX_ENABLE_X64=1)")
    return layer


def _differentiate(layer, f, x, s0):
    """(value, grads of layer.trainable_variables, dx, ds0) of the scalar f(run, x, s0) by jax.grad,
    where run(module, *args, **kwargs) calls `layer` or its cell statelessly (all NumPy out)."""
    import jax
    variables = layer.trainable_variables

    def pure(values, xj, sj):
        by_id = {id(v): value for v, value in zip(variables, values)}

        def run(module, *a, **kw):
            return module.stateless_call([by_id[id(v)] for v in module.trainable_variables],
                                         [v.value for v in module.non_trainable_variables], *a, **kw)[0]
        return f(run, xj, sj)

    value, (gv, gx, gs) = jax.value_and_grad(pure, argnums=(0, 1, 2))([v.value for v in variables], x, s0)
    return float(value), [np.asarray(g) for g in gv], np.asarray(gx), np.asarray(gs)


def _grads_to_ours(kind, layer, grads, ds0):
    """Keras-layout gradients -> ours. SimpleRNN's one bias is the sum of ours: both get its gradient."""
    g = dict(zip([v.path.split("/")[-1] for v in layer.trainable_variables], grads))
    out = _to_ours(kind, g["kernel"], g["recurrent_kernel"], g["bias"], folded_share=True)
    out["s0"] = ds0
    return out


@contextlib.contextmanager
def _float64():
    """Keras computing in float64 for the oracle (JAX backend only): floatx float64 (Keras builds
    some of a layer's internal tensors in floatx) and x64 on; both restored afterwards."""
    keras = require()
    _float64_activations()                      # refuses a backend other than JAX, by name
    import jax
    before = keras.config.floatx()
    keras.config.set_floatx("float64")
    try:
        with jax.enable_x64(True):
            yield
    finally:
        keras.config.set_floatx(before)


def oracle(params, x, lengths=None, dstates=None):
    """The Keras layer's states (masked by the lengths: a state is carried past its sequence's end)
    and the backend autodiff's gradients of L = sum(dstates * states): (states (B, T, H), grads
    keyed like params, dx); grads and dx None without dstates."""
    kind, H = check_oracle_inputs(params, x, "Keras")
    B, T, _ = x.shape
    lengths = check_lengths(lengths, B, T)
    mask = np.arange(T)[None, :] < lengths[:, None]
    with _float64():
        layer = params_to_keras(params)

        def states_of(run, xk, s0):
            import keras
            return run(layer, xk, mask=keras.ops.convert_to_tensor(mask),
                       initial_state=[keras.ops.broadcast_to(s0, (B, H))])

        x64, s064 = backend.to_numpy(x), backend.to_numpy(params["s0"])
        states = np.asarray(require().ops.convert_to_numpy(states_of(lambda m, *a, **kw: m(*a, **kw), x64, s064)))
        if dstates is None:
            return states, None, None
        check_array(dstates, "dstates", shape=(B, T, H), dtype=np.float64)
        upstream = require().ops.convert_to_tensor(dstates)
        _, grads, dx, ds0 = _differentiate(
            layer, lambda run, xk, s0: (states_of(run, xk, s0) * upstream).sum(), x64, s064)
        return states, _grads_to_ours(kind, layer, grads, ds0), dx


def regularizer_oracle(reg, params, x, samples, lengths=None, through_state=True):
    """The backend autodiff's value and gradients of R_SIRE (reg="sire", Eq. 4.4) or R_SUB ("sub",
    Eq. 4.1) on our explicit draw, each step a call of the Keras layer's cell (interop.formulas);
    sums in the backend's own arrays (keras.ops would compute them in float32)."""
    from ...core.samples import check_samples
    cell_kind, _ = check_oracle_inputs(params, x, "Keras")
    smp = check_samples(samples, reg, x.shape[0], x.shape[1], lengths)
    with _float64():
        import keras
        layer = params_to_keras(params)

        def value_of(run, xk, s0):
            def fold(s, b, positions):
                for t in positions:
                    s = run(layer.cell, xk[b, t][None], [s])[0]
                return s
            stop = None if through_state else keras.ops.stop_gradient
            diffs = regularizer_differences(reg, smp, fold, s0[None], stop)
            return sum((d * d).sum() for d in diffs) / len(diffs)

        value, grads, dx, ds0 = _differentiate(layer, value_of, backend.to_numpy(x), backend.to_numpy(params["s0"]))
        return value, _grads_to_ours(cell_kind, layer, grads, ds0), dx
