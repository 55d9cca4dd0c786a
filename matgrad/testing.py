"""torch.testing's counterpart: `assert_close` (PyTorch's rules, tolerances and messages) and `make_tensor`.

assert_close(actual, expected) passes when every pair of corresponding values satisfies
|actual - expected| <= atol + rtol * |expected| (inf only equals inf of its sign, nan only nan with
equal_nan=True), after the checks on shape, device, dtype (and stride, with check_stride=True). Inputs may be
tensors, NumPy arrays, Python or NumPy scalars, None, and sequences/mappings of them nested any way.
"""
from __future__ import annotations

import cmath
import collections.abc
import contextlib
import math
import warnings
from typing import Any, Callable, NoReturn

import numpy as np

from . import dtypes
from .creation import empty, randint
from .devices import to_host
from .tensor import Tensor

__all__ = ["assert_close", "make_tensor", "assert_allclose"]

# {dtype name: (rtol, atol)}: PyTorch's table; any other dtype (ints, bool) compares exactly
_DTYPE_PRECISIONS = {
    "float16": (0.001, 1e-5),
    "bfloat16": (0.016, 1e-5),
    "float32": (1.3e-6, 1e-5),
    "float64": (1e-7, 1e-7),
    "complex64": (1.3e-6, 1e-5),
    "complex128": (1e-7, 1e-7),
}
# the dtype PyTorch gives each Python number type
_TYPE_TO_DTYPE = {int: "int64", float: "float64", complex: "complex128"}


class _Failure(Exception):
    """One comparison's failure: the exception type to raise, its message and where in the nesting it was."""

    def __init__(self, type: type[Exception], msg: str, *, id: tuple[Any, ...] = ()) -> None:  # noqa: A002
        super().__init__(msg)
        self.type, self.msg, self.id = type, msg, id

    def to_error(self, msg: str | Callable[[str], str] | None = None) -> Exception:
        if not isinstance(msg, str):
            generated = self.msg
            if self.id:
                generated += f"\n\nThe failure occurred for item {''.join(str([item]) for item in self.id)}"
            msg = msg(generated) if callable(msg) else generated
        return self.type(msg)


class _Unsupported(Exception):
    """This kind of pair cannot take these inputs: try the next kind."""


def _tolerances(names: list[str], rtol: float | None, atol: float | None, id: tuple[Any, ...],  # noqa: A002
                table: dict[str, tuple[float, float]] | None = None) -> tuple[float, float]:
    """The (rtol, atol) to use: both given, or the loosest of the dtypes' defaults; one alone is an error."""
    if (rtol is None) ^ (atol is None):
        raise _Failure(ValueError, "Both 'rtol' and 'atol' must be either specified or omitted, "
                                   f"but got no {'rtol' if rtol is None else 'atol'}.", id=id)
    if rtol is not None:
        return rtol, atol  # type: ignore[return-value]
    table = table or _DTYPE_PRECISIONS
    rtols, atols = zip(*[table.get(name, (0.0, 0.0)) for name in names])
    return max(rtols), max(atols)


def _identify(default: str, identifier: str | Callable[[str], str] | None) -> str:
    if identifier is None:
        return default
    return identifier(default) if callable(identifier) else identifier


def _mismatch_msg(*, default_identifier: str, identifier: Any = None, extra: str | None, abs_diff: float,
                  abs_diff_idx: Any = None, atol: float, rel_diff: float, rel_diff_idx: Any = None,
                  rtol: float) -> str:
    """PyTorch's message: 'X are not close!', the extra line, the greatest absolute and relative differences."""
    equality = rtol == 0 and atol == 0

    def diff_line(kind: str, diff: float, idx: Any, tol: float) -> str:
        line = f"{kind.title()} difference: {diff}" if idx is None else \
            f"Greatest {kind} difference: {diff} at index {idx}"
        return line + ("" if equality else f" (up to {tol} allowed)") + "\n"

    msg = f"{_identify(default_identifier, identifier)} are not {'equal' if equality else 'close'}!\n\n"
    if extra:
        msg += f"{extra.strip()}\n"
    msg += diff_line("absolute", abs_diff, abs_diff_idx, atol)
    msg += diff_line("relative", rel_diff, rel_diff_idx, rtol)
    return msg.strip()


def _scalar_mismatch_msg(actual: Any, expected: Any, *, rtol: float, atol: float, identifier: Any = None) -> str:
    abs_diff = abs(actual - expected)
    rel_diff = float("inf") if expected == 0 else abs_diff / abs(expected)
    return _mismatch_msg(default_identifier="Scalars", identifier=identifier,
                         extra=f"Expected {expected} but got {actual}.", abs_diff=abs_diff, atol=atol,
                         rel_diff=rel_diff, rtol=rtol)


def _argmax_nan_first(a: np.ndarray) -> int:
    """The flat index of the largest value, a nan counting as largest (torch.max's rule); the first of ties."""
    nans = np.isnan(a)
    return int(np.argmax(nans)) if nans.any() else int(np.argmax(a))


def _tensor_mismatch_msg(actual: np.ndarray, expected: np.ndarray, matches: np.ndarray, *, rtol: float,
                         atol: float) -> str:
    """PyTorch's message for arrays: how many elements mismatch, the greatest differences and their indices."""
    total = matches.size
    mismatches = total - int(np.count_nonzero(matches))
    extra = f"Mismatched elements: {mismatches} / {total} ({mismatches / total:.1%})"
    a, e = actual.ravel(), expected.ravel()
    if a.dtype.kind not in "fc":
        # PyTorch upcasts integers (and bools) to int64, then divides into the default float dtype
        a, e = a.astype(np.int64), e.astype(np.int64)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        abs_diff = np.abs(a - e)
        abs_diff[matches.ravel()] = 0
        rel_diff = abs_diff / np.abs(e) if a.dtype.kind in "fc" else \
            abs_diff.astype(np.float32) / np.abs(e).astype(np.float32)
    rel_diff[matches.ravel()] = 0
    i_abs, i_rel = _argmax_nan_first(abs_diff), _argmax_nan_first(rel_diff)
    shape = matches.shape

    def unravel(i: int) -> tuple[int, ...]:
        return tuple(int(k) for k in np.unravel_index(i, shape)) if shape else ()

    return _mismatch_msg(default_identifier="Tensor-likes", extra=extra, abs_diff=abs_diff[i_abs].item(),
                         abs_diff_idx=unravel(i_abs), atol=atol, rel_diff=rel_diff[i_rel].item(),
                         rel_diff_idx=unravel(i_rel), rtol=rtol)


def _isclose(actual: np.ndarray, expected: np.ndarray, rtol: float, atol: float, equal_nan: bool) -> np.ndarray:
    """torch.isclose: equal, or both finite and |a - e| <= atol + rtol * |e|; nan == nan only with equal_nan."""
    if actual.dtype == np.bool_ or (rtol == 0 and atol == 0 and actual.dtype.kind in "iub"):
        close = actual == expected
    else:
        a, e = actual, expected
        if a.dtype.kind in "iu":  # integers: PyTorch compares in the default float dtype's sense
            a, e = a.astype(np.float64), e.astype(np.float64)
        with np.errstate(invalid="ignore", over="ignore"):
            close = (a == e) | (np.isfinite(a) & np.isfinite(e) & (np.abs(a - e) <= atol + rtol * np.abs(e)))
        if equal_nan:
            close = close | (np.isnan(a) & np.isnan(e))
    return np.asarray(close)


class _Pair:
    """One pair of leaves to compare; the constructor raises _Unsupported when it cannot take the inputs."""

    def __init__(self, actual: Any, expected: Any, id: tuple[Any, ...]) -> None:  # noqa: A002
        self.actual, self.expected, self.id = actual, expected, id

    def fail(self, type: type[Exception], msg: str) -> NoReturn:  # noqa: A002
        raise _Failure(type, msg, id=self.id)


class _NonePair(_Pair):
    def __init__(self, actual: Any, expected: Any, *, id: tuple[Any, ...], **options: Any) -> None:  # noqa: A002
        if not (actual is None or expected is None):
            raise _Unsupported
        super().__init__(actual, expected, id)

    def compare(self) -> None:
        if not (self.actual is None and self.expected is None):
            self.fail(AssertionError, f"None mismatch: {self.actual} is not {self.expected}")


class _BooleanPair(_Pair):
    def __init__(self, actual: Any, expected: Any, *, id: tuple[Any, ...], **options: Any) -> None:  # noqa: A002
        if not all(isinstance(x, (bool, np.bool_)) for x in (actual, expected)):
            raise _Unsupported
        super().__init__(bool(actual), bool(expected), id)

    def compare(self) -> None:
        if self.actual is not self.expected:
            self.fail(AssertionError, f"Booleans mismatch: {self.actual} is not {self.expected}")


class _NumberPair(_Pair):
    def __init__(self, actual: Any, expected: Any, *, id: tuple[Any, ...], rtol: float | None,  # noqa: A002
                 atol: float | None, equal_nan: bool, check_dtype: bool, **options: Any) -> None:
        if not all(isinstance(x, (int, float, complex, np.number)) for x in (actual, expected)):
            raise _Unsupported
        actual, expected = (x.item() if isinstance(x, np.number) else x for x in (actual, expected))
        super().__init__(actual, expected, id)
        self.rtol, self.atol = _tolerances([_TYPE_TO_DTYPE[type(x)] for x in (actual, expected)], rtol, atol, id)
        self.equal_nan, self.check_dtype = equal_nan, check_dtype

    def compare(self) -> None:
        actual, expected = self.actual, self.expected
        if self.check_dtype and type(actual) is not type(expected):
            self.fail(AssertionError, f"The (d)types do not match: {type(actual)} != {type(expected)}.")
        if actual == expected:
            return
        if self.equal_nan and cmath.isnan(actual) and cmath.isnan(expected):
            return
        abs_diff = abs(actual - expected)
        if cmath.isfinite(abs_diff) and abs_diff <= self.atol + self.rtol * abs(expected):
            return
        self.fail(AssertionError, _scalar_mismatch_msg(actual, expected, rtol=self.rtol, atol=self.atol))


class _TensorLikePair(_Pair):
    def __init__(self, actual: Any, expected: Any, *, id: tuple[Any, ...], allow_subclasses: bool,  # noqa: A002
                 rtol: float | None, atol: float | None, equal_nan: bool, check_device: bool, check_dtype: bool,
                 check_stride: bool, **options: Any) -> None:
        if not (isinstance(actual, type(expected)) or isinstance(expected, type(actual))):
            raise _Unsupported
        if not allow_subclasses and type(actual) is not type(expected):
            raise _Unsupported
        actual, expected = self._to_tensor(actual), self._to_tensor(expected)
        super().__init__(actual, expected, id)
        self.rtol, self.atol = _tolerances([actual.dtype.name, expected.dtype.name], rtol, atol, id)
        self.equal_nan, self.check_device, self.check_dtype, self.check_stride = \
            equal_nan, check_device, check_dtype, check_stride

    @staticmethod
    def _to_tensor(x: Any) -> Tensor:
        if isinstance(x, Tensor):
            return x
        try:
            array = np.asarray(x)
        except Exception as error:
            raise _Unsupported from error
        if array.dtype.kind not in "biufc":  # strings, objects: not tensor-like (torch.as_tensor refuses them)
            raise _Unsupported
        return Tensor(array)

    def compare(self) -> None:
        actual, expected = self.actual, self.expected

        def mismatch(name: str, a: Any, e: Any) -> NoReturn:
            self.fail(AssertionError, f"The values for attribute '{name}' do not match: {a} != {e}.")

        if tuple(actual.shape) != tuple(expected.shape):
            mismatch("shape", actual.size(), expected.size())
        if self.check_stride and actual.stride() != expected.stride():
            mismatch("stride()", actual.stride(), expected.stride())
        if self.check_device and actual.device != expected.device:
            mismatch("device", actual.device, expected.device)
        if self.check_dtype and actual.dtype != expected.dtype:
            mismatch("dtype", actual.dtype, expected.dtype)
        # values are compared on the host, in the common dtype (torch.promote_types' rule)
        a, e = to_host(actual.array), to_host(expected.array)
        if a.dtype != e.dtype:
            common = np.result_type(a.dtype, e.dtype)
            a, e = a.astype(common), e.astype(common)
        matches = _isclose(a, e, self.rtol, self.atol, self.equal_nan)
        if matches.all():
            return
        if a.ndim == 0:
            msg = _scalar_mismatch_msg(a.item(), e.item(), rtol=self.rtol, atol=self.atol)
        else:
            msg = _tensor_mismatch_msg(a, e, matches, rtol=self.rtol, atol=self.atol)
        self.fail(AssertionError, msg)


_PAIR_TYPES = (_NonePair, _BooleanPair, _NumberPair, _TensorLikePair)


def _originate_pairs(actual: Any, expected: Any, id: tuple[Any, ...], **options: Any) -> list[_Pair]:  # noqa: A002
    """Walk nested sequences and mappings together and pair their leaves (PyTorch's originate_pairs)."""
    sequence, mapping = collections.abc.Sequence, collections.abc.Mapping
    if isinstance(actual, sequence) and not isinstance(actual, str) and isinstance(expected, sequence) \
            and not isinstance(expected, str):
        if len(actual) != len(expected):
            raise _Failure(AssertionError,
                           f"The length of the sequences mismatch: {len(actual)} != {len(expected)}", id=id)
        pairs = []
        for i in range(len(actual)):
            pairs.extend(_originate_pairs(actual[i], expected[i], (*id, i), **options))
        return pairs
    if isinstance(actual, mapping) and isinstance(expected, mapping):
        actual_keys, expected_keys = set(actual.keys()), set(expected.keys())
        if actual_keys != expected_keys:
            missing, additional = sorted(expected_keys - actual_keys), sorted(actual_keys - expected_keys)
            raise _Failure(AssertionError, "The keys of the mappings do not match:\n"
                                           f"Missing keys in the actual mapping: {missing}\n"
                                           f"Additional keys in the actual mapping: {additional}", id=id)
        keys: Any = actual_keys
        with contextlib.suppress(Exception):
            keys = sorted(keys)
        pairs = []
        for key in keys:
            pairs.extend(_originate_pairs(actual[key], expected[key], (*id, key), **options))
        return pairs
    for pair_type in _PAIR_TYPES:
        try:
            return [pair_type(actual, expected, id=id, **options)]
        except _Unsupported:
            continue
    raise _Failure(TypeError, f"No comparison pair was able to handle inputs of type {type(actual)} "
                              f"and {type(expected)}.", id=id)


def assert_close(actual: Any, expected: Any, *, allow_subclasses: bool = True, rtol: float | None = None,
                 atol: float | None = None, equal_nan: bool = False, check_device: bool = True,
                 check_dtype: bool = True, check_layout: bool = True, check_stride: bool = False,
                 msg: str | Callable[[str], str] | None = None) -> None:
    """Raise AssertionError (in PyTorch's words) unless `actual` and `expected` are close, as torch.testing's.

    Close: same shape (and device, dtype, stride where checked) and |actual - expected| <= atol + rtol * |expected|
    for every value; rtol and atol are given together or both left to the dtype's default (float16 1e-3/1e-5,
    bfloat16 1.6e-2/1e-5, float32 1.3e-6/1e-5, float64 1e-7/1e-7, complex like its part's float; integers and
    bool exactly; for mismatched dtypes the loosest of the two). Python scalars count as int64, float64 and
    complex128; with check_dtype=False, different dtypes are compared in their common dtype. `msg` replaces the
    message, or as a callable is given the generated message and returns the one to raise. check_layout is
    accepted and changes nothing: matgrad's tensors are all strided.
    """
    __tracebackhide__ = True
    del check_layout
    try:
        pairs = _originate_pairs(actual, expected, (), allow_subclasses=allow_subclasses, rtol=rtol, atol=atol,
                                 equal_nan=equal_nan, check_device=check_device, check_dtype=check_dtype,
                                 check_stride=check_stride)
    except _Failure as failure:
        raise failure.to_error() from None
    for pair in pairs:
        try:
            pair.compare()
        except _Failure as failure:
            raise failure.to_error(msg) from None


def assert_allclose(actual: Any, expected: Any, rtol: float | None = None, atol: float | None = None,
                    equal_nan: bool = True, msg: str = "") -> None:
    """torch.testing.assert_allclose (deprecated there too): assert_close with check_dtype=False, looser defaults."""
    warnings.warn("`torch.testing.assert_allclose()` is deprecated since 1.12 and will be removed in a future "
                  "release. Please use `torch.testing.assert_close()` instead.", FutureWarning, stacklevel=2)
    if not isinstance(actual, Tensor):
        actual = Tensor(np.asarray(actual))
    if not isinstance(expected, Tensor):
        expected = Tensor(np.asarray(expected, dtype=actual.dtype.dtype))
    if rtol is None and atol is None:
        rtol, atol = _tolerances([actual.dtype.name, expected.dtype.name], None, None, (), table={
            "float16": (1e-3, 1e-3), "float32": (1e-4, 1e-5), "float64": (1e-5, 1e-8)})
    assert_close(actual, expected, rtol=rtol, atol=atol, equal_nan=equal_nan, check_dtype=False, msg=msg or None)


_INTEGRAL = ("uint8", "int8", "int16", "int32", "int64", "uint16", "uint32", "uint64")
_FLOATING = ("float16", "float32", "float64")


def make_tensor(*shape: Any, dtype: Any, device: Any = None, low: float | None = None, high: float | None = None,
                requires_grad: bool = False, noncontiguous: bool = False, exclude_zero: bool = False,
                memory_format: Any = None) -> Tensor:
    """A tensor of `shape` with values drawn uniformly from [low, high), as torch.testing.make_tensor.

    Defaults: bool [0, 2), unsigned [0, 10), signed integers [-9, 10), floats [-9, 9). Drawn from matgrad's
    generator, so the values differ from torch's for the same seed. `device` may be omitted (torch requires it).
    """
    name = dtypes.dtype(dtype).name if dtype is not None else ""
    if len(shape) == 1 and isinstance(shape[0], collections.abc.Sequence):
        shape = tuple(shape[0])
    shape = tuple(int(s) for s in shape)
    if noncontiguous and memory_format is not None:
        raise ValueError("The parameters `noncontiguous` and `memory_format` are mutually exclusive, but got "
                         f"noncontiguous={noncontiguous} and memory_format={memory_format}")
    shown = dtypes.dtype(dtype) if name else dtype
    if requires_grad and (name == "bool" or name in _INTEGRAL):
        raise ValueError("`requires_grad=True` is not supported for boolean and integral dtypes, "
                         f"but got dtype={shown}")

    def bounds(lowest: float, highest: float, default_low: float, default_high: float) -> tuple[float, float]:
        lo = default_low if low is None else low
        hi = default_high if high is None else high
        if any(isinstance(v, float) and math.isnan(v) for v in (lo, hi)):
            raise ValueError(f"`low` and `high` cannot be NaN, but got low={lo} and high={hi}")
        if lo >= hi and not (lo == hi and name in _FLOATING):
            raise ValueError(f"`low` must be less than `high`, but got {lo} >= {hi}")
        if hi < lowest or lo >= highest:
            raise ValueError(f"The value interval specified by `low` and `high` is [{lo}, {hi}), "
                             f"but {shown} only supports [{lowest}, {highest})")
        lo, hi = min(max(lo, lowest), highest), min(max(hi, lowest), highest)
        return (math.ceil(lo), math.ceil(hi)) if name == "bool" or name in _INTEGRAL else (lo, hi)

    n = math.prod(shape)
    noncontiguous = noncontiguous and n > 1
    draw_shape = (*shape[:-1], 2 * shape[-1]) if noncontiguous else shape
    if name == "bool":
        lo, hi = bounds(0, 2, 0, 2)
        result = randint(lo, hi, draw_shape, dtype=dtypes.dtype(dtype), device=device)
    elif name in _INTEGRAL:
        info = np.iinfo(name)
        lo, hi = bounds(int(info.min), int(info.max) + (1 if name != "int64" else 0), -9, 10)
        result = randint(lo, hi, draw_shape, dtype=dtypes.dtype(dtype), device=device)
    elif name in _FLOATING:
        info = np.finfo(name)
        lo, hi = bounds(float(info.min), float(info.max), -9, 9)
        result = empty(draw_shape, dtype=dtypes.dtype(dtype), device=device)
        if hi - lo >= float(info.max):  # the width would overflow: draw half the range and double it
            result.uniform_(lo / 2, hi / 2).mul_(2)
        else:
            result.uniform_(lo, hi)
    else:
        raise TypeError(f"The requested dtype '{shown}' is not supported by torch.testing.make_tensor(). "
                        "matgrad supports bool, the integer and the float16/32/64 dtypes here.")
    if noncontiguous:
        result = result[..., 1::2]  # offset by one, as PyTorch, to catch offset bugs too
    if exclude_zero:
        zero = 1 if name == "bool" or name in _INTEGRAL else float(np.finfo(name).tiny)
        result[result == 0] = zero
    if name in _FLOATING:
        result.requires_grad_(requires_grad)
    return result
