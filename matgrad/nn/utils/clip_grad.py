"""Gradient clipping: rescale gradients whose total norm is too large, or clamp each value."""
from __future__ import annotations

import math
from typing import Any, Iterable

import numpy as np

from ...devices import move
from ...tensor import Tensor

_Params = Tensor | Iterable[Tensor]


def _grads(parameters: _Params) -> list[Any]:
    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    return [p for p in params if p.grad is not None]


def _norm(a: np.ndarray, norm_type: float) -> float:
    a = np.abs(a.ravel())
    if a.size == 0:
        return 0.0
    if norm_type == math.inf:
        return float(a.max())
    if norm_type == -math.inf:
        return float(a.min())
    if norm_type == 0:
        return float(np.count_nonzero(a))
    if norm_type == 2:
        return float(np.sqrt(np.dot(a, a)))
    return float(np.sum(a.astype(np.float64) ** norm_type) ** (1.0 / norm_type))


def clip_grad_norm_(parameters: _Params, max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False, foreach: Any = None) -> Tensor:
    """Scale all gradients together so their joint norm is at most max_norm; returns the norm before.

    The norm is that of all gradients concatenated into one vector (norm_type=inf: the largest
    absolute value). Gradients are scaled by min(1, max_norm / (norm + 1e-6)), in place.
    """
    max_norm, norm_type = float(max_norm), float(norm_type)
    params = _grads(parameters)
    if not params:
        return Tensor(np.asarray(0.0, dtype=np.float32))
    dtype = params[0].grad.array.dtype
    norms = np.array([_norm(p.grad.array.astype(np.float64), norm_type) for p in params])  # (any device's arrays)
    total = _norm(norms, norm_type) if norm_type not in (0,) else float(norms.sum())
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, so it "
            "cannot be clipped. To disable this error and scale the gradients by the non-finite norm "
            "anyway, set `error_if_nonfinite=False`"
        )
    coef = min(max_norm / (total + 1e-6), 1.0)
    with np.errstate(invalid="ignore"):  # a non-finite norm gives nan gradients, as torch
        for p in params:
            g = p.grad.array
            if p.grad.grad_fn is None and getattr(g.flags, "writeable", True):  # (CuPy's flags have none)
                g *= g.dtype.type(coef)
            else:
                p.grad = p.grad * coef
    return Tensor(move(np.asarray(total, dtype=dtype), params[0].grad.device))  # on the gradients' device


def clip_grad_value_(parameters: _Params, clip_value: float, foreach: Any = None) -> None:
    """Clamp every gradient element to [-clip_value, clip_value], in place."""
    c = float(clip_value)
    for p in _grads(parameters):
        g = p.grad.array
        if p.grad.grad_fn is None and getattr(g.flags, "writeable", True):
            np.clip(g, -c, c, out=g)
        else:
            p.grad = np.clip(g, -c, c)
