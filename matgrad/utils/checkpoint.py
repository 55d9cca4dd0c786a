"""torch.utils.checkpoint: activation checkpointing, trading compute for memory.

    y = checkpoint(block, x, use_reentrant=False)      # block's activations are not kept
    y = checkpoint_sequential(model, 2, x, use_reentrant=False)

The forward runs under no_grad and the graph keeps only the inputs (one `CheckpointFunction`
node); the backward runs the function again with grad enabled, from the same RNG state
(so dropout draws the same mask), and backpropagates through that recomputed graph.

How the two variants map onto matgrad's engine (which is reentrant: a node's backward may run
a backward of its own):
- use_reentrant=True is torch's CheckpointFunction: an autograd.Function whose backward
  recomputes and calls `matgrad.autograd.backward`. Parameters used inside get their gradients
  from that inner backward, accumulated into `.grad`. If no input requires grad nothing is
  recorded (torch's "None of the inputs have requires_grad=True" warning).
- use_reentrant=False is the same node and the same inner backward, so gradients are identical.
  What it adds, as torch's: keyword arguments, context_fn, the determinism check, and a
  gradient for the parameters even when no input requires grad.

Differences from PyTorch, on purpose or for now:
- Non-reentrant, no input requiring grad: torch knows whether anything inside required grad;
  matgrad (which runs the forward under no_grad) cannot, so the outputs are recorded on a hidden
  anchor and require grad. A backward through outputs that, recomputed, need no gradient is a no-op.
- Under `autograd.grad` the recomputation gives the checkpoint's own tensor arguments their
  gradients and touches no `.grad`, so tensors used inside but not passed as arguments (parameters,
  closed-over tensors) get none there: asking autograd.grad for one says it was not used (torch's
  reentrant variant raises too; its non-reentrant one returns them). Under `backward()` they
  accumulate into their `.grad` as usual.
- Recomputation always runs the whole function (torch's early_stop is accepted and ignored);
  `debug` is accepted and adds nothing to the messages; autocast state is not stashed.
- The inner backward is a first-order one: under create_graph the checkpoint's gradients are not
  themselves differentiable (as torch's reentrant variant; its non-reentrant one allows double backward).
- Not here: selective checkpointing (create_selective_checkpoint_contexts, CheckpointPolicy),
  set_checkpoint_early_stop, set_checkpoint_debug_enabled, get/set_device_states.
"""
from __future__ import annotations

import contextlib
import warnings
from typing import Any, Callable, ContextManager, Iterable

import numpy as np

from .. import random as _random
from ..autograd import Function, backward, enable_grad, engine
from ..autograd import grad as _grad
from ..tensor import Tensor

__all__ = ["checkpoint", "checkpoint_sequential", "CheckpointError", "CheckpointFunction", "check_backward_validity",
           "detach_variable", "noop_context_fn"]

_DETERMINISM_CHECKS = ("default", "none")


class CheckpointError(RuntimeError):
    """The recomputed forward differs from the original (torch.utils.checkpoint.CheckpointError)."""


def noop_context_fn() -> tuple[ContextManager, ContextManager]:
    """context_fn's default: no context around the forward or the recomputation."""
    return contextlib.nullcontext(), contextlib.nullcontext()


def check_backward_validity(inputs: Iterable[Any]) -> None:
    """Warn, as torch does, when no Tensor input requires grad (the reentrant variant then records nothing)."""
    if not any(inp.requires_grad for inp in inputs if isinstance(inp, Tensor)):
        warnings.warn("None of the inputs have requires_grad=True. Gradients will be None", stacklevel=2)


def detach_variable(inputs: tuple[Any, ...]) -> tuple[Any, ...]:
    """Each Tensor detached, keeping its requires_grad (a leaf of its own); other values as they are."""
    if not isinstance(inputs, tuple):
        raise RuntimeError(f"Only tuple of tensors is supported. Got Unsupported input type: {type(inputs).__name__}")
    return tuple(x.detach().requires_grad_(x.requires_grad) if isinstance(x, Tensor) else x for x in inputs)


def _meta(outputs: tuple[Any, ...]) -> list[Any]:
    return [(tuple(o.shape), o.dtype) if isinstance(o, Tensor) else None for o in outputs]


class CheckpointFunction(Function):
    """y = function(*args), run without keeping its activations.  d(args) = backward of function recomputed."""

    @staticmethod
    def forward(ctx: Any, run_function: Callable[..., Any], preserve_rng_state: bool, opts: dict, *args: Any) -> Any:
        ctx.run_function = run_function
        ctx.preserve_rng_state = preserve_rng_state
        ctx.opts = opts
        if opts["anchored"]:
            args = args[1:]
        if preserve_rng_state:
            ctx.fwd_cpu_state = _random.get_rng_state()
        # non-Tensor inputs kept on ctx, Tensors saved for backward (a None placeholder in their place)
        ctx.inputs = [None if isinstance(a, Tensor) else a for a in args]
        ctx.tensor_indices = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        ctx.save_for_backward(*[a for a in args if isinstance(a, Tensor)])
        with opts["forward_context"]:  # Function.apply runs forward under no_grad: nothing inside is recorded
            outputs = run_function(*args)
        opts["kind"] = type(outputs) if isinstance(outputs, (tuple, list)) else None
        outputs = tuple(outputs) if opts["kind"] else (outputs,)
        ctx.meta = _meta(outputs)
        return outputs

    @staticmethod
    def backward(ctx: Any, *grad_outputs: Any) -> Any:
        inputs = list(ctx.inputs)
        for i, t in zip(ctx.tensor_indices, ctx.saved_tensors):
            inputs[i] = t
        outer = _random.get_rng_state()  # the surrounding state, put back after the recomputation
        try:
            if ctx.preserve_rng_state:
                _random.set_rng_state(ctx.fwd_cpu_state)
            detached = detach_variable(tuple(inputs))
            with enable_grad(), ctx.opts["recompute_context"]:
                outputs = ctx.run_function(*detached)
        finally:
            if ctx.preserve_rng_state:
                _random.set_rng_state(outer)
        outputs = (outputs,) if not isinstance(outputs, (tuple, list)) else tuple(outputs)
        if ctx.opts["check"] and _meta(outputs) != ctx.meta:
            raise CheckpointError(
                "torch.utils.checkpoint: Recomputed values for the checkpointed function's outputs have different "
                f"metadata than during the original forward. Saved (shape, dtype): {ctx.meta}; recomputed: "
                f"{_meta(outputs)}. Make the function deterministic (same shapes and dtypes on every call), or "
                'pass determinism_check="none".'
            )
        outs, grads = [], []
        for o, g in zip(outputs, grad_outputs):
            if isinstance(o, Tensor) and o.requires_grad:
                outs.append(o)
                grads.append(g)
        n_lead = 3 + ctx.opts["anchored"]
        if not outs:
            if ctx.opts["reentrant"]:
                raise RuntimeError("none of output has requires_grad=True, this checkpoint() is not necessary")
            return (None,) * (n_lead + len(detached))
        wanted = [x for x in detached if isinstance(x, Tensor) and x.requires_grad]
        if engine.returning_gradients():  # under autograd.grad: the arguments' gradients only, no .grad touched
            found = dict(zip(map(id, wanted), _grad(outs, wanted, grads, allow_unused=True))) if wanted else {}
            return (None,) * n_lead + tuple(found.get(id(x)) for x in detached)
        backward(outs, grads)
        return (None,) * n_lead + tuple(x.grad if isinstance(x, Tensor) else None for x in detached)


def checkpoint(
    function: Callable[..., Any],
    *args: Any,
    use_reentrant: bool | None = None,
    context_fn: Callable[[], tuple[ContextManager, ContextManager]] = noop_context_fn,
    determinism_check: str = "default",
    debug: bool = False,
    early_stop: bool = True,
    **kwargs: Any,
) -> Any:
    """Run `function(*args, **kwargs)` without keeping its activations; the backward recomputes them.

    preserve_rng_state (keyword, default True) restores the RNG state for the recomputation, so
    random ops (dropout) draw the same numbers. use_reentrant should be passed explicitly (None
    warns and means True, as in torch 2.13); keyword arguments and context_fn need use_reentrant=False.
    """
    if use_reentrant is None:
        warnings.warn(
            "torch.utils.checkpoint: the use_reentrant parameter should be "
            "passed explicitly. Starting in PyTorch 2.9, calling checkpoint "
            "without use_reentrant will raise an exception. use_reentrant=False is "
            "recommended, but if you need to preserve the current default "
            "behavior, you can pass use_reentrant=True. Refer to docs for more "
            "details on the differences between the two variants.",
            stacklevel=2,
        )
        use_reentrant = True
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs and use_reentrant:
        raise ValueError("Unexpected keyword arguments: " + ",".join(arg for arg in kwargs))
    if use_reentrant:
        if context_fn is not noop_context_fn or debug is not False:
            raise ValueError("Passing `context_fn` or `debug` is only supported when use_reentrant=False.")
        check_backward_validity(args)
    elif determinism_check not in _DETERMINISM_CHECKS:
        raise ValueError(f"determinism_check should be one of {list(_DETERMINISM_CHECKS)}, but got {determinism_check}")
    run = function
    if kwargs:
        def run(*a: Any) -> Any:
            return function(*a, **kwargs)
    check = not use_reentrant and determinism_check == "default"  # torch checks only the non-reentrant variant
    return _apply(run, args, bool(preserve), bool(use_reentrant), context_fn, check)


def _apply(function: Callable[..., Any], args: tuple[Any, ...], preserve: bool, reentrant: bool,
           context_fn: Callable[[], Any], check: bool) -> Any:
    """Record the checkpoint node; give back what function returned (one value, or the tuple/list)."""
    forward_context, recompute_context = context_fn() if not reentrant else noop_context_fn()
    anchored = not reentrant and not any(isinstance(a, Tensor) and a.requires_grad for a in args)
    opts = {"forward_context": forward_context, "recompute_context": recompute_context, "check": check,
            "reentrant": reentrant, "anchored": anchored}
    lead: tuple[Any, ...] = (function, preserve, opts)
    if anchored:  # a leaf that requires grad, so the node is recorded for the parameters used inside
        lead += (Tensor._make(np.zeros(()), None, True),)
    out = CheckpointFunction.apply(*lead, *args)
    if opts["kind"] is None:
        return out[0]
    return list(out) if opts["kind"] is list else tuple(out)


def checkpoint_sequential(functions: Any, segments: int, input: Any, use_reentrant: bool | None = None,
                          **kwargs: Any) -> Any:
    """Run a Sequential (or a list of modules/functions) in `segments` checkpointed chunks; the last is not."""
    if use_reentrant is None:
        warnings.warn(
            "torch.utils.checkpoint.checkpoint_sequential: the use_reentrant "
            "parameter should be passed explicitly. "
            "In version 2.9 we will raise an exception if use_reentrant "
            "is not passed. use_reentrant=False is "
            "recommended, but if you need to preserve the current default "
            "behavior, you can pass use_reentrant=True. Refer to docs for more "
            "details on the differences between the two variants.",
            stacklevel=2,
        )
        use_reentrant = True
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs:
        raise ValueError("Unexpected keyword arguments: " + ",".join(arg for arg in kwargs))

    def run_function(start: int, end: int, functions: list[Any]) -> Callable[[Any], Any]:
        def forward(input: Any) -> Any:
            for j in range(start, end + 1):
                input = functions[j](input)
            return input
        return forward

    from ..nn import Sequential  # same layer; imported here so matgrad.utils does not load nn eagerly

    if isinstance(functions, Sequential):
        functions = list(functions.children())
    segment_size = len(functions) // segments
    end = -1
    for start in range(0, segment_size * (segments - 1), segment_size):
        end = start + segment_size - 1
        input = checkpoint(run_function(start, end, functions), input, use_reentrant=use_reentrant,
                           preserve_rng_state=preserve)
    return run_function(end + 1, len(functions) - 1, functions)(input)
