r"""2-D convolution (PyTorch nn.Conv2d, stride 1, zero padding) by im2col, on NumPy or CuPy.

x (B, C, H, W), weight (F, C, k, k), bias (F,) -> y (B, F, H', W'), H' = H + 2 pad - k + 1:

    y[b, f, i, j] = bias[f] + sum_{c, u, v} weight[f, c, u, v] * xpad[b, c, i + u, j + v]

im2col lays the k*k shifted views of xpad side by side, cols (B H' W', k k C), so the sum is
one product y = cols W^T + b with W = weight as an (F, k k C) matrix. Backward is the same
three lines reversed: dW = dy^T cols, db = sum dy, dcols = dy W, and col2im adds each shifted
view's gradient back into dxpad. Both work channels-last (xpad as (B, H, W, C)), so each shifted
view is copied in runs of C contiguous numbers (measured 2x faster than (C, k, k) columns).
"""
import numpy as np

from ..base import backend
from ..base.validate import check_float_dtype, check_positive_int, check_rng


def init(in_channels, out_channels, kernel, rng, dtype=np.float64):
    """weight (F, C, k, k), bias (F,) ~ U(-1/sqrt(C k k), 1/sqrt(C k k)), as PyTorch."""
    in_channels = check_positive_int(in_channels, "in_channels")
    out_channels = check_positive_int(out_channels, "out_channels")
    kernel = check_positive_int(kernel, "kernel")
    check_rng(rng)
    dtype = check_float_dtype(dtype)
    bound = 1.0 / np.sqrt(in_channels * kernel * kernel)
    return {"weight": rng.uniform(-bound, bound, (out_channels, in_channels, kernel, kernel)).astype(dtype),
            "bias": rng.uniform(-bound, bound, out_channels).astype(dtype)}


def _out_size(x_shape, k, pad):
    return x_shape[2] + 2 * pad - k + 1, x_shape[3] + 2 * pad - k + 1


def forward(params, x, pad=0):
    """y = conv(x) + b; x (B, C, H, W) -> y (B, F, H + 2 pad - k + 1, W + 2 pad - k + 1)."""
    w = params["weight"]
    F, C, k = w.shape[0], w.shape[1], w.shape[2]
    if x.ndim != 4 or x.shape[1] != C:
        raise ValueError(f"x must be (B, {C}, H, W) for a weight of shape {w.shape}, got {x.shape}")
    Ho, Wo = _out_size(x.shape, k, pad)
    if Ho < 1 or Wo < 1:
        raise ValueError(f"a {k}x{k} kernel with pad {pad} does not fit x of shape {x.shape}")
    xp = backend.array_module(x)
    xpad = xp.pad(x.transpose(0, 2, 3, 1), ((0, 0), (pad, pad), (pad, pad), (0, 0)))    # (B, H, W, C)
    B = x.shape[0]
    cols = xp.empty((B, Ho, Wo, k, k, C), dtype=x.dtype)
    for u in range(k):
        for v in range(k):
            cols[:, :, :, u, v] = xpad[:, u:u + Ho, v:v + Wo]
    cols = cols.reshape(B * Ho * Wo, k * k * C)
    y = cols @ weight_matrix(w).T + params["bias"]
    return y.reshape(B, Ho, Wo, F).transpose(0, 3, 1, 2), (cols, x.shape, pad)


def weight_matrix(w):
    """weight (F, C, k, k) as the (F, k k C) matrix the channels-last columns multiply."""
    return w.transpose(0, 2, 3, 1).reshape(w.shape[0], -1)


def backward(params, cache, dy, with_dx=True):
    """(grads, dx) of dy (B, F, H', W'): dW = dy^T cols, db = sum dy, dx = col2im(dy W); dx is
    None with with_dx=False (a first layer: nothing below it needs it)."""
    cols, x_shape, pad = cache
    w = params["weight"]
    F, C, k = w.shape[0], w.shape[1], w.shape[2]
    B, _, H, W = x_shape
    Ho, Wo = _out_size(x_shape, k, pad)
    d_rows = dy.transpose(0, 2, 3, 1).reshape(-1, F)
    d_w = (d_rows.T @ cols).reshape(F, k, k, C).transpose(0, 3, 1, 2)
    grads = {"weight": d_w, "bias": d_rows.sum(axis=0)}
    if not with_dx:
        return grads, None
    d_cols = (d_rows @ weight_matrix(w)).reshape(B, Ho, Wo, k, k, C)
    xp = backend.array_module(dy)
    dxpad = xp.zeros((B, H + 2 * pad, W + 2 * pad, C), dtype=dy.dtype)
    for u in range(k):
        for v in range(k):
            dxpad[:, u:u + Ho, v:v + Wo] += d_cols[:, :, :, u, v]
    return grads, dxpad[:, pad:pad + H, pad:pad + W].transpose(0, 3, 1, 2)
