"""SGD: stochastic gradient descent, with momentum, Nesterov momentum and weight decay."""
from __future__ import annotations

from typing import Any

import numpy as np

from .. import blas, memory
from .optimizer import Optimizer, ParamsT, signed_decayed_grad


class SGD(Optimizer):
    """Stochastic gradient descent, step for step as `torch.optim.SGD`.

        g  = ±grad + weight_decay·p                    (− when maximize)
        b  = g                          on the first step (momentum ≠ 0)
        b  = momentum·b + (1 − dampening)·g            afterwards
        g  = g + momentum·b  (nesterov)   or   g = b
        p  = p − lr·g

    State per parameter: 'momentum_buffer' (only when momentum ≠ 0).
    """

    def __init__(self, params: ParamsT, lr: float = 1e-3, momentum: float = 0.0, dampening: float = 0.0,
                 weight_decay: float = 0.0, nesterov: bool = False, *, maximize: bool = False,
                 foreach: bool | None = None, differentiable: bool = False, fused: bool | None = None) -> None:
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                        nesterov=nesterov, maximize=maximize, foreach=foreach, differentiable=differentiable,
                        fused=fused)  # foreach, fused: PyTorch's kernel choices, one path here (optim/flags.py)
        super().__init__(params, defaults)

    _setstate_defaults = dict(nesterov=False, maximize=False, foreach=None, differentiable=False, fused=False)

    def _validate(self, group: dict[str, Any], index: int) -> None:
        super()._validate(group, index)
        self._check(group["momentum"] >= 0, index, f"momentum value {group['momentum']}: it must be >= 0")
        self._check(group["weight_decay"] >= 0, index,
                    f"weight_decay value {group['weight_decay']}: it must be >= 0")
        self._check(not group["nesterov"] or (group["momentum"] > 0 and group["dampening"] == 0), index,
                    "nesterov setting: Nesterov momentum requires momentum > 0 and dampening = 0")

    def _update(self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any],
                group: dict[str, Any]) -> None:
        lr, momentum = float(group["lr"]), float(group["momentum"])  # read each step: a scheduler may change them
        dampening, weight_decay, maximize = float(group["dampening"]), float(group["weight_decay"]), group["maximize"]
        g = signed_decayed_grad(grad, param, weight_decay, maximize) if weight_decay != 0 or maximize else grad
        host = type(param) is np.ndarray  # BLAS only for NumPy arrays; a device's arrays take NumPy's dispatch
        if momentum != 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                # a copy, on the parameter's device (asarray: NumPy's 0-d math gives scalars, the buffer an array)
                buf = state["momentum_buffer"] = memory.copy(np.asarray(g) if host else g, param.dtype)
            elif host:
                if not group["nesterov"]:  # b = momentum·b + (1 − dampening)·g, then p = p − lr·b
                    blas.axpby_axpy(1 - dampening, g, momentum, buf, -lr, param)
                    return
                blas.axpby(1 - dampening, g, momentum, buf)  # b = momentum·b + (1 − dampening)·g
            else:
                buf *= momentum
                buf += (1 - dampening) * g if dampening != 0 else g
            if not group["nesterov"]:
                g = buf
            elif g is grad:
                g = g + momentum * buf  # p.grad itself is never changed
            else:
                g += momentum * buf
        if host:
            blas.axpy(-lr, g, param)  # p = p − lr·g, in one pass
        else:
            param += -lr * g

    def _fused_update(self, backend: Any, param: Any, grad: Any, state: dict[str, Any],
                      group: dict[str, Any]) -> bool:
        momentum = float(group["momentum"])
        kernel = backend.fused.get("sgd" if momentum != 0 else "sgd_plain")
        if kernel is None or grad.dtype != param.dtype or param.dtype.kind != "f":
            return False
        t = param.dtype.type  # scalars in the parameter's dtype, as NumPy rounds a Python float against it
        lr, wd, sign = t(group["lr"]), t(group["weight_decay"]), t(-1.0 if group["maximize"] else 1.0)
        if momentum == 0:
            kernel(grad, lr, wd, sign, param)
            return True
        buf = state.get("momentum_buffer")
        first = buf is None
        if first:
            buf = state["momentum_buffer"] = np.empty_like(param)
        kernel(grad, lr, t(momentum), t(1 - float(group["dampening"])), wd, sign, t(bool(group["nesterov"])),
               t(first), param, buf)
        return True
