"""RMSprop: divide the gradient by a running root-mean-square of recent gradients."""
from __future__ import annotations

from typing import Any

import numpy as np

from .. import memory
from .adam import _lerp_
from .optimizer import Optimizer, ParamsT, signed_decayed_grad


class RMSprop(Optimizer):
    """RMSprop (Hinton), step for step as `torch.optim.RMSprop`:

        g   = ±grad + weight_decay·p
        s   = α·s + (1 − α)·g²
        ḡ   = lerp(ḡ, g, 1 − α);  avg = √(s − ḡ²) + eps     (centered)
        avg = √s + eps                                         (otherwise)
        b   = momentum·b + g / avg;  p = p − lr·b              (momentum > 0)
        p   = p − lr · g / avg                                 (otherwise)

    State per parameter: 'step', 'square_avg' (s), 'momentum_buffer' (b), 'grad_avg' (ḡ).
    """

    def __init__(self, params: ParamsT, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0.0, momentum: float = 0.0, centered: bool = False,
                 capturable: bool = False, foreach: bool | None = None, maximize: bool = False,
                 differentiable: bool = False) -> None:
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                        weight_decay=weight_decay, capturable=capturable, foreach=foreach, maximize=maximize,
                        differentiable=differentiable)  # flags: optim/flags.py
        super().__init__(params, defaults)

    _setstate_defaults = dict(momentum=0, centered=False, foreach=None, maximize=False, differentiable=False,
                              capturable=False)

    def _validate(self, group: dict[str, Any], index: int) -> None:
        super()._validate(group, index)
        self._check(group["alpha"] >= 0, index, f"alpha value {group['alpha']}: it must be >= 0")
        self._check(group["eps"] >= 0, index, f"epsilon value {group['eps']}: it must be >= 0")
        self._check(group["momentum"] >= 0, index, f"momentum value {group['momentum']}: it must be >= 0")
        self._check(group["weight_decay"] >= 0, index,
                    f"weight_decay value {group['weight_decay']}: it must be >= 0")

    def _update(self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any],
                group: dict[str, Any]) -> None:
        lr, alpha, eps = float(group["lr"]), float(group["alpha"]), float(group["eps"])
        momentum, weight_decay = float(group["momentum"]), float(group["weight_decay"])
        if not state:
            state["step"] = 0
            state["square_avg"] = memory.zeros_like(param)
            if momentum > 0:
                state["momentum_buffer"] = memory.zeros_like(param)
            if group["centered"]:
                state["grad_avg"] = memory.zeros_like(param)
        state["step"] += 1
        square_avg = state["square_avg"]

        g = signed_decayed_grad(grad, param, weight_decay, group["maximize"])

        # the scratch array of this step (out=: a 0-d parameter's math would give NumPy scalars)
        avg = np.multiply(g, 1 - alpha, dtype=param.dtype, out=np.empty_like(param))
        avg *= g
        square_avg *= alpha
        square_avg += avg
        if group["centered"]:
            if "grad_avg" not in state:  # centered switched on mid-run
                state["grad_avg"] = memory.zeros_like(param)
            grad_avg = state["grad_avg"]
            np.subtract(g, grad_avg, out=avg)
            _lerp_(grad_avg, g, avg, 1 - alpha)
            np.multiply(grad_avg, grad_avg, out=avg)
            np.subtract(square_avg, avg, out=avg)
            np.sqrt(avg, out=avg)
        else:
            np.sqrt(square_avg, out=avg)
        avg += eps

        if momentum > 0:
            if "momentum_buffer" not in state:  # momentum switched on mid-run
                state["momentum_buffer"] = memory.zeros_like(param)
            buf = state["momentum_buffer"]
            buf *= momentum
            np.divide(g, avg, out=avg)
            buf += avg
            np.multiply(buf, lr, out=avg)
            param -= avg
        else:
            np.divide(g, avg, out=avg)
            avg *= lr
            param -= avg
