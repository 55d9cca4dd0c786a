"""backward() and grad(): where a user enters the reverse pass, seeds checked and made."""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..devices import move
from ..tensor import Tensor
from . import engine


def _seeds(
    op: str, outputs: Sequence[Any], grads: Sequence[Any] | None, create_graph: bool
) -> list[Any]:
    seeds = []
    for i, out in enumerate(outputs):
        g = None if grads is None else grads[i]
        if not out.requires_grad:
            raise RuntimeError(
                f"{op}: output {i} does not require grad and has no grad_fn, so there is nothing "
                "to differentiate. Create the inputs with requires_grad=True (and not under no_grad)."
            )
        if g is None:
            if out.array.size != 1:
                raise RuntimeError(
                    f"{op}: an implicit gradient can only be made for a one-element output, but this "
                    f"one has shape {out.shape}; pass the gradient of the same shape, e.g. "
                    f"out.backward(matgrad.ones_like(out)), or reduce it first (out.sum())"
                )
            g = np.ones_like(out.array)  # on the output's device (NumPy dispatches to CuPy)
        elif create_graph and isinstance(g, Tensor) and g.requires_grad:
            # a seed on a graph stays on it, as PyTorch's: the result is differentiable in the seed too
            # (a Jacobian-vector product as the vjp of a vjp, the double-backward tricks)
            if g.shape != out.shape:
                raise RuntimeError(f"{op}: gradient of shape {g.shape} given for an output of shape {out.shape}")
            if g.device != out.device or g.dtype != out.dtype:
                g = g.to(out.device).to(out.dtype)
            seeds.append(g)
            continue
        else:
            g = g.array if isinstance(g, Tensor) else np.asarray(g, dtype=out.dtype)
            if type(g) is not type(out.array):
                g = move(g, out.device)
            if g.shape != out.shape:
                raise RuntimeError(f"{op}: gradient of shape {g.shape} given for an output of shape {out.shape}")
            g = g.astype(out.dtype, copy=False)
        seeds.append(Tensor._make(g, None, False) if create_graph else g)
    return seeds


def backward(
    tensors: Any, grad_tensors: Any = None, retain_graph: bool | None = None, create_graph: bool = False
) -> None:
    """Accumulate d(tensors)/d(leaf) into every leaf's `.grad`."""
    outs = [tensors] if isinstance(tensors, Tensor) else list(tensors)
    if grad_tensors is not None and not isinstance(grad_tensors, (list, tuple)):
        grad_tensors = [grad_tensors]
    seeds = _seeds("backward", outs, grad_tensors, create_graph)
    keep = create_graph if retain_graph is None else retain_graph
    engine.run_backward(outs, seeds, keep, create_graph)


def grad(
    outputs: Any,
    inputs: Any,
    grad_outputs: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    allow_unused: bool = False,
) -> tuple[Any, ...]:
    """d(outputs)/d(inputs) as a tuple of Tensors, leaving every `.grad` untouched.

    With create_graph=True the results are on a graph themselves, so they can be
    differentiated again (Hessian-vector products, Newton's method).
    """
    outs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    ins = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    if grad_outputs is not None and not isinstance(grad_outputs, (list, tuple)):
        grad_outputs = [grad_outputs]
    for i, t in enumerate(ins):
        if not t.requires_grad:
            raise RuntimeError(f"grad: input {i} does not require grad, so it has no gradient")
    seeds = _seeds("grad", outs, grad_outputs, create_graph)
    keep = create_graph if retain_graph is None else retain_graph
    found = engine.run_backward(outs, seeds, keep, create_graph, inputs=ins)
    result = []
    for i, (t, g) in enumerate(zip(ins, found)):
        if g is None:
            if not allow_unused:
                raise RuntimeError(
                    f"grad: input {i} was not used to compute the outputs; pass allow_unused=True "
                    "to get None for it"
                )
            result.append(None)
        elif isinstance(g, Tensor):
            result.append(g)
        else:
            result.append(Tensor._make(g.astype(t.array.dtype, copy=True), None, False))  # any device's array
    return tuple(result)
