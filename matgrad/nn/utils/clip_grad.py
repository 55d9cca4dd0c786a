"""Gradient clipping: rescale gradients whose total norm is too large, or clamp each value."""
from __future__ import annotations

import math
import warnings
from typing import Any, Iterable

import numpy as np

from ...devices import device_of, move
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


def get_total_norm(tensors: _Params, norm_type: float = 2.0, error_if_nonfinite: bool = False,
                   foreach: Any = None) -> Tensor:
    """The norm of all `tensors` concatenated into one vector (norm_type=inf: the largest |value|).

    tensors: e.g. [p.grad for p in model.parameters() if p.grad is not None]; returns a 0-d
    tensor of the first one's dtype, on its device (0.0 for no tensors).
    """
    norm_type = float(norm_type)
    arrays = [tensors.array] if isinstance(tensors, Tensor) else \
        [t.array if isinstance(t, Tensor) else t for t in tensors if t is not None]
    if not arrays:
        return Tensor(np.asarray(0.0, dtype=np.float32))
    norms = np.array([_norm(a.astype(np.float64), norm_type) for a in arrays])  # (any device's arrays)
    total = _norm(norms, norm_type) if norm_type != 0 else float(norms.sum())
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, so it "
            "cannot be clipped. To disable this error and scale the gradients by the non-finite norm "
            "anyway, set `error_if_nonfinite=False`"
        )
    return Tensor(move(np.asarray(total, dtype=arrays[0].dtype), device_of(arrays[0])))


def clip_grads_with_norm_(parameters: _Params, max_norm: float, total_norm: Any, foreach: Any = None) -> None:
    """Scale every gradient by min(1, max_norm / (total_norm + 1e-6)), in place (total_norm from
    get_total_norm, e.g. after reducing it across processes)."""
    total = float(total_norm.item() if hasattr(total_norm, "item") else total_norm)
    coef = min(float(max_norm) / (total + 1e-6), 1.0)
    with np.errstate(invalid="ignore"):  # a non-finite norm gives nan gradients, as torch
        for p in _grads(parameters):
            g = p.grad.array
            if p.grad.grad_fn is None and getattr(g.flags, "writeable", True):  # (CuPy's flags have none)
                g *= g.dtype.type(coef)
            else:
                p.grad = p.grad * coef


def clip_grad_norm_(parameters: _Params, max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False, foreach: Any = None) -> Tensor:
    """Scale all gradients together so their joint norm is at most max_norm; returns the norm before.

    The norm is that of all gradients concatenated into one vector (norm_type=inf: the largest
    absolute value). Gradients are scaled by min(1, max_norm / (norm + 1e-6)), in place.
    """
    params = _grads(parameters)
    if not params:
        return Tensor(np.asarray(0.0, dtype=np.float32))
    total = get_total_norm([p.grad for p in params], norm_type, error_if_nonfinite)
    clip_grads_with_norm_(params, max_norm, total)
    return total


def clip_grad_norm(parameters: _Params, max_norm: float, norm_type: float = 2.0,
                   error_if_nonfinite: bool = False, foreach: Any = None) -> Tensor:
    """Deprecated: clip_grad_norm_ (warns, as torch)."""
    warnings.warn("`torch.nn.utils.clip_grad_norm` is now deprecated in favor of "
                  "`torch.nn.utils.clip_grad_norm_`.", FutureWarning, stacklevel=2)
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)


def clip_grad_value_(parameters: _Params, clip_value: float, foreach: Any = None) -> None:
    """Clamp every gradient element to [-clip_value, clip_value], in place."""
    c = float(clip_value)
    for p in _grads(parameters):
        g = p.grad.array
        if p.grad.grad_fn is None and getattr(g.flags, "writeable", True):
            np.clip(g, -c, c, out=g)
        else:
            p.grad = np.clip(g, -c, c)
