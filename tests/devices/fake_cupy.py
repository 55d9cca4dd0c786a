"""A test-only array module that behaves like CuPy, on the CPU: how CI, which has no GPU, catches
a silent fallback to NumPy or a mix of devices.

`fake_cupy.ndarray` wraps a NumPy array and, as `cupy.ndarray` does:
- refuses implicit conversion to NumPy (`np.asarray(x)`, `__array__`): TypeError; `.get()` copies
  to the host explicitly;
- refuses NumPy arrays as operands of its ufuncs and array functions (`fake + np_array`,
  `np.add(fake, np_array)`, `np.concatenate([fake, np_array])`): TypeError; NumPy scalars and
  Python numbers are fine;
- takes part in NumPy's dispatch protocols (`__array_ufunc__`, `__array_function__`), so
  `np.exp(x)` on one runs on "the device" and returns one;
- returns 0-d arrays, not NumPy scalars, from reductions and scalar indexing.

The module object `fake_cupy` offers NumPy's functions under NumPy's names, made on "the device"
(`fake_cupy.zeros`, `.arange`, `.random.default_rng`, `.linalg.inv` ...); `asarray` copies a
host array over, as `cupy.asarray` does. `backend()` builds the matgrad ArrayBackend that
`tests/devices/conftest.py` installs as the "cuda" device.
"""
from __future__ import annotations

import operator
import types
from typing import Any

import numpy as np

REFUSE = ("Implicit conversion to a NumPy array is not allowed. Please use `.get()` to construct a NumPy "
          "array explicitly.")


def _refuse_host(x: Any, where: str) -> None:
    raise TypeError(f"Unsupported type {type(x)} in {where}: a NumPy array cannot meet a device array "
                    "(fake_cupy, as CuPy)")


def _unwrap(x: Any, where: str) -> Any:
    """Device arrays to their NumPy arrays, through lists/tuples/dicts; a host array is refused."""
    t = type(x)
    if t is ndarray:
        return x._a
    if t is np.ndarray:
        _refuse_host(x, where)
    if t is tuple or t is list:
        return t(_unwrap(v, where) for v in x)
    if t is dict:
        return {k: _unwrap(v, where) for k, v in x.items()}
    return x


def _wrap(x: Any) -> Any:
    """NumPy arrays (and NumPy scalars: CuPy returns 0-d arrays) to device arrays, through tuples/lists."""
    t = type(x)
    if t is np.ndarray:
        return ndarray(x)
    if isinstance(x, np.generic):
        return ndarray(np.asarray(x))
    if t is tuple or t is list:
        return t(_wrap(v) for v in x)
    if isinstance(x, tuple):  # NumPy's named results (linalg.svd's SVDResult ...): CuPy returns a plain tuple
        return tuple(_wrap(v) for v in x)
    return x


class ndarray:  # noqa: N801 - CuPy's name
    """A NumPy array that pretends to live on a GPU (see the module docstring)."""

    __slots__ = ("_a", "__weakref__")
    __array_priority__ = 100.0

    def __init__(self, a: np.ndarray) -> None:
        if type(a) is not np.ndarray:
            raise TypeError(f"fake_cupy.ndarray wraps a numpy.ndarray, got {type(a).__name__}")
        self._a = a

    # --- no implicit way back to the host ------------------------------------------------
    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        raise TypeError(REFUSE)

    def get(self, stream: Any = None, order: str = "C", out: Any = None) -> np.ndarray:
        """A host copy (CuPy's explicit transfer)."""
        return np.array(self._a, order=order)

    # --- NumPy's dispatch protocols ------------------------------------------------------------
    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        where = f"numpy.{ufunc.__name__}.{method}" if method != "__call__" else f"numpy.{ufunc.__name__}"
        args = _unwrap(inputs, where)
        if "out" in kwargs:
            kwargs["out"] = _unwrap(kwargs["out"], where)
        return _wrap(getattr(ufunc, method)(*args, **kwargs))

    def __array_function__(self, func: Any, types_: Any, args: Any, kwargs: Any) -> Any:
        where = f"numpy.{func.__name__}"
        return _wrap(func(*_unwrap(args, where), **_unwrap(kwargs, where)))

    # --- everything else is NumPy's, on the wrapped array -------------------------------------------
    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):  # not __array_interface__, __array_struct__, __dlpack__ ...: no way to the host
            raise AttributeError(name)
        attr = getattr(self._a, name)
        if callable(attr):
            def method(*args: Any, **kwargs: Any) -> Any:
                where = f"ndarray.{name}"
                return _wrap(attr(*_unwrap(args, where), **_unwrap(kwargs, where)))
            return method
        return _wrap(attr)

    def __getitem__(self, key: Any) -> Any:
        return _wrap(self._a[_unwrap(key, "indexing")])

    def __setitem__(self, key: Any, value: Any) -> None:
        self._a[_unwrap(key, "indexing")] = _unwrap(value, "assignment")

    def __len__(self) -> int:
        return len(self._a)

    def __iter__(self) -> Any:
        return (_wrap(v) for v in self._a)

    def __bool__(self) -> bool:  # CuPy synchronises and answers for one element
        return bool(self._a)

    def __float__(self) -> float:
        return float(self._a)

    def __int__(self) -> int:
        return int(self._a)

    def __index__(self) -> int:
        return operator.index(self._a)

    def __complex__(self) -> complex:
        return complex(self._a)

    def __repr__(self) -> str:
        return repr(self._a).replace("array(", "fake_cupy.array(", 1)

    def __str__(self) -> str:
        return str(self._a)

    def __format__(self, spec: str) -> str:
        return format(self._a, spec)

    def __copy__(self) -> ndarray:
        return ndarray(self._a.copy())

    def __deepcopy__(self, memo: Any) -> ndarray:
        return ndarray(self._a.copy())

    def __reduce__(self) -> Any:  # pickling a device array needs an explicit transfer, as in CuPy's own pickle
        return (_from_host, (self._a.copy(),))

    @property
    def T(self) -> ndarray:  # noqa: N802 - NumPy's name
        return ndarray(self._a.T)

    @property
    def device(self) -> Any:
        return _Device(0)


def _from_host(a: np.ndarray) -> ndarray:
    return ndarray(np.array(a))


def _binary(name: str) -> Any:
    def op(self: ndarray, other: Any) -> Any:
        res = getattr(self._a, name)(_unwrap(other, f"ndarray.{name}"))
        return NotImplemented if res is NotImplemented else _wrap(res)
    op.__name__ = name
    return op


def _inplace(name: str) -> Any:
    def op(self: ndarray, other: Any) -> ndarray:
        getattr(self._a, name)(_unwrap(other, f"ndarray.{name}"))
        return self
    op.__name__ = name
    return op


def _unary(name: str) -> Any:
    def op(self: ndarray) -> Any:
        return _wrap(getattr(self._a, name)())
    op.__name__ = name
    return op


for _n in ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul", "and", "or", "xor", "lshift",
           "rshift", "divmod"):
    setattr(ndarray, f"__{_n}__", _binary(f"__{_n}__"))
    setattr(ndarray, f"__r{_n}__", _binary(f"__r{_n}__"))
    if _n != "divmod":
        setattr(ndarray, f"__i{_n}__", _inplace(f"__i{_n}__"))
for _n in ("lt", "le", "eq", "ne", "gt", "ge"):
    setattr(ndarray, f"__{_n}__", _binary(f"__{_n}__"))
for _n in ("neg", "pos", "abs", "invert"):
    setattr(ndarray, f"__{_n}__", _unary(f"__{_n}__"))
ndarray.__hash__ = None  # type: ignore[assignment]  # as NumPy's arrays: unhashable


class _Device:
    """cupy.cuda.Device's face: an id, and a context manager."""

    def __init__(self, index: int) -> None:
        self.id = index

    def __enter__(self) -> _Device:
        return self

    def __exit__(self, *exc: Any) -> None:
        pass

    def synchronize(self) -> None:
        pass


# --- the module: NumPy's names, made on the device ----------------------------------------------
_FROM_HOST = {"asarray", "array", "asanyarray", "ascontiguousarray"}  # these copy a host array over
_AS_IS = {"dtype", "ndim", "shape", "result_type", "can_cast", "promote_types", "finfo", "iinfo", "isscalar",
          "broadcast_shapes", "errstate", "issubdtype", "newaxis", "pi", "e", "inf", "nan"}


class _Callable:
    """A NumPy function (or ufunc) run on device arrays: arguments unwrapped, results wrapped."""

    def __init__(self, fn: Any, name: str) -> None:
        self._fn = fn
        self._name = name

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self._name.rsplit(".", 1)[-1] in _FROM_HOST:
            args = tuple(a.get() if type(a) is ndarray else a for a in args)
            return _wrap(np.array(self._fn(*_unwrap(args, self._name), **kwargs)))
        return _wrap(self._fn(*_unwrap(args, self._name), **_unwrap(kwargs, self._name)))

    def __getattr__(self, name: str) -> Any:  # a ufunc's methods: add.at, add.reduce ...
        attr = getattr(self._fn, name)
        return _Callable(attr, f"{self._name}.{name}") if callable(attr) else attr


class _Module(types.ModuleType):
    """NumPy (or one of its submodules) whose functions make and take device arrays."""

    def __init__(self, name: str, np_mod: Any) -> None:
        super().__init__(name)
        self._np = np_mod

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        attr = getattr(self._np, name)
        if isinstance(attr, types.ModuleType):
            return _Module(f"{self.__name__}.{name}", attr)
        if name in _AS_IS or isinstance(attr, type) or not callable(attr):
            return attr
        return _Callable(attr, f"{self.__name__}.{name}")


fake_cupy = _Module("fake_cupy", np)
fake_cupy.ndarray = ndarray  # type: ignore[attr-defined]
fake_cupy.asnumpy = lambda x, stream=None: x.get() if type(x) is ndarray else np.asarray(x)  # type: ignore
fake_cupy.get_array_module = lambda *arrays: fake_cupy  # type: ignore[attr-defined]
fake_cupy.lib = _Module("fake_cupy.lib", np.lib)  # type: ignore[attr-defined]
