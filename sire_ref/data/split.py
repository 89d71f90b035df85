"""A data split (inputs, lengths, targets). x holds floats, or integer tokens for an embedding."""
from collections import namedtuple

Split = namedtuple("Split", "x lengths y groups", defaults=(None,))
Split.__doc__ = """x (N, T, ...) inputs, lengths (N,), y (N,) targets; groups (N,) optional labels
for per-group metrics (e.g. a length bucket)."""
