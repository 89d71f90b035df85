"""Lookup table y = E[idx] (PyTorch nn.Embedding): idx (...) ints in 0..V-1 -> y (..., D)."""
import numpy as np

from ..base import backend
from ..base.validate import check_float_dtype, check_positive_int, check_rng


def init(num_embeddings, dim, rng, dtype=np.float64, low=-0.5, high=0.5):
    """weight (V, D) ~ U(low, high) (the Janossy-pooling arithmetic setup uses U(-0.5, 0.5))."""
    check_positive_int(num_embeddings, "num_embeddings")
    check_positive_int(dim, "dim")
    check_rng(rng)
    return {"weight": rng.uniform(low, high, (num_embeddings, dim)).astype(check_float_dtype(dtype))}


def forward(params, idx):
    xp = backend.array_module(params["weight"])
    V = params["weight"].shape[0]
    host = backend.to_numpy(idx)
    if not np.issubdtype(host.dtype, np.integer):
        raise TypeError(f"idx must be an integer array, got {host.dtype}")
    if host.size and (host.min() < 0 or host.max() >= V):
        raise ValueError(f"idx must lie in 0..{V - 1}, got min {host.min()} and max {host.max()}")
    idx = xp.asarray(idx)
    return params["weight"][idx], idx


def backward(params, cache, dy):
    """dE[v] = sum of dy over the positions that looked up v; no gradient to the integer input."""
    idx = cache
    dW = backend.array_module(dy).zeros_like(params["weight"])
    backend.scatter_add_rows(dW, idx.reshape(-1), dy.reshape(-1, dy.shape[-1]))
    return {"weight": dW}, None
