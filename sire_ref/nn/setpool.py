r"""Max pooling over the elements of a set (DeepSets' max aggregation), on NumPy or CuPy.

x (B, N, D) -> y (B, D), y[b, d] = max_n x[b, n, d]. The gradient goes to the maximizing
element only (the first one on a tie, as PyTorch's max(dim)).
"""
from ..base import backend


def forward(x, max_over_set=None):
    """y (B, D) and the cache (the winning element of each (b, d), x's shape). max_over_set: None
    (argmax on x's array module) or a function x -> (y, winner) giving the same, such as the numba
    pass the models take on the CPU (kernels.setpool)."""
    if x.ndim != 3 or x.shape[1] == 0:
        raise ValueError(f"x must be (B, N, D) with N >= 1, got shape {x.shape}")
    if max_over_set is not None:
        y, winner = max_over_set(x)
        return y, (winner, x.shape)
    winner = x.argmax(axis=1)
    xp = backend.array_module(x)
    B, _, D = x.shape
    return x[xp.arange(B)[:, None], winner, xp.arange(D)[None, :]], (winner, x.shape)


def backward(cache, dy):
    """dx (B, N, D): dy at each (b, d)'s winner, zeros elsewhere."""
    return add_at_winners(cache, dy, backend.array_module(dy).zeros(cache[1], dtype=dy.dtype))


def add_at_winners(cache, dy, dx):
    """dx (B, N, D) += dy (B, D) at each (b, d)'s winner, in place (one winner per (b, d)); dx."""
    winner, (B, _, D) = cache
    xp = backend.array_module(dy)
    dx[xp.arange(B)[:, None], winner, xp.arange(D)[None, :]] += dy
    return dx
