"""Locally Perturbed MNIST (Appendix B): each window of 4, then of 7, reordered by its own random
permutation, per image; the displacement bound; the splits."""
import numpy as np
import pytest

from sire_ref.data import mnist
from sire_ref.data.perturbed_mnist import (MEAN, STD, local_permutations, make_data, max_displacement,
                                           window_permutations)


def test_each_window_is_permuted_within_itself():
    rng = np.random.default_rng(0)
    for w in (4, 7):
        p = window_permutations(rng, 50, w)
        windows = p.reshape(50, -1, w)
        own_window = np.arange(784).reshape(-1, w)
        assert np.array_equal(np.sort(windows, axis=2), np.broadcast_to(own_window, windows.shape))
        moved = (p != np.arange(784)).mean()
        assert moved > 0.5                       # not the identity: most pixels move
    with pytest.raises(ValueError, match="window .5. must divide size .784."):
        window_permutations(rng, 2, 5)


def test_composition_is_the_two_passes_in_order():
    """perm = p_4[p_7]: applying pass 4 then pass 7 to an image equals indexing by perm."""
    seed, idx = 3, np.array([0, 1, 4097])
    perm = local_permutations(seed, "train", idx)
    image = np.random.default_rng(1).random((3, 784))
    # the same draws as local_permutations makes for block 0 (images 0 and 1)
    rng = np.random.default_rng([seed, 0, 0])
    p4 = window_permutations(rng, 4096, 4)[:2]
    p7 = window_permutations(rng, 4096, 7)[:2]
    after_4 = np.take_along_axis(image[:2], p4, axis=1)
    after_7 = np.take_along_axis(after_4, p7, axis=1)
    assert np.array_equal(after_7, np.take_along_axis(image[:2], perm[:2], axis=1))


def test_displacement_at_most_9_and_reached_pixels_stay_in_their_row():
    """3 + 6 = 9 is the most a pixel can move (the paper's bound, 4 + 7 = 11, is not reached),
    and 9 is reached; both windows divide 28, so no pixel leaves its image row."""
    perm = local_permutations(0, "train", np.arange(3000))
    assert max_displacement(perm) == 9
    assert np.array_equal(perm // 28, np.broadcast_to(np.arange(784) // 28, perm.shape))
    assert np.array_equal(np.sort(perm, axis=1), np.broadcast_to(np.arange(784), perm.shape))


def test_per_image_fixed_by_seed_and_independent_of_the_subset():
    a = local_permutations(0, "train", np.arange(10))
    assert not np.array_equal(a[0], a[1])                                  # drawn per image
    assert np.array_equal(local_permutations(0, "train", np.array([7, 2, 5000])),
                          np.concatenate([a[[7, 2]], local_permutations(0, "train", [5000])]))
    assert not np.array_equal(a, local_permutations(1, "train", np.arange(10)))
    assert not np.array_equal(a, local_permutations(0, "test", np.arange(10)))


def test_splits_on_the_real_digits(mnist_dir):
    d = mnist.load_mnist(mnist_dir)
    clean = make_data(d, seed=0, n_train=50, n_val=20, n_test=30, perturbed=False)
    pert = make_data(d, seed=0, n_train=50, n_val=20, n_test=30)
    for name, n in (("train", 50), ("val", 20), ("test", 30)):
        s = pert[name]
        assert s.x.shape == (n, 784, 1) and s.x.dtype == np.float32 and (s.lengths == 784).all()
        assert np.array_equal(s.y, clean[name].y)
        # the same pixels, moved: each row of the image holds the same multiset of values
        rows_p = np.sort(s.x[:, :, 0].reshape(n, 28, 28), axis=2)
        rows_c = np.sort(clean[name].x[:, :, 0].reshape(n, 28, 28), axis=2)
        assert np.array_equal(rows_p, rows_c) and not np.array_equal(s.x, clean[name].x)
    pixels = d["train_images"] / 255.0                       # the published MNIST mean and std
    assert abs(pixels.mean() - MEAN) < 5e-5 and abs(pixels.std() - STD) < 5e-5
    assert np.allclose(clean["train"].x.min(), -MEAN / STD) and np.allclose(clean["train"].x.max(), (1 - MEAN) / STD)
    with pytest.raises(ValueError, match="n_train \\+ n_val <= 60000"):
        make_data(d, 0, 60000, 1, 1)
