"""Adafactor: Adam-like steps with a factored second moment (a row and a column average per matrix)."""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import memory
from ..devices import backend_of, device_of, move
from ..tensor import Tensor
from .adam import _lerp_
from .optimizer import Optimizer, ParamsT


def _norm(x: Any, xp: Any) -> float:
    """‖x‖₂ accumulated in float64, rounded to x's dtype (as PyTorch's `.norm(2).item()`)."""
    return float(x.dtype.type(math.sqrt(float(xp.sum(xp.square(x.astype(np.float64)))))))


def _sq_mean(g: Any, axis: int, xp: Any) -> Any:
    """‖g‖² / n along `axis`, kept: PyTorch's norm(dim, keepdim).square_().div_(n), in g's dtype."""
    out = xp.sqrt(xp.sum(xp.square(g.astype(np.float64)), axis=axis, keepdims=True)).astype(g.dtype)
    out *= out
    out /= g.dtype.type(g.shape[axis])
    return out


class Adafactor(Optimizer):
    """Adafactor (Shazeer & Stern, 2018), step for step as `torch.optim.Adafactor`:

        β2ₜ = 1 − t^beta2_decay,  ρₜ = min(lr, 1/√t),  α = max(eps2, RMS(p))·ρₜ
        p ← p·(1 − lr·weight_decay)
        matrices (..., m, n): R = lerp(R, mean over n of g², 1 − β2ₜ), C = lerp(C, mean over m of g², 1 − β2ₜ),
                              V = R·C / max(mean(R), eps1)
        vectors:              V = lerp(V, g², 1 − β2ₜ)
        u = g / √max(V, eps1²),  p ← p − α·u / max(1, RMS(u)/d)

    eps = (eps1, eps2); eps1 None is the machine epsilon of the parameter's dtype (PyTorch takes the first
    parameter's of the group for all of them). State per parameter: 'step', and 'row_var' and 'col_var'
    (shapes (..., m, 1), (..., 1, n)) or 'variance'.
    """

    def __init__(self, params: ParamsT, lr: float = 1e-2, beta2_decay: float = -0.8,
                 eps: tuple[float | None, float] = (None, 1e-3), d: float = 1.0, weight_decay: float = 0.0, *,
                 foreach: bool | None = None, maximize: bool = False) -> None:
        defaults = dict(lr=lr, beta2_decay=beta2_decay, eps=tuple(eps), d=d, weight_decay=weight_decay,
                        foreach=foreach, maximize=maximize)  # foreach: accepted, as PyTorch's; one path here
        super().__init__(params, defaults)

    _setstate_defaults = dict(foreach=None)

    def _validate(self, group: dict[str, Any], index: int) -> None:
        lr, eps, d = group["lr"], group["eps"], group["d"]
        if isinstance(lr, (int, float)) and not 0.0 <= lr:
            raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
        if not 0.0 >= group["beta2_decay"]:
            raise ValueError(f"beta2_decay should be <= 0 but is: {group['beta2_decay']}")
        if not isinstance(eps, (tuple, list)) or len(eps) != 2:
            raise ValueError(f"eps should be a pair (eps1 or None, eps2), got {eps!r}")
        if eps[0] is not None and not 0.0 <= eps[0]:
            raise ValueError(f"epsilon1 should be >= 0 but is: {eps[0]}")
        if not 0.0 <= eps[1]:
            raise ValueError(f"epsilon2 should be >= 0 but is: {eps[1]}")
        if not 1.0 <= d:
            raise ValueError(f"Clipping threshold d should be >= 1 but is: {d}")
        if not 0.0 <= group["weight_decay"]:
            raise ValueError(f"weight_decay should be >= 0 but is: {group['weight_decay']}")
        super()._validate(group, index)

    def _update(self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any],
                group: dict[str, Any]) -> None:
        xp = backend_of(param).xp
        lr, d, weight_decay = float(group["lr"]), float(group["d"]), float(group["weight_decay"])
        beta2_decay = float(group["beta2_decay"])
        eps1, eps2 = group["eps"]
        if eps1 is None:
            eps1 = float(np.finfo(param.dtype).eps)
        if param.dtype.kind == "c":
            raise RuntimeError("Adafactor does not support complex parameters")
        if not state:
            state["step"] = 0.0
            if grad.ndim > 1:
                state["row_var"] = memory.zeros_like(param[..., :1])
                state["col_var"] = memory.zeros_like(param[..., :1, :])
            else:
                state["variance"] = memory.zeros_like(param)
        g = -grad if group["maximize"] else grad
        state["step"] += 1
        step = float(state["step"])

        one_minus_beta2_t = step ** beta2_decay
        rho_t = min(lr, 1 / (step ** 0.5))
        alpha = max(eps2, _norm(param, xp) / (param.size ** 0.5)) * rho_t
        if weight_decay != 0:
            param *= param.dtype.type(1 - lr * weight_decay)

        if g.ndim > 1:
            row_var, col_var = state["row_var"], state["col_var"]
            row_mean = _sq_mean(g, -1, xp)
            _lerp_(row_var, row_mean, row_mean - row_var, one_minus_beta2_t)
            col_mean = _sq_mean(g, -2, xp)
            _lerp_(col_var, col_mean, col_mean - col_var, one_minus_beta2_t)
            var_estimate = row_var @ col_var  # the outer product: (..., m, 1) @ (..., 1, n)
            var_estimate /= xp.maximum(row_var.mean(axis=-2, keepdims=True), param.dtype.type(eps1))
        else:
            variance = state["variance"]
            grad_squared = g * g
            _lerp_(variance, grad_squared, grad_squared - variance, one_minus_beta2_t)
            var_estimate = variance.copy()

        update = xp.maximum(var_estimate, param.dtype.type(eps1 * eps1), out=var_estimate)
        xp.sqrt(update, out=update)
        xp.divide(param.dtype.type(1), update, out=update)  # rsqrt
        update *= g
        denom = max(1.0, _norm(update, xp) / ((update.size ** 0.5) * d))
        update *= param.dtype.type(-alpha / denom)
        param += update

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore options and state (PyTorch's Adafactor state_dict loads too); the factored row and column
        averages, whose shapes are not the parameter's, are copied in as the parameter's dtype and device."""
        if not isinstance(state_dict, dict) or "state" not in state_dict:
            super().load_state_dict(state_dict)  # its error
            return
        factored: dict[Any, dict[str, Any]] = {}
        state = {}
        for key, value in state_dict["state"].items():
            value = dict(value)
            factored[key] = {k: value.pop(k) for k in ("row_var", "col_var") if k in value}
            state[key] = value
        super().load_state_dict({**state_dict, "state": state})
        params = [p for group in self.param_groups for p in group["params"]]
        index = {k: i for i, k in enumerate(k for g in state_dict["param_groups"] for k in g["params"])}
        for key, arrays in factored.items():
            p = params[index[key]]
            for k, v in arrays.items():
                arr = v.array if isinstance(v, Tensor) else v if hasattr(v, "__array_function__") else np.asarray(v)
                expected = p.array.shape[:-1] + (1,) if k == "row_var" else p.array.shape[:-2] + (1, p.array.shape[-1])
                if tuple(arr.shape) != expected:
                    raise ValueError(f"Adafactor.load_state_dict: state[{key}][{k!r}] has shape {tuple(arr.shape)} "
                                     f"but its parameter of shape {p.array.shape} needs {expected}; was it saved "
                                     "from another model?")
                self.state[p][k] = move(arr, device_of(p.array)).astype(p.array.dtype, copy=True)
