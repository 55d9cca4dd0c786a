"""Rprop: resilient backpropagation, per-element step sizes driven by the gradient's sign."""
from __future__ import annotations

from typing import Any

import numpy as np

from .. import memory
from .optimizer import Optimizer, ParamsT


class Rprop(Optimizer):
    """Rprop (Riedmiller & Braun), step for step as `torch.optim.Rprop`:

        s  = sign(g·g_prev)  → etaplus where > 0, etaminus where < 0, 1 where 0
        η  = clamp(η·s, step_size_min, step_size_max)       (η starts at lr)
        g  = 0 where the sign flipped (s = etaminus)
        p  = p − sign(g)·η;   g_prev = g

    State per parameter: 'step', 'prev' (g_prev), 'step_size' (η).
    """

    def __init__(self, params: ParamsT, lr: float = 1e-2, etas: tuple[float, float] = (0.5, 1.2),
                 step_sizes: tuple[float, float] = (1e-6, 50), *, capturable: bool = False,
                 foreach: bool | None = None, maximize: bool = False, differentiable: bool = False) -> None:
        defaults = dict(lr=lr, etas=tuple(etas), step_sizes=tuple(step_sizes), foreach=foreach, maximize=maximize,
                        differentiable=differentiable, capturable=capturable)  # flags: optim/flags.py
        super().__init__(params, defaults)

    _setstate_defaults = dict(foreach=None, maximize=False, differentiable=False, capturable=False)

    def _validate(self, group: dict[str, Any], index: int) -> None:
        super()._validate(group, index)
        etaminus, etaplus = group["etas"]
        self._check(0.0 < etaminus < 1.0 < etaplus, index,
                    f"eta values {etaminus}, {etaplus}: they must satisfy 0 < etaminus < 1 < etaplus")

    def _update(self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any],
                group: dict[str, Any]) -> None:
        etaminus, etaplus = (float(e) for e in group["etas"])
        step_size_min, step_size_max = (float(s) for s in group["step_sizes"])
        if not state:
            state["step"] = 0
            state["prev"] = memory.zeros_like(param)
            state["step_size"] = memory.zeros_like(param)
            state["step_size"].fill(float(group["lr"]))
        prev, step_size = state["prev"], state["step_size"]
        state["step"] += 1

        sign = np.multiply(grad, prev, dtype=param.dtype, out=np.empty_like(param))
        if group["maximize"]:
            np.negative(sign, out=sign)
        np.sign(sign, out=sign)
        flipped = sign < 0
        sign[sign > 0] = etaplus
        sign[flipped] = etaminus
        sign[sign == 0] = 1
        step_size *= sign
        np.clip(step_size, step_size_min, step_size_max, out=step_size)

        np.copyto(prev, grad)  # the new g_prev: ±grad, 0 where the sign flipped
        if group["maximize"]:
            np.negative(prev, out=prev)
        prev[flipped] = 0
        np.sign(prev, out=sign)
        sign *= step_size
        param -= sign
