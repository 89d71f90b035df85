r"""Locally Perturbed MNIST (Section 6.5, Appendix B, Figure 3) as sequences of pixels.

Appendix B: flatten each digit to a 784-vector, then a "convolution" with full stride that
applies a random permutation inside each window, done twice, with windows of 4 and then 7.
Here: pass 1 cuts the vector into the 196 windows [4k, 4k + 4) and reorders each by its own
uniformly random permutation; pass 2 does the same on the 112 windows [7k, 7k + 7) of the
result. In index form, perturbed[j] = x[perm[j]] with perm = p_4[p_7] (p_w the pass with
windows of w), so a pixel moves at most (4 - 1) + (7 - 1) = 9 places; the paper's footnote 9
bound of 11 = 4 + 7 holds but is not reached. Both window sizes divide 28, so every window lies
inside one image row: a pixel never leaves its row.

The permutations are drawn PER IMAGE (the paper's "random permutations are applied to
digits"), once, from the seed: the data set is fixed, as a benchmark's is. Image i of a split
always gets the same permutation for a given seed, whatever subset of the split is taken.

make_data(mnist, seed, n_train, n_val, n_test, perturbed=True) -> {"train", "val", "test": Split}
    x (N, 784, 1) float32 standardized pixels (p / 255 - MEAN) / STD in the (perturbed)
    flattened order (MEAN, STD: the usual MNIST constants, the 60k training pixels' mean and
    std; a GRU reading raw [0, 1] pixels was measured to leave its initial plateau later), lengths all 784,
    y (N,) int labels. val is carved from the 60k training digits (a seeded shuffle), test is
    the first n_test of the 10k test digits after a seeded shuffle (all of them for 10000).
"""
import numpy as np

from .split import Split

SIZE, WINDOWS, CHUNK = 784, (4, 7), 4096
MEAN, STD = 0.1307, 0.3081


def window_permutations(rng, n, window, size=SIZE):
    """(n, size) int index arrays: each window [w k, w k + w) reordered by its own random
    permutation (independent per row and per window)."""
    if size % window:
        raise ValueError(f"window ({window}) must divide size ({size})")
    base = np.broadcast_to(np.arange(size, dtype=np.int32).reshape(size // window, window),
                           (n, size // window, window))
    return rng.permuted(base, axis=2).reshape(n, size)


def local_permutations(seed, split, indices, windows=WINDOWS):
    """perm (len(indices), 784): perturbed image = x[perm] for the given image indices of a split
    ("train" or "test"). Drawn in fixed blocks of CHUNK images, each from its own seeded stream,
    so an image's permutation does not depend on which others are taken."""
    indices = np.asarray(indices)
    out = np.empty((len(indices), SIZE), dtype=np.int32)
    for chunk in np.unique(indices // CHUNK):
        rng = np.random.default_rng([seed, ("train", "test").index(split), int(chunk)])
        perm = np.broadcast_to(np.arange(SIZE, dtype=np.int32), (CHUNK, SIZE))
        for w in windows:                 # composition: after p_4 then p_7, perm = p_4[p_7]
            perm = np.take_along_axis(perm, window_permutations(rng, CHUNK, w), axis=1)
        rows = indices // CHUNK == chunk
        out[rows] = perm[indices[rows] % CHUNK]
    return out


def max_displacement(perm):
    """The largest |perm[j] - j|: how far any pixel moved."""
    return int(np.abs(perm - np.arange(perm.shape[-1])).max())


def _split(images, labels, split, indices, seed, perturbed):
    flat = images[indices].reshape(len(indices), SIZE)
    if perturbed:
        flat = np.take_along_axis(flat, local_permutations(seed, split, indices), axis=1)
    x = ((flat.astype(np.float32) / 255.0 - MEAN) / STD).astype(np.float32)[:, :, None]
    return Split(x=x, lengths=np.full(len(indices), SIZE), y=labels[indices].astype(np.int64))


def make_data(mnist, seed, n_train, n_val, n_test, perturbed=True):
    """The train / val / test Splits (module docstring); mnist: load_mnist's dict."""
    n_all, n_test_all = len(mnist["train_labels"]), len(mnist["test_labels"])
    if n_train + n_val > n_all or n_test > n_test_all or min(n_train, n_val, n_test) < 1:
        raise ValueError(f"need n_train + n_val <= {n_all}, 1 <= n_test <= {n_test_all} and every size "
                         f">= 1, got n_train={n_train}, n_val={n_val}, n_test={n_test}")
    order = np.random.default_rng([seed, 7]).permutation(n_all)
    test = np.random.default_rng([seed, 8]).permutation(n_test_all)[:n_test]
    parts = {"train": ("train", order[:n_train]), "val": ("train", order[n_all - n_val:]),
             "test": ("test", np.sort(test))}
    return {name: _split(mnist[f"{source}_images"], mnist[f"{source}_labels"], source, idx, seed, perturbed)
            for name, (source, idx) in parts.items()}
