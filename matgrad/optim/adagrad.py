"""Adagrad: per-coordinate learning rates shrinking with the sum of squared gradients."""
from __future__ import annotations

from typing import Any

import numpy as np

from .. import memory
from .optimizer import Optimizer, ParamsT, signed_decayed_grad


class Adagrad(Optimizer):
    """Adagrad (Duchi et al.), step for step as `torch.optim.Adagrad`:

        t   = t + 1
        g   = ±grad + weight_decay·p
        clr = lr / (1 + (t − 1)·lr_decay)
        s   = s + g²                       (s starts at initial_accumulator_value)
        p   = p − clr · g / (√s + eps)

    State per parameter: 'step', 'sum' (s). As in PyTorch, the accumulators start at the
    constructor's initial_accumulator_value, even for groups that give their own.
    """

    def __init__(self, params: ParamsT, lr: float = 1e-2, lr_decay: float = 0.0, weight_decay: float = 0.0,
                 initial_accumulator_value: float = 0.0, eps: float = 1e-10, foreach: bool | None = None, *,
                 maximize: bool = False, differentiable: bool = False, fused: bool | None = None) -> None:
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, foreach=foreach, maximize=maximize,
                        differentiable=differentiable, fused=fused)  # foreach, fused: optim/flags.py
        super().__init__(params, defaults)
        # PyTorch fills the accumulators when the optimizer is made, so state_dict() has them at once
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p.array, self.state[p])

    _setstate_defaults = dict(foreach=None, maximize=False, differentiable=False, fused=None)

    def _validate(self, group: dict[str, Any], index: int) -> None:
        super()._validate(group, index)
        self._check(group["lr_decay"] >= 0, index, f"lr_decay value {group['lr_decay']}: it must be >= 0")
        self._check(group["eps"] >= 0, index, f"epsilon value {group['eps']}: it must be >= 0")
        self._check(group["weight_decay"] >= 0, index,
                    f"weight_decay value {group['weight_decay']}: it must be >= 0")
        self._check(group["initial_accumulator_value"] >= 0, index,
                    f"initial_accumulator_value {group['initial_accumulator_value']}: it must be >= 0")

    def _init_state(self, param: np.ndarray, state: dict[str, Any]) -> None:
        if not state:
            state["step"] = 0
            state["sum"] = total = memory.zeros_like(param)
            if self.defaults["initial_accumulator_value"]:
                total.fill(float(self.defaults["initial_accumulator_value"]))

    def _update(self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any],
                group: dict[str, Any]) -> None:
        lr, lr_decay = float(group["lr"]), float(group["lr_decay"])
        eps, weight_decay = float(group["eps"]), float(group["weight_decay"])
        self._init_state(param, state)  # a group added after construction
        state["step"] += 1
        step = float(state["step"])

        g = signed_decayed_grad(grad, param, weight_decay, group["maximize"])
        clr = lr / (1 + (step - 1) * lr_decay)

        # the scratch array of this step (out=: a 0-d parameter's math would give NumPy scalars)
        tmp = np.multiply(g, g, dtype=param.dtype, out=np.empty_like(param))
        state_sum = state["sum"]
        state_sum += tmp
        std = np.sqrt(state_sum, out=tmp)
        std += eps
        update = np.divide(g, std, out=tmp)
        update *= clr
        param -= update
