r"""pi-SGD (Janossy pooling, Murphy et al. 2018) as a wrapper over a recurrent model.

Training: every time a sequence is used it is presented in a fresh random order of its own
positions (TrainConfig(permute_inputs=True) calls `core.samples.permute_rows`), so SGD approximately
minimizes the loss averaged over orders. Inference: the model predicts on the original order
and on n_orders - 1 random permutations; each prediction is rounded and the most frequent
value wins (ties: the smallest). The single-order prediction is reported as well.
"""
import numpy as np

from ..core.samples import permute_rows
from ..data.split import Split
from ..training.loop import predict


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
