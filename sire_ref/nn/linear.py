"""Affine layer y = x W^T + b (PyTorch nn.Linear), x (..., in) -> y (..., out).

x may be integer tokens (...) in 0..in-1, read as one-hot rows (nn.inputs): y = W^T[x] + b,
no dx. A layer after a frozen embedding then needs no product (see nn.inputs).
"""
import numpy as np

from ..base.validate import check_float_dtype, check_positive_int, check_rng
from .inputs import project, project_backward


def init(in_features, out_features, rng, dtype=np.float64):
    """weight (out, in) and bias (out,) ~ U(-1/sqrt(in), 1/sqrt(in)), as PyTorch."""
    in_features = check_positive_int(in_features, "in_features")
    out_features = check_positive_int(out_features, "out_features")
    check_rng(rng)
    dtype = check_float_dtype(dtype)
    k = 1.0 / np.sqrt(in_features)
    return {"weight": rng.uniform(-k, k, (out_features, in_features)).astype(dtype),
            "bias": rng.uniform(-k, k, out_features).astype(dtype)}


def forward(params, x):
    """y = x W^T + b; x (..., in) -> y (..., out)."""
    y = project(x, params["weight"])        # a new array (a product or a gather): add b in place
    y += params["bias"]
    return y, x


def backward(params, cache, dy):
    """dW = sum dy^T x over leading dims, db = sum dy, dx = dy W (None for tokens)."""
    d_w, dx = project_backward(dy, cache, params["weight"])
    return {"weight": d_w, "bias": dy.reshape(-1, dy.shape[-1]).sum(axis=0)}, dx
