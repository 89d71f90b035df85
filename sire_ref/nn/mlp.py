"""Multi-layer perceptron: Linear -> act -> ... -> Linear (no activation after the last layer).

sizes = [in, h_1, ..., h_k, out]; params "0.weight", "0.bias", "1.weight", ...;
x (..., in) -> y (..., out). With final_activation=True the last layer is followed
by the activation too (DeepSets' phi can end in one). dropout_rate > 0 (with train=True and
an rng) drops the input of every layer after the first, as DeepSets' rho: Linear, tanh,
dropout, Linear (the dropout before the first layer is the caller's).
"""
import numpy as np

from . import activations, dropout, linear
from .params import add_into, prefixed, take


def init(sizes, rng, dtype=np.float64):
    if len(sizes) < 2:
        raise ValueError(f"sizes must list at least input and output sizes, got {sizes}")
    params = {}
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        params.update(prefixed(str(i), linear.init(n_in, n_out, rng, dtype)))
    return params


def n_layers(params):
    return len({k.split(".")[0] for k in params})


def forward(params, x, activation="tanh", final_activation=False, dropout_rate=0.0, rng=None, train=False):
    caches, h = [], x
    n = n_layers(params)
    for i in range(n):
        c_drop = None
        if i > 0:
            h, c_drop = dropout.forward(h, dropout_rate, rng, train)
        h, c_lin = linear.forward(take(str(i), params), h)
        c_act = None
        if i < n - 1 or final_activation:
            h, c_act = activations.forward(activation, h)
        caches.append((c_drop, c_lin, c_act))
    return h, (caches, activation)


def backward(params, cache, dy):
    caches, activation = cache
    grads, d = {k: v * 0 for k, v in params.items()}, dy
    for i in reversed(range(len(caches))):
        c_drop, c_lin, c_act = caches[i]
        if c_act is not None:
            d = activations.backward(activation, c_act, d)
        g, d = linear.backward(take(str(i), params), c_lin, d)
        add_into(grads, str(i), g)
        d = dropout.backward(c_drop, d)
    return grads, d
