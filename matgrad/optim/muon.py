"""Muon: momentum orthogonalised by a Newton–Schulz iteration, for the 2-D weights of hidden layers."""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from .optimizer import Optimizer, ParamsT

#: Keller Jordan's quintic coefficients (a, b, c), as torch.optim.Muon's defaults.
NS_COEFFICIENTS = (3.4445, -4.775, 2.0315)
ADJUST_LR_FNS = (None, "original", "match_rms_adamw")


def _lerp(start: Any, end: Any, weight: float) -> Any:
    """start + weight·(end − start), in PyTorch's two-sided form (exact at weight 0 and 1)."""
    if abs(weight) < 0.5:
        return start + weight * (end - start)
    return end - (end - start) * (1 - weight)


def zeropower_via_newtonschulz(g: Any, ns_coefficients: tuple[float, float, float], ns_steps: int,
                               eps: float) -> Any:
    """An approximate U·Vᵀ of g = U·S·Vᵀ (2-D): g / ‖g‖_F, then ns_steps of X ← a·X + (b·A + c·A²)·X, A = X·Xᵀ.

    The quintic's coefficients push every singular value towards 1 (to roughly 0.5 ... 1.5),
    not to exactly 1: the steep slope at 0 is what makes 5 steps enough. Runs on the wide orientation
    (rows ≤ columns) so A is the smaller Gram matrix.
    """
    a, b, c = ns_coefficients
    tall = g.shape[0] > g.shape[1]
    x = g.T if tall else g
    x = x / max(float(np.linalg.norm(x)), eps)  # Frobenius norm ≥ spectral norm: every singular value ≤ 1
    for _ in range(ns_steps):
        gram = x @ x.T
        x = a * x + (b * gram + c * (gram @ gram)) @ x
    return x.T if tall else x


def adjusted_lr(lr: float, adjust_lr_fn: str | None, shape: tuple[int, ...]) -> float:
    """lr scaled for an (A, B) matrix: 'original' (default) √max(1, A/B); 'match_rms_adamw' 0.2·√max(A, B)."""
    rows, cols = shape[:2]
    if adjust_lr_fn is None or adjust_lr_fn == "original":
        return lr * math.sqrt(max(1, rows / cols))
    if adjust_lr_fn == "match_rms_adamw":
        return lr * 0.2 * math.sqrt(max(rows, cols))
    return lr


class Muon(Optimizer):
    """Muon (MomentUm Orthogonalized by Newton–Schulz), step for step as `torch.optim.Muon`:

        B  = lerp(B, g, 1 − momentum)                 (B starts at 0)
        U  = lerp(g, B, momentum)  (nesterov)   or   U = B
        O  = NewtonSchulz(U)                          (ns_steps quintic steps, coefficients (a, b, c))
        p  = p·(1 − lr·weight_decay) − adjusted_lr·O  (see `adjusted_lr`)

    Only 2-D parameters (weight matrices): optimize biases, embeddings and norms with e.g. AdamW.
    State per parameter: 'momentum_buffer'.

    Difference from PyTorch: torch runs the Newton–Schulz iteration in bfloat16, which matgrad does
    not have; matgrad runs it in the parameter's dtype (float32 for float16 parameters), i.e. the
    iteration torch approximates. The two agree to bfloat16's rounding (about 3 significant digits
    of each update); torch with the bfloat16 cast removed agrees to the parameter dtype's rounding.
    """

    def __init__(self, params: ParamsT, lr: float = 1e-3, weight_decay: float = 0.1, momentum: float = 0.95,
                 nesterov: bool = True, ns_coefficients: tuple[float, float, float] = NS_COEFFICIENTS,
                 eps: float = 1e-7, ns_steps: int = 5, adjust_lr_fn: str | None = None) -> None:
        defaults = dict(lr=lr, weight_decay=weight_decay, momentum=momentum, nesterov=nesterov,
                        ns_coefficients=ns_coefficients, eps=eps, ns_steps=ns_steps, adjust_lr_fn=adjust_lr_fn)
        super().__init__(params, defaults)

    def _validate(self, group: dict[str, Any], index: int) -> None:
        super()._validate(group, index)
        self._check(group["momentum"] >= 0, index, f"momentum value {group['momentum']}: it must be >= 0")
        self._check(group["weight_decay"] >= 0, index,
                    f"weight_decay value {group['weight_decay']}: it must be >= 0")
        self._check(group["adjust_lr_fn"] in ADJUST_LR_FNS, index,
                    f"adjust_lr_fn {group['adjust_lr_fn']!r}: it must be None, 'original' or 'match_rms_adamw'")
        self._check(len(group["ns_coefficients"]) == 3, index,
                    f"ns_coefficients {group['ns_coefficients']!r}: it must be a tuple of exactly 3 values (a, b, c)")
        self._check(group["ns_steps"] < 100, index,
                    f"ns_steps {group['ns_steps']}: it must be less than 100 for computational efficiency")
        for p in group["params"]:
            if p.ndim != 2:
                raise ValueError(f"Muon only supports 2D parameters whereas we found a parameter with size: "
                                 f"{tuple(p.shape)} (parameter group {index}); optimize biases, embeddings and "
                                 "other non-2-D parameters with another optimizer such as AdamW")

    def _update(self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any],
                group: dict[str, Any]) -> None:
        if grad.ndim != 2:
            raise ValueError(f"Muon: param gradient must be a 2D matrix, got shape {tuple(grad.shape)}")
        lr, momentum = float(group["lr"]), float(group["momentum"])  # read each step: a scheduler may change them
        buf = state.get("momentum_buffer")
        if buf is None:
            buf = state["momentum_buffer"] = np.zeros_like(param)
        buf[...] = _lerp(buf, grad, 1 - momentum)
        update = _lerp(grad, buf, momentum) if group["nesterov"] else buf
        work = np.promote_types(param.dtype, np.float32)  # float16 parameters: the iteration in float32
        ortho = zeropower_via_newtonschulz(update.astype(work), tuple(group["ns_coefficients"]),
                                           int(group["ns_steps"]), float(group["eps"]))
        param *= 1 - lr * float(group["weight_decay"])
        param -= (adjusted_lr(lr, group["adjust_lr_fn"], param.shape) * ortho).astype(param.dtype, copy=False)
