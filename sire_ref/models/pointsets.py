r"""DeepSets for point clouds (Zaheer et al. 2017; Section 6.3's baseline), as params + forward/backward.

    phi: L permutation-equivariant layers h <- tanh(Gamma_l(h - max_n h))   (nn.equivariant)
    pool: max over the points                                               (nn.setpool)
    rho: dropout -> Linear(width, width) -> tanh -> dropout -> Linear(width, out)

x (B, N, 3) clouds -> logits (B, out). With the paper's widths (256, 512 at 5000 points) and
dropout 0.5, as the public DeepSets point-cloud code. Params "phi.<l>.*", "rho.0.*", "rho.1.*".
backend (base.backend): "numba" or "auto" on NumPy arrays take the max over the points in one numba
pass and do tanh's backward with the set sum after it in another (kernels.setpool: the same numbers);
None or "numpy" run NumPy's argmax and the layers' own lines.
The same model interface as sire_ref.models.recurrent (init, forward, backward) for train().
"""
from typing import NamedTuple

import numpy as np

from ..base.backend import BACKENDS, array_module, resolve
from ..base.validate import check_array, check_lengths, check_made_from, remember
from ..nn import activations, dropout, equivariant, linear, setpool
from ..nn.params import add_into, prefixed, take


def max_over_set(backend, x):
    """The max over a set's elements that `backend` runs on x (nn.setpool.forward's max_over_set):
    the numba pass (kernels.setpool) for "numba" / "auto" on NumPy arrays, else None (argmax)."""
    if resolve(backend, x) != "numba":
        return None
    from ..kernels.setpool import max_over_set as numba_pass          # numba loads on first use
    return numba_pass


def tanh_grad_and_set_sum(backend, x):
    """tanh's backward fused with the set sum (nn.equivariant.backward_through) that `backend` runs on
    x: the numba pass (kernels.setpool) for "numba" / "auto" on NumPy arrays, else None."""
    if resolve(backend, x) != "numba":
        return None
    from ..kernels.setpool import tanh_grad_and_set_sum as numba_pass
    return numba_pass


class PointCache(NamedTuple):
    """forward's cache: per phi layer (equivariant, tanh) caches, the pool's, the rho caches
    (dropout, linear, tanh, dropout, linear), and made_from for backward's check."""
    phi: list
    pool: object
    rho: tuple
    made_from: tuple


class EquivariantDeepSets:
    """phi (equivariant layers) -> max pool -> rho (module docstring)."""

    def __init__(self, input_size=3, width=256, layers=3, out_size=40, dropout_rate=0.5, backend=None):
        if backend is not None and backend not in BACKENDS:
            raise ValueError(f"backend must be None or one of {BACKENDS}, got {backend!r}")
        self.input_size, self.width, self.layers, self.out_size = input_size, width, layers, out_size
        self.backend = backend
        self.dropout_rate = dropout_rate
        self.frozen = set()

    def init(self, rng, dtype=np.float64):
        params = {}
        for i in range(self.layers):
            n_in = self.input_size if i == 0 else self.width
            params.update(prefixed(f"phi.{i}", equivariant.init(n_in, self.width, rng, dtype)))
        params.update(prefixed("rho.0", linear.init(self.width, self.width, rng, dtype)))
        params.update(prefixed("rho.1", linear.init(self.width, self.out_size, rng, dtype)))
        return params

    def forward(self, params, x, lengths=None, train=False, rng=None):
        """logits (B, out) of clouds x (B, N, input_size); lengths must be all N (whole clouds)."""
        if x.ndim != 3 or x.shape[2] != self.input_size:
            raise ValueError(f"x must be (B, N, {self.input_size}) point clouds, got shape {x.shape}")
        check_array(x, "x")                        # finite floats
        lengths = check_lengths(lengths, x.shape[0], x.shape[1])
        if (lengths != x.shape[1]).any():
            raise ValueError("EquivariantDeepSets reads whole clouds: every length must be N")
        set_max = max_over_set(self.backend, x)
        h, phi = x, []
        for i in range(self.layers):
            h, c_eq = equivariant.forward(take(f"phi.{i}", params), h, set_max)
            h, c_act = activations.forward("tanh", h)
            phi.append((c_eq, c_act))
        h, c_pool = setpool.forward(h, set_max)
        h, c_d0 = dropout.forward(h, self.dropout_rate, rng, train)
        h, c_l0 = linear.forward(take("rho.0", params), h)
        h, c_act = activations.forward("tanh", h)
        h, c_d1 = dropout.forward(h, self.dropout_rate, rng, train)
        y, c_l1 = linear.forward(take("rho.1", params), h)
        return y, PointCache(phi, c_pool, (c_d0, c_l0, c_act, c_d1, c_l1), remember(params, x))

    def backward(self, params, cache, dy, dstates=None):
        """Gradients of dy (B, out) on the logits for every param (dstates: unused, no states)."""
        if not isinstance(cache, PointCache):
            raise TypeError(f"cache must be the cache EquivariantDeepSets.forward returned, got "
                            f"{type(cache).__name__}")
        check_made_from(cache.made_from, params, "EquivariantDeepSets.backward")
        xp = array_module(dy)
        grads = {k: xp.zeros_like(v) for k, v in params.items()}
        c_d0, c_l0, c_act, c_d1, c_l1 = cache.rho
        g, dh = linear.backward(take("rho.1", params), c_l1, dy)
        add_into(grads, "rho.1", g)
        dh = activations.backward("tanh", c_act, dropout.backward(c_d1, dh))
        g, dh = linear.backward(take("rho.0", params), c_l0, dh)
        add_into(grads, "rho.0", g)
        dh = setpool.backward(cache.pool, dropout.backward(c_d0, dh))
        fused = tanh_grad_and_set_sum(self.backend, dh)
        for i in reversed(range(self.layers)):
            c_eq, c_act = cache.phi[i]
            g, dh = equivariant.backward_through("tanh", take(f"phi.{i}", params), c_eq, c_act, dh, need_dx=i > 0,
                                                 tanh_grad_and_set_sum=fused)
            add_into(grads, f"phi.{i}", g)
        return grads

    def regularizer(self, *args, **kwargs):
        raise ValueError("EquivariantDeepSets has no recurrent states: R_SIRE and R_SUB apply to recurrent "
                         "models only (train it with reg='none')")
