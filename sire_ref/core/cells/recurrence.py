r"""What every cell shares: parameter layout, checks, and the scan over time (Eq. 2.1-2.2).

The fold of Eq. 2.2 applies the update f of Eq. 2.1 along a sequence:

\[ f(s_0, x_1, \ldots, x_n) = f(f(s_0, x_1, \ldots, x_{n-1}), x_n), \qquad f(s_0) = s_0 \]

A cell is a `Cell`: its name, its number of gate blocks G (1 for the tanh RNN,
3 for the GRU: r, z, n) and two unchecked functions, the cell's own math,

    step(params, s, x_t)                  -> (s_next, cache)     s (B, H), x_t (B, I)
    step_backward(params, cache, ds_next) -> (grads, ds, dx_t)

`Cell` adds the public cell contract (README, "The cells") on top of them (init_params,
check_params, step, step_backward, forward, backward): inputs are checked once per
call, then the time loop runs the unchecked functions. Code that has already checked
its inputs once (the regularizers) calls the `unchecked_*` twins, so a regularizer
call validates its parameters once, not once per step. A Cell holds no state besides
its four fixed attributes. The modules `rnn.py` and `gru.py` are the cells' one public
face: they export this whole interface as module attributes (`cells.get_cell`).

Parameters (PyTorch names and shapes, G gate blocks stacked along rows):
    weight_ih (G*H, I)   weight_hh (G*H, H)   bias_ih (G*H,)   bias_hh (G*H,)
    s0 (H,)              the learned initial state s_0 of Eq. 2.1

Variable lengths: with lengths (B,) in 0..T, sequence b is updated at t < lengths[b]
and carried unchanged afterwards, so states[b, lengths[b]-1] = f(s_0, x_1..x_{lengths[b]})
(Eq. 2.2) and every later column repeats it: states[:, -1] is always each
sequence's final state, and a length-0 (empty) sequence stays at s_0. Backward routes the gradient of a
carried state straight to the previous state and gives no gradient to its inputs.

Inputs are dense, x (B, T, I) floats, or integer tokens x (B, T) in 0..I-1 read as one-hot
rows (sire_ref.nn.inputs): the same f, with x_t W_ih^T a column gather; tokens get dx = None.
"""
import numpy as np

from ...base.backend import array_module, resolve
from ...base.validate import (check_array, check_float_dtype, check_inputs, check_lengths, check_positive_int,
                              check_rng, check_unchanged, snapshot)
from ...nn.inputs import is_tokens

WEIGHT_KEYS = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
PARAM_KEYS = WEIGHT_KEYS + ("s0",)


class Cell:
    """A recurrent cell f(s, x) (Eq. 2.1) with the public contract; see the module docstring."""

    def __init__(self, name, gates, step, step_backward):
        self.name, self.gates = name, gates
        self._step, self._step_backward = step, step_backward

    def interface(self):
        """(name, gates, init_params, check_params, check_forward_args, step, step_backward,
        forward, backward)."""
        return (self.name, self.gates, self.init_params, self.check_params, self.check_forward_args,
                self.step, self.step_backward, self.forward, self.backward)

    def unchecked_interface(self):
        """(unchecked_step, unchecked_step_backward, unchecked_forward, unchecked_backward,
        unchecked_backward_rows): the twins for callers that checked their inputs once."""
        return (self.unchecked_step, self.unchecked_step_backward, self.unchecked_forward,
                self.unchecked_backward, self.unchecked_backward_rows)

    def _kernel(self):
        """The numba twin of this cell, imported on first use (numba is slow to load)."""
        from ...kernels import kernel_for
        return kernel_for(self.name)

    def init_params(self, input_size, hidden_size, rng, dtype=np.float64):
        """PyTorch's default init: every weight and bias ~ U(-1/sqrt(H), 1/sqrt(H)); s0 = 0.

        s0 starts at zero like PyTorch's default h0, and is learned (Eq. 2.1).
        Returns a dict of NumPy arrays of `dtype`; move them with sire_ref.base.backend.to_module.
        """
        input_size = check_positive_int(input_size, "input_size")
        hidden_size = check_positive_int(hidden_size, "hidden_size")
        check_rng(rng)
        dtype = check_float_dtype(dtype)
        k = 1.0 / np.sqrt(hidden_size)
        rows = self.gates * hidden_size
        shapes = {"weight_ih": (rows, input_size), "weight_hh": (rows, hidden_size),
                  "bias_ih": (rows,), "bias_hh": (rows,)}
        params = {name: rng.uniform(-k, k, size=shape).astype(dtype) for name, shape in shapes.items()}
        params["s0"] = np.zeros(hidden_size, dtype=dtype)
        return params

    def check_params(self, params, name="params"):
        """Validate a parameter dict for this cell; return (input_size I, hidden_size H, dtype)."""
        if not isinstance(params, dict):
            raise TypeError(f"{name} must be a dict of arrays with keys {PARAM_KEYS}, "
                            f"got {type(params).__name__}")
        missing = [k for k in PARAM_KEYS if k not in params]
        extra = [k for k in params if k not in PARAM_KEYS]
        if missing or extra:
            raise ValueError(f"{name} for a {self.name} cell must have keys {PARAM_KEYS}; "
                             f"missing {missing}, unexpected {extra}")
        s0 = check_array(params["s0"], f"{name}['s0']", ndim=1)
        H, dtype = s0.shape[0], s0.dtype
        w_ih = check_array(params["weight_ih"], f"{name}['weight_ih']", shape=(self.gates * H, None),
                           dtype=dtype)
        I = w_ih.shape[1]
        check_array(params["weight_hh"], f"{name}['weight_hh']", shape=(self.gates * H, H), dtype=dtype)
        check_array(params["bias_ih"], f"{name}['bias_ih']", shape=(self.gates * H,), dtype=dtype)
        check_array(params["bias_hh"], f"{name}['bias_hh']", shape=(self.gates * H,), dtype=dtype)
        xp = array_module(*params.values())
        if any(array_module(a) is not xp for a in params.values()):
            raise TypeError(f"{name} mixes numpy and cupy arrays; move them with "
                            f"sire_ref.base.backend.to_module")
        return I, H, dtype

    def _check_cache(self, cache, kind):
        if not isinstance(cache, dict) or cache.get("cell") != self.name or cache.get("kind") != kind:
            raise TypeError(f"cache must be the cache returned by {self.name}.{kind}(); "
                            f"got {type(cache).__name__}")

    def step(self, params, s, x_t):
        """Checked single application s_next = f(s, x_t) (Eq. 2.1); s (B, H), x_t (B, I)."""
        I, H, dtype = self.check_params(params)
        check_array(s, "s", shape=(None, H), dtype=dtype)
        check_inputs(x_t, "x_t", (s.shape[0],), I, dtype)
        return self.unchecked_step(params, s, x_t)

    def unchecked_step(self, params, s, x_t):
        """`step` without input checks, for callers that checked once (the regularizers)."""
        s_next, cache = self._step(params, s, x_t)
        return s_next, dict(cache, kind="step")

    def step_backward(self, params, cache, ds_next):
        """Checked backward of one step: (grads of the 4 weights, ds (B, H), dx_t (B, I) or None)."""
        self.check_params(params)
        self._check_cache(cache, "step")
        check_array(ds_next, "ds_next", shape=cache["s"].shape, dtype=cache["s"].dtype)
        return self.unchecked_step_backward(params, cache, ds_next)

    def unchecked_step_backward(self, params, cache, ds_next):
        """`step_backward` without input checks."""
        return self._step_backward(params, cache, ds_next)

    def forward(self, params, x, lengths=None, backend=None):
        """Run the cell over x (B, T, I) from s0 (Eq. 2.2) -> (states (B, T, H), cache for backward).

        x: (B, T, I) floats or (B, T) integer tokens in 0..I-1 (one-hot rows).
        lengths (B,) ints in 0..T, or None for all T; states[:, -1] are the final states.
        backend: None (the reference on x's array module), "numpy", "cupy", or "numba"
        (jitted CPU kernels, equal to the reference to round-off); backward follows the cache.
        """
        lengths = self.check_forward_args(params, x, lengths)
        states, cache = self.unchecked_forward(params, x, lengths, backend)
        cache["made_from"] = snapshot(dict(params, x=x))    # backward refuses other values
        return states, cache

    def check_forward_args(self, params, x, lengths):
        """`forward`'s input checks alone; returns lengths as a host int64 array (B,). For callers
        (the models) that run `unchecked_forward` and guard their own backward."""
        I, H, dtype = self.check_params(params)
        check_inputs(x, "x", ("B", "T"), I, dtype)
        return check_lengths(lengths, x.shape[0], x.shape[1])

    def unchecked_forward(self, params, x, lengths, backend=None, initial=None):
        """`forward` without input checks: lengths must already be a host int array (B,).

        initial (B, H): each row starts from its own state instead of s0 (the regularizers'
        swapped steps start from reached states); then use `unchecked_backward_rows`.
        """
        B, T = x.shape[:2]
        H, dtype = params["s0"].shape[0], params["s0"].dtype
        xp = array_module(params["s0"])
        s = xp.broadcast_to(params["s0"], (B, H)) if initial is None else initial
        if resolve(backend, x, *params.values()) == "numba":
            states, kernel_cache = self._kernel().forward(params, x, lengths, np.ascontiguousarray(s))
            return states, {"cell": self.name, "kind": "forward", "backend": "numba", "x": x,
                            "kernel": kernel_cache, "initial": initial is not None}
        active = xp.asarray(np.arange(T)[:, None] < lengths[None, :])[:, :, None]  # (T, B, 1)
        states = xp.empty((B, T, H), dtype=dtype)
        steps = []
        for t in range(T):
            s_next, c = self._step(params, s, x[:, t])
            s = xp.where(active[t], s_next, s)  # past its length a sequence keeps its state
            states[:, t] = s
            steps.append(c)
        cache = {"cell": self.name, "kind": "forward", "backend": "reference", "x": x,
                 "lengths": lengths, "active": active, "steps": steps, "initial": initial is not None}
        return states, cache

    def backward(self, params, cache, dstates):
        """Backpropagate dL/dstates (B, T, H) through `forward` -> (grads like params, dx).

        dx (B, T, I) for dense inputs, None for tokens. params must be, value for value, those
        `forward` was called with, and x unchanged since: forward keeps copies (O(params + x)
        memory, a comparison per backward) and any difference in shape, dtype or value is
        refused. The unchecked twins trust their caller and detect nothing."""
        _, H, dtype = self.check_params(params)
        self._check_cache(cache, "forward")
        if "made_from" in cache:                # from the checked forward (unchecked: trusted)
            check_unchanged(cache["made_from"], dict(params, x=cache["x"]), f"{self.name}.backward")
        B, T = cache["x"].shape[:2]
        check_array(dstates, "dstates", shape=(B, T, H), dtype=dtype)
        return self.unchecked_backward(params, cache, dstates)

    def unchecked_backward(self, params, cache, dstates):
        """`backward` without input checks (for a forward from s0, not from `initial`)."""
        if cache["initial"]:
            raise ValueError("this forward started from `initial` states: use unchecked_backward_rows")
        grads, dx, ds_initial = self.unchecked_backward_rows(params, cache, dstates)
        grads["s0"] = ds_initial.sum(axis=0)             # s0 was broadcast over the batch
        return grads, dx

    def unchecked_backward_rows(self, params, cache, dstates):
        """(grads of the four weights, dx or None, ds_initial (B, H)): the gradient reaches each
        row's initial state (s0's broadcast, or `initial`) separately."""
        B, T = cache["x"].shape[:2]
        H = params["s0"].shape[0]
        if cache["backend"] == "numba":
            return self._kernel().backward(params, cache["kernel"], dstates)
        x, active, steps = cache["x"], cache["active"], cache["steps"]
        xp = array_module(dstates)
        grads = {k: xp.zeros_like(params[k]) for k in WEIGHT_KEYS}
        dx = None if is_tokens(x) else xp.zeros_like(x)
        ds = xp.zeros((B, H), dtype=dstates.dtype)
        for t in reversed(range(T)):
            ds = ds + dstates[:, t]                      # dL/ds_t: direct + from step t+1
            ds_step = xp.where(active[t], ds, 0)         # only active rows went through f
            g, ds_prev, dx_t = self._step_backward(params, steps[t], ds_step)
            if dx is not None:
                dx[:, t] = dx_t
            for k in g:
                grads[k] += g[k]
            ds = xp.where(active[t], ds_prev, ds)        # carried rows pass ds through unchanged
        return grads, dx, ds
