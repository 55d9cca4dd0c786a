"""Tensor's methods and operators: each is the op function of the same name, self first.

`tensor.install_methods()` attaches this table to Tensor once, from matgrad/__init__.
"""
from __future__ import annotations

import numbers
from typing import Any

import numpy as np

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


shape_mod = shape
_T = property(lambda self: shape.permute(self, tuple(reversed(range(self.ndim)))) if self.ndim > 1 else self,
              doc="The tensor with its dimensions reversed (the transpose of a matrix).")
_mT = property(lambda self: shape.transpose(self, -2, -1), doc="Transpose of the last two dimensions.")

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
    "reshape": _reshape, "view": _reshape, "permute": shape.permute, "transpose": shape.transpose,
    "swapaxes": shape.transpose, "t": shape.t, "squeeze": shape.squeeze, "unsqueeze": shape.unsqueeze,
    "flatten": shape.flatten, "expand": shape.expand, "expand_as": shape.expand_as,
    "nonzero": indexing.nonzero, "argwhere": indexing.argwhere,
    "view_as": lambda self, other: shape_mod.reshape(self, tuple(other.shape)),
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

# torch's remaining small methods: comparison and arithmetic aliases, bit shifts, igamma, addr, sum_to_size,
# cholesky_solve / cholesky_inverse
from . import linalg as _linalg  # noqa: E402
from .ops import bitwise as _bw  # noqa: E402


def addr(input: Any, vec1: Any, vec2: Any, *, beta: Any = 1, alpha: Any = 1) -> Tensor:
    """beta · input + alpha · outer(vec1, vec2) (with beta = 0, input's nan and inf do not propagate)."""
    i, a, b = as_tensor(input), as_tensor(vec1), as_tensor(vec2)
    for name, v in (("vec1", a), ("vec2", b)):
        if v.ndim != 1:
            raise ValueError(f"addr: expected a 1-D argument {name}, got shape {v.shape}")
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
    "__ixor__": "bitwise_xor",
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
