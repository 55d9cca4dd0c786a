"""The graph namespace: matgrad's ops under NumPy's names, for backward formulas under create_graph.

An op's backward is written once against `self.xp` (see matgrad.backend). Under
`create_graph=True` the engine hands it this namespace instead of plain arrays, so every
step of the backward is itself recorded and the gradient can be differentiated again.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..backend import NAMES, ArrayNamespace
from ..kernels import broadcast_axes
from ..tensor import Tensor, as_tensor
from . import activation, binary, indexing, reduction, unary
from . import cumulative as _cum
from . import linalg as _linalg
from . import matmul as _mm
from . import shape as _shape

exp, log, sqrt, sign, abs, sin, cos, erf = (  # noqa: A001
    unary.exp, unary.log, unary.sqrt, unary.sign, unary.abs, unary.sin, unary.cos, unary.erf,
)
tanh = activation.tanh
softplus = activation.softplus
maximum, minimum = binary.maximum, binary.minimum
matmul = _mm.matmul_promoting  # NumPy's matmul promotes: so does the same backward formula under create_graph
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
    return Tensor._make(np.zeros_like(t.array), None, False)


def index_add(shape: tuple[int, ...], index: Any, values: Any, basic: bool) -> Tensor:
    return indexing.index_add_zeros(shape, index, values, basic)


def cumsum(x: Any, axis: int) -> Tensor:
    return _cum.cumsum(x, axis)


def cumprod(x: Any, axis: int) -> Tensor:
    return _cum.cumprod(x, axis)


def einsum(spec: str, *operands: Any) -> Tensor:
    return _linalg.einsum_core(spec, *operands)


inv = _linalg.inverse

graph_ns = ArrayNamespace(
    "graph", plain=False, device="cpu",
    exp=exp, log=log, sqrt=sqrt, sign=sign, abs=abs, sin=sin, cos=cos, erf=erf, tanh=tanh,
    maximum=maximum, minimum=minimum, matmul=matmul, broadcast_to=broadcast_to, astype=astype,
    where=where, sum=sum, mean=mean, sum_to=sum_to, reshape=reshape, swapaxes=swapaxes,
    transpose=transpose, expand_dims=expand_dims, squeeze=squeeze, zeros_like=zeros_like,
    index_add=index_add, softplus=softplus,
    cumsum=cumsum, cumprod=cumprod, einsum=einsum, inv=inv,
)
_missing = set(NAMES) - set(vars(graph_ns))
if _missing:  # every name a backward may call on plain arrays must exist on the graph too
    raise ImportError(f"the graph namespace lacks {sorted(_missing)}")
