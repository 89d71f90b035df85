"""What tests and tools share: random problems with every quantity nonzero, error measures,
central finite differences, and polling for fault tests.

Error measure (per array, norm-wise so tiny entries do not dominate):
    rel(a, b) = max|a - b| / max(max|a|, max|b|)       (0 when both are exactly zero)
"""
import importlib
import time

import numpy as np


def require_framework(name):
    """sire_ref.tools.interop.<name> ("torch", "jax" or "keras") for a test, or pytest.skip naming the
    install command when that framework is missing (Keras: with its backend set as interop.keras does)."""
    import pytest
    module = importlib.import_module(f"sire_ref.tools.interop.{name}")
    try:
        module.require()
    except ImportError as err:
        pytest.skip(f"{name} not installed: {err}", allow_module_level=True)
    return module


def relative_error(a, b):
    """Norm-wise relative error max|a - b| / max(max|a|, max|b|); 0.0 when both are all zero;
    inf when either holds a NaN or inf (a non-finite result never passes a `< tol` check, and
    NaN, which compares False with everything, never slips through one)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"cannot compare shapes {a.shape} and {b.shape}")
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        return float("inf")
    scale = max(np.abs(a).max(initial=0.0), np.abs(b).max(initial=0.0))
    diff = np.abs(a - b).max(initial=0.0)
    return 0.0 if scale == 0.0 else float(diff / scale)


def nonzero_relative_error(a, b):
    """relative_error(a, b) for a check that must not pass on zeros: raises AssertionError when
    both a and b are exactly zero (a regularizer or gradient that vanished would otherwise
    compare perfectly, e.g. R_SUB with q = p)."""
    if not (np.any(np.asarray(a) != 0) or np.any(np.asarray(b) != 0)):
        raise AssertionError("both sides are exactly zero: the comparison would check nothing")
    return relative_error(a, b)


def check_layer_gradients(forward, backward, params, x, rng, tol=1e-7):
    """Assert a layer's backward against central differences of L = sum(dy * forward(params, x))
    for a random dy: forward(params, x) -> (y, cache), backward(params, cache, dy) -> (grads, dx);
    every gradient and dx within relative error tol (float64), none of them all zero."""
    y, cache = forward(params, x)
    dy = rng.normal(size=y.shape)
    grads, dx = backward(params, cache, dy)

    def loss(arrays):
        return float((forward({k: arrays[k] for k in params}, arrays["x"])[0] * dy).sum())

    numeric = numerical_gradient(loss, dict(params, x=x))
    for k in params:
        assert nonzero_relative_error(grads[k], numeric[k]) < tol, k
    assert nonzero_relative_error(dx, numeric["x"]) < tol, "dx"


def compare(analytic, reference):
    """Per-key report {name: {"value": max|analytic|, "max_abs": max|analytic - reference|, "rel":
    relative_error}} for two dicts of arrays with the same keys."""
    if set(analytic) != set(reference):
        raise ValueError(f"key sets differ: {sorted(analytic)} vs {sorted(reference)}")
    return {k: {"value": float(np.abs(np.asarray(analytic[k], np.float64)).max(initial=0.0)),
                "max_abs": float(np.abs(np.asarray(analytic[k], np.float64)
                                        - np.asarray(reference[k], np.float64)).max(initial=0.0)),
                "rel": relative_error(analytic[k], reference[k])}
            for k in analytic}


def numerical_gradient(loss, arrays, eps=1e-6):
    """Central differences (loss(+eps) - loss(-eps)) / (2 eps) of a scalar loss.

    loss: callable taking a dict of float64 NumPy arrays and returning a float.
    arrays: dict name -> array; each entry of each array is perturbed in turn (on a
    private float64 copy, so the caller's arrays are untouched).
    Returns a dict of gradients with the same keys and shapes.
    """
    work = {k: np.array(v, dtype=np.float64, copy=True) for k, v in arrays.items()}
    grads = {}
    for name, a in work.items():
        flat, g = a.reshape(-1), np.zeros(a.size)
        for i in range(a.size):
            old = flat[i]
            flat[i] = old + eps
            up = loss(work)
            flat[i] = old - eps
            down = loss(work)
            flat[i] = old
            g[i] = (up - down) / (2 * eps)
        grads[name] = g.reshape(a.shape)
    return grads


def random_problem(cell, rng, batch=4, seq_len=6, input_size=3, hidden_size=5, dtype=np.float64):
    """A random test case with every quantity nonzero: (params, x, lengths, dstates).

    Biases come from the PyTorch-style init (nonzero); s0 ~ U(-0.5, 0.5) replaces the
    zero default; lengths are random in 1..T and include 1 and T when batch >= 2.
    """
    params = cell.init_params(input_size, hidden_size, rng, dtype=dtype)
    params["s0"] = rng.uniform(-0.5, 0.5, size=hidden_size).astype(dtype)
    x = rng.normal(size=(batch, seq_len, input_size)).astype(dtype)
    lengths = rng.integers(1, seq_len + 1, size=batch)
    if batch >= 2:
        lengths[:2] = (1, seq_len)
    dstates = rng.normal(size=(batch, seq_len, hidden_size)).astype(dtype)
    return params, x, lengths, dstates


def wait_for(condition, timeout=60.0, poll=0.05):
    """Poll condition() until it is true; AssertionError after `timeout` seconds (fault tests
    that watch subprocesses)."""
    end = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < end, f"timed out after {timeout} s"
        time.sleep(poll)
