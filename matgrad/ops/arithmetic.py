"""Arithmetic: + - * / ** and negation, with NumPy broadcasting.

The engine sums each gradient back to its input's shape, so these backward rules are
written for same-shaped operands: add distributes, multiply swaps.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd.op import Op
from ..kernels import ignoring
from ..tensor import ShapeError, Tensor, as_tensor


def _shapes_error(op: str, a: np.ndarray, b: np.ndarray) -> ShapeError:
    return ShapeError(
        f"{op}: shapes {a.shape} and {b.shape} cannot be broadcast together "
        "(compare them from the right: each pair of sizes must be equal or one of them 1)"
    )


def _category(dt: np.dtype) -> int:
    return 2 if dt.kind in "fc" else 0 if dt.kind == "b" else 1


def _promote(a: np.dtype | None, b: np.dtype | None) -> np.dtype | None:
    """PyTorch's promoteTypes: the higher category (bool < int < float) wins outright."""
    if a is None or b is None:
        return b if a is None else a
    ca, cb = _category(a), _category(b)
    if ca != cb:
        return a if ca > cb else b
    return np.result_type(a, b)


def result_dtype(*tensors: Tensor) -> np.dtype:
    """The dtype PyTorch gives an op on these tensors (torch.result_type).

    Tensors with dimensions decide; a 0-d tensor (or a Python number, which as_tensor
    made 0-d) only counts when it is of a higher category: float32 + 0-d float64 stays
    float32, but int64 + 0-d float32 is float32.
    """
    dim = zero = None
    for t in tensors:
        if t.array.ndim:
            dim = _promote(dim, t.array.dtype)
        else:
            zero = _promote(zero, t.array.dtype)
    if dim is None or zero is None:
        return dim if zero is None else zero
    if _category(dim) == 2:
        return dim
    if dim.kind == "b" or _category(zero) == 2:
        return _promote(dim, zero)
    return dim


def promote(*tensors: Tensor) -> tuple[Tensor, ...]:
    """The tensors converted (differentiably) to their common result dtype."""
    dt = tensors[0].array.dtype
    if all(t.array.dtype == dt for t in tensors):
        return tensors
    dt = result_dtype(*tensors)
    return tuple(t if t.array.dtype == dt else t.to(dt) for t in tensors)


def _to_float(t: Tensor) -> Tensor:
    """Integers and bools become the default float dtype (true division, fractional powers)."""
    from ..tensor import get_default_dtype

    return t if t.array.dtype.kind in "fc" else t.to(get_default_dtype())


def _binary(fn: type[Op], op: str, a: Any, b: Any) -> Tensor:
    """Apply a broadcasting binary op, turning NumPy's shape error into a clear one."""
    ta = as_tensor(a, b if isinstance(b, Tensor) else None)
    tb = as_tensor(b, ta)
    if ta.array.dtype != tb.array.dtype:
        ta, tb = promote(ta, tb)
    if fn is Div:
        ta, tb = _to_float(ta), _to_float(tb)
    try:
        return fn.apply(ta, tb)
    except ValueError as e:
        if "broadcast" in str(e) and ta.array.shape != tb.array.shape:
            raise _shapes_error(op, ta.array, tb.array) from None
        raise


class Add(Op):
    """y = a + b.  dy/da = 1, dy/db = 1: add distributes the gradient unchanged."""

    def forward(self, a, b):
        return a + b

    def backward(self, dy):
        return dy, dy


class Sub(Op):
    """y = a - b.  dy/da = 1, dy/db = -1."""

    def forward(self, a, b):
        return a - b

    def backward(self, dy):
        return dy, (-dy if self.needs_input_grad[1] else None)


class Mul(Op):
    """y = a * b.  dy/da = b, dy/db = a: multiply swaps its inputs."""

    def forward(self, a, b):
        return a * b

    def backward(self, dy):
        a, b = self.inputs
        da = dy * b if self.needs_input_grad[0] else None
        db = dy * a if self.needs_input_grad[1] else None
        return da, db


class Div(Op):
    """y = a / b.  dy/da = 1/b, dy/db = -a/b² = -y/b."""

    save_output = True

    def forward(self, a, b):
        return a / b

    def backward(self, dy):
        _, b = self.inputs
        da = dy / b
        db = -da * self.output if self.needs_input_grad[1] else None
        return da, db


class Neg(Op):
    """y = -x.  dy/dx = -1."""

    def forward(self, x):
        return -x

    def backward(self, dy):
        return -dy


class PowScalar(Op):
    """y = x ** p for a constant p.  dy/dx = p · x^(p-1)."""

    def forward(self, x, p):
        self.p = p
        return x**p

    def backward(self, dy):
        (x,) = self.inputs
        p = self.p
        if p == 2:
            return dy * (2 * x)
        if p == 0:  # x⁰ = 1 is constant: a zero gradient, never 0·0⁻¹ = nan at x = 0
            return dy * 0
        with np.errstate(divide="ignore", invalid="ignore"):
            return dy * (p * x ** (p - 1))


class Pow(Op):
    """y = a ** b.  dy/da = b · a^(b-1), dy/db = y · ln a (0 where a = 0 and b >= 0, as PyTorch)."""

    save_output = True

    def forward(self, a, b):
        return a**b

    def backward(self, dy):
        xp = self.xp
        a, b = self.inputs
        a_arr, b_arr = self.input_arrays
        da = db = None
        if self.needs_input_grad[0]:
            with np.errstate(divide="ignore", invalid="ignore"):
                da = dy * b * a ** (b - 1)
            const = b_arr == 0  # a⁰ = 1: zero gradient, never 0·0⁻¹ = nan, as PyTorch
            if const.any():
                da = xp.where(const, 0, da)
        if self.needs_input_grad[1]:
            zero = (a_arr == 0) & (b_arr >= 0)
            safe_a = xp.where(zero, 1, a) if zero.any() else a
            db = dy * self.output * xp.log(safe_a)
        return da, db


_IINFO: dict[np.dtype, Any] = {}  # np.iinfo per integer dtype (x + 1 on integer tensors asks every time)


def _fits(value: int, t: Tensor) -> bool:
    """Whether a Python int fits an integer tensor's dtype (NumPy raises OverflowError for one that does not)."""
    dt = t.array.dtype
    info = _IINFO.get(dt) or _IINFO.setdefault(dt, np.iinfo(dt))
    return info.min <= value <= info.max


def _check_64_bits(op: str, value: int) -> None:
    if not -(1 << 63) <= value < 1 << 64:
        raise OverflowError(f"{op}: the Python int {value} does not fit in 64 bits (PyTorch raises too); use a "
                            "float, or reduce it modulo 2**bits of the tensor's dtype first")


def _wrapped(op: str, value: int, t: Tensor) -> int:
    """A Python int as PyTorch casts it to an integer tensor's dtype: wrapped modulo 2^bits (two's complement)
    when it does not fit, where NumPy raises; beyond 64 bits PyTorch's OverflowError."""
    if _fits(value, t):
        return value
    _check_64_bits(op, value)
    dt = t.array.dtype
    bits = 8 * dt.itemsize
    value %= 1 << bits
    return value - (1 << bits) if dt.kind == "i" and value >= 1 << (bits - 1) else value


def fit_int(op: str, a: Any, b: Any) -> tuple[Any, Any]:
    """An integer tensor and a Python int that does not fit its dtype: the int wrapped into it, as PyTorch
    (uint8 + 300 adds 44, uint8 > -1 compares with 255); anything else unchanged."""
    if type(b) is int and isinstance(a, Tensor) and a.array.dtype.kind in "iu":
        return a, _wrapped(op, b, a)
    if type(a) is int and isinstance(b, Tensor) and b.array.dtype.kind in "iu":
        return _wrapped(op, a, b), b
    return a, b


def _int_as_float(op: str, a: Any, b: Any) -> tuple[Any, Any]:
    """True division of an integer tensor and a Python int that does not fit its dtype: the int as a float,
    since PyTorch divides in floating point (uint8 / 300 divides by 300, not by 44)."""
    if type(b) is int and isinstance(a, Tensor) and a.array.dtype.kind in "iu" and not _fits(b, a):
        _check_64_bits(op, b)
        return a, float(b)
    if type(a) is int and isinstance(b, Tensor) and b.array.dtype.kind in "iu" and not _fits(a, b):
        _check_64_bits(op, a)
        return float(a), b
    return a, b


def _checked_int(op: str, what: str, value: Any, t: Tensor) -> None:
    """PyTorch refuses (rather than wraps) an int alpha or exponent that its checked conversion to an integer
    tensor's dtype overflows: outside [min, max], or [-max, max] for an unsigned dtype."""
    if type(value) is not int or t.array.dtype.kind not in "iu":
        return
    dt = t.array.dtype
    info = _IINFO.get(dt) or _IINFO.setdefault(dt, np.iinfo(dt))
    if not (-info.max if dt.kind == "u" else info.min) <= value <= info.max:
        raise RuntimeError(f"{op}: {what} {value} cannot be converted to type {dt} without overflow (as PyTorch); "
                           "use a value in the dtype's range, or convert the tensor to a wider dtype first")


def add(input: Any, other: Any, alpha: Any = 1) -> Tensor:
    """input + alpha · other."""
    if type(other) is int or type(input) is int:
        input, other = fit_int("add", input, other)
    if alpha != 1 and isinstance(input, Tensor):
        _checked_int("add", "alpha", alpha, input)
    return _binary(Add, "add", input, other if alpha == 1 else mul(other, alpha))


def sub(input: Any, other: Any, alpha: Any = 1) -> Tensor:
    """input - alpha · other."""
    if type(other) is int or type(input) is int:
        input, other = fit_int("sub", input, other)
    if alpha != 1 and isinstance(input, Tensor):
        _checked_int("sub", "alpha", alpha, input)
    return _binary(Sub, "sub", input, other if alpha == 1 else mul(other, alpha))


def mul(input: Any, other: Any) -> Tensor:
    """Elementwise product."""
    if type(other) is int or type(input) is int:
        input, other = fit_int("mul", input, other)
    return _binary(Mul, "mul", input, other)


def div(input: Any, other: Any, *, rounding_mode: str | None = None) -> Tensor:
    """Elementwise division: true division, or rounded to an integer by rounding_mode 'trunc'
    (toward zero, as C) or 'floor' (down, as Python's //); integers stay integers then."""
    if rounding_mode is None:
        if type(other) is int or type(input) is int:
            input, other = _int_as_float("div", input, other)
        return _binary(Div, "div", input, other)
    return _rounded_div(input, other, rounding_mode)


def true_divide(input: Any, other: Any) -> Tensor:
    """Elementwise true division (div without rounding_mode)."""
    if type(other) is int or type(input) is int:
        input, other = _int_as_float("div", input, other)
    return _binary(Div, "div", input, other)


def neg(input: Any) -> Tensor:
    """-input."""
    return Neg.apply(as_tensor(input))


def pow(input: Any, exponent: Any) -> Tensor:  # noqa: A001 - PyTorch's name
    """input ** exponent, elementwise; a constant exponent is the fast, common case."""
    if not isinstance(exponent, (Tensor, np.ndarray)) and np.ndim(exponent) == 0:
        if isinstance(exponent, np.generic):  # a NumPy scalar must not upcast float32 to float64
            exponent = exponent.item()
        t = as_tensor(input)
        if t.array.dtype.kind in "iub":
            if isinstance(exponent, (int, np.integer)) and exponent < 0:
                raise RuntimeError("pow: integers to negative integer powers are not allowed (as PyTorch); "
                                   "convert to a float first (x.float() ** n)")
            _checked_int("pow", "the exponent", exponent, t)
            if not isinstance(exponent, (int, np.integer)):  # int ** 0.5 is a float, as PyTorch
                t = _to_float(t)
            elif t.array.dtype.kind == "b" and not isinstance(exponent, bool):
                t = Tensor._make(t.array.astype(np.int64), None, False)
        return PowScalar.apply(t, p=exponent)
    if type(input) is int:  # 300 ** uint8_tensor: the base wraps into the dtype, as PyTorch
        input, exponent = fit_int("pow", input, exponent)
    return _binary(Pow, "pow", input, exponent)


subtract, multiply, divide, negative = sub, mul, div, neg


# --- division's relatives: fmod, remainder, floor_divide, atan2; lerp ----------------------------
class IntegerDivisionByZero(RuntimeError, ZeroDivisionError):
    """An integer tensor divided by 0 (//, %, fmod, remainder, div with a rounding_mode): PyTorch raises
    RuntimeError("ZeroDivisionError"), Python code expects ZeroDivisionError, so this is both, and either kind
    of `except` catches it."""


def _int_zero_division(op: str, a: Tensor, b: Tensor) -> None:
    if b.array.dtype.kind in "biu" and a.array.dtype.kind in "biu" and np.any(b.array == 0):
        raise IntegerDivisionByZero(f"ZeroDivisionError: {op}: integer division by zero")


class Fmod(Op):
    """y = a − trunc(a/b)·b (C's fmod: the sign of a).  da = dy, db = −dy·trunc(a/b)."""

    @ignoring(divide="ignore", invalid="ignore")
    def forward(self, a, b):
        return np.fmod(a, b)

    def backward(self, dy):
        a, b = self.input_arrays
        with np.errstate(divide="ignore", invalid="ignore"):
            q = np.trunc(a / b)
        return dy, (-(dy * q) if self.needs_input_grad[1] else None)


class Remainder(Op):
    """y = a − floor(a/b)·b (Python's %: the sign of b).  da = dy, db = −dy·floor(a/b)."""

    @ignoring(divide="ignore", invalid="ignore")
    def forward(self, a, b):
        return np.remainder(a, b)

    def backward(self, dy):
        a, b = self.input_arrays
        with np.errstate(divide="ignore", invalid="ignore"):
            q = np.floor(a / b)
        return dy, (-(dy * q) if self.needs_input_grad[1] else None)


class FloorDivide(Op):
    """y = floor(a/b).  No derivative, as in PyTorch (it is 0 almost everywhere)."""

    @ignoring(divide="ignore", invalid="ignore")
    def forward(self, a, b):
        return np.floor_divide(a, b)

    def backward(self, dy):
        raise RuntimeError("derivative for aten::floor_divide is not implemented")


class Atan2(Op):
    """y = atan2(a, b), the angle of (b, a).  da = dy·b/(a² + b²), db = −dy·a/(a² + b²)."""

    def forward(self, a, b):
        return np.arctan2(a, b)

    def backward(self, dy):
        a, b = self.inputs
        g = dy / (a * a + b * b)
        return g * b, -(g * a)


_BOOL_KERNELS = {"floor_divide": "div_floor_cpu", "fmod": "fmod_cpu", "remainder": "remainder_cpu"}


def _refuse_bool(op: str, kernel: str, ta: Tensor, tb: Tensor) -> None:
    """PyTorch has no bool kernel for floor division and the remainders: two bools (tensors or Python
    bools) are its NotImplementedError, where NumPy would quietly answer in int8."""
    if ta.array.dtype.kind == "b" and tb.array.dtype.kind == "b":
        raise NotImplementedError(f'"{kernel}" not implemented for \'Bool\': {op} of two bool tensors; convert them '
                                  "first (.long() or .float())")


def _binary_checked(fn: type[Op], op: str, a: Any, b: Any) -> Tensor:
    if type(a) is int or type(b) is int:
        a, b = fit_int(op, a, b)
    ta = as_tensor(a, b if isinstance(b, Tensor) else None)
    tb = as_tensor(b, ta)
    _refuse_bool(op, _BOOL_KERNELS[op], ta, tb)
    _int_zero_division(op, ta, tb)
    return _binary(fn, op, ta, tb)


def fmod(input: Any, other: Any) -> Tensor:
    """The remainder of input / other with the sign of input (C's fmod)."""
    return _binary_checked(Fmod, "fmod", input, other)


def remainder(input: Any, other: Any) -> Tensor:
    """The remainder of input / other with the sign of other (Python's %)."""
    return _binary_checked(Remainder, "remainder", input, other)


def floor_divide(input: Any, other: Any) -> Tensor:
    """floor(input / other), elementwise (the // operator); integers stay integers."""
    return _binary_checked(FloorDivide, "floor_divide", input, other)


def atan2(input: Any, other: Any) -> Tensor:
    """The angle of the point (other, input), elementwise: atan(input / other) in the right quadrant."""
    ta = as_tensor(input, other if isinstance(other, Tensor) else None)
    tb = as_tensor(other, ta)
    if ta.array.dtype != tb.array.dtype:
        ta, tb = promote(ta, tb)
    return _binary(Atan2, "atan2", _to_float(ta), _to_float(tb))


arctan2 = atan2


def lerp(input: Any, end: Any, weight: Any) -> Tensor:
    """input + weight · (end − input): linear interpolation (weight a number or a tensor)."""
    start = as_tensor(input)
    return add(start, mul(weight, sub(end, start)))


# --- div's rounding modes; addcmul, addcdiv; float_power, copysign, xlogy, ldexp; gcd, lcm -------
class RoundedDiv(Op):
    """y = floor(a/b) or trunc(a/b) on floats (div's rounding_mode).  da = db = 0: piecewise
    constant, and PyTorch gives zeros (where floor_divide has no derivative at all)."""

    @ignoring(divide="ignore", invalid="ignore", over="ignore")
    def forward(self, a, b, mode):
        return np.floor_divide(a, b) if mode == "floor" else np.trunc(a / b)

    def backward(self, dy):
        zero = self.xp.zeros_like(dy)
        return zero, zero


def _rounded_div(input: Any, other: Any, mode: Any) -> Tensor:
    if mode not in ("trunc", "floor"):
        raise RuntimeError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found {mode!r}")
    if type(input) is int or type(other) is int:
        input, other = fit_int("div", input, other)
    ta = as_tensor(input, other if isinstance(other, Tensor) else None)
    tb = as_tensor(other, ta)
    if ta.array.dtype != tb.array.dtype:
        ta, tb = promote(ta, tb)
    _refuse_bool(f"div with rounding_mode={mode!r}", f"div_{mode}_cpu", ta, tb)
    kind = ta.array.dtype.kind
    if kind in "iu":
        _int_zero_division("div", ta, tb)
        try:
            a, b = np.broadcast_arrays(ta.array, tb.array)
        except ValueError:
            raise _shapes_error("div", ta.array, tb.array) from None
        q = np.floor_divide(a, b)
        if mode == "trunc":  # floor rounded down where the exact quotient was negative and not whole
            q += (np.remainder(a, b) != 0) & ((a < 0) != (b < 0))
        return Tensor._make(q, None, False)
    try:
        return RoundedDiv.apply(ta, tb, mode=mode)
    except ValueError as e:
        if "broadcast" in str(e):
            raise _shapes_error("div", ta.array, tb.array) from None
        raise


def _check_broadcast(op: str, *tensors: Tensor) -> None:
    try:
        np.broadcast_shapes(*(t.shape for t in tensors))
    except ValueError:
        shapes = " and ".join(str(tuple(t.shape)) for t in tensors)
        raise ShapeError(f"{op}: shapes {shapes} cannot be broadcast together "
                         "(compare them from the right: each pair of sizes must be equal or one of them 1)") from None


def _value_for(value: Any, tensors: tuple[Tensor, ...]) -> Any:
    """`value` as PyTorch casts it to the result dtype: a float value with integer tensors truncates."""
    if isinstance(value, Tensor):
        return value
    if isinstance(value, np.generic):
        value = value.item()
    if result_dtype(*tensors).kind in "iub" and isinstance(value, float):
        return int(value)
    return value


def addcmul(input: Any, tensor1: Any, tensor2: Any, *, value: Any = 1) -> Tensor:
    """input + value · tensor1 · tensor2, elementwise with broadcasting."""
    t = as_tensor(input)
    t1, t2 = as_tensor(tensor1, t), as_tensor(tensor2, t)
    _check_broadcast("addcmul", t, t1, t2)
    value = _value_for(value, (t, t1, t2))
    prod = mul(t1, t2)
    return add(t, prod if (isinstance(value, (int, float)) and value == 1) else mul(prod, value))


def addcdiv(input: Any, tensor1: Any, tensor2: Any, *, value: Any = 1) -> Tensor:
    """input + value · tensor1 / tensor2, elementwise with broadcasting (true division)."""
    t = as_tensor(input)
    t1, t2 = as_tensor(tensor1, t), as_tensor(tensor2, t)
    if t1.array.dtype.kind in "biu" and t2.array.dtype.kind in "biu":
        raise TypeError("addcdiv: integer division of tensor1 by tensor2 is not supported, as in PyTorch; for "
                        "the old behaviour use input + value * torch.div(tensor1, tensor2, rounding_mode='trunc')")
    _check_broadcast("addcdiv", t, t1, t2)
    quot = div(t1, t2)
    if isinstance(value, np.generic):
        value = value.item()
    return add(t, quot if (isinstance(value, (int, float)) and value == 1) else mul(quot, value))


def float_power(input: Any, exponent: Any) -> Tensor:
    """input ** exponent computed in double precision: the result is always float64."""
    t = as_tensor(input).to(np.float64)
    if isinstance(exponent, (Tensor, np.ndarray, list, tuple)):
        exponent = as_tensor(exponent).to(np.float64)
    elif isinstance(exponent, (int, float, np.number)) and not isinstance(exponent, bool):
        exponent = float(exponent)
    return pow(t, exponent)


class Copysign(Op):
    """y = |a| with the sign of b (−0.0 counts as negative).  da = dy·y/a (±1; 0 at a = 0), db = 0."""

    def forward(self, a, b):
        return np.copysign(a, b)

    def backward(self, dy):
        a, b = self.input_arrays
        with np.errstate(invalid="ignore"):
            flip = np.where(a == 0, 0, np.sign(a) * np.copysign(1, b)).astype(a.dtype, copy=False)
        return dy * flip, (self.xp.zeros_like(dy) if self.needs_input_grad[1] else None)


def _float_pair(op: str, input: Any, other: Any) -> tuple[Tensor, Tensor]:
    """Both operands in their common dtype, integers and bools made the default float."""
    ta = as_tensor(input, other if isinstance(other, Tensor) else None)
    tb = as_tensor(other, ta)
    if ta.array.dtype != tb.array.dtype:
        ta, tb = promote(ta, tb)
    _check_broadcast(op, ta, tb)
    return _to_float(ta), _to_float(tb)


def copysign(input: Any, other: Any) -> Tensor:
    """|input| with the sign of other, elementwise (integers become floats)."""
    return Copysign.apply(*_float_pair("copysign", input, other))


class Xlogy(Op):
    """y = x · ln(z), 0 where x = 0 (unless z is nan).  dx = dy·ln z (0 where x = 0), dz = dy·x/z."""

    @ignoring(divide="ignore", invalid="ignore")
    def forward(self, x, z):
        return np.where((x == 0) & ~np.isnan(z), x.dtype.type(0), x * np.log(z))

    def backward(self, dy):
        xp = self.xp
        x, z = self.inputs
        x_arr, z_arr = self.input_arrays
        dx = dz = None
        with np.errstate(divide="ignore", invalid="ignore"):
            if self.needs_input_grad[0]:
                used = x_arr != 0
                dx = dy * xp.where(used, xp.log(xp.where(used, z, 1)), 0)
            if self.needs_input_grad[1]:
                dz = dy * x / z
        return dx, dz


def xlogy(input: Any, other: Any) -> Tensor:
    """input · ln(other), elementwise, with 0 wherever input is 0 (so 0·ln 0 = 0); nan in other stays nan."""
    return Xlogy.apply(*_float_pair("xlogy", input, other))


def ldexp(input: Any, other: Any) -> Tensor:
    """input · 2^other, elementwise (a float result)."""
    x = _to_float(as_tensor(input, other if isinstance(other, Tensor) else None))
    return mul(x, pow(2.0, as_tensor(other, x)))  # 2^e is exact for whole e


def _integer_pair(op: str, input: Any, other: Any) -> tuple[np.ndarray, np.ndarray]:
    ta = as_tensor(input, other if isinstance(other, Tensor) else None)
    tb = as_tensor(other, ta)
    if ta.array.dtype != tb.array.dtype:
        ta, tb = promote(ta, tb)
    if ta.array.dtype.kind not in "iu":
        raise TypeError(f"{op}: expected integer tensors, got {ta.array.dtype} (as PyTorch, {op} is not "
                        "defined for floating point or bool)")
    _check_broadcast(op, ta, tb)
    return ta.array, tb.array


def gcd(input: Any, other: Any) -> Tensor:
    """The greatest common divisor of integers, elementwise (non-negative; gcd(0, 0) = 0)."""
    return Tensor._make(np.gcd(*_integer_pair("gcd", input, other)), None, False)


def lcm(input: Any, other: Any) -> Tensor:
    """The least common multiple of integers, elementwise (non-negative; 0 if either is 0)."""
    return Tensor._make(np.lcm(*_integer_pair("lcm", input, other)), None, False)


# --- logaddexp, logaddexp2, hypot: floats only, as PyTorch ---------------------------------------
def _floats_only(op: str, input: Any, other: Any) -> tuple[Tensor, Tensor]:
    ta = as_tensor(input, other if isinstance(other, Tensor) else None)
    tb = as_tensor(other, ta)
    if ta.array.dtype != tb.array.dtype:
        ta, tb = promote(ta, tb)
    if ta.array.dtype.kind not in "fc":
        raise TypeError(f"{op}: expected floating point tensors, got {ta.array.dtype} (PyTorch does not "
                        f"implement {op} for integers or bools either; convert with .float() first)")
    _check_broadcast(op, ta, tb)
    return ta, tb


class LogAddExp(Op):
    """y = ln(eᵃ + eᵇ), without overflow.  da = dy·e^(a−y), db = dy·e^(b−y) (nan where a = b = ±inf, as PyTorch)."""

    save_output = True

    @ignoring(invalid="ignore", over="ignore")
    def forward(self, a, b):
        return np.logaddexp(a, b)

    def backward(self, dy):
        xp = self.xp
        a, b = self.inputs
        y = self.output
        with np.errstate(invalid="ignore", over="ignore"):
            return dy * xp.exp(a - y), dy * xp.exp(b - y)


class LogAddExp2(Op):
    """y = log₂(2ᵃ + 2ᵇ).  da = dy·2^(a−y), db = dy·2^(b−y)."""

    save_output = True

    @ignoring(invalid="ignore", over="ignore")
    def forward(self, a, b):
        return np.logaddexp2(a, b)

    def backward(self, dy):
        xp = self.xp
        a, b = self.inputs
        y = self.output
        ln2 = float(np.log(2))
        with np.errstate(invalid="ignore", over="ignore"):
            return dy * xp.exp((a - y) * ln2), dy * xp.exp((b - y) * ln2)


class Hypot(Op):
    """y = √(a² + b²), without overflow.  da = dy·a/y, db = dy·b/y (nan at a = b = 0, as PyTorch)."""

    save_output = True

    def forward(self, a, b):
        return np.hypot(a, b)

    def backward(self, dy):
        a, b = self.inputs
        y = self.output
        with np.errstate(invalid="ignore", divide="ignore"):
            return dy * a / y, dy * b / y


def logaddexp(input: Any, other: Any) -> Tensor:
    """ln(e^input + e^other), elementwise, stable for large inputs."""
    return LogAddExp.apply(*_floats_only("logaddexp", input, other))


def logaddexp2(input: Any, other: Any) -> Tensor:
    """log₂(2^input + 2^other), elementwise, stable for large inputs."""
    return LogAddExp2.apply(*_floats_only("logaddexp2", input, other))


def hypot(input: Any, other: Any) -> Tensor:
    """√(input² + other²), elementwise, without overflow."""
    return Hypot.apply(*_floats_only("hypot", input, other))
