"""Inverted dropout: y = x * m / (1 - rate), m ~ Bernoulli(1 - rate); identity in eval mode."""
from ..base import backend


def forward(x, rate, rng, train):
    """x any shape; rng a numpy Generator (the mask is drawn on the host and moved to x's module)."""
    if not 0 <= rate < 1:
        raise ValueError(f"rate must be in [0, 1), got {rate}")
    if not train or rate == 0:
        return x, None
    xp = backend.array_module(x)
    scale = xp.asarray((rng.random(x.shape) >= rate) / (1 - rate), dtype=x.dtype)
    return x * scale, scale


def backward(cache, dy):
    return dy if cache is None else dy * cache
