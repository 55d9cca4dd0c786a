"""Elementwise math: exp, log, sqrt, abs, sign, sin, cos, erf, log1p, expm1, reciprocal."""
from __future__ import annotations

import math
from collections import namedtuple
from typing import Any

import numpy as np

from .. import parallel
from ..autograd.op import Op
from ..devices import backend_of
from ..kernels import ignoring
from ..tensor import Tensor, as_tensor, get_default_dtype


def _float_input(op: str, x: Any) -> Tensor:
    t = as_tensor(x)
    if t.array.dtype.kind != "f":
        return Tensor._make(t.array.astype(get_default_dtype()), None, False)
    return t


class Exp(Op):
    """y = eˣ.  dy/dx = eˣ = y."""

    save_output = True

    @ignoring(over="ignore")
    def forward(self, x):
        return parallel.elementwise(np.exp, x, heavy=True)

    def backward(self, dy):
        return parallel.elementwise(_times, dy, self.output)


def _times(a, b, out=None):
    """a·b, as matgrad.parallel takes it (np.multiply for arrays, * for Tensors)."""
    return a * b if out is None else np.multiply(a, b, out=out)


class Log(Op):
    """y = ln x.  dy/dx = 1/x."""

    @ignoring(divide="ignore", invalid="ignore")
    def forward(self, x):
        return np.log(x)

    def backward(self, dy):
        (x,) = self.inputs
        return dy / x


class Sqrt(Op):
    """y = √x.  dy/dx = 1/(2√x) = 1/(2y)."""

    save_output = True

    @ignoring(invalid="ignore")
    def forward(self, x):
        return np.sqrt(x)

    def backward(self, dy):
        return dy / (2 * self.output)


class Abs(Op):
    """y = |x|.  dy/dx = sign(x) (0 at x = 0, as PyTorch)."""

    def forward(self, x):
        return np.abs(x)

    @ignoring(invalid="ignore")  # inf·0 at x = 0 is nan, as in PyTorch, without NumPy's warning
    def backward(self, dy):
        (x,) = self.inputs
        # sign(nan) is nan; PyTorch's gradient at a nan input is 0
        return self.xp.where(x == x, dy * self.xp.sign(x), 0)


class Sign(Op):
    """y = sign(x).  dy/dx = 0 everywhere it is defined."""

    def forward(self, x):
        out = np.sign(x)
        if isinstance(out, np.generic):  # NumPy's 0-d result is a scalar: nan_to_num needs an array
            out = np.asarray(out)
        if out.dtype.kind == "f":
            np.nan_to_num(out, copy=False, nan=0.0)  # sign(nan) is 0, as PyTorch
        return out

    def backward(self, dy):
        return dy * 0


class Sin(Op):
    """y = sin x.  dy/dx = cos x."""

    def forward(self, x):
        return np.sin(x)

    def backward(self, dy):
        (x,) = self.inputs
        return dy * self.xp.cos(x)


class Cos(Op):
    """y = cos x.  dy/dx = -sin x."""

    def forward(self, x):
        return np.cos(x)

    def backward(self, dy):
        (x,) = self.inputs
        return -(dy * self.xp.sin(x))


class Erf(Op):
    """y = erf x.  dy/dx = 2/√π · e^(-x²)."""

    def forward(self, x):
        return backend_of(x).namespace.erf(x)  # the kernel of x's device

    def backward(self, dy):
        (x,) = self.inputs
        return dy * (2 / math.sqrt(math.pi)) * self.xp.exp(-(x * x))


def exp(input: Any) -> Tensor:
    """eˣ, elementwise."""
    return Exp.apply(_float_input("exp", input))


def log(input: Any) -> Tensor:
    """Natural logarithm, elementwise (-inf at 0, nan below)."""
    return Log.apply(_float_input("log", input))


def sqrt(input: Any) -> Tensor:
    """Square root, elementwise."""
    return Sqrt.apply(_float_input("sqrt", input))


def abs(input: Any) -> Tensor:  # noqa: A001 - PyTorch's name
    """|x|, elementwise."""
    return Abs.apply(as_tensor(input))


def sign(input: Any) -> Tensor:
    """-1, 0 or 1 by the sign of each element."""
    return Sign.apply(as_tensor(input))


def sin(input: Any) -> Tensor:
    """Sine, elementwise."""
    return Sin.apply(_float_input("sin", input))


def cos(input: Any) -> Tensor:
    """Cosine, elementwise."""
    return Cos.apply(_float_input("cos", input))


def erf(input: Any) -> Tensor:
    """The error function, elementwise."""
    return Erf.apply(_float_input("erf", input))


def square(input: Any) -> Tensor:
    """x², elementwise."""
    from .arithmetic import pow

    return pow(input, 2)


def rsqrt(input: Any) -> Tensor:
    """1/√x, elementwise."""
    from .arithmetic import pow

    return pow(input, -0.5)


absolute = abs


class Log1p(Op):
    """y = ln(1 + x), exact for tiny x.  dy/dx = 1/(1 + x)."""

    @ignoring(divide="ignore", invalid="ignore")
    def forward(self, x):
        return np.log1p(x)

    def backward(self, dy):
        (x,) = self.inputs
        return dy / (x + 1)


class Expm1(Op):
    """y = eˣ - 1, exact for tiny x.  dy/dx = eˣ = y + 1."""

    save_output = True

    @ignoring(over="ignore")
    def forward(self, x):
        return np.expm1(x)

    def backward(self, dy):
        return dy * (self.output + 1)


def log1p(input: Any) -> Tensor:
    """ln(1 + x), elementwise, accurate near 0."""
    return Log1p.apply(_float_input("log1p", input))


def expm1(input: Any) -> Tensor:
    """eˣ - 1, elementwise, accurate near 0."""
    return Expm1.apply(_float_input("expm1", input))


def reciprocal(input: Any) -> Tensor:
    """1/x, elementwise (integers become floats)."""
    from .arithmetic import div

    t = _float_input("reciprocal", input)
    return div(Tensor._make(np.ones_like(t.array, shape=()), None, False), t)


# --- trigonometric, hyperbolic, base-2 and base-10 ---------------------------------------------
class Tan(Op):
    """y = tan x.  dx = dy·(1 + y²)."""

    save_output = True

    def forward(self, x):
        return np.tan(x)

    def backward(self, dy):
        y = self.output
        return dy * (1 + y * y)


class Asin(Op):
    """y = asin x.  dx = dy / √(1 − x²)."""

    @ignoring(invalid="ignore")
    def forward(self, x):
        return np.arcsin(x)

    def backward(self, dy):
        (x,) = self.inputs
        return dy / self.xp.sqrt(1 - x * x)


class Acos(Op):
    """y = acos x.  dx = −dy / √(1 − x²)."""

    @ignoring(invalid="ignore")
    def forward(self, x):
        return np.arccos(x)

    def backward(self, dy):
        (x,) = self.inputs
        return -(dy / self.xp.sqrt(1 - x * x))


class Atan(Op):
    """y = atan x.  dx = dy / (1 + x²)."""

    def forward(self, x):
        return np.arctan(x)

    def backward(self, dy):
        (x,) = self.inputs
        return dy / (1 + x * x)


class Sinh(Op):
    """y = sinh x.  dx = dy·cosh x = dy·(eˣ + e⁻ˣ)/2."""

    @ignoring(over="ignore")
    def forward(self, x):
        return np.sinh(x)

    def backward(self, dy):
        xp = self.xp
        (x,) = self.inputs
        return dy * ((xp.exp(x) + xp.exp(-x)) * 0.5)


class Cosh(Op):
    """y = cosh x.  dx = dy·sinh x = dy·(eˣ − e⁻ˣ)/2."""

    @ignoring(over="ignore")
    def forward(self, x):
        return np.cosh(x)

    def backward(self, dy):
        xp = self.xp
        (x,) = self.inputs
        return dy * ((xp.exp(x) - xp.exp(-x)) * 0.5)


class Asinh(Op):
    """y = asinh x.  dx = dy / √(x² + 1)."""

    def forward(self, x):
        return np.arcsinh(x)

    def backward(self, dy):
        (x,) = self.inputs
        return dy / self.xp.sqrt(x * x + 1)


class Acosh(Op):
    """y = acosh x.  dx = dy / √(x² − 1)."""

    @ignoring(invalid="ignore")
    def forward(self, x):
        return np.arccosh(x)

    def backward(self, dy):
        (x,) = self.inputs
        return dy / self.xp.sqrt(x * x - 1)


class Atanh(Op):
    """y = atanh x.  dx = dy / (1 − x²)."""

    @ignoring(invalid="ignore", divide="ignore")
    def forward(self, x):
        return np.arctanh(x)

    def backward(self, dy):
        (x,) = self.inputs
        return dy / (1 - x * x)


class Log2(Op):
    """y = log₂ x.  dx = dy / (x·ln 2)."""

    @ignoring(divide="ignore", invalid="ignore")
    def forward(self, x):
        return np.log2(x)

    def backward(self, dy):
        (x,) = self.inputs
        return dy / (x * math.log(2))


class Log10(Op):
    """y = log₁₀ x.  dx = dy / (x·ln 10)."""

    @ignoring(divide="ignore", invalid="ignore")
    def forward(self, x):
        return np.log10(x)

    def backward(self, dy):
        (x,) = self.inputs
        return dy / (x * math.log(10))


class Exp2(Op):
    """y = 2ˣ.  dx = dy·y·ln 2."""

    save_output = True

    @ignoring(over="ignore")
    def forward(self, x):
        return np.exp2(x)

    def backward(self, dy):
        return dy * self.output * math.log(2)


def tan(input: Any) -> Tensor:
    """Tangent, elementwise."""
    return Tan.apply(_float_input("tan", input))


def asin(input: Any) -> Tensor:
    """Arcsine, elementwise (nan outside [-1, 1])."""
    return Asin.apply(_float_input("asin", input))


def acos(input: Any) -> Tensor:
    """Arccosine, elementwise (nan outside [-1, 1])."""
    return Acos.apply(_float_input("acos", input))


def atan(input: Any) -> Tensor:
    """Arctangent, elementwise."""
    return Atan.apply(_float_input("atan", input))


def sinh(input: Any) -> Tensor:
    """Hyperbolic sine, elementwise."""
    return Sinh.apply(_float_input("sinh", input))


def cosh(input: Any) -> Tensor:
    """Hyperbolic cosine, elementwise."""
    return Cosh.apply(_float_input("cosh", input))


def asinh(input: Any) -> Tensor:
    """Inverse hyperbolic sine, elementwise."""
    return Asinh.apply(_float_input("asinh", input))


def acosh(input: Any) -> Tensor:
    """Inverse hyperbolic cosine, elementwise (nan below 1)."""
    return Acosh.apply(_float_input("acosh", input))


def atanh(input: Any) -> Tensor:
    """Inverse hyperbolic tangent, elementwise (±inf at ±1, nan outside)."""
    return Atanh.apply(_float_input("atanh", input))


def log2(input: Any) -> Tensor:
    """Base-2 logarithm, elementwise."""
    return Log2.apply(_float_input("log2", input))


def log10(input: Any) -> Tensor:
    """Base-10 logarithm, elementwise."""
    return Log10.apply(_float_input("log10", input))


def exp2(input: Any) -> Tensor:
    """2ˣ, elementwise."""
    return Exp2.apply(_float_input("exp2", input))


arcsin, arccos, arctan, arcsinh, arccosh, arctanh = asin, acos, atan, asinh, acosh, atanh


# --- rounding: piecewise constant, so the gradient is 0 (as PyTorch) -----------------------------
class Rounding(Op):
    """y = floor / ceil / round / trunc of x.  dx = 0 (piecewise constant)."""

    def forward(self, x, fn):
        return fn(x)

    def backward(self, dy):
        return dy * 0


def _rounding(input: Any, fn: Any) -> Tensor:
    t = as_tensor(input)
    if t.array.dtype.kind in "biu":  # integers are already whole: PyTorch returns them unchanged
        return Tensor._make(t.array.copy(), None, False)
    return Rounding.apply(t, fn=fn)


def floor(input: Any) -> Tensor:
    """The largest integer ≤ x, elementwise (same dtype)."""
    return _rounding(input, np.floor)


def ceil(input: Any) -> Tensor:
    """The smallest integer ≥ x, elementwise (same dtype)."""
    return _rounding(input, np.ceil)


def trunc(input: Any) -> Tensor:
    """x rounded toward zero, elementwise (same dtype)."""
    return _rounding(input, np.trunc)


fix = trunc


def round(input: Any, *, decimals: int = 0) -> Tensor:  # noqa: A001 - PyTorch's name
    """x rounded to `decimals` places, halves to even (as PyTorch and NumPy)."""
    if decimals == 0:
        return _rounding(input, np.round)
    t = as_tensor(input)
    if t.array.dtype.kind in "biu":
        raise TypeError("round: decimals= is only supported for floating point tensors, as in PyTorch")
    return Rounding.apply(t, fn=lambda a: np.round(a, decimals))


def frac(input: Any) -> Tensor:
    """x − trunc(x): the fractional part, with x's sign.  Its gradient is 1."""
    from .arithmetic import sub

    t = as_tensor(input)
    if t.array.dtype.kind in "biu":
        raise TypeError(f"frac: expected a floating point tensor, got {t.array.dtype}")
    with np.errstate(invalid="ignore"):  # frac(±inf) is nan, as PyTorch, without a warning
        return sub(t, trunc(t))


def nan_to_num(input: Any, nan: float = 0.0, posinf: float | None = None, neginf: float | None = None) -> Tensor:
    """nan, +inf and -inf replaced by `nan`, `posinf` and `neginf` (default the dtype's largest and
    smallest); the gradient flows only through the finite elements."""
    from .binary import where

    t = as_tensor(input)
    x = t.array
    if x.dtype.kind not in "fc":
        return Tensor._make(x.copy(), None, False)
    info = np.finfo(x.dtype)
    fill = np.nan_to_num(x, nan=nan, posinf=info.max if posinf is None else posinf,
                         neginf=info.min if neginf is None else neginf)
    finite = np.isfinite(x)
    if finite.all():
        return t * 1 if t.requires_grad else Tensor._make(x.copy(), None, False)
    return where(finite, t, Tensor._make(fill, None, False))


# --- logit, erfc, sinc, frexp; signbit, sgn, positive, deg2rad, rad2deg ---------------------------
class Logit(Op):
    """y = ln(z / (1 − z)), z = x clamped to [eps, 1 − eps].  dx = dy / (x(1 − x)) inside, 0 outside
    the clamp; without eps, nan outside [0, 1] (as PyTorch)."""

    @ignoring(divide="ignore", invalid="ignore")
    def forward(self, x, eps):
        self.eps = eps
        z = x if eps is None else np.clip(x, eps, 1 - eps)
        return np.log(z / (1 - z))

    def backward(self, dy):
        xp = self.xp
        (x,) = self.inputs
        x_arr = self.input_arrays[0]
        with np.errstate(divide="ignore", invalid="ignore"):
            g = dy / (x * (1 - x))
        if self.eps is None:
            outside = (x_arr < 0) | (x_arr > 1)
            return xp.where(outside, np.nan, g) if outside.any() else g
        outside = (x_arr < self.eps) | (x_arr > 1 - self.eps)
        return xp.where(outside, 0, g) if outside.any() else g


def logit(input: Any, eps: float | None = None) -> Tensor:
    """ln(x / (1 − x)), the inverse of sigmoid; with eps, x is first clamped to [eps, 1 − eps]."""
    return Logit.apply(_float_input("logit", input), eps=None if eps is None else float(eps))


class Erfc(Op):
    """y = erfc x = 1 − erf x, accurate where it is tiny (x up to ~27).  dy/dx = −2/√π · e^(−x²)."""

    def forward(self, x):
        return backend_of(x).namespace.erfc(x)  # the kernel of x's device (math.erfc on the CPU)

    def backward(self, dy):
        (x,) = self.inputs
        return dy * (-2 / math.sqrt(math.pi)) * self.xp.exp(-(x * x))


def erfc(input: Any) -> Tensor:
    """The complementary error function 1 − erf(x), elementwise."""
    return Erfc.apply(_float_input("erfc", input))


class Sinc(Op):
    """y = sin(πx)/(πx), 1 at x = 0.  dx = dy·(cos(πx) − sinc x)/x, 0 at x = 0 (curvature −π²/3)."""

    @ignoring(invalid="ignore")
    def forward(self, x):
        px = x * x.dtype.type(math.pi)
        return np.where(x == 0, x.dtype.type(1), np.sin(px) / np.where(x == 0, x.dtype.type(1), px))

    def backward(self, dy):
        xp = self.xp
        (x,) = self.inputs
        zero = self.input_arrays[0] == 0
        safe = xp.where(zero, 1, x) if zero.any() else x
        px = safe * math.pi
        with np.errstate(invalid="ignore"):
            g = (xp.cos(px) * px - xp.sin(px)) / (px * safe)
        # at 0 the slope is 0 and the curvature −π²/3: x·(−π²/3) has both, so second order holds there too
        return dy * (xp.where(zero, x * (-math.pi ** 2 / 3), g) if zero.any() else g)


def sinc(input: Any) -> Tensor:
    """The normalized sinc function sin(πx)/(πx), elementwise (1 at 0)."""
    return Sinc.apply(_float_input("sinc", input))


class Frexp(Op):
    """mantissa = x / 2^e, the exponent e a constant here.  dx = dy / 2^e."""

    def forward(self, x, mantissa, scale):
        self.scale = scale
        return mantissa

    def backward(self, dy):
        return dy * self.scale


FrexpResult = namedtuple("frexp", ["mantissa", "exponent"])


def frexp(input: Any) -> Any:
    """(mantissa, exponent) with input = mantissa · 2^exponent, |mantissa| in [0.5, 1); exponent is int32."""
    t = as_tensor(input)
    if t.array.dtype.kind != "f":
        raise TypeError(f"frexp: only supports floating-point dtypes, got {t.array.dtype}")
    mantissa, exponent = np.frexp(t.array)  # on t's device; NumPy gives scalars for a 0-d input
    with np.errstate(over="ignore"):  # 1/2^e overflows for subnormals: inf, as PyTorch's grad / 2^e
        scale = np.ldexp(np.ones_like(t.array), -exponent)
    return FrexpResult(Frexp.apply(t, mantissa=_array(mantissa), scale=scale),
                       Tensor._make(_array(exponent).astype(np.int32), None, False))


def _array(a: Any) -> Any:
    """`a` as an array: NumPy's scalars become 0-d arrays, a device's arrays stay as they are."""
    return np.asarray(a) if isinstance(a, np.generic) else a


def signbit(input: Any) -> Tensor:
    """True where the sign bit is set (negative numbers and −0.0), elementwise; no gradient."""
    return Tensor._make(np.signbit(as_tensor(input).array), None, False)


def sgn(input: Any) -> Tensor:
    """The sign of each element (sign for real tensors: −1, 0 or 1)."""
    return sign(input)


def positive(input: Any) -> Tensor:
    """The input itself (unary +); bool tensors are refused, as PyTorch."""
    t = as_tensor(input)
    if t.array.dtype.kind == "b":
        raise TypeError("positive: the + operator on a bool tensor is not supported, as in PyTorch")
    return t


def deg2rad(input: Any) -> Tensor:
    """Degrees to radians (x · π/180), elementwise; integers become floats."""
    from .arithmetic import mul

    return mul(_float_input("deg2rad", input), math.pi / 180)


def rad2deg(input: Any) -> Tensor:
    """Radians to degrees (x · 180/π), elementwise; integers become floats."""
    from .arithmetic import mul

    return mul(_float_input("rad2deg", input), 180 / math.pi)


# --- complex parts: matgrad has only real dtypes, where these are the tensor itself, as in PyTorch ---------
def _real_tensor(op: str, input: Any) -> Tensor:
    t = as_tensor(input)
    if t.array.dtype.kind == "c":
        raise TypeError(f"{op}: matgrad has no complex dtype, got a tensor of {t.array.dtype}")
    return t


def real(input: Any) -> Tensor:
    """The real part: the tensor itself (matgrad's tensors are real)."""
    return _real_tensor("real", input)


def conj(input: Any) -> Tensor:
    """The complex conjugate: the tensor itself (matgrad's tensors are real)."""
    return _real_tensor("conj", input)


def resolve_conj(input: Any) -> Tensor:
    """The tensor with a pending conjugation applied: itself (matgrad never defers one)."""
    return _real_tensor("resolve_conj", input)


def resolve_neg(input: Any) -> Tensor:
    """The tensor with a pending negation applied: itself (matgrad never defers one)."""
    return _real_tensor("resolve_neg", input)
