"""Input checks shared by every public function.

Each check raises TypeError (wrong kind of object or dtype) or ValueError (wrong
shape, range or non-finite values) with a message that names the argument, what
was expected and what was received. Nothing is coerced silently.

`trusted()`: inside it, the checks that read every value are skipped (check_array's scan for NaN
and inf, check_inputs' token range, check_lengths' range, core.samples.check_samples' position
scans; on CuPy the first two are device synchronizations) and a model's forward keeps no copy of
params and x for its backward's guard (`remember`); types, dtypes and shapes are still checked. The
training loop checks its data once and runs its steps trusted; a NaN that appears during training
stops the run at the end of its epoch (training.loop: FloatingPointError on a non-finite objective).
"""
import contextlib
import contextvars
import numbers

import numpy as np

from . import backend

_TRUSTED = contextvars.ContextVar("sire_ref_trusted", default=False)


def is_trusted():
    """True inside `trusted()`: a check that reads every value may skip it."""
    return _TRUSTED.get()


@contextlib.contextmanager
def trusted():
    """Within: values are trusted to be finite and tokens in range (module docstring)."""
    token = _TRUSTED.set(True)
    try:
        yield
    finally:
        _TRUSTED.reset(token)


def _check_plain_array(a, name):
    """A NumPy or CuPy ndarray, not a masked array: a mask would be honoured by some code paths
    and ignored by others (the jitted kernels read the raw data), so it is refused everywhere."""
    if isinstance(a, np.ma.MaskedArray):
        raise TypeError(f"{name} is a numpy masked array; pass a plain array (x.filled(0)) and "
                        f"mark padding with `lengths` instead of a mask")
    if not backend.is_array(a):
        raise TypeError(f"{name} must be a numpy or cupy array, got {type(a).__name__}")


def check_array(a, name, ndim=None, shape=None, dtype=None, finite=True):
    """Check that `a` is a float32/float64 array of the given rank, shape and dtype.

    shape: tuple whose entries are ints or None (None = any size on that axis).
    Returns `a` unchanged.
    """
    _check_plain_array(a, name)
    if a.dtype not in backend.FLOAT_DTYPES:
        raise TypeError(f"{name} must have dtype float32 or float64, got {a.dtype}")
    if dtype is not None and a.dtype != dtype:
        raise TypeError(f"{name} has dtype {a.dtype} but the parameters are {np.dtype(dtype)}; "
                        f"cast one of them explicitly")
    if ndim is not None and a.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimensions, got shape {tuple(a.shape)}")
    if shape is not None and (a.ndim != len(shape) or
                              any(s is not None and s != d for s, d in zip(shape, a.shape))):
        dims = ["*" if s is None else str(s) for s in shape]
        expected = "(" + ", ".join(dims) + ("," if len(dims) == 1 else "") + ")"
        raise ValueError(f"{name} must have shape {expected}, got {tuple(a.shape)}")
    if finite and not is_trusted() and not bool(backend.array_module(a).isfinite(a).all()):
        raise ValueError(f"{name} contains NaN or inf")
    return a


def check_inputs(x, name, lead, I, dtype):
    """A cell's input: dense floats of shape (*lead, I) and `dtype`, or integer tokens of shape
    lead with values in 0..I-1 (one-hot rows, sire_ref.nn.inputs). lead: ints (exact sizes)
    or names such as "B" (any size). Returns x unchanged."""
    def fits(shape):
        return len(shape) == len(lead) and all(isinstance(n, str) or n == d for n, d in zip(lead, shape))

    def text(dims):
        return "(" + ", ".join(str(d) for d in dims) + ("," if len(dims) == 1 else "") + ")"

    _check_plain_array(x, name)
    if np.issubdtype(x.dtype, np.integer):
        if not fits(x.shape):
            raise ValueError(f"{name} holds integer tokens, so it must have shape {text(lead)} "
                             f"(one token per position), got {tuple(x.shape)}")
        host = None if is_trusted() else backend.to_numpy(x)
        if host is not None and host.size and (host.min() < 0 or host.max() >= I):
            raise ValueError(f"{name} tokens must lie in 0..{I - 1} (the input size I, read as "
                             f"one-hot rows), got min {host.min()} and max {host.max()}")
        return x
    if x.ndim != len(lead) + 1:
        raise ValueError(f"{name} must have {len(lead) + 1} dimensions, got shape {tuple(x.shape)} "
                         f"(integer tokens, read as one-hot rows, have shape {text(lead)})")
    if not fits(x.shape[:-1]) or x.shape[-1] != I:
        raise ValueError(f"{name} must have shape {text(tuple(lead) + (I,))} to match "
                         f"params['weight_ih'], got {tuple(x.shape)}")
    return check_array(x, name, dtype=dtype)


def check_positive_int(v, name):
    """`v` is a Python or NumPy integer >= 1 (bool rejected)."""
    if isinstance(v, bool) or not isinstance(v, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {type(v).__name__}")
    if v < 1:
        raise ValueError(f"{name} must be >= 1, got {v}")
    return int(v)


def check_float_dtype(dtype, name="dtype"):
    """Normalize `dtype` to np.float32 or np.float64, rejecting everything else."""
    try:
        dt = np.dtype(dtype)
    except TypeError as err:
        raise TypeError(f"{name} must be float32 or float64, got {dtype!r}") from err
    if dt not in backend.FLOAT_DTYPES:
        raise TypeError(f"{name} must be float32 or float64, got {dt}")
    return dt


def check_rng(rng, name="rng"):
    """`rng` is a numpy.random.Generator (seeded by the caller, never global state)."""
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"{name} must be a numpy.random.Generator (np.random.default_rng(seed)), "
                        f"got {type(rng).__name__}")
    return rng


def _list_as_array(values, name):
    """A list of ints as an int64 array: [] is an empty int array (numpy would say float64), and a
    nested or ragged list is refused by name."""
    if len(values) == 0:
        return np.zeros(0, dtype=np.int64)
    try:
        return np.asarray(values)
    except ValueError as err:           # ragged nesting: numpy's "inhomogeneous shape"
        raise ValueError(f"{name} must be a flat list of ints, got a ragged nested list") from err


def check_lengths(lengths, batch=None, seq_len=None, name="lengths"):
    """Validate per-sequence lengths and return them as a host int64 array of shape (batch,).

    None means every sequence has the full length `seq_len`. Each length must be
    an integer in 0..seq_len; 0 is the empty sequence, whose state stays s_0.
    batch=None accepts any 1-D size, seq_len=None any length >= 0 (the samplers, which
    see lengths without x).
    """
    if lengths is None:
        if batch is None or seq_len is None:
            raise TypeError(f"{name} must be given (an integer array), got None")
        return np.full(batch, seq_len, dtype=np.int64)
    shape = "(B,)" if batch is None else f"({batch},)"
    if backend.is_array(lengths):
        _check_plain_array(lengths, name)
        host = backend.to_numpy(lengths)
    elif isinstance(lengths, (list, tuple)):
        host = _list_as_array(lengths, name)
    else:
        raise TypeError(f"{name} must be an integer array or list of shape {shape}, "
                        f"got {type(lengths).__name__}")
    if host.dtype == np.bool_ or not np.issubdtype(host.dtype, np.integer):
        raise TypeError(f"{name} must have an integer dtype, got {host.dtype}")
    if host.ndim != 1 or (batch is not None and host.shape != (batch,)):
        raise ValueError(f"{name} must have shape {shape} to match the batch, got {host.shape}")
    if host.size and not is_trusted() and (host.min() < 0 or (seq_len is not None and host.max() > seq_len)):
        within = "be >= 0" if seq_len is None else f"lie in 0..{seq_len} (the sequence length T)"
        raise ValueError(f"{name} must {within}, got min {host.min()} and max {host.max()}")
    return host.astype(np.int64, copy=False)


def snapshot(arrays):
    """Copies of a dict of arrays, taken by a forward pass for `check_unchanged` in its backward."""
    return {k: v.copy() for k, v in arrays.items()}


def remember(params, x):
    """What a model's forward keeps for its backward: (copies of params and x, the caller's x);
    None inside `trusted()`, where the caller (the training step) pairs forward and backward itself."""
    return None if is_trusted() else (snapshot(dict(params, x=x)), x)


def check_made_from(made_from, params, caller):
    """A model's backward check: params, and the x its forward read, unchanged since `remember`
    (nothing to check after a trusted forward)."""
    if made_from is not None:
        taken, x = made_from
        check_unchanged(taken, dict(params, x=x), caller)


def check_unchanged(taken, arrays, caller):
    """Refuse a backward whose params or inputs are not, value for value, those of its forward.

    taken: `snapshot` of the forward's arrays; arrays: what the backward sees now (the params
    passed to it, and the x its cache refers to, which may have been changed in place). A
    mismatch would silently give the gradient at other values than the forward's."""
    if set(arrays) != set(taken):
        raise ValueError(f"{caller}: got arrays {sorted(arrays)} but its forward pass was made from "
                         f"{sorted(taken)}")
    for k, a in arrays.items():
        was = taken[k]
        if a.shape != was.shape or a.dtype != was.dtype:
            raise ValueError(f"{caller}: {k} has shape {tuple(a.shape)} and dtype {a.dtype}, but the "
                             f"forward pass was made with shape {tuple(was.shape)} and dtype {was.dtype}; "
                             f"pass the params of that forward pass, or run forward again")
        if not bool(backend.array_module(a).array_equal(a, was, equal_nan=a.dtype.kind in "fc")):
            raise ValueError(f"{caller}: {k} differs from the values the forward pass was made with "
                             f"(other params, or an array changed in place after forward); the "
                             f"gradient would be wrong, so run forward again with the current values")
