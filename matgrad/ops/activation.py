"""Activations: tanh, sigmoid, relu, relu6, hardtanh, hardsigmoid, hardswish, leaky_relu, elu, gelu, softplus, clamp."""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import _autocast, parallel
from ..autograd.op import Op
from ..devices import backend_of
from ..kernels import ignoring
from ..tensor import ShapeError, Tensor, as_tensor
from .binary import where
from .unary import _float_input


class Tanh(Op):
    """y = tanh x.  dy/dx = 1 - y²."""

    save_output = True

    def forward(self, x):
        return parallel.elementwise(np.tanh, x, heavy=True)

    def backward(self, dy):
        return parallel.elementwise(_tanh_grad, dy, self.output)


# The formulas as matgrad.parallel takes them: with out=None the plain expression (for any array or
# Tensor), with out= a chunk of the result the same steps in place, into it.
def _tanh_grad(dy, y, out=None):
    """dy·(1 - y²)."""
    if out is None:
        return dy * (1 - y * y)
    np.multiply(y, y, out=out)
    np.subtract(1, out, out=out)
    return np.multiply(dy, out, out=out)


def _logistic(x, out=None):
    """1 / (1 + e⁻ˣ)."""
    y = np.exp(-x) if out is None else np.exp(np.negative(x, out=out), out=out)
    if isinstance(y, np.generic):  # 0-d input: NumPy returns a scalar, not an array
        y = np.asarray(y)
    y += 1
    return np.reciprocal(y, out=y)


def _sigmoid_grad(dy, y, out=None):
    """dy·(y·(1 - y))."""
    if out is None:
        return dy * (y * (1 - y))
    np.subtract(1, y, out=out)
    np.multiply(y, out, out=out)
    return np.multiply(dy, out, out=out)


class Sigmoid(Op):
    """y = 1 / (1 + e⁻ˣ).  dy/dx = y · (1 - y)."""

    save_output = True

    @ignoring(over="ignore")  # exp(-x) overflows to inf for very negative x, and 1/(1+inf) is exactly 0: right
    def forward(self, x):
        return parallel.elementwise(_logistic, x, heavy=True)

    def backward(self, dy):
        return parallel.elementwise(_sigmoid_grad, dy, self.output)


def _clip_below(x, out=None):
    """max(x, 0), as np.clip does it."""
    return np.clip(x, 0, np.inf) if out is None else np.clip(x, 0, np.inf, out=out)


#: The integer of each float's width: a gate multiplies the float's bits.
_BITS = {np.dtype(f"f{n}"): np.dtype(f"i{n}") for n in (2, 4, 8)}  # dtypes, not types: view() takes them faster


def _gate(dy, keep, out=None):
    """dy where keep, else +0.0: PyTorch's where(keep, dy, 0), so an inf or nan dy where keep is False gives 0.

    dy·keep would give nan there (inf·0), and NumPy's "invalid value" warning; np.where branches on
    relu's random masks (9× the multiply at 128×1024) and kernels.where's three bit passes cost 1.3-1.7×
    the multiply (64×128: 2.7-3×). Multiplying dy's bits by keep (0 or 1) as integers selects exactly,
    every bit of dy or +0.0, in the multiply's one pass. ReLU's backward through parallel.elementwise
    (mask + this) against the old dy·(y > 0), float32, one thread / two (2-core AMD EPYC shared with
    other jobs, NumPy 2.4.6, medians of 21 interleaved samples, two runs): 64×128 1.15-1.21× / 1.22-1.24×
    (+1-2 µs: the two views), 128×1024 1.07-1.15× / 1.04-1.09×, 128×32×28×28 1.03-1.04× / 0.99-1.05×
    (4.1-4.4 ms / 2.2-2.7 ms).
    """
    bits = _BITS.get(dy.dtype) if type(dy) is np.ndarray else None
    if bits is None:  # a device array, another dtype: the select itself
        r = backend_of(dy).namespace.where(keep, dy, 0)
        if out is None:
            return r
        out[...] = r
        return out
    if out is None:
        if keep.shape != dy.shape:  # broadcast: the product's shape
            return np.multiply(dy.view(bits), keep, dtype=bits).view(dy.dtype)
        out = np.empty_like(dy)  # an array of its own, not a view of the integer product: a leaf's .grad takes it
        # uncopied (bench_cnn_parts.py --only relu, a leaf's ReLU, 1 thread: 0.37× at (128, 32, 28, 28))
    np.multiply(dy.view(bits), keep, dtype=bits, out=out.view(bits))
    return out


def _relu_grad(dy, y, out=None):
    """dy where y != 0, else 0: on relu's output (+0, -0, > 0 or nan) PyTorch's `y <= 0 ? 0 : dy`, nan passing dy."""
    return _gate(dy, y != 0, out)


class ReLU(Op):
    """y = max(x, 0).  dy/dx = 1 where x > 0, else 0: the gradient is routed or stopped (selected, as PyTorch)."""

    save_output = True

    def forward(self, x):
        if x.dtype.kind == "f" and x.size >= 4096:
            # clip's loop is branch-free, 3× np.maximum's on random signs; its Python wrapper
            # costs ~1 µs more, so small arrays keep maximum
            return parallel.elementwise(_clip_below, x)
        # 0 first: on a tie maximum returns its second argument, so relu(-0.0) = -0.0 as clip
        # and PyTorch give, whatever the size
        return np.maximum(0, x)

    def backward(self, dy):
        if self.xp.plain:
            return parallel.elementwise(_relu_grad, dy, self.out)
        return self.xp.where(self.out != 0, dy, 0)  # the mask is a constant: relu's second derivative is 0


class LeakyReLU(Op):
    """y = x if x > 0 else s·x.  dy/dx = 1 or s."""

    @ignoring(invalid="ignore")  # ±inf·0 is nan (s = 0), as in PyTorch's s·x, without NumPy's warning
    def forward(self, x, slope):
        self.slope = slope
        # = where(x > 0, x, s·x), without np.where's slow branchy loop: for s ≤ 1 the larger
        # of x and s·x is x exactly when x > 0; for s > 1 the smaller.
        if slope > 1:
            return np.minimum(x, x * slope)
        y = np.maximum(x, x * slope)
        if slope == 0 and x.dtype.kind == "f":  # +inf·0 is nan, where PyTorch's where(x > 0, x, 0·x) gives +inf
            np.copyto(y, x, where=np.isposinf(x))
        return y

    @ignoring(invalid="ignore")  # an inf dy times s = 0 is nan, as PyTorch's dy·s
    def backward(self, dy):
        x = self.input_arrays[0]
        if self.xp.plain and 0 <= self.slope <= 1:
            factor = (x > 0).astype(dy.dtype)  # 1 or 0 ...
            np.clip(factor, self.slope, 1, out=factor)  # ... 1 or s, branch-free (np.where is ~10× slower)
            factor *= dy
            return factor
        return self.xp.where(x > 0, dy, dy * self.slope)


def _exp_nonpositive(x, out=None):
    """e^min(x, 0): finite, nan at a nan x; clip, as np.minimum branches on random signs."""
    e = np.clip(x, -np.inf, 0) if out is None else np.clip(x, -np.inf, 0, out=out)
    return np.exp(e, out=e) if type(e) is np.ndarray else np.exp(e)


def _elu_grad(dy, x, alpha):
    """dy where x > 0, else α·eˣ·dy (nan at a nan x), on plain arrays, without a select."""
    e = parallel.elementwise(_exp_nonpositive, x, heavy=True)  # the exp on all threads when large; 1 for x > 0
    if alpha != 1:  # times α where x <= 0: α·(1 - m) + m is α or 1 exactly for the mask m of x > 0 (0 or 1),
        m = (x > 0).astype(e.dtype)  # 1.5× faster than kernels.where's select at 128×1024
        f = 1 - m
        f *= alpha
        f += m
        e *= f
    e *= dy
    return e


class ELU(Op):
    """y = x if x > 0 else α(eˣ - 1).  dy/dx = 1 or α·eˣ (nan at a nan x, as PyTorch's vectorized loop)."""

    def forward(self, x, alpha):
        self.alpha = alpha
        # clip, not np.minimum(x, 0): branch-free, and it keeps -0.0 (elu(-0.0) = -0.0, as PyTorch)
        return backend_of(x).namespace.where(x > 0, x, alpha * np.expm1(np.clip(x, -np.inf, 0)))

    @ignoring(invalid="ignore")  # an inf dy at x = -inf: inf·0 = nan, as PyTorch's, without NumPy's warning
    def backward(self, dy):
        # α·eˣ from the input, as PyTorch's elu_backward (is_result=False): y + α from the output loses
        # y's rounding to the cancellation, 2.5e-5 relative at x = -7 in float32, all of it by x = -17.
        # The same order as there, (dy·α)·eˣ, of min(x, 0): eˣ stays finite, a nan x stays nan (PyTorch's
        # vectorized loop gives nan there; its scalar tail, for the last elements, passes dy).
        xp, x = self.xp, self.input_arrays[0]
        if xp.plain:
            return _elu_grad(dy, x, self.alpha)
        # x itself where x < 0 only: the second derivative is 0 from 0 up, as PyTorch's elu_double_backward
        low = xp.where(x < 0, self.inputs[0], np.clip(x, -np.inf, 0))
        return xp.where(x > 0, dy, dy * self.alpha * xp.exp(low))


class GELU(Op):
    """y = x·Φ(x).  dy/dx = Φ(x) + x·φ(x); approximate='tanh' uses PyTorch's tanh form."""

    def forward(self, x, approximate):
        self.approximate = approximate
        if approximate == "tanh":
            k = math.sqrt(2 / math.pi)
            return 0.5 * x * (1 + np.tanh(k * (x + 0.044715 * x**3)))
        return 0.5 * x * (1 + backend_of(x).namespace.erf(x / math.sqrt(2)))

    def backward(self, dy):
        xp = self.xp
        (x,) = self.inputs
        if self.approximate == "tanh":
            k = math.sqrt(2 / math.pi)
            t = xp.tanh(k * (x + 0.044715 * x * x * x))
            dt = (1 - t * t) * k * (1 + 3 * 0.044715 * x * x)
            return dy * (0.5 * (1 + t) + 0.5 * x * dt)
        cdf = 0.5 * (1 + xp.erf(x * (1 / math.sqrt(2))))
        pdf = xp.exp(-0.5 * x * x) * (1 / math.sqrt(2 * math.pi))
        return dy * (cdf + x * pdf)


class Softplus(Op):
    """y = ln(1 + e^(βx))/β (x above threshold/β: y = x).  dy/dx = sigmoid(βx)."""

    def forward(self, x, beta, threshold):
        self.beta, self.threshold = beta, threshold
        bx = beta * x
        ns = backend_of(x).namespace  # the kernels of x's device
        return ns.where(bx > threshold, x, ns.softplus(bx) / beta)

    def backward(self, dy):
        xp = self.xp
        (x,) = self.inputs
        bx = x * self.beta
        lin = self.input_arrays[0] * self.beta > self.threshold
        with np.errstate(over="ignore"):  # e^(-βx) = inf for very negative x gives σ = 0: right
            s = 1 / (1 + xp.exp(-bx))
        return xp.where(lin, dy, dy * s)


class Clamp(Op):
    """y = min(max(x, lo), hi).  dy/dx = 1 where lo <= x <= hi (strict: lo < x < hi), else 0.

    `strict` is PyTorch's hardtanh and relu6: 0 at the bounds themselves, where clamp passes dy.
    """

    def forward(self, x, lo, hi, strict=False):
        self.lo, self.hi, self.strict = lo, hi, strict
        # a missing bound as ±inf: given None, np.clip falls back to np.maximum/minimum, which
        # branch (4× slower on random data) and give +0.0 for -0.0 where PyTorch keeps -0.0
        if x.dtype.kind == "f":
            lo, hi = -np.inf if lo is None else lo, np.inf if hi is None else hi
        return np.clip(x, lo, hi)

    def backward(self, dy):
        x = self.input_arrays[0]
        above, below = (np.greater, np.less) if self.strict else (np.greater_equal, np.less_equal)
        keep = None
        if self.lo is not None:
            keep = above(x, self.lo)
        if self.hi is not None:
            keep = below(x, self.hi) if keep is None else np.logical_and(keep, below(x, self.hi), out=keep)
        # selected, as PyTorch: an inf or nan dy outside the bounds gives 0. A nan x gets 0 from both
        # (clamp's where; hardtanh's vectorized loop, though its scalar tail passes dy)
        return _gate(dy, keep) if self.xp.plain else self.xp.where(keep, dy, 0)


class ClampTensor(Op):
    """y = min(max(x, lo), hi).  dy/dx = [lo <= x <= hi], dy/dlo = [x < lo < hi], dy/dhi = [x > hi or hi < lo].

    PyTorch's clamp.Tensor: the bounds are tensors that broadcast (either may be left out); min > max gives
    hi everywhere. Each gradient is selected (0 elsewhere): a tie (x == lo or x == hi) is the input's alone,
    and a nan anywhere gives every input 0.
    """

    def forward(self, x, *bounds, has_min, has_max):
        self.has_min, self.has_max = has_min, has_max
        if has_min and has_max:
            return np.clip(x, *bounds)  # min(max(x, lo), hi): nan from any of the three, hi where lo > hi
        return np.maximum(x, bounds[0]) if has_min else np.minimum(x, bounds[0])

    def backward(self, dy):
        arrays, need = self.input_arrays, self.needs_input_grad
        x = arrays[0]
        lo = arrays[1] if self.has_min else None
        hi = arrays[-1] if self.has_max else None
        # PyTorch's clamp_backward and clamp_backward_min_max, mask by mask (only those asked for)
        keeps = [None] * len(arrays)
        if need[0]:
            keeps[0] = (x >= lo if hi is None else x <= hi if lo is None
                        else np.logical_and(x >= lo, x <= hi))
        if lo is not None and need[1]:
            keeps[1] = x < lo if hi is None else np.logical_and(x < lo, lo < hi)
        if hi is not None and need[-1]:
            keeps[-1] = x > hi if lo is None else np.logical_or(x > hi, hi < lo)
        # the masks are constants: under create_graph the second derivative flows through dy alone
        select = _gate if self.xp.plain else (lambda g, keep: self.xp.where(keep, g, 0))
        return tuple(None if keep is None else select(dy, keep) for keep in keeps)


class Hardsigmoid(Op):
    """y = min(max(x + 3, 0), 6) / 6.  dy/dx = 1/6 where -3 < x < 3, else 0 (at ±3 too, as PyTorch)."""

    def forward(self, x):
        return np.clip(x + 3, 0, 6) / 6  # PyTorch's steps in its order: the same bits

    def backward(self, dy):
        x = self.input_arrays[0]
        keep = np.logical_and(x > -3, x < 3)  # a nan x: 0
        # PyTorch multiplies by 1/6 in float32 (1.0f/6.0f), for float64 too; dy/6 differs in the last bit
        g = dy * float(np.float32(1) / np.float32(6))
        return _gate(g, keep) if self.xp.plain else self.xp.where(keep, g, 0)


class Hardswish(Op):
    """y = x·min(max(x + 3, 0), 6) / 6.  dy/dx = 0 for x <= -3, x/3 + 1/2 between, 1 for x >= 3."""

    @ignoring(invalid="ignore")  # x = -inf: -inf·0 = nan, as PyTorch's
    def forward(self, x):
        return x * np.clip(x + 3, 0, 6) / 6  # PyTorch's steps in its order: the same bits

    def backward(self, dy):
        xp, x = self.xp, self.input_arrays[0]
        # PyTorch's vectorized loop, blend by blend: dy·(x/3 + 1/2), dy from 3 up, 0 up to -3 (a nan x:
        # nan, as there; its scalar tail passes dy). Selected: an inf dy below -3 gives 0, not nan.
        # The factor from self.inputs: a Tensor under create_graph, so the second derivative is 1/3
        with np.errstate(invalid="ignore"):  # inf·0 at x = -1.5 is nan in PyTorch too
            g = dy * (self.inputs[0] / 3 + 0.5)
        g = xp.where(x >= 3, dy, g)
        return xp.where(x <= -3, 0, g)


def tanh(input: Any) -> Tensor:
    """Hyperbolic tangent, elementwise."""
    return Tanh.apply(_float_input("tanh", input))


def sigmoid(input: Any) -> Tensor:
    """The logistic function 1/(1+e⁻ˣ), elementwise; exact 0 and 1 at the extremes, never nan."""
    return Sigmoid.apply(_float_input("sigmoid", input))


def relu(input: Any) -> Tensor:
    """max(x, 0), elementwise."""
    return ReLU.apply(as_tensor(input))


def relu6(input: Any) -> Tensor:
    """min(max(x, 0), 6), elementwise; gradient 0 at 0 and 6, as PyTorch's."""
    return hardtanh(input, 0.0, 6.0)


def hardtanh(input: Any, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    """min(max(x, min_val), max_val), elementwise; gradient 0 at the bounds, as PyTorch's (clamp passes it)."""
    return _clamp_scalars(input, min_val, max_val, strict=True)


def hardsigmoid(input: Any) -> Tensor:
    """relu6(x + 3) / 6, elementwise."""
    return Hardsigmoid.apply(_float_input("hardsigmoid", input))


def hardswish(input: Any) -> Tensor:
    """x·relu6(x + 3) / 6, elementwise."""
    return Hardswish.apply(_float_input("hardswish", input))


def leaky_relu(input: Any, negative_slope: float = 0.01) -> Tensor:
    """x for x > 0, negative_slope·x otherwise."""
    return LeakyReLU.apply(as_tensor(input), slope=float(negative_slope))


def elu(input: Any, alpha: float = 1.0) -> Tensor:
    """x for x > 0, alpha·(eˣ - 1) otherwise."""
    return ELU.apply(_float_input("elu", input), alpha=float(alpha))


def gelu(input: Any, approximate: str = "none") -> Tensor:
    """x·Φ(x), Φ the standard normal CDF; approximate='tanh' for the tanh form."""
    if approximate not in ("none", "tanh"):
        raise RuntimeError(f"gelu: approximate argument must be either 'none' or 'tanh', got {approximate!r}")
    return GELU.apply(_float_input("gelu", input), approximate=approximate)


def softplus(input: Any, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """ln(1 + e^(βx))/β, linear above threshold/β (as PyTorch), stable for any x."""
    return Softplus.apply(_float_input("softplus", input), beta=float(beta), threshold=float(threshold))


def clamp(input: Any, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002
    """Limit every element to [min, max]; either bound may be None."""
    if min is None and max is None:
        raise RuntimeError("clamp: At least one of 'min' or 'max' must not be None; give a bound")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        return _clamp_tensors(input, min, max)
    return _clamp_scalars(input, min, max)


def _clamp_tensors(input: Any, lo: Any, hi: Any) -> Tensor:
    """clamp with a tensor bound (the other a tensor, a number or None): PyTorch's clamp.Tensor, promoting all three."""
    from .arithmetic import promote

    t = as_tensor(input)
    bounds = tuple(as_tensor(b, t) for b in (lo, hi) if b is not None)
    tensors = promote(t, *bounds)
    try:
        return ClampTensor.apply(*tensors, has_min=lo is not None, has_max=hi is not None)
    except ValueError as e:
        if "broadcast" not in str(e):
            raise
        shapes = " and ".join(str(tuple(b.shape)) for b in tensors[1:])
        raise ShapeError(f"clamp: input {tuple(t.shape)} and bounds {shapes} cannot be broadcast together "
                         "(compare them from the right: each pair of sizes must be equal or one of them 1)") from None


def _clamp_scalars(input: Any, lo: Any, hi: Any, strict: bool = False) -> Tensor:
    # NumPy scalars as bounds would upcast float32 to float64; Python numbers do not.
    lo, hi = (v.item() if isinstance(v, np.generic) else v for v in (lo, hi))
    t = as_tensor(input)
    if t.array.dtype.kind in "iub" and any(isinstance(v, float) for v in (lo, hi)):
        from .arithmetic import _to_float

        t = _to_float(t)  # int.clamp(2.5) is a float tensor, as PyTorch
    return Clamp.apply(t, lo=lo, hi=hi, strict=strict)


clip = clamp


def clamp_min(input: Any, min: Any) -> Tensor:  # noqa: A002 - PyTorch's name
    """Every element raised to at least `min` (a number or a tensor): clamp(input, min=min)."""
    return clamp(input, min=min)


def clamp_max(input: Any, max: Any) -> Tensor:  # noqa: A002 - PyTorch's name
    """Every element lowered to at most `max` (a number or a tensor): clamp(input, max=max)."""
    return clamp(input, max=max)


def prelu(input: Any, weight: Any) -> Tensor:
    """x for x > 0, weight·x otherwise; weight has 1 or C (= input.shape[1]) entries."""
    if _autocast.on:  # on torch's autocast lists (CPU and CUDA)
        input, weight = _autocast.cast(_autocast.LOWER, input, weight)
    x, w = as_tensor(input), as_tensor(weight)
    if w.ndim > 1 or (w.numel() != 1 and (x.ndim < 2 or w.numel() != x.shape[1])):
        raise RuntimeError(
            f"Mismatch of parameter numbers and input channel size. Found parameter numbers = {w.numel()} "
            f"and channel size = {x.shape[1] if x.ndim >= 2 else 1}."
        )
    if w.numel() != 1:
        w = w.reshape(-1, *([1] * (x.ndim - 2)))
    elif w.ndim:
        w = w.reshape(())
    return where(x.array > 0, x, w * x)


def hardshrink(input: Any, lambd: float = 0.5) -> Tensor:
    """x where |x| > lambd, else 0; dx = dy where kept."""
    x = as_tensor(input)
    a = x.array
    return where(~((a >= -lambd) & (a <= lambd)), x, 0.0)
