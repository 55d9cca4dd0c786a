"""Adadelta: step sizes from running averages of squared gradients and squared updates."""
from __future__ import annotations

from typing import Any

import numpy as np

from .. import memory
from .optimizer import Optimizer, ParamsT, signed_decayed_grad


class Adadelta(Optimizer):
    """Adadelta (Zeiler), step for step as `torch.optim.Adadelta`:

        g  = ±grad + weight_decay·p
        s  = ρ·s + (1 − ρ)·g²
        Δ  = √(a + eps) / √(s + eps) · g
        a  = ρ·a + (1 − ρ)·Δ²
        p  = p − lr·Δ

    State per parameter: 'step', 'square_avg' (s), 'acc_delta' (a).
    """

    def __init__(self, params: ParamsT, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6,
                 weight_decay: float = 0.0, foreach: bool | None = None, *, capturable: bool = False,
                 maximize: bool = False, differentiable: bool = False) -> None:
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize, capturable=capturable,
                        foreach=foreach, differentiable=differentiable)  # flags: optim/flags.py
        super().__init__(params, defaults)

    _setstate_defaults = dict(foreach=None, maximize=False, differentiable=False, capturable=False)

    def _validate(self, group: dict[str, Any], index: int) -> None:
        super()._validate(group, index)
        self._check(0.0 <= group["rho"] <= 1.0, index, f"rho value {group['rho']}: it must be in [0, 1]")
        self._check(group["eps"] >= 0, index, f"epsilon value {group['eps']}: it must be >= 0")
        self._check(group["weight_decay"] >= 0, index,
                    f"weight_decay value {group['weight_decay']}: it must be >= 0")

    def _update(self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any],
                group: dict[str, Any]) -> None:
        lr, rho, eps, weight_decay = (float(group[k]) for k in ("lr", "rho", "eps", "weight_decay"))
        if not state:
            state["step"] = 0
            state["square_avg"] = memory.zeros_like(param)
            state["acc_delta"] = memory.zeros_like(param)
        square_avg, acc_delta = state["square_avg"], state["acc_delta"]
        state["step"] += 1
        g = signed_decayed_grad(grad, param, weight_decay, group["maximize"])

        tmp = np.multiply(g, 1 - rho, dtype=param.dtype, out=np.empty_like(param))
        tmp *= g
        square_avg *= rho
        square_avg += tmp
        std = np.add(square_avg, eps, out=tmp)
        np.sqrt(std, out=std)
        delta = np.add(acc_delta, eps, out=np.empty_like(param))
        np.sqrt(delta, out=delta)
        delta /= std
        delta *= g
        np.multiply(delta, 1 - rho, out=tmp)
        tmp *= delta
        acc_delta *= rho
        acc_delta += tmp
        delta *= -lr
        param += delta
