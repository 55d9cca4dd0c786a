"""The fully connected layer as one op: Y = X·Wᵀ + b, the seed MLP's hot path."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd.op import Op
from ..tensor import Tensor, as_tensor


class Linear(Op):
    """Y = X @ Wᵀ + b.  dX = dY·W, dW = dYᵀ·X, db = Σ_rows dY.

    Shapes: X (*, in), W (out, in), b (out,), Y and dY (*, out). Leading dimensions of X
    are flattened into rows for the weight gradients, so dW is one (out×in) product with
    no transposed copy (BLAS reads dYᵀ as a flag) and db one column sum.
    """

    def forward(self, x, w, b=None):
        y = np.matmul(x, w.T)  # w.T is a view: BLAS reads it transposed, no copy
        if b is not None:
            y += b
        return y

    def backward(self, dy):
        xp = self.xp
        x, w = self.inputs[:2]
        need = self.needs_input_grad
        dx = xp.matmul(dy, w) if need[0] else None
        dw = db = None
        if need[1] or (len(need) > 2 and need[2]):
            rows = (-1, dy.shape[-1])
            dy2 = dy if dy.ndim == 2 else xp.reshape(dy, rows)
            if need[1]:
                x2 = x if x.ndim == 2 else xp.reshape(x, (-1, x.shape[-1]))
                dw = xp.matmul(xp.swapaxes(dy2, 0, 1), x2)
            if len(need) > 2 and need[2]:
                db = xp.sum(dy2, axis=0)
        return (dx, dw) if len(need) == 2 else (dx, dw, db)


def linear(input: Any, weight: Any, bias: Any = None) -> Tensor:
    """y = input @ weightᵀ + bias, as torch.nn.functional.linear.

    input (*, in_features), weight (out_features, in_features), bias (out_features,) or None.
    """
    x = input if type(input) is Tensor else as_tensor(input)
    w = as_tensor(weight, x)
    xd, wd = x.array, w.array
    if wd.ndim != 2 or xd.ndim == 0 or xd.shape[-1] != wd.shape[1] or xd.dtype != wd.dtype:
        _check(xd, wd)
    if bias is None:
        return Linear.apply(x, w)
    b = as_tensor(bias, x)
    if b.array.shape != (wd.shape[0],):
        raise ValueError(f"linear: bias must have shape ({wd.shape[0]},), got {b.array.shape}")
    return Linear.apply(x, w, b)


def _check(x: Any, w: Any) -> None:
    """Say what is wrong with linear's input and weight."""
    if w.ndim != 2:
        raise ValueError(f"linear: weight must be 2-D (out_features, in_features), got shape {w.shape}")
    if x.ndim == 0 or x.shape[-1] != w.shape[1]:
        raise ValueError(
            f"linear: input of shape {x.shape} does not fit weight of shape {w.shape}: the input's "
            f"last dimension must be in_features={w.shape[1]}"
        )
    raise TypeError(
        f"linear: input is {x.dtype} but weight is {w.dtype}; convert one, e.g. "
        f"input.to({w.dtype}) or model.to({x.dtype})"
    )
