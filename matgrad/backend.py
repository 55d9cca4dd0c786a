"""The seam where an op learns what it runs on: plain arrays, or a recorded graph.

The engine hands every node one `ArrayNamespace` as `self.xp`, and an op's backward is
written once against it, with NumPy's names and signatures (`xp.exp`, `xp.sum(x, axis=...)`,
`xp.where`); operators (`+ * @ .T x[idx]`) work on what it holds either way.

- `numpy_ns` is plain NumPy arrays on the CPU: a first-order backward. `xp.plain` is True,
  so an op may take a fast path that works on raw arrays (in-place updates, reuse of what
  its forward kept). That is the one spelling of a fast path: `if xp.plain:`.
- The graph namespace (`matgrad.ops.graph_namespace`) is the same names over matgrad's
  own differentiable ops, so under `create_graph=True` the backward is recorded too and
  its result can be differentiated again. `xp.plain` is False there.

Device-specific tricks never appear in an op: they sit behind a namespace's functions
(`where`, `erf`, `softplus`, `index_add`, `sum_to` come from `matgrad.kernels` here). A
second device is a second plain namespace with its own array module and kernels.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from . import kernels


class ArrayNamespace:
    """The array functions an op's backward calls, for one kind of array.

    `name` says which ("numpy", "graph"); `plain` whether these are plain arrays (no graph
    is recorded, fast in-place paths are allowed); `device` where the arrays live.
    """

    def __init__(self, name: str, *, plain: bool, device: str, **functions: Any) -> None:
        self.name = name
        self.plain = plain
        self.device = device
        self.__dict__.update(functions)

    def __repr__(self) -> str:
        return f"<ArrayNamespace {self.name} on {self.device}>"


def _sum(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    return np.add.reduce(x, axis=axis, keepdims=keepdims)


def _mean(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    return np.mean(x, axis=axis, keepdims=keepdims)


def _astype(x: Any, dtype: Any) -> Any:
    return x.astype(dtype, copy=False)


#: The names every namespace offers (the graph namespace is checked against this list).
NAMES = (
    "exp", "log", "sqrt", "sign", "tanh", "abs", "sin", "cos", "erf", "where", "maximum", "minimum",
    "sum", "mean", "sum_to", "broadcast_to", "reshape", "swapaxes", "transpose", "expand_dims",
    "squeeze", "matmul", "zeros_like", "index_add", "astype", "softplus",
)

numpy_ns = ArrayNamespace(
    "numpy", plain=True, device="cpu",
    exp=np.exp, log=np.log, sqrt=np.sqrt, sign=np.sign, tanh=np.tanh, abs=np.abs,
    sin=np.sin, cos=np.cos, erf=kernels.erf, where=kernels.where, maximum=np.maximum,
    minimum=np.minimum, sum=_sum, mean=_mean, sum_to=kernels.sum_to,
    broadcast_to=np.broadcast_to, reshape=np.reshape, swapaxes=np.swapaxes,
    transpose=np.transpose, expand_dims=np.expand_dims, squeeze=np.squeeze,
    matmul=np.matmul, zeros_like=np.zeros_like, index_add=kernels.index_add, astype=_astype,
    softplus=kernels.softplus,
)
