"""The fully connected layer as one op: Y = X·Wᵀ + b, the seed MLP's hot path; and with its activation fused in."""
from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np

from .. import _autocast, blas
from ..autograd.op import Op
from ..devices import backend_of
from ..kernels import ignoring
from ..tensor import ArgumentError, Tensor, as_tensor
from .activation import _relu_grad
from .matmul import _count, _rows, check_same_dtype

# Y = X·Wᵀ's layout: a speed rule, measured by benchmarks/bench_linear.py (out-major / rows, paired medians).
# W is (out, in), as PyTorch keeps it, so Y = X·Wᵀ is an "NT" GEMM writing Y row by row. OpenBLAS's
# sgemm computes the same numbers faster out-major, Yᵀ = W·Xᵀ, for a few rows through a wide weight;
# the bias add then lays Y back out as rows in the pass it makes anyway. OpenBLAS 0.3.31, 1 / 2 threads:
# - SkylakeX kernel (Intel Xeon): 784→1024 at 32 rows 0.72 / 0.73 and at 8 rows 0.56 / 0.60; 1024→256 at
#   32 rows 0.67 / 0.66; 784→128 at 64 rows 0.94 / 0.85 (at 8 rows 1.14 / 1.11, 2 µs, kept for a simple rule).
#   The same kernel on an AMD EPYC Zen 4: 784→1024 0.52-0.82 / 0.56-0.88 up to 64 rows, 784→128 at 64 rows
#   0.91 / 1.00; the shapes the rule leaves out lose there too (10 outputs 1.07-1.98) or are even (128 rows
#   0.88-1.16).
# - Haswell kernel (AMD EPYC Zen 5 with OPENBLAS_CORETYPE=Haswell): at 8 rows 0.82-0.87 / 0.69-0.86 and at
#   16 rows 0.88-0.95 / 0.80-0.90 for every weight of ≥512 inputs and ≥128 outputs; from 24 rows even
#   (0.93-1.06 / 0.82-1.09, two runs). The same kernel on an AMD EPYC Zen 3, three runs: at 24-32 rows 0.91-1.02
#   / 0.73-1.05 (784→1024 0.96 / 0.74-0.85, 1024→1024 0.93-0.97 / 0.73-0.79), from 48 rows 0.96-1.05 / 0.96-1.07.
#   So up to 32 rows: there the seed MLP's step at batch 32 (ab.py, 20-25 rounds) took 0.921 and 0.927 of the
#   time on two threads, 0.997 and 1.052 on one (where the b16 step, which the change leaves alone, read 1.012
#   and 1.056: that noise).
# On both, at 128 rows and more (0.96-1.3), through 10 outputs (1.06-1.6), from 256 inputs (up to 1.24) and in
# float64 (0.8-1.4) rows win or tie: those keep them. Other kernels (Zen, Cooperlake, Sapphire Rapids, ARM) have
# not been measured: they keep rows until bench_linear.py says otherwise there.
_OUT_MAJOR_ROWS = {"skylakex": 64, "haswell": 32}  # OpenBLAS kernel (blas.corename): at most this many rows
_OUT_MAJOR_IN = 512  # in_features at least
_OUT_MAJOR_OUT = 128  # out_features at least


def _out_major(x: Any, w: Any) -> bool:
    """Whether Y = X·Wᵀ is faster computed as Yᵀ = W·Xᵀ here (the rule above)."""
    return (type(x) is np.ndarray and x.ndim == 2 and x.dtype == np.float32 and w.dtype == np.float32
            and w.shape[1] >= _OUT_MAJOR_IN and w.shape[0] >= _OUT_MAJOR_OUT
            and x.shape[0] <= _OUT_MAJOR_ROWS.get(blas.corename(), 0))


def _affine(x: Any, w: Any, b: Any) -> Any:
    """Y = X·Wᵀ + b, a fresh row-major array (LinearActivation's activation writes into it)."""
    if x.ndim > 2 and type(x) is np.ndarray:  # one product over every row (see _rows)
        return _affine(_rows(x), w, b).reshape(x.shape[:-1] + (w.shape[0],))
    if _out_major(x, w):
        y = np.empty((x.shape[0], w.shape[0]), x.dtype)
        yt = np.matmul(w, x.T)  # the same products, written out-major
        if b is None:
            np.copyto(y, yt.T)
            return y
        return np.add(yt.T, b, out=y)
    y = np.matmul(x, w.T)  # w.T is a view: BLAS reads it transposed, no copy
    if b is not None:
        y += b
    return y


# db = Σ_rows dY as one BLAS product with ones (gemv), where np.sum(dY, axis=0) adds the rows in one at a time: one
# thread, float32, 2-core AMD EPYC Zen 3 (OpenBLAS 0.3.31, Haswell kernel), medians of 300, µs: (64, 10) 8.4 -> 2.5,
# (64, 128) 8.9 -> 3.5, (32, 1024) 12.2 -> 6.0, (256, 1024) 44.5 -> 24.9, (2048, 64) 71.4 -> 14.1 (the vit
# recipe's rows), (2048, 192) 97.5 -> 39.2. BLAS's blocked sums are also nearer the exact sum (its largest error
# there 0.3-0.7x NumPy's).
@lru_cache(maxsize=32)
def _ones(n: int, dtype: np.dtype) -> np.ndarray:
    """A read-only vector of n ones (kept: making it costs a call's worth of the sum on small batches)."""
    ones = np.ones(n, dtype)
    ones.flags.writeable = False
    return ones


def _column_sums(xp: Any, dy2: Any) -> Any:
    """Σ over the rows of a 2-D gradient: db."""
    if type(dy2) is np.ndarray and dy2.dtype.char in "fd" and dy2.shape[0] > 1:
        return np.matmul(_ones(dy2.shape[0], dy2.dtype), dy2)
    return xp.sum(dy2, axis=0)


class Linear(Op):
    """Y = X @ Wᵀ + b.  dX = dY·W, dW = dYᵀ·X, db = Σ_rows dY.

    Shapes: X (*, in), W (out, in), b (out,), Y and dY (*, out). Leading dimensions of X
    are flattened into rows for the weight gradients, so dW is one (out×in) product with
    no transposed copy (BLAS reads dYᵀ as a flag) and db one column sum.
    """

    def forward(self, x, w, b=None):
        return _affine(x, w, b)

    def backward(self, dy):
        xp = self.xp
        x, w = self.inputs[:2]
        need = self.needs_input_grad
        # every row in one product (_rows): dy (*, out) as a matrix
        dy2 = dy if dy.ndim == 2 else xp.reshape(dy, (_count(dy.shape[:-1]), dy.shape[-1]))
        dx = None
        if need[0]:
            dx = xp.matmul(dy if dy.ndim == 1 else dy2, w)
            if dy.ndim > 2:
                dx = xp.reshape(dx, tuple(dy.shape[:-1]) + (w.shape[1],))
        dw = db = None
        if need[1] or (len(need) > 2 and need[2]):
            if need[1]:
                x2 = x if x.ndim == 2 else xp.reshape(x, (_count(x.shape[:-1]), x.shape[-1]))
                dw = xp.matmul(xp.swapaxes(dy2, 0, 1), x2)
            if len(need) > 2 and need[2]:
                db = _column_sums(xp, dy2)
        return (dx, dw) if len(need) == 2 else (dx, dw, db)


#: The activations LinearActivation fuses.
ACTIVATIONS = ("relu", "sigmoid", "tanh")


def _relu_(y):
    """y = max(y, 0), in place."""
    if type(y) is np.ndarray and y.size >= 4096:  # as ReLU.forward: clip's branch-free loop on large arrays
        return np.clip(y, 0, np.inf, out=y)
    return np.maximum(0, y, out=y)  # 0 first: relu(-0.0) = -0.0, as ReLU.forward


@ignoring(over="ignore")  # e⁻ʸ = inf for very negative y, and 1/(1+inf) is exactly 0: right
def _sigmoid_(y):
    """y = 1 / (1 + e⁻ʸ), in place: Sigmoid.forward's passes in its order, so the numbers agree."""
    np.negative(y, out=y)
    np.exp(y, out=y)
    y += 1
    return np.reciprocal(y, out=y)


def _tanh_(y):
    """y = tanh y, in place."""
    return np.tanh(y, out=y)


_IN_PLACE = {"relu": _relu_, "sigmoid": _sigmoid_, "tanh": _tanh_}


class LinearActivation(Op):
    """Y = act(X @ Wᵀ + b).  dZ = dY · act'(Y), dX = dZ·W, dW = dZᵀ·X, db = Σ_rows dZ.

    act is relu, sigmoid or tanh: Linear and its activation as one node; act'(Y) comes from the
    saved output (relu: dY where Y != 0, else 0, as ReLU's; sigmoid: Y(1 − Y); tanh: 1 − Y²). On a GPU
    whose backend has the fused kernels ("bias_<act>", "<act>_grad"), the bias-add and activation are one
    kernel launch on the matmul's output and dZ is one more; elsewhere the same passes run in place with
    NumPy's functions.
    """

    save_output = True

    def forward(self, x, w, b=None, *, activation):
        self.activation = activation
        if type(x) is not np.ndarray and b is not None and b.dtype == x.dtype and x.dtype.char in "fd":
            kernel = backend_of(x).fused.get("bias_" + activation)
            if kernel is not None:
                y = np.matmul(x, w.T)
                kernel(b, y)  # y = act(y + b), in place: one launch for what NumPy does in two to five passes
                return y
        return _IN_PLACE[activation](_affine(x, w, b))  # a fresh array: the activation writes into it

    def backward(self, dy):
        act = self.activation
        if self.xp.plain:
            y = self.out
            kernel = None if type(y) is np.ndarray else backend_of(y).fused.get(act + "_grad")
            if kernel is not None and dy.dtype == y.dtype and y.dtype.char in "fd":
                dz = kernel(dy, y)
            elif act == "relu":  # ReLU's own gradient: the same bits (selected: an inf dy where off gives 0)
                dz = _relu_grad(dy, y)
            elif act == "sigmoid":  # dy · (y(1 − y)), as Sigmoid.backward, with one temporary
                dz = 1 - y
                dz *= y
                dz *= dy
            else:  # dy · (1 − y²), as Tanh.backward
                dz = y * y
                np.subtract(1, dz, out=dz)
                dz *= dy
        elif act == "relu":  # as ReLU's: the mask is a constant, relu's second derivative is 0
            dz = self.xp.where(self.out != 0, dy, 0)
        else:  # y as a Tensor of this node, so the second order differentiates through it
            y = self.output
            dz = dy * (y * (1 - y)) if act == "sigmoid" else dy * (1 - y * y)
        return Linear.backward(self, dz)  # the same inputs as Linear's: its backward, on dZ


def linear_activation(input: Any, weight: Any, bias: Any = None, activation: str = "relu") -> Tensor:
    """act(input @ weightᵀ + bias) as one op, act "relu", "sigmoid" or "tanh" (what Sequential fuses on a GPU).

    The same values and gradients as the activation applied to `linear(input, weight, bias)`.
    """
    if _autocast.on:  # mixed precision (matgrad/_autocast.py): torch's autocast op lists
        input, weight, bias = _autocast.cast(_autocast.LOWER, input, weight, bias)
    if activation not in ACTIVATIONS:
        raise ValueError(f"linear_activation: activation must be one of {ACTIVATIONS}, got {activation!r}")
    x = input if type(input) is Tensor else as_tensor(input)
    w = as_tensor(weight, x)
    xd, wd = x.array, w.array
    if wd.ndim != 2 or xd.ndim == 0 or xd.shape[-1] != wd.shape[1] or xd.dtype != wd.dtype:
        _check(xd, wd)
    if xd.dtype.kind != "f":  # integer tensors: the activations' own dtype rules (sigmoid/tanh give floats)
        from . import activation as _act

        return getattr(_act, activation)(linear(x, w, bias))
    if bias is None:
        return LinearActivation.apply(x, w, activation=activation)
    b = as_tensor(bias, x)
    if b.array.shape != (wd.shape[0],):
        raise RuntimeError(f"linear_activation: bias must have shape ({wd.shape[0]},), got {b.array.shape}")
    if b.array.dtype != xd.dtype:
        check_same_dtype("linear_activation", ("input", x), ("weight", w), ("bias", b))
    return LinearActivation.apply(x, w, b, activation=activation)


def linear(input: Any, weight: Any, bias: Any = None) -> Tensor:
    """y = input @ weightᵀ + bias, as torch.nn.functional.linear.

    input (*, in_features), weight (out_features, in_features), bias (out_features,) or None.
    """
    if _autocast.on:  # mixed precision (matgrad/_autocast.py): torch's autocast op lists
        input, weight, bias = _autocast.cast(_autocast.LOWER, input, weight, bias)
    x = input if type(input) is Tensor else as_tensor(input)
    w = as_tensor(weight, x)
    xd, wd = x.array, w.array
    if wd.ndim != 2 or xd.ndim == 0 or xd.shape[-1] != wd.shape[1] or xd.dtype != wd.dtype:
        _check(xd, wd)
    if bias is None:
        return Linear.apply(x, w)
    b = as_tensor(bias, x)
    if b.array.shape != (wd.shape[0],):
        raise RuntimeError(f"linear: bias must have shape ({wd.shape[0]},), got {b.array.shape}")
    if b.array.dtype != xd.dtype:
        check_same_dtype("linear", ("input", x), ("weight", w), ("bias", b))
    return Linear.apply(x, w, b)


def _check(x: Any, w: Any) -> None:
    """Say what is wrong with linear's input and weight (RuntimeError, as PyTorch's; ArgumentError for dtypes)."""
    if w.ndim != 2:
        raise RuntimeError(f"linear: weight must be 2-D (out_features, in_features), got shape {w.shape}")
    if x.ndim == 0 or x.shape[-1] != w.shape[1]:
        raise RuntimeError(
            f"linear: input of shape {x.shape} does not fit weight of shape {w.shape}: the input's "
            f"last dimension must be in_features={w.shape[1]}"
        )
    raise ArgumentError(  # TypeError and RuntimeError (PyTorch's), as the other products' dtype errors
        f"linear: expected input and weight to have the same dtype: input is {x.dtype} but weight is "
        f"{w.dtype}; linear does not promote dtypes (as PyTorch): convert one, e.g. input.to(matgrad.{w.dtype}) "
        f"or model.to(matgrad.{x.dtype}) (.float() / .double())"
    )
