"""Factories: tensor, zeros, ones, full, arange, linspace, eye, rand, randn, randint, ..._like,
tril_indices, triu_indices."""
from __future__ import annotations

import operator
from typing import Any

import numpy as np

from .devices import device as device_type
from .devices import get_default_device, move, resolve
from .memory_format import check as _check_format
from .memory_format import contiguous_strides, element_strides, empty_laid_out, layout_strides, relayout
from .random import numpy_generator
from .tensor import Tensor, _shape_arg, get_default_dtype, to_array


def _float_dtype(dtype: Any) -> np.dtype:
    return get_default_dtype() if dtype is None else np.dtype(dtype)


def _size(args: tuple[Any, ...], size: Any) -> tuple[int, ...]:
    """The shape from f(2, 3), f((2, 3)) or f(size=(2, 3)), as PyTorch's factories take it."""
    if size is not None:
        if args:
            raise TypeError(f"got the size twice: positionally {args} and as size={size}")
        args = (size,)
    return _non_negative(_shape_arg(args))


def _non_negative(shape: tuple[Any, ...]) -> tuple[int, ...]:
    """shape as ints, with PyTorch's TypeError for a non-integer size and its RuntimeError for a negative one."""
    try:
        sizes = tuple(operator.index(n) for n in shape)  # ints, NumPy ints and one-element integer tensors
    except TypeError:
        raise TypeError(f"argument 'size' must be tuple of ints, got {tuple(shape)}") from None
    for n in sizes:
        if n < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {n}: {list(sizes)}; sizes must be "
                               "non-negative")
    return sizes


def _on(device: Any, like: Tensor | None = None) -> device_type:
    """Where a factory puts its tensor: `device`, else like's device (the *_like factories), else the
    default device (`with matgrad.device("cuda"):`, set_default_device). CUDA without a GPU: PyTorch's error."""
    if device is not None:
        return resolve(device)
    return like.device if like is not None else get_default_device()


def _put(arr: np.ndarray, dev: device_type) -> Any:
    """The host array `arr` on `dev` (factories draw and fill on the host, then move once)."""
    return arr if dev.type == "cpu" and type(arr) is np.ndarray else move(arr, dev)


def _make(arr: np.ndarray, requires_grad: bool, dev: device_type) -> Tensor:
    return Tensor(_put(arr, dev), requires_grad=requires_grad)


def tensor(data: Any, requires_grad: bool = False, dtype: Any = None, device: Any = None,
           name: str | None = None) -> Tensor:
    """A new leaf tensor holding a copy of `data` (Python floats become float32).

    `name` is what the explainer and the pictures call it (matgrad only; PyTorch has no such argument)."""
    dev = _on(device)
    arr = to_array(data, dtype)
    if isinstance(data, (np.ndarray, Tensor)) and arr is (data.array if isinstance(data, Tensor) else data):
        arr = arr.copy()
    return Tensor(_put(arr, dev), requires_grad=requires_grad, name=name)


def as_tensor(data: Any, dtype: Any = None, device: Any = None) -> Tensor:
    """A tensor sharing memory with `data` where possible."""
    if isinstance(data, Tensor):
        out = data if dtype is None else data.to(dtype)
        return out if device is None else out.to(resolve(device))
    arr = to_array(data, dtype)
    if device is None and type(arr) is not np.ndarray:  # a device array stays where it is
        return Tensor(arr)
    return Tensor(_put(arr, _on(device)))


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor that shares `array`'s memory and keeps its dtype."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected a numpy.ndarray, got {type(array).__name__}")
    return Tensor(array)


def zeros(*args: Any, size: Any = None, dtype: Any = None, requires_grad: bool = False, device: Any = None) -> Tensor:
    """A tensor of zeros."""
    dev = _on(device)
    return _make(np.zeros(_size(args, size), _float_dtype(dtype)), requires_grad, dev)


def ones(*args: Any, size: Any = None, dtype: Any = None, requires_grad: bool = False, device: Any = None) -> Tensor:
    """A tensor of ones."""
    dev = _on(device)
    return _make(np.ones(_size(args, size), _float_dtype(dtype)), requires_grad, dev)


def full(size: Any, fill_value: Any, dtype: Any = None, requires_grad: bool = False, device: Any = None) -> Tensor:
    """A tensor filled with `fill_value` (its dtype follows the value, as PyTorch)."""
    dev = _on(device)
    if dtype is None:
        dtype = to_array(fill_value).dtype
    return _make(np.full(_non_negative(tuple(size) if not isinstance(size, int) else (size,)), fill_value,
                         np.dtype(dtype)),
                 requires_grad, dev)


def empty(*args: Any, size: Any = None, dtype: Any = None, requires_grad: bool = False, device: Any = None) -> Tensor:
    """An uninitialised tensor (zeros here, for reproducibility)."""
    dev = _on(device)
    return zeros(*args, size=size, dtype=dtype, requires_grad=requires_grad, device=dev)


def _laid_out_like(out: Tensor, input: Any, memory_format: Any, where: str) -> Tensor:
    """`out` (new, row-major, input's shape) laid out as memory_format says: preserve_format (None) keeps
    input's layout as PyTorch's *_like factories do (a dense input's strides), channels_last ... lays it out so."""
    fmt = _check_format(memory_format, where)
    strides = layout_strides(tuple(out.shape), element_strides(getattr(input, "array", input)), fmt)
    if strides != out.stride():
        out.array = relayout(out.array, strides)  # a new leaf: nothing has seen its array yet
    return out


def _new_like(input: Tensor, dtype: Any, requires_grad: bool, device: Any, memory_format: Any, where: str,
              fill: Any, plain: Any) -> Tensor:
    """A new tensor of input's shape and dtype (or `dtype`) holding `fill` (None: uninitialized), laid out as
    _laid_out_like says; on the CPU made in that layout at once, rather than row-major and then copied into it
    (ones_like of a conv's output, which lies on its grid, took 4-8× the time so)."""
    dev = _on(device, input)
    dt = dtype or input.dtype
    shape = tuple(input.shape)
    strides = layout_strides(shape, element_strides(getattr(input, "array", input)),
                             _check_format(memory_format, where))
    if dev.type == "cpu" and strides != contiguous_strides(shape):
        arr = empty_laid_out(shape, dt, strides)
        if fill is not None:
            arr[...] = fill
        return Tensor(arr, requires_grad=requires_grad)
    return _laid_out_like(_make(plain(shape, dt), requires_grad, dev), input, memory_format, where)


def zeros_like(input: Tensor, dtype: Any = None, requires_grad: bool = False, device: Any = None, *,
               memory_format: Any = None) -> Tensor:
    """Zeros with input's shape and dtype (and layout: see _laid_out_like)."""
    return _new_like(input, dtype, requires_grad, device, memory_format, "zeros_like", 0, np.zeros)


def ones_like(input: Tensor, dtype: Any = None, requires_grad: bool = False, device: Any = None, *,
              memory_format: Any = None) -> Tensor:
    """Ones with input's shape and dtype (and layout: see _laid_out_like)."""
    return _new_like(input, dtype, requires_grad, device, memory_format, "ones_like", 1, np.ones)


def full_like(input: Tensor, fill_value: Any, dtype: Any = None, requires_grad: bool = False,
        device: Any = None, *, memory_format: Any = None) -> Tensor:
    """`fill_value` with input's shape and dtype (and layout: see _laid_out_like)."""
    return _new_like(input, dtype, requires_grad, device, memory_format, "full_like", fill_value,
                     lambda shape, dt: np.full(shape, fill_value, dt))


def empty_like(input: Tensor, dtype: Any = None, requires_grad: bool = False, device: Any = None,
               memory_format: Any = None) -> Tensor:
    """An uninitialized tensor with input's shape and dtype (and layout: see _laid_out_like)."""
    return _new_like(input, dtype, requires_grad, device, memory_format, "empty_like", None, np.empty)


def randint_like(input: Tensor, low: Any = 0, high: Any = None, *, dtype: Any = None, requires_grad: bool = False,
                 device: Any = None, generator: Any = None, memory_format: Any = None) -> Tensor:
    """Random integers in [low, high) with input's shape and dtype; randint_like(input, high) as PyTorch."""
    if high is None:
        low, high = 0, low
    dev = _on(device, input)
    out = randint(low, high, tuple(input.shape), dtype=dtype or input.dtype, requires_grad=requires_grad, device=dev,
                  generator=generator)
    return _laid_out_like(out, input, memory_format, "randint_like")


def _triangle_indices(op: str, row: int, col: int, offset: int, upper: bool, dtype: Any, device: Any) -> Tensor:
    if row < 0 or col < 0:
        raise RuntimeError(f"{op}: row and col must be non-negative, got row={row}, col={col}")
    r, c = np.indices((row, col)).reshape(2, -1)
    keep = (c - r >= offset) if upper else (c - r <= offset)
    return _make(np.stack([r[keep], c[keep]]).astype(np.dtype(dtype or np.int64)), False, _on(device))


def tril_indices(row: int, col: int, offset: int = 0, *, dtype: Any = None, device: Any = None,
                 layout: Any = None) -> Tensor:
    """The (2, n) row and column indices of the lower triangle of a row×col matrix (diagonal `offset`
    and below), in row-major order."""
    return _triangle_indices("tril_indices", int(row), int(col), int(offset), False, dtype, device)


def triu_indices(row: int, col: int, offset: int = 0, *, dtype: Any = None, device: Any = None,
                 layout: Any = None) -> Tensor:
    """The (2, n) row and column indices of the upper triangle of a row×col matrix (diagonal `offset`
    and above), in row-major order."""
    return _triangle_indices("triu_indices", int(row), int(col), int(offset), True, dtype, device)


def rand_like(input: Tensor, dtype: Any = None, device: Any = None, *, requires_grad: bool = False,
              generator: Any = None, memory_format: Any = None) -> Tensor:
    """Uniform [0, 1) numbers with input's shape, drawn from `generator` (a matgrad.Generator) or the global one."""
    dev = _on(device, input)
    out = rand(*input.shape, dtype=dtype or input.dtype, device=dev, requires_grad=requires_grad, generator=generator)
    return _laid_out_like(out, input, memory_format, "rand_like")


def randn_like(input: Tensor, dtype: Any = None, device: Any = None, *, requires_grad: bool = False,
               generator: Any = None, memory_format: Any = None) -> Tensor:
    """Standard normal numbers with input's shape, drawn from `generator` or the global one."""
    dev = _on(device, input)
    out = randn(*input.shape, dtype=dtype or input.dtype, device=dev, requires_grad=requires_grad, generator=generator)
    return _laid_out_like(out, input, memory_format, "randn_like")


def arange(start: Any, end: Any = None, step: Any = 1, dtype: Any = None,
           requires_grad: bool = False, device: Any = None) -> Tensor:
    """Values from start to end (exclusive) by step; integers stay int64, as PyTorch."""
    dev = _on(device)
    if end is None:
        start, end = 0, start
    if step == 0:  # PyTorch's RuntimeErrors, where NumPy divides by zero or gives an empty range
        raise RuntimeError("arange: step must be nonzero")
    if (end - start) * step < 0:
        raise RuntimeError(f"arange: upper bound and lower bound inconsistent with step sign (start={start}, "
                           f"end={end}, step={step}); flip the step's sign or swap start and end")
    arr = np.arange(start, end, step)
    if dtype is None:
        dtype = np.int64 if arr.dtype.kind in "iu" else get_default_dtype()
    return _make(arr.astype(dtype), requires_grad, dev)


def range_(start: Any = 0, end: Any = None, step: Any = 1, dtype: Any = None,
           requires_grad: bool = False, device: Any = None) -> Tensor:
    """torch.range (matgrad.range), deprecated as in PyTorch: values from start to end *inclusive* by step,
    in the default float dtype unless dtype is given. Use arange (end exclusive)."""
    import warnings

    warnings.warn("torch.range is deprecated and will be removed in a future release because its behavior is "
                  "inconsistent with Python's range builtin. Instead, use torch.arange, which produces values in "
                  "[start, end).", UserWarning, stacklevel=2)
    if end is None:
        raise TypeError('range() missing 1 required positional arguments: "end"')
    if step == 0:
        raise RuntimeError("range: step must be nonzero")
    if (end - start) * step < 0:
        raise RuntimeError(f"range: upper bound and lower bound inconsistent with step sign (start={start}, "
                           f"end={end}, step={step})")
    n = int(np.floor((end - start) / step)) + 1
    values = start + np.arange(n, dtype=np.float64) * step
    return _make(values.astype(_float_dtype(dtype)), requires_grad, _on(device))


def linspace(start: float, end: float, steps: int, dtype: Any = None, requires_grad: bool = False,
        device: Any = None) -> Tensor:
    """`steps` evenly spaced values from start to end, both included."""
    dev = _on(device)
    if steps < 0:
        raise RuntimeError(f"linspace(): number of steps must be non-negative, got {steps}")
    return _make(np.linspace(start, end, steps, dtype=np.float64).astype(_float_dtype(dtype)), requires_grad, dev)


def eye(n: int, m: int | None = None, dtype: Any = None, requires_grad: bool = False, device: Any = None) -> Tensor:
    """The identity matrix (n×m)."""
    dev = _on(device)
    for name, k in (("n", n), ("m", m)):
        if k is not None and k < 0:
            raise RuntimeError(f"eye: {name} must be greater or equal to 0, got {k}")
    return _make(np.eye(n, m, dtype=_float_dtype(dtype)), requires_grad, dev)


def rand(*args: Any, size: Any = None, generator: Any = None, dtype: Any = None, requires_grad: bool = False,
         device: Any = None) -> Tensor:
    """Uniform random numbers in [0, 1), drawn from `generator` (a matgrad.Generator) or the global one."""
    dev = _on(device)
    dt = _float_dtype(dtype)
    return _make(numpy_generator(generator).random(_size(args, size)).astype(dt), requires_grad, dev)


def randn(*args: Any, size: Any = None, generator: Any = None, dtype: Any = None, requires_grad: bool = False,
          device: Any = None) -> Tensor:
    """Standard normal random numbers, drawn from `generator` or the global one."""
    dev = _on(device)
    dt = _float_dtype(dtype)
    return _make(numpy_generator(generator).standard_normal(_size(args, size)).astype(dt), requires_grad, dev)


def randint(low: Any = 0, high: Any = None, size: Any = None, dtype: Any = None, requires_grad: bool = False,
            device: Any = None, *, generator: Any = None) -> Tensor:
    """Random integers in [low, high), drawn from `generator` or the global one; randint(high, size) as in PyTorch."""
    dev = _on(device)
    if size is None and isinstance(high, (tuple, list)):  # randint(high, size)
        low, high, size = 0, low, high
    if size is None:
        raise TypeError("randint: expects randint(low, high, size) or randint(high, size); size is missing")
    if high is None:  # randint(high=10, size=...) or randint(10, size=...)
        low, high = 0, low
    if high <= low:
        raise RuntimeError(f"randint: random_ expects 'from' to be less than 'to', but got from={low} >= to={high}; "
                           "high is exclusive, so it must be greater than low")
    dt = np.dtype(dtype or np.int64)
    out = numpy_generator(generator).integers(low, high, size=_size((), size)).astype(dt)
    return Tensor(_put(out, dev), requires_grad=requires_grad)


def randperm(n: int, *, generator: Any = None, dtype: Any = None, requires_grad: bool = False,
             device: Any = None) -> Tensor:
    """A random permutation of 0..n-1, drawn from `generator` (a matgrad.Generator) or the global one."""
    dev = _on(device)
    _non_negative((int(n),))
    perm = numpy_generator(generator).permutation(int(n)).astype(np.int64 if dtype is None else np.dtype(dtype))
    return Tensor(_put(perm, dev), requires_grad=requires_grad)


def numel(input: Tensor) -> int:
    """Number of elements."""
    return int(input.array.size)


def is_tensor(obj: Any) -> bool:
    """True for a matgrad Tensor."""
    return isinstance(obj, Tensor)


def logspace(start: float, end: float, steps: int, base: float = 10.0, dtype: Any = None,
             requires_grad: bool = False, device: Any = None) -> Tensor:
    """`steps` values from base**start to base**end, evenly spaced in the exponent."""
    dev = _on(device)
    if steps < 0:
        raise RuntimeError(f"logspace(): number of steps must be non-negative, got {steps}")
    arr = np.logspace(start, end, int(steps), base=base, dtype=np.float64)
    return _make(arr.astype(_float_dtype(dtype)), requires_grad, dev)


def is_floating_point(input: Tensor) -> bool:
    """Whether the tensor's dtype is a float type."""
    return input.array.dtype.kind == "f"


def is_complex(input: Tensor) -> bool:
    """Whether the tensor's dtype is complex (never, in matgrad)."""
    return input.array.dtype.kind == "c"


class _LegacyType(type):
    """isinstance(t, FloatTensor) holds for a tensor of that dtype, as in PyTorch."""

    def __instancecheck__(cls, obj: Any) -> bool:
        return isinstance(obj, Tensor) and obj.array.dtype == cls.dtype


class _LegacyTensor(metaclass=_LegacyType):
    """PyTorch's legacy constructors: T(data) copies data into this dtype; T(2, 3) or T(size) makes an
    uninitialised (here: zero) tensor of that shape; T() an empty one."""

    dtype: np.dtype = np.dtype(np.float32)

    def __new__(cls, *args: Any, device: Any = None) -> Tensor:  # type: ignore[misc]
        if device is not None:
            resolve(device)  # CUDA without a GPU: PyTorch's error; the legacy types are CPU types
        if not args:
            return Tensor(np.zeros((0,), cls.dtype))
        if len(args) == 1 and not isinstance(args[0], (int, np.integer)):
            data = args[0]
            if isinstance(data, tuple) and type(data) is not tuple:  # a Size: a shape
                return Tensor(np.zeros(tuple(data), cls.dtype))
            return Tensor(np.array(data.array if isinstance(data, Tensor) else data, dtype=cls.dtype))
        return Tensor(np.zeros(_size(args, None), cls.dtype))


def _legacy(name: str, dtype: Any) -> type:
    return _LegacyType(name, (_LegacyTensor,), {"dtype": np.dtype(dtype), "__doc__": _LegacyTensor.__doc__,
                                                 "__module__": __name__})


FloatTensor = _legacy("FloatTensor", np.float32)
DoubleTensor = _legacy("DoubleTensor", np.float64)
HalfTensor = _legacy("HalfTensor", np.float16)
LongTensor = _legacy("LongTensor", np.int64)
IntTensor = _legacy("IntTensor", np.int32)
ShortTensor = _legacy("ShortTensor", np.int16)
CharTensor = _legacy("CharTensor", np.int8)
ByteTensor = _legacy("ByteTensor", np.uint8)
BoolTensor = _legacy("BoolTensor", np.bool_)
