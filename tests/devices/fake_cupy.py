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
host array over, as `cupy.asarray` does. `tests/devices/conftest.py` builds from it the matgrad
ArrayBackend it installs as the "cuda" device.

Where CuPy is stricter than NumPy, or answers differently, the fake does as CuPy (docs.cupy.dev,
cupy/cupy's sources):
- `asarray`/`array` take host arrays, device arrays and (nested) sequences of either; `asarray` of a
  device array of the same dtype returns it, not a copy;
- `linalg.solve(a, b)` needs b of shape a.shape[:-1] (a batch of vectors) or a.shape[:-2] + (M, K):
  no broadcasting of batch dimensions (cupy/cupy#8173), and b with a.ndim - 1 dims is a stack of
  vectors even where NumPy 2 would read a matrix;
- `linalg.inv`, `.solve` and `.cholesky` do not raise on a singular or not positive-definite input
  (cuSOLVER's info is only checked under `cupyx.errstate(linalg='raise')`): their output is garbage
  (nan for inv/solve, the unfinished factor for cholesky); under 'raise' they raise
  numpy.linalg.LinAlgError with CuPy's message;
- reductions (`max`, `min`, `sum`, `prod`, `mean`, `all`, `any` ...) take no `initial=` or `where=`;
- ufunc methods exist only for some ufuncs: `.at` for add, subtract, maximum, minimum and the
  bitwise ones (no `multiply.at`), and only for some dtypes (`add.at`: no int64, no bool;
  `maximum.at`: no int64, no float16 ...: _AT_DTYPES), `.reduce` for add and multiply,
  `.accumulate` and `.reduceat` for add.
`fake_cupyx` stands for `cupyx`: `errstate`/`seterr`/`geterr` (the linalg setting), `scatter_add`,
`scatter_max`, `scatter_min`, and `scipy.special` with the functions matgrad asks CuPy for, computed
by matgrad's host kernels on the wrapped array (as a GPU would compute them, without a transfer).
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
        _check_ufunc_method(ufunc.__name__, method)
        if method == "at":
            _check_at_dtype(ufunc.__name__, *inputs[:2])
        args = _unwrap(inputs, where)
        if "out" in kwargs:
            kwargs["out"] = _unwrap(kwargs["out"], where)
        return _wrap(getattr(ufunc, method)(*args, **kwargs))

    def __array_function__(self, func: Any, types_: Any, args: Any, kwargs: Any) -> Any:
        where = f"numpy.{func.__name__}"
        own = _OWN.get(func)
        if own is not None:  # CuPy's own version (cupy.linalg.inv, cupy.asarray ...), as CuPy dispatches
            return own(*args, **kwargs)
        _check_kwargs(func.__name__, kwargs)
        return _wrap(func(*_unwrap(args, where), **_unwrap(kwargs, where)))

    # --- everything else is NumPy's, on the wrapped array -------------------------------------------
    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):  # not __array_interface__, __array_struct__, __dlpack__ ...: no way to the host
            raise AttributeError(name)
        attr = getattr(self._a, name)
        if callable(attr):
            def method(*args: Any, **kwargs: Any) -> Any:
                where = f"ndarray.{name}"
                _check_kwargs(name, kwargs)
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
        short = self._name.rsplit(".", 1)[-1]
        if short in _FROM_HOST:
            return _from_anywhere(short, *args, **kwargs)
        if short == "at":
            _check_at_dtype(self._name.rsplit(".", 2)[-2], *args[:2])
        _check_kwargs(short, kwargs)
        return _wrap(self._fn(*_unwrap(args, self._name), **_unwrap(kwargs, self._name)))

    def __getattr__(self, name: str) -> Any:  # a ufunc's methods: add.at, add.reduce ...
        attr = getattr(self._fn, name)
        if isinstance(self._fn, np.ufunc) and name in _UFUNC_METHODS:
            _check_ufunc_method(self._fn.__name__, name)
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



# --- where CuPy differs from NumPy ---------------------------------------------------------------------
#: ufunc methods CuPy has, and for which ufuncs (CuPy 13: cupy/cupy#7082; `multiply.at` is not among them)
_UFUNC_METHODS = {
    "at": {"add", "subtract", "maximum", "minimum", "bitwise_and", "bitwise_or", "bitwise_xor"},
    "reduce": {"add", "multiply"},
    "accumulate": {"add"},
    "reduceat": {"add"},
    "outer": None,  # every ufunc
}
#: reductions whose CuPy signature is (a, axis, dtype, out, keepdims): no initial=, no where=
_REDUCTIONS = {"max", "amax", "min", "amin", "sum", "prod", "mean", "all", "any", "nanmax", "nanmin", "nansum",
               "nanprod", "nanmean", "var", "std", "ptp", "argmax", "argmin"}


def _check_ufunc_method(ufunc: str, method: str) -> None:
    if method == "__call__":
        return
    allowed = _UFUNC_METHODS.get(method, set())
    if allowed is not None and ufunc not in allowed:
        raise NotImplementedError(f"fake_cupy (as CuPy): `{ufunc}.{method}` is not supported on device arrays"
                                  f" (CuPy has {method} only for {sorted(allowed) or 'no ufunc'})")


#: the dtypes (of the target) CuPy's ufunc.at and cupyx.scatter_* take (cupy/_core/_routines_indexing.pyx,
#: `_scatter_op_single`): no int64, no bool, no float16 for maximum/minimum; a boolean-mask index takes any
_AT_DTYPES = {
    "add": {"int32", "float16", "float32", "float64", "uint32", "uint64"},
    "subtract": {"int32", "uint32"},
    "maximum": {"int32", "float32", "float64", "uint32", "uint64"},
    "minimum": {"int32", "float32", "float64", "uint32", "uint64"},
    "bitwise_and": {"int32", "int64", "uint32", "uint64"},
    "bitwise_or": {"int32", "int64", "uint32", "uint64"},
    "bitwise_xor": {"int32", "int64", "uint32", "uint64"},
}


def _check_at_dtype(ufunc: str, target: Any, index: Any = None) -> None:
    if type(index) is ndarray and index.dtype == np.bool_:
        return
    name = np.dtype(target.dtype).name
    if name not in _AT_DTYPES.get(ufunc, set()):
        raise TypeError(f"fake_cupy (as CuPy): cupy.{ufunc}.at only supports {sorted(_AT_DTYPES.get(ufunc, ()))} "
                        f"as data type, got {name}")


def _check_kwargs(name: str, kwargs: dict[str, Any]) -> None:
    if name in _REDUCTIONS:
        extra = sorted(set(kwargs) & {"initial", "where"})
        if extra:
            raise TypeError(f"fake_cupy (as CuPy): {name}() got an unexpected keyword argument {extra[0]!r}")


def _host_of(x: Any) -> Any:
    """A host value for asarray: device arrays copied back, through (nested) lists and tuples."""
    if type(x) is ndarray:
        return x._a
    if type(x) in (list, tuple):
        return type(x)(_host_of(v) for v in x)
    return x


def _from_anywhere(name: str, obj: Any, dtype: Any = None, *args: Any, **kwargs: Any) -> ndarray:
    """cupy.asarray / array / asanyarray / ascontiguousarray: a host array, a device array or a (nested)
    sequence of numbers and arrays of either kind, on the device; asarray returns a device array of
    the right dtype itself (no copy), as CuPy."""
    if name != "array" and type(obj) is ndarray and (dtype is None or np.dtype(dtype) == obj._a.dtype) \
            and not args and not kwargs.get("copy"):
        if name != "ascontiguousarray" or obj._a.flags.c_contiguous:
            return obj
    return ndarray(np.array(getattr(np, name)(_host_of(obj), dtype, *args, **kwargs)))


# --- cupyx: errstate, scatter_*, scipy.special ------------------------------------------------------------
_LINALG_CONFIG = ["ignore"]  # cupyx's `linalg` setting: 'ignore' (CuPy's default) or 'raise'


class _ErrState:
    """cupyx.errstate(linalg=...): the linalg setting for the block."""

    def __init__(self, *, linalg: str | None = None, **ufunc_settings: Any) -> None:
        if linalg not in (None, "ignore", "raise"):
            raise ValueError(f"linalg must be 'ignore' or 'raise', got {linalg!r}")
        self._linalg = linalg
        self._np = np.errstate(**ufunc_settings)

    def __enter__(self) -> None:
        self._before = _LINALG_CONFIG[0]
        if self._linalg is not None:
            _LINALG_CONFIG[0] = self._linalg
        self._np.__enter__()

    def __exit__(self, *exc: Any) -> None:
        _LINALG_CONFIG[0] = self._before
        self._np.__exit__(*exc)


def _seterr(*, linalg: str | None = None, **ufunc_settings: Any) -> dict[str, Any]:
    old = _geterr()
    if linalg is not None:
        _LINALG_CONFIG[0] = linalg
    np.seterr(**ufunc_settings)
    return old


def _geterr() -> dict[str, Any]:
    return {**np.geterr(), "linalg": _LINALG_CONFIG[0]}


def _info_error(routine: str, info: Any) -> np.linalg.LinAlgError:
    return np.linalg.LinAlgError(f"Error reported by {routine} in cuSOLVER. devInfo = {info}. Please refer to the "
                                 "cuSOLVER documentation.")


def _device(a: Any, where: str) -> np.ndarray:
    if type(a) is not ndarray:
        raise np.linalg.LinAlgError("cupy.linalg only supports cupy.ndarray")
    return a._a


def _square(a: np.ndarray) -> None:
    if a.ndim < 2 or a.shape[-1] != a.shape[-2]:
        raise np.linalg.LinAlgError("Last 2 dimensions of the array must be square")


def _singular_mask(a: np.ndarray) -> np.ndarray:
    """Which matrices of a batch getrf would report (an exact zero pivot): NumPy's LAPACK is the oracle."""
    flat = a.reshape((-1,) + a.shape[-2:])
    bad = np.zeros(len(flat), dtype=bool)
    for i, m in enumerate(flat):
        try:
            np.linalg.inv(m)
        except np.linalg.LinAlgError:
            bad[i] = True
    return bad


def _inv(a: Any) -> ndarray:
    """cupy.linalg.inv: nan where a matrix is singular (no error unless linalg='raise')."""
    x = _device(a, "inv")
    _square(x)
    flat = x.reshape((-1,) + x.shape[-2:]).astype(np.result_type(x.dtype, np.float32) if x.dtype.kind != "f"
                                                  else x.dtype)
    bad = _singular_mask(flat)
    if bad.any() and _LINALG_CONFIG[0] == "raise":
        raise _info_error("getrf" if x.ndim == 2 else "getrfBatched", bad.astype(np.int32))
    out = np.full_like(flat, np.nan)
    if (~bad).any():
        out[~bad] = np.linalg.inv(flat[~bad])
    return ndarray(out.reshape(x.shape[:-2] + out.shape[-2:]))


def _solve(a: Any, b: Any) -> ndarray:
    """cupy.linalg.solve: b is a.shape[:-1] (vectors) or a.shape[:-2] + (M, K); batch dims must be equal."""
    x, y = _device(a, "solve"), _device(b, "solve")
    _square(x)
    if not ((x.ndim == y.ndim or x.ndim == y.ndim + 1) and x.shape[:-1] == y.shape[:x.ndim - 1]):
        raise ValueError("a must have (..., M, M) shape and b must have (..., M) or (..., M, K)")
    vector = x.ndim == y.ndim + 1
    rhs = y[..., None] if vector else y
    bad = _singular_mask(x)
    if bad.any() and _LINALG_CONFIG[0] == "raise":
        raise _info_error("getrf", bad.astype(np.int32))
    dtype = np.result_type(x.dtype, y.dtype, np.float32 if x.dtype.kind == "f" else np.float64)
    xs = x.reshape((-1,) + x.shape[-2:])
    rs = rhs.reshape((-1,) + rhs.shape[-2:]).astype(dtype)
    out = np.full(rs.shape, np.nan, dtype=dtype)
    if (~bad).any():
        out[~bad] = np.linalg.solve(xs[~bad], rs[~bad])
    out = out.reshape(rhs.shape)
    return ndarray(out[..., 0] if vector else out)


def _cholesky(a: Any, upper: bool = False) -> ndarray:
    """cupy.linalg.cholesky: the unfinished factor (finite garbage) where a matrix is not positive-definite."""
    x = _device(a, "cholesky")
    _square(x)
    flat = x.reshape((-1,) + x.shape[-2:])
    bad = np.zeros(len(flat), dtype=bool)
    out = np.tril(flat).astype(np.result_type(x.dtype, np.float32) if x.dtype.kind != "f" else x.dtype)
    for i, m in enumerate(flat):
        try:
            out[i] = np.linalg.cholesky(m)
        except np.linalg.LinAlgError:
            bad[i] = True  # out[i] stays the lower triangle of the input: what potrf leaves is not a factor
    if bad.any() and _LINALG_CONFIG[0] == "raise":
        raise _info_error("potrf" if x.ndim == 2 else "potrfBatched", bad.astype(np.int32))
    out = out.reshape(x.shape)
    return ndarray(np.swapaxes(out, -1, -2).copy() if upper else out)


def _scatter(ufunc: Any) -> Any:
    def scatter(a: ndarray, slices: Any, value: Any) -> None:
        _check_at_dtype(ufunc.__name__, a, slices)
        ufunc.at(_device(a, "scatter"), _unwrap(slices, "cupyx.scatter"), _unwrap(value, "cupyx.scatter"))
    return scatter


def _special(name: str) -> Any:
    """A cupyx.scipy.special ufunc: matgrad's float64 host kernel on the wrapped array, in CuPy's result dtype
    (float32 stays float32, integers become float64)."""
    def kernel(*xs: Any) -> ndarray:
        from matgrad import kernels
        from matgrad.ops import special

        arrays = [_device(x, name) if type(x) is ndarray else np.asarray(x) for x in xs]
        dtype = np.result_type(*[a.dtype if a.dtype.kind == "f" else np.float64 for a in arrays])
        host = {"erf": kernels.erf, "erfc": kernels.erfc, "gammaln": special.lgamma_array,
                "digamma": special.digamma_array, "erfinv": special.erfinv_array,
                "i0": special.i0_array, "i1": special.i1_array,
                "gammainc": lambda a, x: special.igamma_array(a, x, False),
                "gammaincc": lambda a, x: special.igamma_array(a, x, True),
                "polygamma": lambda n, x: special.trigamma_array(x) if np.all(n == 1) else special.digamma_array(x)
                }[name]
        if name in ("erf", "erfc"):  # as the CPU's namespace computes them (matgrad.kernels), dtype for dtype
            return ndarray(np.asarray(host(*arrays)))
        with np.errstate(all="ignore"):
            return ndarray(np.asarray(host(*arrays), dtype=np.float64).astype(dtype))
    kernel.__name__ = name
    return kernel


_OWN: dict[Any, Any] = {}  # NumPy function -> the fake's CuPy version, for __array_function__

fake_cupy = _Module("fake_cupy", np)
fake_cupy.ndarray = ndarray  # type: ignore[attr-defined]
fake_cupy.asnumpy = lambda x, stream=None: x.get() if type(x) is ndarray else np.asarray(x)  # type: ignore
fake_cupy.get_array_module = lambda *arrays: fake_cupy  # type: ignore[attr-defined]
fake_cupy.lib = _Module("fake_cupy.lib", np.lib)  # type: ignore[attr-defined]
fake_cupy.linalg = _Module("fake_cupy.linalg", np.linalg)  # type: ignore[attr-defined]
fake_cupy.linalg.inv, fake_cupy.linalg.solve, fake_cupy.linalg.cholesky = _inv, _solve, _cholesky
_OWN.update({np.linalg.inv: _inv, np.linalg.solve: _solve, np.linalg.cholesky: _cholesky})

fake_cupyx = types.ModuleType("fake_cupyx")
fake_cupyx.errstate = _ErrState  # type: ignore[attr-defined]
fake_cupyx.seterr, fake_cupyx.geterr = _seterr, _geterr  # type: ignore[attr-defined]
fake_cupyx.scatter_add = _scatter(np.add)  # type: ignore[attr-defined]
fake_cupyx.scatter_max = _scatter(np.maximum)  # type: ignore[attr-defined]
fake_cupyx.scatter_min = _scatter(np.minimum)  # type: ignore[attr-defined]
fake_cupyx.scipy = types.ModuleType("fake_cupyx.scipy")  # type: ignore[attr-defined]
fake_cupyx.scipy.special = types.ModuleType("fake_cupyx.scipy.special")  # type: ignore[attr-defined]
for _n in ("erf", "erfc", "gammaln", "digamma", "polygamma", "erfinv", "i0", "i1", "gammainc", "gammaincc"):
    setattr(fake_cupyx.scipy.special, _n, _special(_n))
