r"""DeepSets' permutation-equivariant layer with max (Zaheer et al. 2017, the point-cloud model):

    y_n = Gamma(x_n - max_m x_m) = (x_n - max_m x_m) W^T + b,      x (B, N, I) -> y (B, N, O)

Permuting the N elements of x permutes the rows of y the same way. Backward: with dz = dy W
(the gradient on x_n - max), dx_n = dz_n minus, at each coordinate's maximizing element, the
sum over n of dz_n (the max's share). params as nn.linear's: weight (O, I), bias (O,).
"""
from . import linear, setpool

init = linear.init


def forward(params, x):
    m, c_max = setpool.forward(x)
    y, c_lin = linear.forward(params, x - m[:, None, :])
    return y, (c_max, c_lin)


def backward(params, cache, dy):
    c_max, c_lin = cache
    grads, dz = linear.backward(params, c_lin, dy)
    return grads, setpool.add_at_winners(c_max, -dz.sum(axis=1), dz)      # in place: dz is ours
