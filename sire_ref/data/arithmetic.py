r"""Integer-sequence tasks (Section 6.2, 6.4, Appendix C; from Janossy pooling, Murphy et al. 2018).

Every element is drawn iid uniform from {0, ..., max_value} (max_value = 99 in the paper,
19 in Appendix C). Targets, for x = (x_1, ..., x_n):
    sum:        sum_i x_i
    range:      max_i x_i - min_i x_i
    variance:   (1/n) sum_j (x_j - mean(x))^2          (population variance, np.var)
    half_range: max(x_1..x_{floor(n/2)}) - min(x_{floor(n/2)+1}..x_n)      (Section 6.4)
make_split returns a data.split.Split with x (N, n) integer tokens (for an embedding), lengths
(N,) = n and y (N,) float64 targets.
"""
import numpy as np

from ..base.validate import check_positive_int, check_rng
from .split import Split


def _half_range(x):
    k = x.shape[1] // 2
    return x[:, :k].max(axis=1) - x[:, k:].min(axis=1)


TARGETS = {
    "sum": lambda x: x.sum(axis=1),
    "range": lambda x: x.max(axis=1) - x.min(axis=1),
    "variance": lambda x: x.var(axis=1),
    "half_range": _half_range,
}


def make_split(rng, task, n, length, max_value=99):
    """n sequences of `length` integers in 0..max_value, labelled by `task`."""
    check_rng(rng)
    if task not in TARGETS:
        raise ValueError(f"task must be one of {sorted(TARGETS)}, got {task!r}")
    n = check_positive_int(n, "n")
    length = check_positive_int(length, "length")
    if task == "half_range" and length < 2:
        raise ValueError(f"half_range needs length >= 2, got {length}")
    x = rng.integers(0, max_value + 1, size=(n, length))
    return Split(x, np.full(n, length), TARGETS[task](x).astype(np.float64))


def make_data(seed, task, length, n_train, n_val, n_test, max_value=99):
    """Independent train / validation / test splits from one seed."""
    rng = np.random.default_rng([seed, 11])
    return {name: make_split(rng, task, n, length, max_value)
            for name, n in (("train", n_train), ("val", n_val), ("test", n_test))}
