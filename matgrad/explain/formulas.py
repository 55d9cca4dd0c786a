"""The arithmetic of one gradient, as a tutorial writes it under the node.

Scalars: `∂J/∂b = ∂J/∂u · c = 3 · 2 = 6` (upstream × local derivative = gradient).
Tensors, in the seeds' matrix view: `dW (784×1024) = Xᵀ (784×256) · dY (256×1024)`.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..ops.linear import Linear
from ..ops.matmul import MatMul
from .model import Operand
from .rules import Rule
from .values import num, shape_str

if TYPE_CHECKING:
    from ..tensor import Tensor


def formula(node: Any, rule: Rule, i: int, parents: tuple, pnames: list[str], y: Tensor, yname: str,
             dy: np.ndarray, g: np.ndarray, op_: Operand, d_out: str) -> str:
    """The arithmetic of one gradient: ∂J/∂b = ∂J/∂u · c = 3 · 2 = 6, or its matrix view."""
    x = parents[i]
    xname = pnames[i]
    if op_.local is not None and dy.size == 1 and x.array.size == 1:
        local_val = num(np.asarray(op_.local).item())
        sym = op_.local_symbol
        mid = f" · {sym}" if sym != local_val else f" · {local_val}"
        return (f"{d_out}{xname} = {d_out}{yname}{mid} = {paren(dy.item())} · {paren(op_.local)} = "
                f"{num(np.asarray(op_.grad).item())}")
    dx = f"d{xname} ({shape_str(x.shape)})"
    dys = f"d{yname} ({shape_str(dy.shape)})"
    if type(node) is MatMul:
        text = matmul_view(i, parents, pnames, dys, np.asarray(g).shape)
    elif type(node) is Linear:
        text = linear_view(i, parents, pnames, yname, tuple(dy.shape))
    elif op_.local is not None:
        sym = op_.local_symbol
        text = dys if sym == "1" else f"−{dys}" if sym == "−1" else f"{dys} ⊙ {sym}"
    else:
        view = rule.view or f"{node.name}.backward(d{{y}})"
        text = view.format(y=yname, x=xname, n=getattr(node, "n", "n"))
    if op_.summed_axes:
        text += f", summed over axes {op_.summed_axes} (broadcast)"
    return f"{dx} = {text}"


def paren(x: Any) -> str:
    """A number for inside a product: negatives in parentheses, 2 · (−1)."""
    s = num(np.asarray(x).item())
    return f"({s})" if s.startswith("-") else s


def matmul_view(i: int, parents: tuple, pnames: list[str], dys: str, raw: tuple[int, ...]) -> str:
    a, b = parents
    an, bn = pnames
    if a.ndim >= 2 and b.ndim >= 2:
        bt = f"{bn}ᵀ ({shape_str(b.shape[:-2] + (b.shape[-1], b.shape[-2]))})"
        at = f"{an}ᵀ ({shape_str(a.shape[:-2] + (a.shape[-1], a.shape[-2]))})"
        return f"{dys} · {bt}" if i == 0 else f"{at} · {dys}"
    if a.ndim == 1 and b.ndim == 1:
        return f"{dys} · {bn}" if i == 0 else f"{dys} · {an}"
    if i == 0:
        return f"{dys} · {bn}ᵀ" if a.ndim >= 2 else f"{dys} (row) · {bn}ᵀ ({shape_str(b.shape[::-1])})"
    return f"{an}ᵀ · {dys}" if b.ndim >= 2 else f"{an}ᵀ ({shape_str(a.shape[::-1])}) · {dys} (column)"


def linear_view(i: int, parents: tuple, pnames: list[str], yname: str, dy_shape: tuple[int, ...]) -> str:
    """Y = X·Wᵀ + b with real shapes: dX = dY·W, dW = dYᵀ·X, db = Σ over the rows of dY."""
    x, w = parents[0], parents[1]
    rows = int(np.prod(x.shape[:-1], dtype=np.int64))
    out = dy_shape[-1]
    dy2 = f"d{yname}"
    if i == 0:
        return f"{dy2} ({shape_str(dy_shape)}) · {pnames[1]} ({shape_str(w.shape)})"
    if i == 1:
        return f"{dy2}ᵀ ({out}×{rows}) · {pnames[0]} ({rows}×{x.shape[-1]})"
    return f"Σ over the {rows} rows of {dy2} ({rows}×{out})"
