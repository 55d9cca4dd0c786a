"""NumPy speed kernels: where NumPy's own function is slow or missing, a faster equal one.

Each says what it replaces and what it measured. The array namespaces (`matgrad.backend`)
hand these to the ops, so an op's formula never names a kernel or a device. The NumPy tricks
are for NumPy arrays only: a device array (CuPy's) takes a generic form that NumPy dispatches
to its own module, except erf and erfc, which NumPy lacks (a device's namespace brings its own).
"""
from __future__ import annotations

import functools
import math
from typing import Any, Callable, TypeVar

import numpy as np

try:  # NumPy's own error-state machinery (numpy >= 2.0), which np.errstate wraps
    from numpy._core.umath import _extobj_contextvar, _make_extobj
except ImportError:  # pragma: no cover - another NumPy: np.errstate itself
    _extobj_contextvar = _make_extobj = None

F = TypeVar("F", bound=Callable[..., Any])

_erf_scalar = np.vectorize(math.erf, otypes=[np.float64])
_erfc_scalar = np.vectorize(math.erfc, otypes=[np.float64])


# Chebyshev fit of erfc (Numerical Recipes' erfcc): relative error < 1.2e-7, float32's own.
_ERFC = (-1.26551223, 1.00002368, 0.37409196, 0.09678418, -0.18628806,
         0.27886807, -1.13520398, 1.48851587, -0.82215223, 0.17087277)


def _on_device(x: Any) -> bool:
    """Whether `x` is a device array (CuPy's): not NumPy's, but it takes part in NumPy's dispatch."""
    return type(x) is not np.ndarray and not isinstance(x, np.generic) and hasattr(x, "__array_function__")


def erf(x: np.ndarray) -> np.ndarray:
    """The error function (NumPy has none): math.erf in float64, a fast fit (error < 1.2e-7) in float32."""
    if _on_device(x):  # NumPy has no erf to dispatch to: each device's namespace brings its own
        raise TypeError(f"kernels.erf computes on the host and got a {type(x).__module__}.{type(x).__name__}; "
                        "use the erf of the array's backend: matgrad.devices.backend_of(x).namespace.erf(x)")
    x = np.asarray(x)
    if x.dtype != np.float32 and x.dtype != np.float16:
        return _erf_scalar(x).astype(x.dtype, copy=False)
    z = np.abs(x, dtype=np.float64)  # the fit is float32-exact only if evaluated in float64
    t = 1 / (1 + 0.5 * z)
    poly = np.full_like(t, _ERFC[-1])
    for c in _ERFC[-2::-1]:
        poly *= t
        poly += c
    erfc = t * np.exp(poly - z * z)
    return where(x >= 0, 1 - erfc, erfc - 1).astype(x.dtype, copy=False)


def erfc(x: np.ndarray) -> np.ndarray:
    """The complementary error function 1 − erf x (NumPy has none): math.erfc in float64, accurate where
    it is tiny (x up to ~27)."""
    if _on_device(x):  # NumPy has no erfc to dispatch to: each device's namespace brings its own
        raise TypeError(f"kernels.erfc computes on the host and got a {type(x).__module__}.{type(x).__name__}; "
                        "use the erfc of the array's backend: matgrad.devices.backend_of(x).namespace.erfc(x)")
    if x.dtype == np.float64:
        return _erfc_scalar(x)
    return _erfc_scalar(x.astype(np.float64)).astype(x.dtype)


def ignoring(**kinds: str) -> Callable[[F], F]:
    """`np.errstate(**kinds)` as a decorator for a function (an op's forward), at a third of its cost.

    np.errstate builds a new error state on every entry: 1.5–2.7 µs, the price of an 8×8
    sigmoid (measured 2026-11-30, AMD EPYC, NumPy 2.4.6; ab.py's overhead-only step pays it
    twice). Here the state is built once per state it extends (kept with it, and rebuilt when
    the caller's np.errstate/np.seterr differs) and only set and reset: 0.7–0.8 µs a call.
    """
    if _extobj_contextvar is None:  # pragma: no cover
        return np.errstate(**kinds)
    memo: tuple[Any, Any] = (None, None)  # (the state extended, the state made from it): swapped whole

    def decorate(fn: F) -> F:
        @functools.wraps(fn)
        def quiet(*args: Any, **kwargs: Any) -> Any:
            nonlocal memo
            current = _extobj_contextvar.get()
            base, state = memo
            if base is not current:
                state = _make_extobj(**kinds)
                memo = (current, state)
            token = _extobj_contextvar.set(state)
            try:
                return fn(*args, **kwargs)
            finally:
                _extobj_contextvar.reset(token)

        return quiet  # type: ignore[return-value]

    return decorate


#: The integer type with each float width: a float select is done on the bits.
_BITS = {2: np.int16, 4: np.int32, 8: np.int64}
#: Below this many elements np.where is as fast (its loop costs ~1 µs + 3.5 ns an element on fresh
#: random masks; the bit select ~4 µs + 0.3 ns).
WHERE_MIN_SIZE = 1024


def where(cond: Any, a: Any, b: Any) -> np.ndarray:
    """np.where(cond, a, b), bit for bit, without its branchy loop for floats.

    On random masks NumPy's where takes about 3.5 ns an element; picking the bits with
    masks, (a ^ b) & m ^ b where m is all ones where cond holds, streams at about 0.2 ns
    (a 17× faster `where`; `where(c, x, 0)`, a backward's usual case, is just `x & m`).
    Same result: every bit of the chosen value is copied, so nan payloads and the sign of
    zero come through as they are.
    """
    if type(cond) is not np.ndarray:  # a device mask: np.where dispatches to the device's where
        return np.where(cond, a, b)
    dt = np.result_type(a, b)
    bits = _BITS.get(dt.itemsize) if dt.kind == "f" else None
    if bits is None or cond.dtype != np.bool_:
        return np.where(cond, a, b)
    a, b = np.asarray(a, dt), np.asarray(b, dt)
    shape = np.broadcast_shapes(cond.shape, a.shape, b.shape)
    if math.prod(shape) < WHERE_MIN_SIZE:
        return np.where(cond, a, b)
    out = np.empty(shape, dt)
    o = out.view(bits)
    o[...] = cond  # 1 or 0; the mask is built in the output itself: no extra array to allocate
    if a.ndim == 0 and a == 0 and not np.signbit(a):  # where(c, 0, x): x's bits where not c
        np.subtract(o, 1, out=o)  # all ones where not c
        np.bitwise_and(o, b.view(bits), out=o)
        return out
    np.negative(o, out=o)  # all ones where c
    if b.ndim == 0 and b == 0 and not np.signbit(b):  # where(c, x, 0): x's bits where c
        np.bitwise_and(o, a.view(bits), out=o)
    else:
        bb = b.view(bits)
        np.bitwise_and(o, np.bitwise_xor(a.view(bits), bb), out=o)
        np.bitwise_xor(o, bb, out=o)
    return out


def softplus(z: np.ndarray) -> np.ndarray:
    """ln(1 + eᶻ) = max(z, 0) + ln(1 + e^-|z|), as np.logaddexp(0, z) (to 3 ulp) but 6-14× faster.

    NumPy's logaddexp runs a scalar loop; these five passes vectorize, and never overflow.
    """
    if _on_device(z):  # a device array: the same formula, without out= into host arrays
        t = np.log1p(np.exp(-np.abs(z)))
        t += np.clip(z, 0, np.inf)
        return t
    z = np.asarray(z)
    t = np.abs(z, out=np.empty(z.shape, z.dtype))  # out=: an array even for 0-d z
    np.negative(t, out=t)
    np.exp(t, out=t)
    np.log1p(t, out=t)
    t += np.clip(z, 0, np.inf)
    return t


def broadcast_axes(grad_shape: tuple[int, ...], shape: tuple[int, ...]) -> tuple[int, ...]:
    """The axes along which an input of `shape` was copied to make `grad_shape`."""
    lead = len(grad_shape) - len(shape)
    return tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and grad_shape[lead + i] != 1
    )


def sum_to(x: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum a broadcast gradient back to `shape`: the rule "a copy sums"."""
    if x.shape == shape:
        return x
    if type(x) is not np.ndarray:  # a device array: its own sum (not every array module has ufunc.reduce)
        return x.sum(axis=broadcast_axes(x.shape, shape), keepdims=True).reshape(shape)
    return np.add.reduce(x, axis=broadcast_axes(x.shape, shape), keepdims=True).reshape(shape)


def index_add(shape: tuple[int, ...], index: Any, values: np.ndarray, basic: bool) -> np.ndarray:
    """zeros(shape) with `values` added at `index` (repeats add up, as `np.add.at`)."""
    if _on_device(values):  # made on values' device; a backend's namespace may bring a faster scatter-add
        out = np.zeros_like(values, shape=shape)
        if basic:
            out[index] = values
        else:
            np.add.at(out, index, values)
        return out
    out = np.zeros(shape, dtype=values.dtype)
    if basic:  # slices and integers never repeat an element, so plain assignment is exact
        out[index] = values
    else:
        np.add.at(out, index, values)
    return out
