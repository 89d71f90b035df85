"""The array-module switch: NumPy always, CuPy when it and a GPU are present.

Reference code never imports numpy as its compute module directly; it asks
`array_module(*arrays)` for the module ("xp") that owns its inputs, so the same
lines run on NumPy arrays (CPU) and CuPy arrays (GPU).

dtype policy: float64 is the reference precision, float32 is supported
everywhere, nothing else is accepted for parameters or inputs.
"""
import numpy as np

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))

try:  # CuPy is optional (extra "gpu"); importing it must never be required.
    import cupy as _cupy
except ImportError:  # pragma: no cover - depends on the machine
    _cupy = None


def cupy_available():
    """True when CuPy imports and sees at least one CUDA device."""
    if _cupy is None:
        return False
    try:
        return _cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:  # CUDA driver missing or broken: treat as no GPU
        return False


def is_array(a):
    """True for a NumPy ndarray or (when CuPy is importable) a CuPy ndarray."""
    return isinstance(a, np.ndarray) or (_cupy is not None and isinstance(a, _cupy.ndarray))


def array_module(*arrays):
    """The module (numpy or cupy) that owns `arrays`; numpy when none is a CuPy array."""
    if _cupy is not None:
        return _cupy.get_array_module(*arrays)
    return np


def get_module(name):
    """Array module by name: "numpy" or "cupy" (the latter needs CuPy and a GPU)."""
    if name == "numpy":
        return np
    if name == "cupy":
        if not cupy_available():
            raise RuntimeError("backend 'cupy' requested but CuPy or a CUDA device is missing; "
                               "install the 'gpu' extra on a machine with a GPU")
        return _cupy
    raise ValueError(f"backend must be 'numpy' or 'cupy', got {name!r}")


def to_numpy(a):
    """Host NumPy copy-or-view of a NumPy or CuPy array."""
    if _cupy is not None and isinstance(a, _cupy.ndarray):
        return _cupy.asnumpy(a)
    return np.asarray(a)


def to_module(tree, xp):
    """Move every array of a dict (or a single array) onto module `xp`."""
    if isinstance(tree, dict):
        return {k: to_module(v, xp) for k, v in tree.items()}
    return xp.asarray(tree)


def scatter_add(target, index, values):
    """target[index] += values with repeated indices accumulated (np.add.at / cupyx.scatter_add)."""
    if _cupy is not None and isinstance(target, _cupy.ndarray):
        import cupyx
        cupyx.scatter_add(target, index, values)
    else:
        np.add.at(target, index, values)


def scatter_add_rows(target, index, values):
    """target[index[i]] += values[i] for target (V, D), index (n,) ints, values (n, D); repeated
    indices accumulate. On NumPy as the product onehot(index)^T values (V, n) @ (n, D): BLAS,
    5x faster than np.add.at at the vocabulary sizes of the experiments (V <= a few hundred)."""
    xp = array_module(target)
    if xp is not np:
        scatter_add(target, index, values)
        return
    one_hot = np.zeros((index.size, target.shape[0]), dtype=values.dtype)
    one_hot[np.arange(index.size), index] = 1
    target += one_hot.T @ values


BACKENDS = ("numpy", "numba", "cupy", "auto")   # the one list of backend names
FAST = ("numba", "cupy", "auto")                 # where a model takes its shortcuts by default (models.recurrent)
HOST = ("numpy", "numba", "auto")                # those that run on NumPy arrays (the experiments' data)


def resolve(backend, *arrays):
    """The compute backend for arrays: None picks "cupy" for CuPy arrays, else "numpy" (the reference).

    "numpy" and "cupy" run the reference code on that array module; "numba" runs the
    jitted CPU kernels (NumPy arrays only); "auto" is the fastest for the arrays: "cupy"
    on a GPU, "numba" on the CPU (measured faster than the reference in every experiment's
    configuration by `python -m sire_ref bench --experiments`, and at every size: the reference's
    float32 backward slows down 4x or more on the subnormal gradients of long sequences, which
    the kernels flush, kernels.mathfn.flush_floor). A backend that does not
    match the arrays' module is an error, never a silent copy.
    """
    on_gpu = _cupy is not None and any(isinstance(a, _cupy.ndarray) for a in arrays)
    if backend is None:
        return "cupy" if on_gpu else "numpy"
    if backend == "auto":
        return "cupy" if on_gpu else "numba"
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS} or None, got {backend!r}")
    if on_gpu != (backend == "cupy"):
        where = "CuPy (GPU)" if on_gpu else "NumPy (CPU)"
        raise TypeError(f"backend {backend!r} does not match the arrays, which are {where}; "
                        f"move them with backend.to_module or pick the matching backend")
    return backend
