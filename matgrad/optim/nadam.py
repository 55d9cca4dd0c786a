"""NAdam: Adam with Nesterov momentum (Dozat), with momentum decay."""
from __future__ import annotations

from typing import Any

import numpy as np

from .. import memory
from .adam import _lerp_
from .optimizer import Optimizer, ParamsT, signed_decayed_grad


class NAdam(Optimizer):
    """NAdam, step for step as `torch.optim.NAdam` (single-tensor path):

        g   = ±grad + weight_decay·p       (decoupled_weight_decay: p = p·(1 − lr·weight_decay))
        μt  = β1·(1 − ½·0.96^(t·momentum_decay)),  μ_{t+1} likewise;  Πt = Πt−1·μt
        m   = lerp(m, g, 1 − β1);  v = β2·v + (1 − β2)·g²
        denom = √(v / (1 − β2ᵗ)) + eps
        p   = p − lr·(1 − μt)/(1 − Πt) · g/denom − lr·μ_{t+1}/(1 − Πt·μ_{t+1}) · m/denom

    State per parameter: 'step', 'mu_product' (Π, kept in float32 as torch's scalar tensor),
    'exp_avg' (m), 'exp_avg_sq' (v).
    """

    def __init__(self, params: ParamsT, lr: float = 2e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0, momentum_decay: float = 4e-3,
                 decoupled_weight_decay: bool = False, *, foreach: bool | None = None, maximize: bool = False,
                 capturable: bool = False, differentiable: bool = False) -> None:
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                        momentum_decay=momentum_decay, decoupled_weight_decay=decoupled_weight_decay,
                        maximize=maximize, foreach=foreach, capturable=capturable,
                        differentiable=differentiable)  # flags: optim/flags.py
        super().__init__(params, defaults)

    _setstate_defaults = dict(maximize=False, foreach=None, capturable=False, differentiable=False,
                              decoupled_weight_decay=False)

    def _validate(self, group: dict[str, Any], index: int) -> None:
        super()._validate(group, index)
        _check_betas(self, group, index)
        self._check(group["momentum_decay"] >= 0, index,
                    f"momentum_decay value {group['momentum_decay']}: it must be >= 0")

    def _update(self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any],
                group: dict[str, Any]) -> None:
        lr, eps, weight_decay = float(group["lr"]), float(group["eps"]), float(group["weight_decay"])
        beta1, beta2 = (float(b) for b in group["betas"])
        momentum_decay = float(group["momentum_decay"])
        if not state:
            state["step"] = 0
            state["mu_product"] = 1.0
            state["exp_avg"] = memory.zeros_like(param)
            state["exp_avg_sq"] = memory.zeros_like(param)
        m, v = state["exp_avg"], state["exp_avg_sq"]
        state["step"] += 1
        step = float(state["step"])
        bias_correction2 = 1 - beta2**step

        if weight_decay != 0 and group["decoupled_weight_decay"]:
            param *= 1 - lr * weight_decay
            weight_decay = 0.0
        g = signed_decayed_grad(grad, param, weight_decay, group["maximize"])

        mu = beta1 * (1.0 - 0.5 * 0.96 ** (step * momentum_decay))
        mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((step + 1) * momentum_decay))
        mu_product = state["mu_product"] = _f32(state["mu_product"] * np.float32(mu))
        mu_product_next = mu_product * mu_next

        tmp = np.subtract(g, m, dtype=param.dtype, out=np.empty_like(param))
        _lerp_(m, g, tmp, 1 - beta1)
        v *= beta2
        np.multiply(g, 1 - beta2, out=tmp)
        tmp *= g
        v += tmp

        denom = np.divide(v, bias_correction2, out=np.empty_like(param))
        np.sqrt(denom, out=denom)
        denom += eps
        np.divide(g, denom, out=tmp)
        tmp *= -lr * (1.0 - mu) / (1.0 - mu_product)
        param += tmp
        np.divide(m, denom, out=tmp)
        tmp *= (-lr * mu_next) / (1.0 - mu_product_next)
        param += tmp


def _f32(x: float) -> float:
    """x rounded to float32, as torch keeps an optimizer's scalar state (a float32 0-d tensor)."""
    return float(np.float32(x))


def _check_betas(opt: Optimizer, group: dict[str, Any], index: int) -> None:
    """The Adam family's checks: two betas in [0, 1), eps >= 0, weight_decay >= 0."""
    betas = group["betas"]
    opt._check(len(betas) == 2, index, f"betas {betas!r}: give two numbers (beta1, beta2)")
    for i, b in enumerate(betas):
        opt._check(0.0 <= b < 1.0, index, f"beta{i + 1} value {b}: it must be in [0, 1)")
    opt._check(group["eps"] >= 0, index, f"epsilon value {group['eps']}: it must be >= 0")
    opt._check(group["weight_decay"] >= 0, index, f"weight_decay value {group['weight_decay']}: it must be >= 0")
