"""A data split (inputs, lengths, targets), and the random reordering of its sequences
that pi-SGD trains on. x holds floats, or integer tokens for an embedding."""
from collections import namedtuple

import numpy as np

from .. import backend
from ..samples import random_orders

Split = namedtuple("Split", "x lengths y groups", defaults=(None,))
Split.__doc__ = """x (N, T, ...) inputs, lengths (N,), y (N,) targets; groups (N,) optional labels
for per-group metrics (e.g. a length bucket)."""


def permute_rows(rng, x, lengths):
    """x (N, T, ...) with row n's first lengths[n] positions randomly reordered (padding kept).

    A fresh uniformly random order of each sequence: the pi-SGD training input
    (Murphy et al. 2018), also used to test invariance empirically.
    """
    N, T = x.shape[:2]
    order = random_orders(rng, lengths, T)
    xp = backend.array_module(x)
    return x[xp.asarray(np.arange(N)[:, None]), xp.asarray(order)]
