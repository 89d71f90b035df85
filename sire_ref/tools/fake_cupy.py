"""A CPU stand-in for CuPy: runs every array-module-generic path on a machine without a GPU.

`DeviceArray` wraps a NumPy array the way a CuPy array wraps device memory, and is stricter than
CuPy about the border between host and device, so that a path which would mix them on a GPU
fails here, in a test:

- implicit conversion to NumPy is refused (`np.asarray(d)`, `np.concatenate([d])`, `np.sum(d)`:
  any `np.` function on a device array, where CuPy's dispatch would hide a host round trip);
- a host array (an `np.ndarray`) is refused as an operand of a device operation, as a device
  array's index, as the value assigned into one, and as an argument of the stand-in's functions;
- `stand_in.asarray(host)` is the only way onto the device and `stand_in.asnumpy(d)` (or `d.get()`)
  the only way back; `float(d)`, `int(d)`, `bool(d)` and `d.item()` work, as on CuPy, but each is a
  device synchronization and is counted in `stand_in.syncs`, so a test can ask for none in a loop.

Kernels that only CuPy has are not imitated beyond `cupyx.scatter_add` (np.add.at here); raw CUDA
kernels (`cupy.RawKernel`, `ElementwiseKernel`) do not exist here, and sire_ref uses none. Install it
with `install(monkeypatch)` (tests) in place of the optional `cupy` import of `base.backend`.
"""
import operator
import sys
import types

import numpy as np


class HostDeviceMixing(TypeError):
    """A host array met a device array where CuPy would need an explicit transfer."""


def _unwrap(value, where):
    """value with every DeviceArray replaced by its data; a host ndarray (not 0-d) is refused."""
    if isinstance(value, DeviceArray):
        return value._data
    if isinstance(value, np.ndarray):
        raise HostDeviceMixing(f"{where}: a host numpy array of shape {value.shape} given to a device "
                               "operation; move it with asarray first")
    if isinstance(value, (list, tuple)):
        return type(value)(_unwrap(v, where) for v in value)
    return value


def _wrap(value):
    """NumPy results back onto the 'device': arrays, NumPy scalars and bools as DeviceArray (CuPy's
    reductions and tests return 0-d arrays), tuples and lists element-wise, anything else as it is."""
    if isinstance(value, (np.ndarray, np.generic, bool)):       # bool: array_equal and the like
        return DeviceArray(np.asarray(value))
    if isinstance(value, (list, tuple)):
        return type(value)(_wrap(v) for v in value)
    return value


class DeviceArray:
    """An array 'on the device' (a NumPy array inside); see the module docstring."""

    __array_priority__ = 1000

    def __init__(self, data):
        self._data = data

    def __array__(self, *args, **kwargs):
        raise HostDeviceMixing("Implicit conversion of a device array to a NumPy array is not allowed; "
                               "use asnumpy (a counted transfer)")

    def __array_function__(self, func, types_, args, kwargs):
        raise HostDeviceMixing(f"np.{func.__name__} called on a device array: use the array module "
                               "(backend.array_module) instead of numpy")

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        """Only a NumPy scalar's operator reaches here legitimately (np.float32(2) * d): the
        array's own operators are below, and an explicit np.exp(d) or np.add(d, e) is refused."""
        where = f"np.{ufunc.__name__}"
        if all(isinstance(a, DeviceArray) for a in inputs):
            raise HostDeviceMixing(f"{where} called on device arrays: use the array module instead of numpy")
        return _wrap(getattr(ufunc, method)(*_unwrap(inputs, where), **kwargs))

    def __getitem__(self, key):
        return _wrap(self._data[_unwrap(key, "indexing a device array")])

    def __setitem__(self, key, value):
        self._data[_unwrap(key, "indexing a device array")] = _unwrap(value, "assigning into a device array")

    def __getattr__(self, name):
        if name.startswith("__"):       # no __array_interface__ and the like: NumPy would read the data
            raise AttributeError(name)
        attr = getattr(self._data, name)
        if not callable(attr):
            return _wrap(attr)
        where = f"device array .{name}()"
        return lambda *a, **k: _wrap(attr(*_unwrap(a, where), **{n: _unwrap(v, where) for n, v in k.items()}))

    def __len__(self):
        return len(self._data)

    def __iter__(self):
        return (_wrap(row) for row in self._data)

    def _sync(self):
        stand_in.syncs += 1
        return self._data

    def __float__(self):
        return float(self._sync())

    def __int__(self):
        return int(self._sync())

    def __index__(self):
        return self._sync().__index__()

    def __bool__(self):
        return bool(self._sync())

    def item(self):
        return self._sync().item()

    def get(self):
        return stand_in.asnumpy(self)

    def __repr__(self):
        return f"DeviceArray({self._data!r})"


def _operators():
    """DeviceArray's arithmetic and comparisons, computed on the data; a host operand is refused."""
    def binary(op):
        return lambda self, other: _wrap(op(self._data, _unwrap(other, "a device operation")))

    def reflected(op):
        return lambda self, other: _wrap(op(_unwrap(other, "a device operation"), self._data))

    def in_place(op):
        def apply(self, other):
            op(self._data, _unwrap(other, "a device operation"))
            return self
        return apply

    for name in ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul", "and", "or", "xor"):
        op = getattr(operator, name + "_" if name in ("and", "or") else name)
        setattr(DeviceArray, f"__{name}__", binary(op))
        setattr(DeviceArray, f"__r{name}__", reflected(op))
        setattr(DeviceArray, f"__i{name}__", in_place(getattr(operator, f"i{name}")))
    for name in ("lt", "le", "eq", "ne", "gt", "ge"):
        setattr(DeviceArray, f"__{name}__", binary(getattr(operator, name)))
    for name in ("neg", "pos", "abs", "invert"):
        setattr(DeviceArray, f"__{name}__", lambda self, op=getattr(operator, name): _wrap(op(self._data)))


_operators()


class _StandIn(types.ModuleType):
    """The stand-in `cupy` module: NumPy's functions on DeviceArrays, host arrays refused."""

    ndarray = DeviceArray

    def __init__(self):
        super().__init__("cupy", "a CPU stand-in for CuPy (sire_ref.tools.fake_cupy)")
        self.syncs = 0
        self.cuda = types.SimpleNamespace(runtime=types.SimpleNamespace(getDeviceCount=lambda: 1),
                                          Device=lambda *a: types.SimpleNamespace(synchronize=lambda: None))

    def asarray(self, a, dtype=None):
        """Host (or device) data onto the device: the one way in."""
        return DeviceArray(np.array(a._data if isinstance(a, DeviceArray) else a, dtype=dtype, copy=True))

    def asnumpy(self, a):
        """A device array's host copy: the one way out (counted as a synchronization)."""
        if not isinstance(a, DeviceArray):
            return np.asarray(a)
        return a._sync().copy()

    def get_array_module(self, *arrays):
        return self if any(isinstance(a, DeviceArray) for a in arrays) else np

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        attr = getattr(np, name)
        if not callable(attr) or isinstance(attr, type):
            return attr                 # dtypes, constants, np.newaxis
        where = f"stand-in cupy.{name}()"
        return lambda *a, **k: _wrap(attr(*_unwrap(a, where), **{n: _unwrap(v, where) for n, v in k.items()}))


def _scatter_add(target, index, values):
    np.add.at(target._data, _unwrap(index, "cupyx.scatter_add"), _unwrap(values, "cupyx.scatter_add"))


stand_in = _StandIn()
cupyx = types.ModuleType("cupyx", "the stand-in's cupyx")
cupyx.scatter_add = _scatter_add


def install(monkeypatch):
    """Make base.backend see the stand-in as CuPy (undone by monkeypatch); syncs reset to 0."""
    from ..base import backend
    stand_in.syncs = 0
    monkeypatch.setattr(backend, "_cupy", stand_in)
    monkeypatch.setitem(sys.modules, "cupyx", cupyx)
    return stand_in
