"""What every cell shares: parameter layout, checks, and the scan over time (Eq. 2.1-2.2).

A cell is described by a `CellSpec`: its name, its number of gate blocks G
(1 for the tanh RNN, 3 for the GRU: r, z, n) and two unchecked functions

    step(params, s, x_t)            -> (s_next, cache)       s (B, H), x_t (B, I)
    step_backward(params, cache, ds_next) -> (grads, ds, dx_t)

The public functions of `rnn.py` and `gru.py` check their inputs here once and
then run these loops, so the time loop itself does no validation.

Parameters (PyTorch names and shapes, G gate blocks stacked along rows):
    weight_ih (G*H, I)   weight_hh (G*H, H)   bias_ih (G*H,)   bias_hh (G*H,)
    s0 (H,)              the learned initial state s_0 of Eq. 2.1

Variable lengths: with lengths (B,), sequence b is updated at t < lengths[b] and
carried unchanged afterwards, so states[b, lengths[b]-1] = f(s_0, x_1..x_{lengths[b]})
(Eq. 2.2) and every later column repeats it. Backward routes the gradient of a
carried state straight to the previous state and gives no gradient to its inputs.
"""
from collections import namedtuple

import numpy as np

from .. import backend
from ..validate import (check_array, check_float_dtype, check_lengths, check_positive_int,
                        check_rng)

CellSpec = namedtuple("CellSpec", "name gates step step_backward")

WEIGHT_KEYS = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
PARAM_KEYS = WEIGHT_KEYS + ("s0",)


def init_params(spec, input_size, hidden_size, rng, dtype=np.float64):
    """PyTorch's default init: every weight and bias ~ U(-1/sqrt(H), 1/sqrt(H)); s0 = 0.

    s0 starts at zero like PyTorch's default h0, and is learned (Eq. 2.1).
    Returns a dict of NumPy arrays of `dtype`; move them with backend.to_module.
    """
    input_size = check_positive_int(input_size, "input_size")
    hidden_size = check_positive_int(hidden_size, "hidden_size")
    check_rng(rng)
    dtype = check_float_dtype(dtype)
    k = 1.0 / np.sqrt(hidden_size)
    rows = spec.gates * hidden_size
    shapes = {"weight_ih": (rows, input_size), "weight_hh": (rows, hidden_size),
              "bias_ih": (rows,), "bias_hh": (rows,)}
    params = {name: rng.uniform(-k, k, size=shape).astype(dtype) for name, shape in shapes.items()}
    params["s0"] = np.zeros(hidden_size, dtype=dtype)
    return params


def check_params(spec, params, name="params"):
    """Validate a parameter dict for `spec`; return (input_size I, hidden_size H, dtype)."""
    if not isinstance(params, dict):
        raise TypeError(f"{name} must be a dict of arrays with keys {PARAM_KEYS}, "
                        f"got {type(params).__name__}")
    missing = [k for k in PARAM_KEYS if k not in params]
    extra = [k for k in params if k not in PARAM_KEYS]
    if missing or extra:
        raise ValueError(f"{name} for a {spec.name} cell must have keys {PARAM_KEYS}; "
                         f"missing {missing}, unexpected {extra}")
    s0 = check_array(params["s0"], f"{name}['s0']", ndim=1)
    H, dtype = s0.shape[0], s0.dtype
    w_ih = check_array(params["weight_ih"], f"{name}['weight_ih']", shape=(spec.gates * H, None),
                       dtype=dtype)
    I = w_ih.shape[1]
    check_array(params["weight_hh"], f"{name}['weight_hh']", shape=(spec.gates * H, H), dtype=dtype)
    check_array(params["bias_ih"], f"{name}['bias_ih']", shape=(spec.gates * H,), dtype=dtype)
    check_array(params["bias_hh"], f"{name}['bias_hh']", shape=(spec.gates * H,), dtype=dtype)
    xp = backend.array_module(*params.values())
    if any(backend.array_module(a) is not xp for a in params.values()):
        raise TypeError(f"{name} mixes numpy and cupy arrays; move them with backend.to_module")
    return I, H, dtype


def _check_cache(spec, cache, kind):
    if not isinstance(cache, dict) or cache.get("cell") != spec.name or cache.get("kind") != kind:
        raise TypeError(f"cache must be the cache returned by {spec.name}.{kind}(); "
                        f"got {type(cache).__name__}")


def step(spec, params, s, x_t):
    """Checked single application s_next = f(s, x_t) (Eq. 2.1); s (B, H), x_t (B, I)."""
    I, H, dtype = check_params(spec, params)
    check_array(s, "s", shape=(None, H), dtype=dtype)
    check_array(x_t, "x_t", shape=(s.shape[0], I), dtype=dtype)
    s_next, cache = spec.step(params, s, x_t)
    return s_next, dict(cache, kind="step")


def step_backward(spec, params, cache, ds_next):
    """Checked backward of one step: (grads of the 4 weights, ds (B, H), dx_t (B, I))."""
    check_params(spec, params)
    _check_cache(spec, cache, "step")
    check_array(ds_next, "ds_next", shape=cache["s"].shape, dtype=cache["s"].dtype)
    return spec.step_backward(params, cache, ds_next)


def forward(spec, params, x, lengths=None):
    """Run the cell over x (B, T, I) from s0; return states (B, T, H) and the cache for backward."""
    I, H, dtype = check_params(spec, params)
    check_array(x, "x", ndim=3, dtype=dtype)
    if x.shape[2] != I:
        raise ValueError(f"x must have shape (B, T, {I}) to match params['weight_ih'], "
                         f"got {tuple(x.shape)}")
    B, T, _ = x.shape
    lengths = check_lengths(lengths, B, T)
    xp = backend.array_module(x)
    active = xp.asarray(np.arange(T)[:, None] < lengths[None, :])[:, :, None]  # (T, B, 1)
    s = xp.broadcast_to(params["s0"], (B, H))
    states = xp.empty((B, T, H), dtype=dtype)
    steps = []
    for t in range(T):
        s_next, c = spec.step(params, s, x[:, t])
        s = xp.where(active[t], s_next, s)  # past its length a sequence keeps its state
        states[:, t] = s
        steps.append(c)
    cache = {"cell": spec.name, "kind": "forward", "x": x, "lengths": lengths,
             "active": active, "steps": steps}
    return states, cache


def backward(spec, params, cache, dstates):
    """Backpropagate dL/dstates (B, T, H) through `forward`; return (grads like params, dx (B, T, I))."""
    check_params(spec, params)
    _check_cache(spec, cache, "forward")
    x, active, steps = cache["x"], cache["active"], cache["steps"]
    B, T, _ = x.shape
    H = params["s0"].shape[0]
    check_array(dstates, "dstates", shape=(B, T, H), dtype=x.dtype)
    xp = backend.array_module(x)
    grads = {k: xp.zeros_like(v) for k, v in params.items()}
    dx = xp.zeros_like(x)
    ds = xp.zeros((B, H), dtype=x.dtype)
    for t in reversed(range(T)):
        ds = ds + dstates[:, t]                      # dL/ds_t: direct + from step t+1
        ds_step = xp.where(active[t], ds, 0)         # only active rows went through f
        g, ds_prev, dx[:, t] = spec.step_backward(params, steps[t], ds_step)
        for k in g:
            grads[k] += g[k]
        ds = xp.where(active[t], ds_prev, ds)        # carried rows pass ds through unchanged
    grads["s0"] += ds.sum(axis=0)                    # s0 was broadcast over the batch
    return grads, dx
