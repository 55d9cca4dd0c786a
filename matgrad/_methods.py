"""Tensor's methods and operators: each is the op function of the same name, self first.

`tensor.install_methods()` attaches this table to Tensor once, from matgrad/__init__.
"""
from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from . import _autocast
from .dtypes import dtype as _dtype_cls
from .memory_format import sort_dims
from .ops import (
    activation,
    arithmetic,
    binary,
    compare,
    indexing,
    join,
    matmul,
    reduction,
    shape,
    softmax,
    unary,
)
from .tensor import Tensor, _shape_arg, as_tensor


def _r(fn: Any) -> Any:
    """The reflected operator: other ∘ self."""
    def reflected(self: Tensor, other: Any) -> Tensor:
        if type(other) is int and self.array.dtype.kind in "iu":  # the op fits the int to the dtype as PyTorch
            return fn(other, self)  # (-1 + uint8 wraps, 300 / uint8 is a float division), where as_tensor raises
        return fn(as_tensor(other, self), self)
    reflected.__name__ = f"r{fn.__name__}"
    return reflected


def _or_not_implemented(fn: Any) -> Any:
    """`t == other` for an `other` that is no number or array (pytest.approx, None, a string): Python's
    NotImplemented, so the other side decides (`t == None` is then False), as for NumPy arrays."""
    def compare_op(self: Tensor, other: Any) -> Any:
        if other is None or not isinstance(other, (Tensor, numbers.Number, np.ndarray, np.generic, list, tuple)):
            return NotImplemented
        return fn(self, other)
    compare_op.__name__ = fn.__name__
    return compare_op


def _reshape(self: Tensor, *shape: Any) -> Tensor:
    return shape_mod.reshape(self, _shape_arg(shape))


def _is_dtype(x: Any) -> bool:
    return isinstance(x, (np.dtype, _dtype_cls)) or (isinstance(x, type) and issubclass(x, np.generic))


def _view(self: Tensor, *shape: Any, size: Any = None, dtype: Any = None) -> Tensor:
    """view(*shape): this tensor's memory seen with another shape (PyTorch's RuntimeError where its strides
    allow none: use reshape); view(dtype): its bytes read as another dtype (not differentiable)."""
    if shape and type(shape[0]) is int and dtype is None and size is None:  # view(2, -1): at once
        return shape_mod.view(self, _shape_arg(shape))
    if dtype is not None or (len(shape) == 1 and _is_dtype(shape[0])):
        if shape and dtype is not None or size is not None:
            raise TypeError("view() takes either a shape or a dtype, not both")
        return shape_mod.view_dtype(self, shape[0] if shape else dtype)
    if size is not None:
        if shape:
            raise TypeError("view() takes the shape once: positionally or as size=")
        shape = (size,)
    if not shape:
        raise TypeError("view() received an invalid combination of arguments - got (), but expected one of: "
                        "(torch.dtype dtype) or (tuple of ints size)")
    if any(_is_dtype(s) for s in shape):
        raise TypeError("view() takes either a shape or one dtype, not a dtype among the sizes")
    return shape_mod.view(self, _shape_arg(shape))


shape_mod = shape
_T = property(lambda self: shape.permute(self, tuple(reversed(range(self.ndim)))),  # a view, 0-d and 1-D too
              doc="The tensor with its dimensions reversed (the transpose of a matrix).")


def _matrix_transpose(self: Tensor) -> Tensor:
    if self.ndim == 1:  # a 0-d tensor is its own transpose (PyTorch: deprecated, but allowed)
        raise RuntimeError("tensor.mT is only supported on matrices or batches of matrices. Got 1-D tensor.")
    return shape.transpose(self, -2, -1) if self.ndim else self


_mT = property(_matrix_transpose, doc="Transpose of the last two dimensions.")

METHODS = {
    # operators
    "__add__": arithmetic.add, "__radd__": _r(arithmetic.add),
    "__sub__": arithmetic.sub, "__rsub__": _r(arithmetic.sub),
    "__mul__": arithmetic.mul, "__rmul__": _r(arithmetic.mul),
    "__truediv__": arithmetic.div, "__rtruediv__": _r(arithmetic.div),
    "__pow__": arithmetic.pow, "__rpow__": _r(arithmetic.pow),
    "__matmul__": matmul.matmul, "__rmatmul__": _r(matmul.matmul),
    "__neg__": arithmetic.neg, "__pos__": lambda self: self, "__abs__": unary.abs,
    "__getitem__": indexing.getitem,
    "__lt__": compare.lt, "__le__": compare.le, "__gt__": compare.gt, "__ge__": compare.ge,
    "__eq__": _or_not_implemented(compare.eq), "__ne__": _or_not_implemented(compare.ne),
    "__and__": compare.bitwise_and, "__rand__": compare.bitwise_and, "__or__": compare.bitwise_or,
    "__ror__": compare.bitwise_or, "__xor__": compare.bitwise_xor, "__rxor__": compare.bitwise_xor,
    "__invert__": compare.bitwise_not,
    # methods with PyTorch's names
    "add": arithmetic.add, "sub": arithmetic.sub, "mul": arithmetic.mul, "div": arithmetic.div,
    "pow": arithmetic.pow, "neg": arithmetic.neg, "matmul": matmul.matmul, "mm": matmul.mm,
    "dot": matmul.dot, "hardshrink": activation.hardshrink, "prelu": activation.prelu,
    "exp": unary.exp, "log": unary.log, "sqrt": unary.sqrt, "abs": unary.abs, "sign": unary.sign,
    "sin": unary.sin, "cos": unary.cos, "erf": unary.erf, "square": unary.square, "rsqrt": unary.rsqrt,
    "log1p": unary.log1p, "expm1": unary.expm1, "reciprocal": unary.reciprocal,
    "tanh": activation.tanh, "sigmoid": activation.sigmoid, "relu": activation.relu,
    "clamp": activation.clamp, "clip": activation.clamp,
    "maximum": binary.maximum, "minimum": binary.minimum, "masked_fill": binary.masked_fill,
    "where": lambda self, condition, other: binary.where(condition, self, other), "flip": indexing.flip,
    "sum": reduction.sum, "mean": reduction.mean, "max": reduction.max, "min": reduction.min,
    "amax": reduction.amax, "amin": reduction.amin, "argmax": reduction.argmax,
    "argmin": reduction.argmin, "var": reduction.var, "std": reduction.std,
    "logsumexp": reduction.logsumexp, "norm": reduction.norm, "prod": reduction.prod,
    "all": reduction.all, "any": reduction.any,
    "softmax": softmax.softmax, "log_softmax": softmax.log_softmax,
    "reshape": _reshape, "view": _view, "permute": shape.permute, "transpose": shape.transpose,
    "swapaxes": shape.transpose, "t": shape.t, "squeeze": shape.squeeze, "unsqueeze": shape.unsqueeze,
    "flatten": shape.flatten, "expand": shape.expand, "expand_as": shape.expand_as,
    "nonzero": indexing.nonzero, "argwhere": indexing.argwhere,
    "view_as": lambda self, other: shape_mod.view(self, tuple(other.shape)),
    "reshape_as": lambda self, other: shape_mod.reshape(self, tuple(other.shape)),
    "broadcast_to": shape.broadcast_to, "contiguous": shape.contiguous,
    "split": join.split, "chunk": join.chunk, "unbind": join.unbind,
    "lt": compare.lt, "le": compare.le, "gt": compare.gt, "ge": compare.ge, "eq": compare.eq,
    "ne": compare.ne, "allclose": compare.allclose, "equal": compare.equal, "isclose": compare.isclose,
    "logical_not": compare.logical_not, "logical_and": compare.logical_and,
    "logical_or": compare.logical_or, "isnan": compare.isnan, "isinf": compare.isinf,
    "isfinite": compare.isfinite,
    "clone": lambda self: arithmetic.mul(self, 1) if self.requires_grad else Tensor(self.array.copy()),
    "T": _T, "mT": _mT,
}

# math ops (issue 14): cumulative, linear algebra, rounding, trigonometry, division's relatives
from .ops import arithmetic as _ar  # noqa: E402
from .ops import cumulative as _cum  # noqa: E402
from .ops import linalg as _la  # noqa: E402
from .ops import repeat as _rep  # noqa: E402

METHODS.update({
    "__mod__": _ar.remainder, "__rmod__": _r(_ar.remainder),
    "__floordiv__": _ar.floor_divide, "__rfloordiv__": _r(_ar.floor_divide),
    "fmod": _ar.fmod, "remainder": _ar.remainder, "floor_divide": _ar.floor_divide, "atan2": _ar.atan2,
    "arctan2": _ar.atan2, "lerp": _ar.lerp,
    "cumsum": _cum.cumsum, "cumprod": _cum.cumprod, "cummax": _cum.cummax, "cummin": _cum.cummin,
    "logcumsumexp": _cum.logcumsumexp,
    "tril": _la.tril, "triu": _la.triu, "diagonal": _la.diagonal, "diag": _la.diag, "trace": _la.trace,
    "outer": _la.outer, "ger": _la.outer, "mv": _la.mv, "addmm": _la.addmm, "baddbmm": _la.baddbmm,
    "det": _la.det, "inverse": _la.inverse, "dist": _la.dist,
    "roll": _rep.roll, "repeat": _rep.repeat, "repeat_interleave": _rep.repeat_interleave,
    "tan": unary.tan, "asin": unary.asin, "acos": unary.acos, "atan": unary.atan, "sinh": unary.sinh,
    "cosh": unary.cosh, "asinh": unary.asinh, "acosh": unary.acosh, "atanh": unary.atanh,
    "arcsin": unary.asin, "arccos": unary.acos, "arctan": unary.atan, "arcsinh": unary.asinh,
    "arccosh": unary.acosh, "arctanh": unary.atanh,
    "log2": unary.log2, "log10": unary.log10, "exp2": unary.exp2,
    "floor": unary.floor, "ceil": unary.ceil, "round": unary.round, "trunc": unary.trunc, "fix": unary.trunc,
    "frac": unary.frac, "nan_to_num": unary.nan_to_num,
})

# more of torch's math: addcmul/addcdiv, nan-aware reductions, products, differences, special functions
from .ops import cumulative as _cu  # noqa: E402
from .ops import linalg as _li  # noqa: E402

METHODS.update({
    "divide": arithmetic.div, "true_divide": arithmetic.true_divide,
    "addcmul": arithmetic.addcmul, "addcdiv": arithmetic.addcdiv, "copysign": arithmetic.copysign,
    "float_power": arithmetic.float_power, "gcd": arithmetic.gcd, "lcm": arithmetic.lcm,
    "hypot": arithmetic.hypot, "ldexp": arithmetic.ldexp, "logaddexp": arithmetic.logaddexp,
    "logaddexp2": arithmetic.logaddexp2, "xlogy": arithmetic.xlogy,
    "clamp_min": activation.clamp_min, "clamp_max": activation.clamp_max, "fmax": binary.fmax, "fmin": binary.fmin,
    "heaviside": binary.heaviside,
    "diff": _cu.diff,
    "cross": _li.cross, "inner": _li.inner, "kron": _li.kron, "vdot": _li.vdot, "cov": _li.cov,
    "corrcoef": _li.corrcoef,
    "nansum": reduction.nansum, "nanmean": reduction.nanmean,
    "deg2rad": unary.deg2rad, "erfc": unary.erfc, "frexp": unary.frexp, "logit": unary.logit,
    "positive": unary.positive, "rad2deg": unary.rad2deg, "sgn": unary.sgn, "signbit": unary.signbit,
    "sinc": unary.sinc,
})

from .ops import special as _sp  # noqa: E402

METHODS.update({"lgamma": _sp.lgamma, "digamma": _sp.digamma, "erfinv": _sp.erfinv,
                "polygamma": lambda self, n: _sp.polygamma(n, self)})

# indexing, sorting, sampling (issue 14)
from .ops import random_ops as _rnd  # noqa: E402
from .ops import scatter as _sc  # noqa: E402
from .ops import sort as _so  # noqa: E402
from .ops import views as _vw  # noqa: E402

METHODS.update({
    "gather": _sc.gather, "scatter": _sc.scatter, "scatter_add": _sc.scatter_add, "index_select": _sc.index_select,
    "masked_select": _sc.masked_select, "index_add": _sc.index_add, "index_fill": _sc.index_fill,
    "masked_scatter": _sc.masked_scatter, "take_along_dim": _sc.take_along_dim,
    "sort": _so.sort, "argsort": _so.argsort, "msort": _so.msort, "topk": _so.topk, "kthvalue": _so.kthvalue,
    "median": _so.median, "mode": _so.mode, "quantile": _so.quantile, "unique": _so.unique,
    "unique_consecutive": _so.unique_consecutive, "bincount": _so.bincount, "histc": _so.histc,
    "count_nonzero": _so.count_nonzero,
    "multinomial": _rnd.multinomial, "bernoulli": _rnd.bernoulli,
    "narrow": _vw.narrow, "narrow_copy": _vw.narrow_copy, "select": _vw.select, "unflatten": _vw.unflatten,
    "unfold": _vw.unfold, "split_with_sizes": _vw.split_with_sizes,
})

# shape, joining, indexing (issue 14)
from .ops import repeat as _rp  # noqa: E402

METHODS.update({
    "movedim": shape.movedim, "moveaxis": shape.movedim, "ravel": shape.ravel, "clone": shape.clone,
    "tile": _rp.tile, "fliplr": indexing.fliplr, "flipud": indexing.flipud, "rot90": indexing.rot90,
    "take": indexing.take, "tensor_split": join.tensor_split, "hsplit": join.hsplit, "vsplit": join.vsplit,
    "dsplit": join.dsplit, "index_copy": _sc.index_copy, "scatter_reduce": _sc.scatter_reduce,
    "select_scatter": _sc.select_scatter, "slice_scatter": _sc.slice_scatter,
    "diag_embed": _vw.diag_embed, "diagflat": _vw.diagflat,
})

# the torch functions that were still missing (complex-part identities, old linear algebra, nan-aware order
# statistics, Bessel i0, mvlgamma)
from . import legacy_linalg as _old  # noqa: E402
from .ops import special as _spc  # noqa: E402

METHODS.update({
    "bmm": matmul.bmm, "logical_xor": compare.logical_xor, "isneginf": compare.isneginf,
    "isposinf": compare.isposinf, "isreal": compare.isreal, "is_nonzero": compare.is_nonzero,
    "real": property(unary.real, doc="The real part: the tensor itself (matgrad's tensors are real)."),
    "conj": unary.conj, "resolve_conj": unary.resolve_conj, "resolve_neg": unary.resolve_neg,
    "is_conj": lambda self: False, "is_neg": lambda self: False,
    "addmv": _la.addmv, "addbmm": _la.addbmm, "renorm": _la.renorm, "aminmax": reduction.aminmax,
    "nanmedian": _so.nanmedian, "nanquantile": _so.nanquantile, "nextafter": binary.nextafter,
    "i0": _spc.i0, "mvlgamma": _spc.mvlgamma,
    "logdet": _old.logdet, "matrix_exp": _old.matrix_exp, "matrix_power": _old.matrix_power,
    "pinverse": _old.pinverse, "svd": _old.svd, "cholesky": _old.cholesky,
    "lu": _old.lu, "lu_solve": _old.lu_solve, "qr": _old.qr, "triangular_solve": _old.triangular_solve,
    "orgqr": _old.orgqr,
})

# In-place twins (x.sin_() is x.sin() written back into x, through Tensor._modify: the version goes up, a leaf
# that requires grad refuses, and on a graph the op is recorded as the tensor's new history)
from .ops.random_ops import Sampled as _Sampled  # noqa: E402


class Compared(_Sampled):
    """y = a comparison's 0/1 result, written in place into x.  dy/dx = 0."""


def _operands(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, ...]:
    return args + tuple(kwargs.values())


def _inplace(name: str, op: str) -> Any:
    """Tensor.<name>(...): METHODS[op](self, ...) written into self, in place."""
    def method(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        fn = METHODS[op]
        return self._modify(name, lambda t: fn(t, *args, **kwargs), operands=_operands(args, kwargs))
    method.__name__ = method.__qualname__ = name
    method.__doc__ = f"{op}(), in place: the result is written into this tensor (its shape, a dtype it can take)."
    return method


def _zero_grad_inplace(name: str, op: str) -> Any:
    """Tensor.<name>(...) for a comparison or logical op: its 0/1 result written into self, in place.

    On a graph the tensor keeps requiring grad with a zero gradient (torch's EqBackward). torch's logical_*_
    instead keep the old history, as if the values had not changed; matgrad gives those a zero gradient too."""
    def method(self: Tensor, *args: Any) -> Tensor:
        fn = METHODS[op]

        def recorded(t: Tensor) -> Tensor:
            result = fn(t, *args)
            tracked = [x for x in (t, *args) if isinstance(x, Tensor) and x.requires_grad]
            if not tracked:
                return result
            return Compared.apply(*tracked, sample=result.array.astype(t.array.dtype))
        return self._modify(name, recorded, operands=args)
    method.__name__ = method.__qualname__ = name
    method.__doc__ = f"{op}(), in place: 1 where true, 0 where false, in this tensor's dtype (no gradient)."
    return method


def _float_power_(self: Tensor, exponent: Any) -> Tensor:
    """float_power(), in place: only a float64 tensor can hold its float64 result, as in PyTorch."""
    if self.array.dtype != np.float64:
        raise RuntimeError(f"the base given to float_power_ has dtype {self.dtype} but the operation's result "
                           "requires dtype float64; convert first (x = x.double()) or use float_power()")
    return self._modify("float_power_", lambda t: arithmetic.float_power(t, exponent), operands=(exponent,))


_INPLACE = {  # in-place name: the method it writes back
    **{f"{op}_": op for op in (
        "sin", "cos", "tan", "asin", "acos", "atan", "arcsin", "arccos", "arctan", "sinh", "cosh", "asinh", "acosh",
        "atanh", "arcsinh", "arccosh", "arctanh", "exp2", "expm1", "log10", "log1p", "log2", "rsqrt", "reciprocal",
        "sign", "sgn", "floor", "ceil", "round", "trunc", "fix", "frac", "erf", "erfc", "erfinv", "digamma", "lgamma",
        "i0", "logit", "sinc", "deg2rad", "rad2deg", "nan_to_num", "cumsum", "cumprod", "atan2", "arctan2", "hypot",
        "copysign", "fmod", "remainder", "floor_divide", "lerp", "xlogy", "heaviside", "ldexp", "nextafter", "gcd",
        "lcm", "addcdiv", "addcmul", "addmm", "addmv", "addbmm", "baddbmm", "clamp_min", "clamp_max", "tril", "triu",
        "divide", "true_divide", "polygamma", "mvlgamma", "renorm")},
    "multiply_": "mul", "subtract_": "sub", "negative_": "neg", "absolute_": "abs",
}
_ZERO_GRAD_INPLACE = {
    **{f"{op}_": op for op in ("eq", "ne", "lt", "le", "gt", "ge", "logical_and", "logical_or", "logical_xor",
                               "logical_not")},
    "greater_": "gt", "greater_equal_": "ge", "less_": "lt", "less_equal_": "le", "not_equal_": "ne",
}
METHODS.update({name: _inplace(name, op) for name, op in _INPLACE.items()})
METHODS.update({name: _zero_grad_inplace(name, op) for name, op in _ZERO_GRAD_INPLACE.items()})
METHODS["float_power_"] = _float_power_


def _div_(self: Tensor, other: Any, *, rounding_mode: str | None = None) -> Tensor:
    """div(), in place; rounding_mode 'trunc' or 'floor' as div's (PyTorch's div_ takes it too)."""
    if rounding_mode is None:  # Tensor's own div_: NumPy's in-place division where nothing is recorded
        return self._arith_("div_", np.true_divide, "__truediv__", other)
    return self._modify("div_", lambda t: arithmetic.div(t, other, rounding_mode=rounding_mode), operands=(other,))


METHODS["div_"] = _div_

# torch's remaining small methods: comparison and arithmetic aliases, bit shifts, igamma, addr, sum_to_size,
# cholesky_solve / cholesky_inverse
from . import linalg as _linalg  # noqa: E402
from .ops import bitwise as _bw  # noqa: E402


def addr(input: Any, vec1: Any, vec2: Any, *, beta: Any = 1, alpha: Any = 1) -> Tensor:
    """beta · input + alpha · outer(vec1, vec2) (with beta = 0, input's nan and inf do not propagate)."""
    if _autocast.on:  # torch lowers addr under CUDA autocast only
        input, vec1, vec2 = _autocast.cast(_autocast.LOWER_CUDA, input, vec1, vec2)
    i, a, b = as_tensor(input), as_tensor(vec1), as_tensor(vec2)
    for name, v in (("vec1", a), ("vec2", b)):
        if v.ndim != 1:
            raise RuntimeError(f"addr: Expected 1-D argument {name}, but got {v.ndim}-D (shape {v.shape}); "
                               "pass vectors (x.flatten())")
    _la._check_addable("addr", i, (a.shape[0], b.shape[0]))
    return _la._scaled_sum(i, _la.outer(a, b), beta, alpha)


def sum_to_size(self: Tensor, *size: Any) -> Tensor:
    """This tensor summed down to `size`, which must broadcast to its shape (the reverse of expand)."""
    target = _shape_arg(size)
    shape = tuple(self.shape)
    lead = len(shape) - len(target)
    if lead < 0 or any(t not in (1, s) for t, s in zip(target, shape[lead:])):
        raise RuntimeError(f"sum_to_size: size {list(target)} is not expandable to size {list(shape)} (each entry "
                           "must equal this tensor's trailing dims or be 1)")
    dims = tuple(range(lead)) + tuple(lead + d for d, t in enumerate(target) if t == 1 and shape[lead + d] != 1)
    if not dims:
        return self
    out = reduction.sum(self, dims, keepdim=True)
    return shape_mod.reshape(out, target) if lead else out


def _cholesky_factor(op: str, L: Any, upper: bool) -> Tensor:
    """L with the unread triangle's values dropped but its gradient kept: PyTorch's gradient is that of
    (L Lᴴ)⁻¹ for the whole matrix, which agrees with the triangle's wherever L is triangular."""
    t = as_tensor(L)
    if t.ndim < 2 or t.shape[-1] != t.shape[-2]:
        raise RuntimeError(f"{op}: A must be batches of square matrices, got shape {tuple(t.shape)}")
    other = _la.tril(t, -1) if upper else _la.triu(t, 1)
    return arithmetic.sub(t, other.detach())


def cholesky_solve(input: Any, input2: Any, upper: bool = False) -> Tensor:
    """X with (L Lᵀ) X = input, L = input2 the lower Cholesky factor (with upper, Uᵀ U X = input); batched."""
    b = as_tensor(input)
    if b.ndim < 2:
        raise RuntimeError(f"cholesky_solve: b should have at least 2 dimensions, got shape {tuple(b.shape)}")
    factor = _cholesky_factor("cholesky_solve", input2, upper)
    if factor.array.dtype != b.array.dtype:
        raise RuntimeError(f"cholesky_solve: expected b and A to have the same dtype, got b of type {b.dtype} and "
                           f"A of type {factor.dtype}; convert one (x.to(...))")
    low = shape_mod.transpose(factor, -2, -1) if upper else factor
    return _linalg.solve(shape_mod.transpose(low, -2, -1), _linalg.solve(low, b))


def cholesky_inverse(input: Any, upper: bool = False) -> Tensor:
    """(L Lᵀ)⁻¹ from the lower Cholesky factor L = input (with upper, (Uᵀ U)⁻¹); batched."""
    t = as_tensor(input)
    if t.ndim < 2:
        raise RuntimeError(f"cholesky_inverse: the input tensor A must have at least 2 dimensions, got shape "
                           f"{tuple(t.shape)}")
    if t.array.dtype.kind != "f":
        raise NotImplementedError(f"cholesky_inverse: not implemented for dtype {t.dtype}; convert to a float")
    eye = Tensor._make(_linalg._xp(t).eye(t.shape[-1], dtype=t.array.dtype), None, False)  # on t's device
    return cholesky_solve(eye, t, upper)


METHODS.update({
    "greater": compare.gt, "greater_equal": compare.ge, "less": compare.lt, "less_equal": compare.le,
    "not_equal": compare.ne, "multiply": arithmetic.mul, "subtract": arithmetic.sub, "negative": arithmetic.neg,
    "absolute": unary.abs, "swapdims": shape.transpose,
    "bitwise_and": compare.bitwise_and, "bitwise_or": compare.bitwise_or, "bitwise_xor": compare.bitwise_xor,
    "bitwise_not": compare.bitwise_not, "bitwise_left_shift": _bw.bitwise_left_shift,
    "bitwise_right_shift": _bw.bitwise_right_shift,
    "__lshift__": _bw.bitwise_left_shift, "__rlshift__": _r(_bw.bitwise_left_shift),
    "__rshift__": _bw.bitwise_right_shift, "__rrshift__": _r(_bw.bitwise_right_shift),
    "igamma": _spc.igamma, "igammac": _spc.igammac, "addr": addr, "sum_to_size": sum_to_size,
    "cholesky_solve": cholesky_solve, "cholesky_inverse": cholesky_inverse,
})
_MORE_INPLACE = {
    **{f"{op}_": op for op in ("bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not", "bitwise_left_shift",
                               "bitwise_right_shift", "igamma", "igammac", "addr")},
    "__ilshift__": "__lshift__", "__irshift__": "__rshift__", "__iand__": "bitwise_and", "__ior__": "bitwise_or",
    "__ixor__": "bitwise_xor", "__ifloordiv__": "floor_divide", "__imod__": "remainder", "__ipow__": "pow",
}
METHODS.update({name: _inplace(name, op) for name, op in _MORE_INPLACE.items()})


def adjoint(input: Any) -> Tensor:
    """The conjugate transpose of the last two dims: the transpose (matgrad's tensors are real)."""
    t = as_tensor(input)
    if t.ndim < 2:
        raise RuntimeError(f"adjoint() is only supported on matrices or batches of matrices, got a {t.ndim}-D tensor")
    return shape.transpose(t, -2, -1)


METHODS.update({
    "adjoint": adjoint, "slogdet": _linalg.slogdet, "char": lambda self: self.to(np.int8),
    "unsafe_chunk": join.chunk, "unsafe_split": join.split, "unsafe_split_with_sizes": _vw.split_with_sizes,
})

# as_strided, index_reduce, diagonal_scatter, histogram, angle, nonzero_static, dim_order; elementwise Python
# callables (apply_, map_, map2_); the deprecated Tensor.new and resize_; clear errors for what a NumPy-backed
# tensor cannot be (complex, bfloat16, sparse, MKL-DNN, a separate storage)
from . import devices as _devices  # noqa: E402
from .ops import strided as _st  # noqa: E402
from .tensor import Size as _Size  # noqa: E402
from .tensor import bump_version as _bump_version  # noqa: E402
from .tensor import get_default_dtype as _default_dtype  # noqa: E402


class Angle(_Sampled):
    """y = angle(x) for real x: 0 where x ≥ 0, π where x < 0, nan where x is nan.  dy/dx = 0."""


def angle(input: Any) -> Tensor:
    """The angle of each element as a complex number: 0 for x ≥ 0, π for x < 0, nan for nan; an integer or
    bool input gives the default float dtype. Its gradient is 0, as PyTorch's for real tensors."""
    t = as_tensor(input)
    a = t.array
    dt = a.dtype if a.dtype.kind == "f" else np.dtype(_default_dtype())
    out = np.where(a < 0, np.pi, 0.0)
    if a.dtype.kind == "f":
        out = np.where(np.isnan(a), np.nan, out)
    out = out.astype(dt)
    if t.requires_grad:
        return Angle.apply(t, sample=out)
    return Tensor._make(out, None, False)


def conj_physical(input: Any) -> Tensor:
    """The complex conjugate, computed: for matgrad's real tensors the input itself (as PyTorch returns a real
    tensor)."""
    return unary._real_tensor("conj_physical", input)


def conj_physical_(input: Any) -> Tensor:
    """conj_physical in place: nothing changes for a real tensor, which is returned."""
    return unary._real_tensor("conj_physical_", input)


def nonzero_static(input: Any, *, size: int, fill_value: int = -1) -> Tensor:
    """The first `size` rows of nonzero(input) (an int64 (size, ndim) tensor), padded with fill_value."""
    t = as_tensor(input)
    for name, v in (("size", size), ("fill_value", fill_value)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
            raise TypeError(f"nonzero_static(): argument '{name}' must be int, not {type(v).__name__}")
    if size < 0:
        raise RuntimeError(f"nonzero_static: 'size' must be an non-negative integer, got {size}")
    found = np.argwhere(t._host())
    out = np.full((int(size), t.ndim), fill_value, dtype=np.int64)
    k = min(len(found), int(size))
    out[:k] = found[:k]
    return Tensor._make(_devices.move(out, t.device) if not t.is_cpu else out, None, False)


def dim_order(self: Tensor, *, ambiguity_check: Any = False) -> tuple[int, ...]:
    """The dims from outermost to innermost in memory, computed from the strides as PyTorch does
    (`torch._prims_common.compute_elementwise_output_logical_to_physical_perm`): (0, 1, ..., n-1) for a contiguous
    tensor. ambiguity_check=True raises when a size-1 dim or two equal strides leave the order open.
    (PyTorch also takes a list of memory formats there, to check against; matgrad takes only the bool.)"""
    if not isinstance(ambiguity_check, bool):
        raise TypeError("The ambiguity_check argument must be a bool (a list of memory formats is not taken "
                        f"here), got {type(ambiguity_check).__name__}")
    shape, strides = tuple(self.shape), self.stride()
    if ambiguity_check and (any(a == b for a, b in zip(strides, strides[1:])) or 1 in shape):
        raise RuntimeError("The tensor does not have unique dim order, or cannot map to exact one of the given "
                           "memory formats.")
    n = len(shape)
    if n < 2:
        return tuple(range(n))
    contiguous = self.array.flags.c_contiguous
    if n == 4:  # channels last (N, H, W, C in memory): PyTorch's other fast path
        expected, channels_last = 1, True
        for d in (1, 3, 2, 0):
            if shape[d] != 1:
                channels_last = channels_last and strides[d] == expected
                expected *= shape[d]
    else:
        channels_last = False
    if contiguous and not channels_last:
        return tuple(range(n))
    if channels_last and not contiguous:
        return (0, *range(2, n), 1)

    def ge(a: int, b: int) -> bool:
        return b == 0 or (a != 0 and (a >= b or a % b == 0))

    def should_swap(a: int, b: int) -> int:
        sa, sb = strides[a], strides[b]
        if sa == 0 or sb == 0:
            return 0
        if sa == sb:
            return 0 if ge(shape[b], shape[a]) else 1
        return -1 if ge(sb, sa) else 1 if ge(sa, sb) else 0

    perm = list(reversed(range(n)))  # PyTorch's insertion sort, back to front, ties left in place
    sort_dims(perm, should_swap)
    if ambiguity_check and any(should_swap(perm[i], perm[i + 1]) != -1 for i in range(n - 1)):
        raise RuntimeError("The tensor does not have unique dim order.")
    return tuple(reversed(perm))


def _python_callable_(name: str, self: Tensor, others: dict[str, Tensor], fn: Any) -> Tensor:
    """self[i] = fn(self[i], other[i], ...) for every element, each a Python number of its tensor's kind (others
    broadcast to self's shape), in place; PyTorch's checks (CPU only, no grad, others of self's dtype)."""
    for arg, other in others.items():
        if not isinstance(other, Tensor):
            raise TypeError(f"{name}(): argument '{arg}' must be Tensor, not {type(other).__name__}")
    if any(x.requires_grad for x in (self, *others.values())):
        raise RuntimeError(f"Can't call {name}() on Variable that requires grad. Use var.detach().{name}() instead.")
    if not self.is_cpu:
        raise RuntimeError(f"{name} is only implemented on CPU tensors: copy to the CPU first (t.cpu())")
    if not callable(fn):
        raise TypeError(f"'{type(fn).__name__}' object is not callable")
    columns = [self.array.reshape(-1).tolist()]
    for arg, other in others.items():
        if other.array.dtype != self.array.dtype:
            raise TypeError(f"{name}: expected {self.type()} for argument '{arg}' (got {other.type()})")
        try:
            b = np.broadcast_to(other._host(), self.array.shape)
        except ValueError:
            raise RuntimeError(f"{name}: the tensor {arg} of shape {tuple(other.shape)} cannot be broadcast to this "
                               f"tensor's shape {tuple(self.shape)}") from None
        columns.append(b.reshape(-1).tolist())
    values = [fn(*args) for args in zip(*columns)]
    for v in values:
        if not isinstance(v, (numbers.Real, np.generic)) or isinstance(v, (str, bytes)):
            raise TypeError(f"must be real number, not {type(v).__name__}")
    np.copyto(self.array, np.array(values).reshape(self.array.shape), casting="unsafe")  # ints truncate, as torch
    _bump_version(self)
    return self


def apply_(self: Tensor, callable: Any) -> Tensor:  # noqa: A002 - PyTorch's name
    """Replace each element x with callable(x) (a Python number), in place; CPU only, slow (a Python call each)."""
    return _python_callable_("apply_", self, {}, callable)


def map_(self: Tensor, tensor: Any, callable: Any) -> Tensor:  # noqa: A002 - PyTorch's name
    """Replace each element a with callable(a, b), b the element of `tensor` (broadcast to this shape), in place."""
    return _python_callable_("map_", self, {"other": tensor}, callable)


def map2_(self: Tensor, x: Any, y: Any, callable: Any) -> Tensor:  # noqa: A002 - PyTorch's name
    """Replace each element a with callable(a, b, c), b and c the elements of x and y (broadcast), in place."""
    return _python_callable_("map2_", self, {"x": x, "y": y}, callable)


def new(self: Tensor, *args: Any, device: Any = None, size: Any = None, data: Any = None) -> Tensor:
    """PyTorch's deprecated constructor, in this tensor's dtype and device: new() is empty, new(2, 3) or
    new(torch.Size) a tensor of that shape (uninitialized in PyTorch, zeros here), new(list) a tensor of those
    values, new(tensor) an alias of tensor, which must have this dtype (prefer new_zeros / new_tensor)."""
    dt = self.array.dtype
    if size is not None or data is not None:
        if args or (size is not None and data is not None):
            raise TypeError("new(): pass the size or the data once, positionally or as size= / data=")
        args = (_Size(size),) if size is not None else (data,)
    if len(args) == 1 and isinstance(args[0], Tensor):
        other = args[0]
        if other.array.dtype != dt:
            raise TypeError(f"new(tensor): expected a tensor of dtype {self.dtype}, got {other.dtype} (it returns an "
                            "alias of that tensor; for a converted copy use new_tensor(data))")
        return indexing.getitem(other, Ellipsis)  # a view of its memory, on its graph (PyTorch's AliasBackward)
    if len(args) == 1 and isinstance(args[0], _Size):
        args = tuple(args[0])
    if all(isinstance(a, (int, np.integer)) and not isinstance(a, bool) for a in args):
        shape = tuple(int(a) for a in args) if args else (0,)
        if any(n < 0 for n in shape):
            raise RuntimeError(f"Trying to create tensor with negative dimension {min(shape)}: {list(shape)}")
        array = np.zeros(shape, dt)
    elif len(args) == 1 and isinstance(args[0], (list, tuple, np.ndarray)):
        array = np.array(args[0], dtype=dt)
    elif len(args) == 1 and isinstance(args[0], numbers.Number):
        raise TypeError(f"new(): data must be a sequence (got {type(args[0]).__name__})")
    else:
        raise TypeError(f"new() received an invalid combination of arguments - got "
                        f"({', '.join(type(a).__name__ for a in args)}): expected nothing, sizes, a sequence of "
                        "data or a tensor")
    return self._like(array, None, device, False)


def resize_(self: Tensor, *sizes: Any, memory_format: Any = None) -> Tensor:
    """Give this tensor the shape `sizes`, in place, its elements read in row-major order: the first ones kept
    (in the same memory when there are fewer), any new ones zeros (uninitialized in PyTorch). Only for a
    contiguous tensor: PyTorch reads a non-contiguous one's underlying storage, which matgrad need not share."""
    if self.requires_grad:
        raise RuntimeError("cannot resize variables that require grad")
    shape = tuple(int(s) for s in _shape_arg(sizes))
    if any(s < 0 for s in shape):
        raise RuntimeError(f"resize_: sizes must be non-negative, got {list(shape)}")
    a = self.array
    if shape == a.shape:
        return self
    if not a.flags.c_contiguous:
        raise RuntimeError(f"resize_: this tensor (shape {tuple(a.shape)}, stride {self.stride()}) is not "
                           "contiguous, and PyTorch would resize its underlying storage read in memory order, which "
                           "a matgrad tensor need not share; resize a contiguous copy (t = t.contiguous())")
    n, flat = int(np.prod(shape, dtype=np.int64)), a.reshape(-1)
    if n <= flat.size:
        self.array = flat[:n].reshape(shape)  # the same memory: views of the tensor keep seeing it
    else:
        grown = np.zeros_like(flat, shape=(n,))
        grown[:flat.size] = flat
        self.array = grown.reshape(shape)
    _bump_version(self)
    return self


def resize_as_(self: Tensor, the_template: Any, memory_format: Any = None) -> Tensor:
    """resize_(the_template.shape)."""
    if not isinstance(the_template, Tensor):
        raise TypeError(f"resize_as_(): argument 'the_template' (position 1) must be Tensor, not "
                        f"{type(the_template).__name__}")
    return resize_(self, the_template.shape)


def _unsupported(name: str, error: type, why: str) -> Any:
    """Tensor.<name>() for what matgrad's tensors cannot be: a clear error saying what to do instead."""
    def method(self: Tensor, *args: Any, **kwargs: Any) -> Any:
        raise error(f"{name}(): {why}")
    method.__name__ = method.__qualname__ = name
    method.__doc__ = f"Not supported: {why}"
    return method


def _imag(self: Tensor) -> Tensor:
    raise RuntimeError("imag is not implemented for tensors with non-complex dtypes.")


_NO_COMPLEX = "matgrad has no complex dtypes (NumPy-backed tensors are real); keep the real and imaginary parts " \
              "as two real tensors"
_NO_SPARSE = "matgrad has no sparse tensors; keep the dense tensor (its nonzero entries are t.nonzero() and " \
             "t[t != 0])"
_NO_STORAGE = "matgrad tensors are NumPy arrays, with no storage object of their own: use .numpy() (the array, " \
              "shared) or .data_ptr() and .storage_offset()"

METHODS.update({
    "as_strided": _st.as_strided, "as_strided_scatter": _st.as_strided_scatter, "index_reduce": _sc.index_reduce,
    "diagonal_scatter": _sc.diagonal_scatter, "histogram": _so.histogram, "angle": angle,
    "conj_physical": conj_physical, "conj_physical_": conj_physical_, "nonzero_static": nonzero_static,
    "dim_order": dim_order, "apply_": apply_, "map_": map_, "map2_": map2_, "new": new, "resize_": resize_,
    "resize_as_": resize_as_,
    "imag": property(_imag, doc="The imaginary part: not implemented for real tensors (all of matgrad's)."),
    "bfloat16": _unsupported("bfloat16", TypeError, "matgrad has no bfloat16 dtype (NumPy has none); use .half() "
                             "(float16) or .float()"),
    **{name: _unsupported(name, TypeError, _NO_COMPLEX) for name in ("cfloat", "cdouble", "chalf")},
    **{name: _unsupported(name, RuntimeError, _NO_SPARSE) for name in (
        "to_sparse", "to_sparse_coo", "to_sparse_csr", "to_sparse_csc", "to_sparse_bsr", "to_sparse_bsc")},
    "to_mkldnn": _unsupported("to_mkldnn", RuntimeError, "matgrad has no MKL-DNN layout (its tensors are NumPy "
                              "arrays): keep the tensor as it is"),
    **{name: _unsupported(name, RuntimeError, _NO_STORAGE) for name in ("storage", "untyped_storage")},
})
METHODS["index_reduce_"] = _inplace("index_reduce_", "index_reduce")


def _multi_views(op: Any, multi: bool = True) -> Any:
    """Tensor.<op>: its pieces marked as views of the tensor, as PyTorch's split & co. return."""
    first = op.__code__.co_varnames[0]  # the input's name, so the function form takes it by keyword too

    def method(*args: Any, **kwargs: Any) -> Any:
        return _vw.multi_views(op(*args, **kwargs), args[0] if args else kwargs[first], multi)
    method.__name__ = method.__qualname__ = op.__name__
    method.__doc__ = op.__doc__
    return method


# views as PyTorch's: x[int] a 0-d view, diagonal a view (not a copy), the pieces of split & co views of x
METHODS.update({
    "__getitem__": _vw.view_index, "diagonal": _vw.diagonal, "unbind": _vw.unbind,
    **{name: _multi_views(METHODS[name]) for name in ("split", "chunk")},
    # PyTorch builds these from slices: single views, which an in-place change on a graph may go through
    **{name: _multi_views(METHODS[name], False) for name in ("tensor_split", "hsplit", "vsplit", "dsplit")},
})
# the function forms (matgrad.split, matgrad.diagonal ...) are these same views
diagonal, unbind, split, chunk, tensor_split, hsplit, vsplit, dsplit = (
    METHODS[name] for name in ("diagonal", "unbind", "split", "chunk", "tensor_split", "hsplit", "vsplit", "dsplit"))
