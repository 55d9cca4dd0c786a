"""NumPy-named wrappers over matgrad's ops: the namespace backward formulas use under create_graph."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..ops import activation, binary, indexing, reduction, unary
from ..ops import matmul as _mm
from ..ops import shape as _shape
from ..tensor import Tensor, as_tensor
from .xp import broadcast_axes

exp, log, sqrt, sign, abs, sin, cos, erf = (  # noqa: A001
    unary.exp, unary.log, unary.sqrt, unary.sign, unary.abs, unary.sin, unary.cos, unary.erf,
)
tanh = activation.tanh
maximum, minimum = binary.maximum, binary.minimum
matmul = _mm.matmul
broadcast_to = _shape.broadcast_to
astype = _shape.astype


def where(cond: Any, a: Any, b: Any) -> Tensor:
    return binary.where(cond, a, b)


def sum(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    return reduction.sum(x, axis=axis, keepdims=keepdims)


def mean(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    return reduction.mean(x, axis=axis, keepdims=keepdims)


def sum_to(x: Tensor, shape: tuple[int, ...]) -> Tensor:
    if x.shape == shape:
        return x
    return _shape.reshape(reduction.sum(x, axis=broadcast_axes(x.shape, shape), keepdims=True), shape)


def reshape(x: Any, shape: Any) -> Tensor:
    return _shape.reshape(x, tuple(shape))


def swapaxes(x: Any, a: int, b: int) -> Tensor:
    return _shape.transpose(x, a, b)


def transpose(x: Any, axes: Any) -> Tensor:
    return _shape.permute(x, tuple(axes))


def expand_dims(x: Any, axis: Any) -> Tensor:
    t = as_tensor(x)
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    nd = t.ndim + len(axes)
    axes = sorted(a % nd for a in axes)
    shape = list(t.shape)
    for a in axes:
        shape.insert(a, 1)
    return _shape.reshape(t, tuple(shape))


def squeeze(x: Any, axis: Any = None) -> Tensor:
    return _shape.squeeze(x, axis)


def zeros_like(x: Any) -> Tensor:
    t = as_tensor(x)
    return Tensor._make(np.zeros_like(t.data), None, False)


def index_add(shape: tuple[int, ...], index: Any, values: Any, basic: bool) -> Tensor:
    return indexing.index_add_zeros(shape, index, values, basic)


__all__ = [
    "exp", "log", "sqrt", "sign", "abs", "sin", "cos", "erf", "tanh", "maximum", "minimum",
    "matmul", "broadcast_to", "astype", "where", "sum", "mean", "sum_to", "reshape", "swapaxes",
    "transpose", "expand_dims", "squeeze", "zeros_like", "index_add",
]
