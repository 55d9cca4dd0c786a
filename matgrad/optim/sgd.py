"""SGD: stochastic gradient descent, with momentum, Nesterov momentum and weight decay."""
from __future__ import annotations

from typing import Any

import numpy as np

from .. import blas
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
                 weight_decay: float = 0.0, nesterov: bool = False, *, maximize: bool = False) -> None:
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                        nesterov=nesterov, maximize=maximize)
        super().__init__(params, defaults)

    def _validate(self, group: dict[str, Any], index: int) -> None:
        super()._validate(group, index)
        self._check(group["momentum"] >= 0, index, f"momentum value {group['momentum']}: it must be >= 0")
        self._check(group["weight_decay"] >= 0, index,
                    f"weight_decay value {group['weight_decay']}: it must be >= 0")
        self._check(not group["nesterov"] or (group["momentum"] > 0 and group["dampening"] == 0), index,
                    "nesterov setting: Nesterov momentum requires momentum > 0 and dampening = 0")

    def _update(self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any],
                group: dict[str, Any]) -> None:
        lr, momentum = float(group["lr"]), float(group["momentum"])
        dampening, weight_decay = float(group["dampening"]), float(group["weight_decay"])
        g = signed_decayed_grad(grad, param, weight_decay, group["maximize"])
        if momentum != 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = np.array(g, dtype=param.dtype)
            else:
                blas.axpby(1 - dampening, g, momentum, buf)  # b = momentum·b + (1 − dampening)·g
            if not group["nesterov"]:
                g = buf
            elif g is grad:
                g = g + momentum * buf  # p.grad itself is never changed
            else:
                g += momentum * buf
        blas.axpy(-lr, g, param)  # p = p − lr·g, in one pass
