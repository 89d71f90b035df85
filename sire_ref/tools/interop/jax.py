r"""JAX / Flax interop: parameter maps for Flax's recurrent cells, and a jax.grad oracle in float64.

jax and flax are optional (`pip install "sire_ref[jax]"`): imported only when a function here is
called, with a clear ImportError naming the extra when they are missing. Float64 runs inside
`jax.enable_x64(True)`, so the caller's JAX settings are left as they were.

Our cells are PyTorch's (sire_ref.core.cells): weight_ih (G H, I), weight_hh (G H, H), bias_ih, bias_hh
(G H,), gate blocks r, z, n for the GRU, and s0 (H,). Flax's cells, as their code computes them
(x (B, I), h (B, H); kernels act on the right, so a kernel is our weight transposed):

flax.linen.SimpleCell: {"params": {"i": {"kernel" (I, H), "bias" (H,)}, "h": {"kernel" (H, H)}}}
    h' = tanh(x i.kernel + i.bias + h h.kernel)
    ours = i.kernel^T, h.kernel^T; one bias: to Flax i.bias = bias_ih + bias_hh; from Flax
    bias_ih = i.bias, bias_hh = 0 (only the sum is a parameter of the function).
flax.linen.GRUCell: {"params": {"ir", "iz", "in": {"kernel" (I, H), "bias" (H,)}, "hr", "hz":
    {"kernel" (H, H)}, "hn": {"kernel" (H, H), "bias" (H,)}}}
    r = sigmoid(x ir.k + ir.b + h hr.k), z = sigmoid(x iz.k + iz.b + h hz.k),
    n = tanh(x in.k + in.b + r * (h hn.k + hn.b)), h' = (1 - z) n + z h
    No recurrent biases b_hr, b_hz: to Flax ir.b = b_ir + b_hr, iz.b = b_iz + b_hz (the same
    function); from Flax b_hr = b_hz = 0. b_hn = hn.b maps one to one.
flax.nnx.SimpleCell: {"dense_i": {"kernel", "bias"}, "dense_h": {"kernel"}}: as linen's.
flax.nnx.GRUCell: {"dense_i": {"kernel" (I, 3H), "bias" (3H,)}, "dense_h": {"kernel" (H, 3H)}},
    column blocks r | z | n; n = tanh(x W_in + b_in + r * (h W_hn)): NO b_hn at all (its
    docstring shows one; its code, flax 0.12, has none). b_hr, b_hz fold as above; params with
    b_hn != 0 cannot be represented and are refused.
s0 is Flax's carry, not a parameter (initialize_carry gives zeros): pass it separately.

The oracle runs flax.linen's cell (the parameterization that keeps every one of our biases'
effects) and maps jax.grad's gradients back: a folded bias's gradient is the gradient of both
biases it sums (they enter the function only through their sum).
"""
import importlib

import numpy as np

from ...base import backend
from ...base.validate import check_array, check_lengths
from ...core.cells import get_cell, kind_of
from .formulas import check_oracle_inputs, regularizer_differences

INSTALL = 'pip install "sire_ref[jax]"   (jax and flax, CPU builds)'
APIS = ("linen", "nnx")


def require():
    """The jax module once jax and flax import; ImportError naming the extra."""
    try:
        import jax
        importlib.import_module("flax.linen")
    except ImportError as err:
        raise ImportError(f"sire_ref.tools.interop.jax needs jax and flax: {INSTALL}") from err
    return jax


def _blocks(a, H):
    return a[:H], a[H:2 * H], a[2 * H:]


def params_to_flax(params, api="linen"):
    """Our params as a Flax pure dict of NumPy arrays: linen's variables {"params": ...} or the
    nnx state dict (load it with nnx.update / state.replace_by_pure_dict). s0 is not included."""
    if api not in APIS:
        raise ValueError(f"api must be one of {APIS}, got {api!r}")
    kind = kind_of(params)
    _, H, _ = get_cell(kind).check_params(params)
    p = {k: backend.to_numpy(v) for k, v in params.items()}
    if kind == "rnn":
        inner = {"kernel": p["weight_ih"].T.copy(), "bias": p["bias_ih"] + p["bias_hh"]}
        rec = {"kernel": p["weight_hh"].T.copy()}
        return {"params": {"i": inner, "h": rec}} if api == "linen" else {"dense_i": inner, "dense_h": rec}
    (W_ir, W_iz, W_in), (W_hr, W_hz, W_hn) = _blocks(p["weight_ih"], H), _blocks(p["weight_hh"], H)
    (b_ir, b_iz, b_in), (b_hr, b_hz, b_hn) = _blocks(p["bias_ih"], H), _blocks(p["bias_hh"], H)
    if api == "nnx":
        if np.any(b_hn != 0):
            raise ValueError(f"flax.nnx.GRUCell has no recurrent bias b_hn (its n = tanh(x W_in + b_in + "
                             f"r * (h W_hn))), so params['bias_hh'][2H:] must be 0 to map, got max |b_hn| = "
                             f"{np.abs(b_hn).max():.3g}; use api='linen', which has it")
        return {"dense_i": {"kernel": p["weight_ih"].T.copy(), "bias": np.concatenate([b_ir + b_hr, b_iz + b_hz, b_in])},
                "dense_h": {"kernel": p["weight_hh"].T.copy()}}
    return {"params": {"ir": {"kernel": W_ir.T.copy(), "bias": b_ir + b_hr},
                       "iz": {"kernel": W_iz.T.copy(), "bias": b_iz + b_hz},
                       "in": {"kernel": W_in.T.copy(), "bias": b_in.copy()},
                       "hr": {"kernel": W_hr.T.copy()}, "hz": {"kernel": W_hz.T.copy()},
                       "hn": {"kernel": W_hn.T.copy(), "bias": b_hn.copy()}}}


def _api_of(tree):
    if isinstance(tree, dict) and set(tree) == {"params"}:
        return "linen", tree["params"]
    if isinstance(tree, dict) and {"dense_i", "dense_h"} <= set(tree):
        return "nnx", tree
    raise ValueError(f"expected Flax linen variables {{'params': ...}} or an nnx state dict with 'dense_i' and "
                     f"'dense_h', got keys {sorted(tree) if isinstance(tree, dict) else type(tree).__name__}")


def _from_flax_tree(tree, folded_share):
    """Our weight keys from a Flax tree (NumPy arrays). folded_share: where Flax holds one bias for
    two of ours (the SimpleCell's, the GRU's r and z), give ours the same value (a gradient map)
    instead of putting all of it in bias_ih and 0 in bias_hh (a parameter map)."""
    api, t = _api_of(tree)
    known = ({"i", "h"}, {"ir", "iz", "in", "hr", "hz", "hn"}) if api == "linen" else ({"dense_i", "dense_h"},)
    if set(t) not in known:
        raise ValueError(f"these Flax {api} parameters have the submodules {sorted(t)}; sire_ref maps a "
                         f"SimpleCell or a GRUCell only ({' or '.join(str(sorted(k)) for k in known)}): an LSTM "
                         f"or another cell has no counterpart here")
    t = {name: {k: np.asarray(v) for k, v in leaf.items()} for name, leaf in t.items()}
    share = (lambda b: b.copy()) if folded_share else np.zeros_like
    if api == "linen" and "i" in t or api == "nnx" and t["dense_h"]["kernel"].shape[0] == t["dense_h"]["kernel"].shape[1]:
        i, h = (t["i"], t["h"]) if api == "linen" else (t["dense_i"], t["dense_h"])
        return {"weight_ih": i["kernel"].T.copy(), "weight_hh": h["kernel"].T.copy(), "bias_ih": i["bias"].copy(),
                "bias_hh": share(i["bias"])}
    if api == "nnx":
        W_ih, W_hh, b = t["dense_i"]["kernel"].T.copy(), t["dense_h"]["kernel"].T.copy(), t["dense_i"]["bias"]
        H = W_hh.shape[1]
        b_r, b_z, _ = _blocks(b, H)
        return {"weight_ih": W_ih, "weight_hh": W_hh, "bias_ih": b.copy(),
                "bias_hh": np.concatenate([share(b_r), share(b_z), np.zeros(H, dtype=b.dtype)])}
    return {"weight_ih": np.concatenate([t[g]["kernel"].T for g in ("ir", "iz", "in")]),
            "weight_hh": np.concatenate([t[g]["kernel"].T for g in ("hr", "hz", "hn")]),
            "bias_ih": np.concatenate([t[g]["bias"] for g in ("ir", "iz", "in")]),
            "bias_hh": np.concatenate([share(t["ir"]["bias"]), share(t["iz"]["bias"]), t["hn"]["bias"]])}


def params_from_flax(variables, s0=None):
    """Our params dict from Flax linen variables ({"params": ...}), an nnx state dict, or an nnx
    SimpleCell / GRUCell module; s0 (H,) the carry to start from (None: zeros, Flax's default)."""
    if not isinstance(variables, dict):
        from flax import nnx
        if not isinstance(variables, (nnx.SimpleCell, nnx.GRUCell)):
            raise TypeError(f"variables must be linen variables, an nnx state dict, or an nnx SimpleCell / "
                            f"GRUCell, got {type(variables).__name__}")
        variables = nnx.to_pure_dict(nnx.state(variables, nnx.Param))
    params = _from_flax_tree(variables, folded_share=False)
    H = params["weight_hh"].shape[1]
    params["s0"] = np.zeros(H, dtype=params["weight_hh"].dtype) if s0 is None else np.asarray(s0).copy()
    check_array(params["s0"], "s0", shape=(H,), dtype=params["weight_hh"].dtype)
    get_cell(kind_of(params)).check_params(params, name="Flax parameters")
    return params


def _linen_cell(kind, H):
    import jax.numpy as jnp
    from flax import linen
    return (linen.SimpleCell if kind == "rnn" else linen.GRUCell)(features=H, param_dtype=jnp.float64,
                                                                  dtype=jnp.float64)


def _setup(params, x):
    kind, H = check_oracle_inputs(params, x, "JAX")
    return kind, H, params_to_flax(params, "linen")


def _grads_to_ours(flax_grads, ds0):
    grads = _from_flax_tree({"params": dict(flax_grads)}, folded_share=True)
    grads["s0"] = np.asarray(ds0)
    return grads


def oracle(params, x, lengths=None, dstates=None):
    """jax.grad's states and gradients for our sequence semantics (a state is carried unchanged past
    its sequence's length), through flax.linen's cell: returns (states (B, T, H), grads keyed like
    params, dx (B, T, I)) of L = sum(dstates * states) (grads None without dstates)."""
    jax = require()
    import jax.numpy as jnp
    kind, H, variables = _setup(params, x)
    B, T, _ = x.shape
    lengths = check_lengths(lengths, B, T)
    cell = _linen_cell(kind, H)
    with jax.enable_x64(True):
        def states_of(flax_params, xj, s0):
            s, out = jnp.broadcast_to(s0, (B, H)), []
            for t in range(T):
                s = jnp.where(jnp.asarray(t < lengths)[:, None], cell.apply({"params": flax_params}, s, xj[:, t])[0], s)
                out.append(s)
            return jnp.stack(out, axis=1) if out else jnp.zeros((B, 0, H))

        args = (variables["params"], jnp.asarray(backend.to_numpy(x)), jnp.asarray(backend.to_numpy(params["s0"])))
        states = np.asarray(states_of(*args))
        if dstates is None:
            return states, None, None
        check_array(dstates, "dstates", shape=(B, T, H), dtype=np.float64)
        g = jax.grad(lambda *a: jnp.sum(states_of(*a) * dstates), argnums=(0, 1, 2))(*args)
        return states, _grads_to_ours(jax.tree_util.tree_map(np.asarray, g[0]), g[2]), np.asarray(g[1])


def regularizer_oracle(reg, params, x, samples, lengths=None, through_state=True):
    """jax.grad's value and gradients of R_SIRE (reg="sire", Eq. 4.4) or R_SUB ("sub", Eq. 4.1) on
    our explicit draw, row by row with flax.linen's cell (interop.formulas); (value, grads, dx)."""
    jax = require()
    import jax.numpy as jnp

    from ...core.samples import check_samples
    cell_kind, H, variables = _setup(params, x)
    smp = check_samples(samples, reg, x.shape[0], x.shape[1], lengths)
    cell = _linen_cell(cell_kind, H)
    with jax.enable_x64(True):
        def value_of(flax_params, xj, s0):
            def fold(s, b, positions):
                for t in positions:
                    s = cell.apply({"params": flax_params}, s, xj[b, t][None])[0]
                return s
            diffs = regularizer_differences(reg, smp, fold, s0[None], None if through_state else jax.lax.stop_gradient)
            return jnp.mean(jnp.stack([jnp.sum(d * d) for d in diffs]))

        args = (variables["params"], jnp.asarray(backend.to_numpy(x)), jnp.asarray(backend.to_numpy(params["s0"])))
        value, g = jax.value_and_grad(value_of, argnums=(0, 1, 2))(*args)
        return float(value), _grads_to_ours(jax.tree_util.tree_map(np.asarray, g[0]), g[2]), np.asarray(g[1])
