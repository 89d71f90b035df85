r"""pi-SGD (Janossy pooling, Murphy et al. 2018) as a wrapper over a recurrent model.

Training: every time a sequence is used it is presented in a fresh random order of its own
positions (TrainConfig(permute_inputs=True) calls `permute_rows`), so SGD approximately
minimizes the loss averaged over orders. Inference: the model predicts on the original order
and on n_orders - 1 random permutations; each prediction is rounded and the most frequent
value wins (ties: the smallest). The single-order prediction is reported as well.
"""
import numpy as np

from . import backend
from .train import Split, predict


def permute_rows(rng, x, lengths):
    """x (N, T, ...) with row n's first lengths[n] positions randomly reordered (padding kept)."""
    N, T = x.shape[:2]
    keys = rng.random((N, T))
    keys[np.arange(T)[None, :] >= np.asarray(lengths)[:, None]] = np.inf      # padding stays last
    order = np.argsort(keys, axis=1)
    xp = backend.array_module(x)
    return x[xp.asarray(np.arange(N)[:, None]), xp.asarray(order)]


def vote(predictions):
    """Most frequent rounded value per row of predictions (N, K); ties go to the smallest value."""
    rounded = np.round(predictions)
    out = np.empty(rounded.shape[0])
    for i, row in enumerate(rounded):
        values, counts = np.unique(row, return_counts=True)
        out[i] = values[counts.argmax()]
    return out


def predict_vote(model, params, split, rng, n_orders=20):
    """(voted prediction (N,), original-order prediction (N,)) for a scalar-output model."""
    preds = [predict(model, params, split)[:, 0]]
    for _ in range(n_orders - 1):
        shuffled = Split(permute_rows(rng, split.x, split.lengths), split.lengths, split.y)
        preds.append(predict(model, params, shuffled)[:, 0])
    return vote(np.stack(preds, axis=1)), preds[0]
