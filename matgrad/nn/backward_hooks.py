"""Module backward hooks: `hook(module, grad_input, grad_output)` once the gradients of a call are known.

As PyTorch's full backward hooks do, a call of a module with such hooks wraps its tensor
inputs and its outputs in identity functions. The outputs' identity sees `grad_output`
(and runs the backward pre-hooks, which may replace it); the inputs' identity sees
`grad_input`, runs the hooks (which may replace it) and passes on what they return.
When no input needs a gradient, the hooks run as soon as `grad_output` is known, with
`grad_input` all None, as in PyTorch.
"""
from __future__ import annotations

from typing import Any

from ..autograd.function import Function
from ..tensor import Tensor


class _Call:
    """One call of a module with backward hooks: what its two identities share."""

    def __init__(self, module: Any, n_inputs: int, inputs_need_grad: bool) -> None:
        self.module, self.n_inputs, self.inputs_need_grad = module, n_inputs, inputs_need_grad
        self.grad_output: tuple[Any, ...] = ()

    def outputs_ready(self, grads: tuple[Any, ...]) -> tuple[Any, ...]:
        for hook in list(self.module._backward_pre_hooks.values()):
            new = hook(self.module, grads)
            if new is not None:
                grads = _check(new, grads, "a backward pre-hook", "grad_output")
        self.grad_output = grads
        if not self.inputs_need_grad:
            self._run_hooks((None,) * self.n_inputs)
        return grads

    def inputs_ready(self, grads: tuple[Any, ...]) -> tuple[Any, ...]:
        return self._run_hooks(grads)

    def _run_hooks(self, grad_input: tuple[Any, ...]) -> tuple[Any, ...]:
        for hook in list(self.module._backward_hooks.values()):
            new = hook(self.module, grad_input, self.grad_output)
            if new is not None:
                grad_input = _check(new, grad_input, "a backward hook", "grad_input")
        return grad_input


def _check(new: Any, old: tuple[Any, ...], who: str, what: str) -> tuple[Any, ...]:
    new = tuple(new) if isinstance(new, (tuple, list)) else (new,)
    if len(new) != len(old):
        raise RuntimeError(f"{who} returned {len(new)} values for {what}, expected {len(old)}")
    for i, (a, b) in enumerate(zip(new, old)):
        if a is not None and b is not None and tuple(a.shape) != tuple(b.shape):
            raise RuntimeError(f"{who} returned {what}[{i}] of shape {tuple(a.shape)}, expected {tuple(b.shape)}")
    return new


class _Identity(Function):
    """y = x for each tensor.  dx = dy, as the hooks leave it (or replace it)."""

    @staticmethod
    def forward(ctx: Any, call: _Call, on_ready: str, *tensors: Tensor) -> Any:
        ctx.call, ctx.on_ready = call, on_ready
        out = tuple(t.detach() for t in tensors)
        return out[0] if len(out) == 1 else out

    @staticmethod
    def backward(ctx: Any, *grads: Any) -> Any:
        return (None, None, *getattr(ctx.call, ctx.on_ready)(grads))


def wrap_call(module: Any, args: tuple[Any, ...], run: Any) -> Any:
    """Call `run(*args)` with the module's backward hooks attached to its inputs and outputs."""
    spots = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
    tensors = [args[i] for i in spots]
    call = _Call(module, len(tensors), any(t.requires_grad for t in tensors))
    if call.inputs_need_grad:
        wrapped = _Identity.apply(call, "inputs_ready", *tensors)
        wrapped = wrapped if isinstance(wrapped, tuple) else (wrapped,)
        args = list(args)
        for i, t in zip(spots, wrapped):
            args[i] = t
        args = tuple(args)
    out = run(*args)
    outs = out if isinstance(out, tuple) else (out,)
    if not outs or not all(isinstance(o, Tensor) for o in outs) or not any(o.requires_grad for o in outs):
        return out  # nothing a gradient can come back through (or outputs that are not tensors)
    result = _Identity.apply(call, "outputs_ready", *outs)
    return result if isinstance(out, tuple) and isinstance(result, tuple) else (
        (result,) if isinstance(out, tuple) else result)
