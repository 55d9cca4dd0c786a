"""torch.func: composable function transforms (grad, vjp, jvp, jacrev, jacfwd, hessian, vmap) and
functional_call, so code written for torch.func ports by changing its imports.

matgrad has reverse mode only: jvp and jacfwd compute their values in reverse mode, and vmap is a loop over
the mapped dimension (correct, not fast). See _transforms.py and _vmap.py.
"""
from __future__ import annotations

from typing import Any, Sequence

from ..nn.module import Module
from ..nn.utils.stateless import _functional_call
from ..tensor import Tensor
from ._transforms import grad, grad_and_value, hessian, jacfwd, jacrev, jvp, vjp
from ._vmap import stack_module_state, vmap

__all__ = ["grad", "grad_and_value", "vjp", "jvp", "jacrev", "jacfwd", "hessian", "vmap", "functional_call",
           "stack_module_state"]


def functional_call(module: Module, parameter_and_buffer_dicts: dict[str, Tensor] | Sequence[dict[str, Tensor]],
                    args: Any = None, kwargs: dict[str, Any] | None = None, *, tie_weights: bool = True,
                    strict: bool = False) -> Any:
    """module(*args, **kwargs) with the given tensors (by state_dict name; one dict or a tuple/list of dicts
    with distinct keys) in place of its parameters and buffers, restored afterwards (also on errors).
    Gradients flow to the given tensors. tie_weights: a tensor given for one of several tied names serves
    them all. strict: the names must be exactly the module's."""
    if isinstance(parameter_and_buffer_dicts, dict):
        parameters_and_buffers = parameter_and_buffer_dicts
    elif isinstance(parameter_and_buffer_dicts, Sequence):
        if not all(isinstance(d, dict) for d in parameter_and_buffer_dicts):
            raise ValueError(f"Expected all elements of parameter_and_buffer_dicts to be dictionaries, got "
                             f"{[type(d) for d in parameter_and_buffer_dicts]}")
        counts: dict[str, int] = {}
        for d in parameter_and_buffer_dicts:
            for k in d:
                counts[k] = counts.get(k, 0) + 1
        repeated = [k for k, n in counts.items() if n > 1]
        if repeated:
            raise ValueError(f"{repeated} appeared in multiple dictionaries; behavior of functional call is "
                             "ambiguous")
        parameters_and_buffers = {k: v for d in parameter_and_buffer_dicts for k, v in d.items()}
    else:
        raise ValueError(f"Expected parameter_and_buffer_dicts to be a dict, or a list/tuple of dicts, but got "
                         f"{type(parameter_and_buffer_dicts)}")
    return _functional_call(module, parameters_and_buffers, args, kwargs, tie_weights=tie_weights, strict=strict)
