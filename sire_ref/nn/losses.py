r"""Losses, each `loss(pred, target) -> (value, dpred)`, mean over the batch, numerically stable.

bce_with_logits:  mean_b [ softplus(z) - y z ],  softplus(z) = max(z, 0) + log1p(exp(-|z|)),
                  d/dz = (sigmoid(z) - y) / B
softmax_cross_entropy: mean_b [ logsumexp(z_b) - z_b[y_b] ],  d/dz = (softmax(z) - onehot(y)) / B
l1:               mean |p - y| over all entries,  d/dp = sign(p - y) / n  (0 at a tie)
mse:              mean (p - y)^2 over all entries,  d/dp = 2 (p - y) / n
"""
import numpy as np

from ..base import backend
from .activations import sigmoid


def _same_shape(pred, target, name):
    if pred.shape != target.shape:
        raise ValueError(f"{name}: target must have the prediction's shape {tuple(pred.shape)}, "
                         f"got {tuple(target.shape)}")


def bce_with_logits(z, y):
    """z (B,) logits, y (B,) in {0, 1} (or [0, 1])."""
    _same_shape(z, y, "bce_with_logits")
    xp = backend.array_module(z)
    value = (xp.maximum(z, 0) + xp.log1p(xp.exp(-xp.abs(z))) - y * z).mean()
    return value, (sigmoid(z) - y) / z.size


def softmax_cross_entropy(z, y):
    """z (B, C) logits, y (B,) integer class labels."""
    xp = backend.array_module(z)
    if z.ndim != 2 or y.shape != z.shape[:1]:
        raise ValueError(f"softmax_cross_entropy: logits (B, C) and labels (B,) expected, got "
                         f"{tuple(z.shape)} and {tuple(y.shape)}")
    if not np.issubdtype(y.dtype, np.integer):
        raise TypeError(f"softmax_cross_entropy: labels must be integers, got {y.dtype}")
    shifted = z - z.max(axis=1, keepdims=True)
    logsumexp = xp.log(xp.exp(shifted).sum(axis=1))
    rows = xp.arange(z.shape[0])
    value = (logsumexp - shifted[rows, y]).mean()
    dz = xp.exp(shifted - logsumexp[:, None])
    dz[rows, y] -= 1
    return value, dz / z.shape[0]


def l1(p, y):
    _same_shape(p, y, "l1")
    xp = backend.array_module(p)
    return xp.abs(p - y).mean(), xp.sign(p - y) / p.size


def mse(p, y):
    _same_shape(p, y, "mse")
    return ((p - y) ** 2).mean(), 2 * (p - y) / p.size


LOSSES = {"bce": bce_with_logits, "ce": softmax_cross_entropy, "l1": l1, "mse": mse}
