"""torch.compile and torch.compiler, for scripts that call them: matgrad has no compiler.

torch.compile's contract is that compiling does not change what the model computes; matgrad keeps it by
not compiling: `matgrad.compile(model)` returns `model` itself, which then runs as written, op by op
(PyTorch's backend="eager" does the same work through its tracer). To cut the Python overhead of a
training step of many small ops, record it once with `matgrad.autograd.capture(step)` and replay it.
"""
from __future__ import annotations

from typing import Any, Callable, TypeVar

__all__ = ["compile", "disable", "is_compiling", "is_dynamo_compiling", "is_exporting", "reset", "allow_in_graph",
           "assume_constant_result", "cudagraph_mark_step_begin", "list_backends"]

_F = TypeVar("_F", bound=Callable[..., Any])
_MODES = ("default", "lite", "reduce-overhead", "max-autotune-no-cudagraphs", "max-autotune")


def compile(model: Any = None, *, fullgraph: bool = False, dynamic: bool | None = None,  # noqa: A001
            backend: str | Callable[..., Any] = "inductor", mode: str | None = None,
            options: dict[str, Any] | None = None, name: str | None = None, disable: bool = False,
            recompile_limit: int | None = None, **kwargs: Any) -> Any:
    """Return `model` unchanged: matgrad has no compiler, so the model or function runs as written.

    torch.compile promises results that do not change, and this keeps that promise without a compiler
    (like torch.compile(backend="eager"), minus the tracing). Usable as `compile(model)`, `@compile` and
    `@compile(mode=...)`. `mode` is checked against torch's modes (for the default backend, "inductor")
    and cannot be given with `options`, as in torch; the other arguments are accepted and change nothing.
    For a faster training step, see `matgrad.autograd.capture`, which records a step's forward and
    backward once and replays them.
    """
    if model is None:
        def decorate(model: Any) -> Any:
            if model is None:
                raise RuntimeError("Model can't be None")
            return compile(model, fullgraph=fullgraph, dynamic=dynamic, backend=backend, mode=mode,
                           options=options, name=name, disable=disable, recompile_limit=recompile_limit, **kwargs)
        return decorate
    if mode is not None and options is not None:
        raise RuntimeError("Either mode or options can be specified, but both can't be specified at the same time.")
    if backend == "inductor" and mode is not None and mode not in _MODES:  # torch's other backends take any mode
        raise RuntimeError(f"Unrecognized mode={mode}, should be one of: {', '.join(_MODES)}")
    if not callable(model):
        raise AssertionError(f"A callable function is expected, but {type(model)} is provided.")
    return model


def disable(fn: Any = None, recursive: bool = True, *, reason: str | None = None) -> Any:
    """Keep `fn` out of compilation: there is none in matgrad, so `fn` itself (or a decorator returning it)."""
    if fn is None:
        return lambda f: f
    return fn


def is_compiling() -> bool:
    """False: nothing in matgrad runs under a compiler's tracing."""
    return False


def is_dynamo_compiling() -> bool:
    """False: there is no Dynamo in matgrad."""
    return False


def is_exporting() -> bool:
    """False: there is no torch.export in matgrad."""
    return False


def reset() -> None:
    """Clear compilation caches: there are none, so nothing to do."""


def allow_in_graph(fn: _F) -> _F:
    """`fn` itself: there is no graph to allow it in."""
    return fn


def assume_constant_result(fn: _F) -> _F:
    """`fn` itself: there is no tracer to treat its result as constant."""
    return fn


def cudagraph_mark_step_begin() -> None:
    """Nothing to mark: matgrad makes no CUDA graphs (autograd.capture is its replay)."""


def list_backends(exclude_tags: Any = ("debug", "experimental")) -> list[str]:
    """The backend names compile() accepts and ignores."""
    return ["cudagraphs", "inductor", "openxla", "tvm"]
