"""Adamax: Adam with the infinity norm in place of the second moment."""
from __future__ import annotations

from typing import Any

import numpy as np

from .. import memory
from .adam import _lerp_
from .nadam import _check_betas
from .optimizer import Optimizer, ParamsT, signed_decayed_grad


class Adamax(Optimizer):
    """Adamax (Kingma & Ba), step for step as `torch.optim.Adamax`:

        g = ±grad + weight_decay·p
        m = lerp(m, g, 1 − β1)
        u = max(β2·u, |g| + eps)
        p = p − lr/(1 − β1ᵗ) · m/u

    State per parameter: 'step', 'exp_avg' (m), 'exp_inf' (u).
    """

    def __init__(self, params: ParamsT, lr: float = 2e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0, foreach: bool | None = None, *,
                 maximize: bool = False, differentiable: bool = False, capturable: bool = False) -> None:
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, capturable=capturable)  # optim/flags.py
        super().__init__(params, defaults)

    _setstate_defaults = dict(foreach=None, maximize=False, differentiable=False, capturable=False)

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
            state["exp_inf"] = memory.zeros_like(param)
        m, u = state["exp_avg"], state["exp_inf"]
        state["step"] += 1
        g = signed_decayed_grad(grad, param, weight_decay, group["maximize"])

        tmp = np.subtract(g, m, dtype=param.dtype, out=np.empty_like(param))
        _lerp_(m, g, tmp, 1 - beta1)
        u *= beta2
        np.abs(g, out=tmp)
        tmp += eps
        np.maximum(u, tmp, out=u)
        np.divide(m, u, out=tmp)
        tmp *= -lr / (1 - beta1 ** float(state["step"]))
        param += tmp
