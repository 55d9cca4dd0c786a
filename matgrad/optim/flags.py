"""PyTorch's implementation switches on optimizers: foreach, fused, capturable and differentiable.

In PyTorch, foreach and fused pick a kernel (a loop per tensor, one kernel per list, one fused kernel)
and capturable keeps the step count on the GPU for CUDA graphs; the update's math is the same. matgrad
has one implementation, so it accepts them, stores them in param_groups (state_dict has PyTorch's keys)
and raises where PyTorch raises. differentiable=True (autograd through the step) is not supported:
matgrad's optimizers update the parameters' arrays in place.
"""
from __future__ import annotations

from typing import Any

import numpy as np


def check_constructor(name: str, defaults: dict[str, Any]) -> None:
    """PyTorch's constructor checks of the switches, in its order; then matgrad's refusal of differentiable."""
    if defaults.get("fused"):
        if defaults.get("differentiable"):
            raise RuntimeError("`fused` does not support `differentiable`")
        if defaults.get("foreach"):
            raise RuntimeError("`fused` and `foreach` cannot be `True` together.")
    if defaults.get("differentiable"):
        _refuse_differentiable(name)


def check_step(name: str, group: dict[str, Any]) -> None:
    """What PyTorch checks when a group with fused, capturable or differentiable set takes a step.

    Only parameters with a gradient are looked at, as PyTorch's step looks only at those.
    """
    if group.get("differentiable"):  # a group added later or loaded from a state_dict
        _refuse_differentiable(name)
    for p in group["params"]:
        if p._grad is None:
            continue
        a = p.array
        if group.get("fused") and a.dtype.kind != "f":
            raise RuntimeError("`fused=True` requires all the params to be floating point Tensors of supported "
                               f"devices, but {p.dtype} and {p.device.type}")
        if group.get("capturable") and type(a) is np.ndarray:
            # PyTorch asserts this too: capturable (for CUDA graphs) needs the step count on an accelerator
            raise AssertionError(f"{name}: if capturable=True, params and state_steps must be on a GPU, but a "
                                 "parameter is on the cpu; use capturable=False (the default) on the CPU")


def _refuse_differentiable(name: str) -> None:
    raise NotImplementedError(
        f"{name}(differentiable=True) is not supported: matgrad's optimizers update the parameters' arrays in "
        "place, so no graph runs through the step. Use differentiable=False (the default), or write the update "
        "with tensor operations (p - lr * g) to differentiate through it"
    )
