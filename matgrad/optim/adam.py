"""Adam: adaptive moment estimation (and, with decoupled weight decay, AdamW)."""
from __future__ import annotations

from typing import Any

import numpy as np

from .. import memory
from .optimizer import Optimizer, ParamsT, signed_decayed_grad


class Adam(Optimizer):
    """Adam, step for step as `torch.optim.Adam` (single-tensor path, same order of operations).

        t  = t + 1
        g  = ±grad + weight_decay·p          (decoupled_weight_decay, AdamW: p = p·(1 − lr·weight_decay))
        m  = lerp(m, g, 1 − β1)               (m + (1−β1)(g − m))
        v  = β2·v + (1 − β2)·g²
        v̂  = max(v̂, v)                        (amsgrad: the denominator uses v̂)
        denom = √v / √(1 − β2ᵗ) + eps
        p  = p − lr / (1 − β1ᵗ) · m / denom

    State per parameter: 'step', 'exp_avg' (m), 'exp_avg_sq' (v), 'max_exp_avg_sq' (v̂, amsgrad).
    """

    def __init__(self, params: ParamsT, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0, amsgrad: bool = False, *,
                 foreach: bool | None = None, maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False, fused: bool | None = None,
                 decoupled_weight_decay: bool = False) -> None:
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                        maximize=maximize, foreach=foreach, capturable=capturable, differentiable=differentiable,
                        fused=fused, decoupled_weight_decay=decoupled_weight_decay)  # flags: optim/flags.py
        super().__init__(params, defaults)

    _setstate_defaults = dict(amsgrad=False, maximize=False, foreach=None, capturable=False, differentiable=False,
                              decoupled_weight_decay=False, fused=None)

    def _validate(self, group: dict[str, Any], index: int) -> None:
        super()._validate(group, index)
        betas = group["betas"]
        self._check(len(betas) == 2, index, f"betas {betas!r}: give two numbers (beta1, beta2)")
        for i, b in enumerate(betas):
            self._check(0.0 <= b < 1.0, index, f"beta{i + 1} value {b}: it must be in [0, 1)")
        self._check(group["eps"] >= 0, index, f"epsilon value {group['eps']}: it must be >= 0")
        self._check(group["weight_decay"] >= 0, index,
                    f"weight_decay value {group['weight_decay']}: it must be >= 0")

    def _update(self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any],
                group: dict[str, Any]) -> None:
        lr, eps, weight_decay = float(group["lr"]), float(group["eps"]), float(group["weight_decay"])
        beta1, beta2 = (float(b) for b in group["betas"])
        self._init_state(param, state, group)
        m, v = state["exp_avg"], state["exp_avg_sq"]
        state["step"] += 1
        step = float(state["step"])

        if weight_decay != 0 and group["decoupled_weight_decay"]:
            param *= 1 - lr * weight_decay
            weight_decay = 0.0
        g = signed_decayed_grad(grad, param, weight_decay, group["maximize"])

        # the one scratch array of this step (out=: a 0-d parameter's math would give NumPy scalars)
        tmp = np.subtract(g, m, dtype=param.dtype, out=np.empty_like(param))
        _lerp_(m, g, tmp, 1 - beta1)
        v *= beta2
        np.multiply(g, 1 - beta2, out=tmp)
        tmp *= g
        v += tmp

        bias_correction1 = 1 - beta1**step
        bias_correction2 = 1 - beta2**step
        step_size = lr / bias_correction1
        if group["amsgrad"]:
            if "max_exp_avg_sq" not in state:  # amsgrad switched on mid-run
                state["max_exp_avg_sq"] = memory.zeros_like(param)
            v = state["max_exp_avg_sq"]
            np.maximum(v, state["exp_avg_sq"], out=v)
        denom = np.sqrt(v, out=tmp)
        denom /= bias_correction2**0.5
        denom += eps
        update = np.divide(m, denom, out=tmp)
        update *= step_size
        param -= update

    @staticmethod
    def _init_state(param: Any, state: dict[str, Any], group: dict[str, Any]) -> None:
        """Zero moments on the parameter's device (memory.zeros_like dispatches), on the first step."""
        if not state:
            state["step"] = 0
            state["exp_avg"] = memory.zeros_like(param)
            state["exp_avg_sq"] = memory.zeros_like(param)
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = memory.zeros_like(param)

    def _fused_update(self, backend: Any, param: Any, grad: Any, state: dict[str, Any],
                      group: dict[str, Any]) -> bool:
        kernel = backend.fused.get("adam_amsgrad" if group["amsgrad"] else "adam")
        if kernel is None or grad.dtype != param.dtype or param.dtype.kind != "f":
            return False
        self._init_state(param, state, group)
        if group["amsgrad"] and "max_exp_avg_sq" not in state:  # amsgrad switched on mid-run
            state["max_exp_avg_sq"] = memory.zeros_like(param)
        state["step"] += 1
        step = float(state["step"])
        lr, eps, weight_decay = float(group["lr"]), float(group["eps"]), float(group["weight_decay"])
        beta1, beta2 = (float(b) for b in group["betas"])
        decay = 1.0
        if weight_decay != 0 and group["decoupled_weight_decay"]:
            decay, weight_decay = 1 - lr * weight_decay, 0.0
        t = param.dtype.type  # the host's scalars, rounded to the parameter's dtype as NumPy's passes do
        w1 = 1 - beta1
        args = [grad, t(decay), t(weight_decay), t(-1.0 if group["maximize"] else 1.0), t(w1), t(1 - w1),
                t(w1 >= 0.5), t(beta2), t(1 - beta2), t((1 - beta2**step) ** 0.5), t(eps), t(lr / (1 - beta1**step)),
                param, state["exp_avg"], state["exp_avg_sq"]]
        if group["amsgrad"]:
            args.append(state["max_exp_avg_sq"])
        kernel(*args)
        return True


def _lerp_(start: np.ndarray, end: np.ndarray, diff: np.ndarray, weight: float) -> None:
    """start ← start + weight·(end − start), in place, rounded as PyTorch's lerp; diff = end − start."""
    if weight < 0.5:
        diff *= weight
        start += diff
    else:  # PyTorch's form for large weights: exact at weight = 1
        diff *= 1 - weight
        np.subtract(end, diff, out=start)
