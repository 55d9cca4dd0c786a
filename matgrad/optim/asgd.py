"""ASGD: averaged stochastic gradient descent (Polyak & Juditsky)."""
from __future__ import annotations

from typing import Any

import numpy as np

from .. import memory
from .nadam import _f32
from .optimizer import Optimizer, ParamsT, signed_decayed_grad


class ASGD(Optimizer):
    """Averaged SGD, step for step as `torch.optim.ASGD`:

        g  = ±grad + weight_decay·p
        p  = p·(1 − λ·η) − η·g
        ax = ax + μ·(p − ax)                    (ax = p while μ = 1)
        η  = lr / (1 + λ·lr·t)^α;   μ = 1 / max(1, t − t0)

    State per parameter: 'step', 'eta' (η), 'mu' (μ), 'ax' (the average); η and μ are kept in
    float32, as torch's scalar tensors.
    """

    def __init__(self, params: ParamsT, lr: float = 1e-2, lambd: float = 1e-4, alpha: float = 0.75,
                 t0: float = 1e6, weight_decay: float = 0.0, foreach: bool | None = None, maximize: bool = False,
                 differentiable: bool = False, capturable: bool = False) -> None:
        defaults = dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, capturable=capturable)  # optim/flags.py
        super().__init__(params, defaults)

    _setstate_defaults = dict(foreach=None, maximize=False, differentiable=False, capturable=False)

    def _validate(self, group: dict[str, Any], index: int) -> None:
        super()._validate(group, index)
        self._check(group["weight_decay"] >= 0, index,
                    f"weight_decay value {group['weight_decay']}: it must be >= 0")

    def _update(self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any],
                group: dict[str, Any]) -> None:
        lr, lambd, alpha, t0 = (float(group[k]) for k in ("lr", "lambd", "alpha", "t0"))
        if not state:
            state["step"] = 0
            state["eta"] = _f32(lr)
            state["mu"] = 1.0
            state["ax"] = memory.zeros_like(param)
        ax = state["ax"]
        state["step"] += 1
        g = signed_decayed_grad(grad, param, float(group["weight_decay"]), group["maximize"])

        eta = float(state["eta"])
        param *= 1 - lambd * eta
        tmp = np.multiply(g, -eta, dtype=param.dtype, out=np.empty_like(param))
        param += tmp
        if state["mu"] != 1:
            np.subtract(param, ax, out=tmp)
            tmp *= param.dtype.type(state["mu"])
            ax += tmp
        else:
            np.copyto(ax, param)
        step = float(state["step"])
        state["eta"] = _f32(lr / ((1 + lambd * lr * step) ** alpha))
        state["mu"] = _f32(1 / max(1, step - t0))
