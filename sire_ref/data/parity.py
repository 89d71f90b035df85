"""Parity of Boolean sequences (Section 6.1, Appendix B; Eq. 3.1): y = (sum_i x_i) mod 2.

make_split(rng, n, min_len, max_len) draws n sequences, each length uniform in
min_len..max_len and each bit uniform, padded with zeros to max_len:
x (n, max_len, 1) float, lengths (n,), y (n,) float in {0, 1}.
Appendix B: 1000 training sequences of lengths 2..10; the test set (3000) here spreads
its lengths evenly over buckets of 10 up to length 100 (groups = bucket upper end).
"""
import numpy as np

from ..base.validate import check_positive_int, check_rng
from .split import Split


def make_split(rng, n, min_len, max_len, dtype=np.float64):
    check_rng(rng)
    n = check_positive_int(n, "n")
    if not 1 <= min_len <= max_len:
        raise ValueError(f"need 1 <= min_len <= max_len, got {min_len} and {max_len}")
    lengths = rng.integers(min_len, max_len + 1, size=n)
    bits = rng.integers(0, 2, size=(n, max_len))
    bits[np.arange(max_len)[None, :] >= lengths[:, None]] = 0
    return Split(bits[:, :, None].astype(dtype), lengths, (bits.sum(axis=1) % 2).astype(dtype))


def make_bucketed(rng, n, buckets, dtype=np.float64):
    """n sequences spread evenly over length buckets [(lo, hi), ...]; groups = each row's hi."""
    per = -(-n // len(buckets))
    parts = [make_split(rng, per, lo, hi, dtype) for lo, hi in buckets]
    T = max(hi for _, hi in buckets)
    x = np.concatenate([np.pad(p.x, ((0, 0), (0, T - p.x.shape[1]), (0, 0))) for p in parts])[:n]
    groups = np.concatenate([np.full(per, hi) for _, hi in buckets])[:n]
    return Split(x, np.concatenate([p.lengths for p in parts])[:n],
                 np.concatenate([p.y for p in parts])[:n], groups)


TEST_BUCKETS = [(2, 10)] + [(lo, lo + 9) for lo in range(11, 100, 10)]


def make_data(seed, n_train=1000, n_val=200, n_test=3000, train_lengths=(2, 10), buckets=TEST_BUCKETS):
    """Train/val on train_lengths (val selects models, never test), test over `buckets`."""
    rng = np.random.default_rng([seed, 7])        # data stream independent of model init
    lo, hi = train_lengths
    return {"train": make_split(rng, n_train, lo, hi), "val": make_split(rng, n_val, lo, hi),
            "test": make_bucketed(rng, n_test, buckets)}
