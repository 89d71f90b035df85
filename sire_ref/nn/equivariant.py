r"""DeepSets' permutation-equivariant layer with max (Zaheer et al. 2017, the point-cloud model):

    y_n = Gamma(x_n - m) = (x_n - m) W^T + b = x_n W^T - m W^T + b,    m = max_n x_n,
    x (B, N, I) -> y (B, N, O)

Permuting the N elements of x permutes the rows of y the same way. Computed in the last form:
one product over the elements and a (B, O) correction, with no (B, N, I) copy of x - m made or
kept (x itself is the cache; at the point clouds' widths this copy was a full pass over the
layer's largest array). Backward, with dy (B, N, O) and s = sum_n dy_n (B, O):

    dW = dy^T x - s^T m        db = sum s        dz = dy W     (the gradient on x_n - m)
    dx_n = dz_n, minus, at each coordinate's maximizing element, sum_n dz_n = s W (the max's share)

params as nn.linear's: weight (O, I), bias (O,).
"""
from . import activations, linear, setpool
from .inputs import project, project_backward

init = linear.init


def forward(params, x, max_over_set=None):
    """y (B, N, O) and the cache; max_over_set: as nn.setpool.forward's."""
    m, c_max = setpool.forward(x, max_over_set)
    y = project(x, params["weight"])
    y -= (project(m, params["weight"]) - params["bias"])[:, None, :]
    return y, (x, m, c_max)


def backward(params, cache, dy, need_dx=True, set_sum=None):
    """(grads, dx): dx None when need_dx is False (a first layer reading the data); set_sum: s if
    already computed (backward_through)."""
    x, m, c_max = cache
    s = dy.sum(axis=1) if set_sum is None else set_sum
    d_w, dz = project_backward(dy, x, params["weight"], need_dx)
    d_w -= s.T @ m
    grads = {"weight": d_w, "bias": s.sum(axis=0)}
    if not need_dx:
        return grads, None
    return grads, setpool.add_at_winners(c_max, -(s @ params["weight"]), dz)      # in place: dz is ours


def backward_through(activation, params, cache, c_act, dh, need_dx=True, tanh_grad_and_set_sum=None):
    """(grads, dx) of the layer followed by its activation, h = act(y), from dh (B, N, O) on h.
    tanh_grad_and_set_sum(h, dh) -> (dy, sum_n dy), if given, does tanh's backward and s in one
    pass (kernels.setpool, which the models pass on the CPU); else nn.activations' backward."""
    if tanh_grad_and_set_sum is not None and activation == "tanh":
        dy, s = tanh_grad_and_set_sum(c_act, dh)
        return backward(params, cache, dy, need_dx, set_sum=s)
    return backward(params, cache, activations.backward(activation, c_act, dh), need_dx)
