"""RAdam: Adam with the variance of its adaptive learning rate rectified (Liu et al.)."""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import memory
from .adam import _lerp_
from .nadam import _check_betas
from .optimizer import Optimizer, ParamsT, signed_decayed_grad


class RAdam(Optimizer):
    """RAdam, step for step as `torch.optim.RAdam` (single-tensor path):

        g   = ±grad + weight_decay·p       (decoupled_weight_decay: p = p·(1 − lr·weight_decay))
        m   = lerp(m, g, 1 − β1);  v = β2·v + (1 − β2)·g²
        ρ∞  = 2/(1 − β2) − 1;  ρt = ρ∞ − 2t·β2ᵗ/(1 − β2ᵗ)
        p   = p − lr·m/(1 − β1ᵗ) · √(1 − β2ᵗ)/(√v + eps) · r     where ρt > 5,
              r = √((ρt − 4)(ρt − 2)ρ∞ / ((ρ∞ − 4)(ρ∞ − 2)ρt))
        p   = p − lr·m/(1 − β1ᵗ)                                 otherwise

    State per parameter: 'step', 'exp_avg' (m), 'exp_avg_sq' (v).
    """

    def __init__(self, params: ParamsT, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0, decoupled_weight_decay: bool = False, *,
                 foreach: bool | None = None, maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False) -> None:
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, maximize=maximize,
                        foreach=foreach, capturable=capturable, decoupled_weight_decay=decoupled_weight_decay,
                        differentiable=differentiable)  # flags: optim/flags.py
        super().__init__(params, defaults)

    _setstate_defaults = dict(foreach=None, maximize=False, differentiable=False, decoupled_weight_decay=False,
                              capturable=False)

    def _validate(self, group: dict[str, Any], index: int) -> None:
        super()._validate(group, index)
        _check_betas(self, group, index)

    def _update(self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any],
                group: dict[str, Any]) -> None:
        lr, eps, weight_decay = float(group["lr"]), float(group["eps"]), float(group["weight_decay"])
        beta1, beta2 = (float(b) for b in group["betas"])
        if not state:
            state["step"] = 0
            state["exp_avg"] = memory.zeros_like(param)
            state["exp_avg_sq"] = memory.zeros_like(param)
        m, v = state["exp_avg"], state["exp_avg_sq"]
        state["step"] += 1
        step = float(state["step"])

        if weight_decay != 0 and group["decoupled_weight_decay"]:
            param *= 1 - lr * weight_decay
            weight_decay = 0.0
        g = signed_decayed_grad(grad, param, weight_decay, group["maximize"])

        tmp = np.subtract(g, m, dtype=param.dtype, out=np.empty_like(param))
        _lerp_(m, g, tmp, 1 - beta1)
        v *= beta2
        np.multiply(g, 1 - beta2, out=tmp)
        tmp *= g
        v += tmp

        bias_correction1 = 1 - beta1**step
        bias_correction2 = 1 - beta2**step
        update = np.divide(m, bias_correction1, out=tmp)
        update *= lr
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * step * (beta2**step) / bias_correction2
        if rho_t > 5.0:
            adaptive = np.sqrt(v, out=np.empty_like(param))
            adaptive += eps
            np.divide(bias_correction2**0.5, adaptive, out=adaptive)
            update *= adaptive
            update *= math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
        param -= update
