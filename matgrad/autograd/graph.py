"""torch.autograd.graph: the graph's nodes as PyTorch's tools walk and hook them.

    loss.grad_fn.name()                      # 'SumBackward0'
    loss.grad_fn.next_functions              # ((<ExpBackward0 object at 0x...>, 0),): one (node, 0) per input
    acc = mul.next_functions[0][0]           # a leaf's AccumulateGrad node; acc.variable is the leaf
    mul.register_hook(lambda grad_inputs, grad_outputs: ...)   # and register_prehook, on any node

Node             the ABC of every node: matgrad's Op (each grad_fn) and AccumulateGrad
AccumulateGrad   the node PyTorch shows for a leaf that requires grad: one per leaf, while the leaf lives
GradientEdge, get_gradient_edge   (node, output_nr) where a tensor's gradient is computed
increment_version                 tell in-place checks that a tensor was changed behind matgrad's back
register_multi_grad_hook          one hook over several tensors' gradients (mode 'all' or 'any')
saved_tensors_hooks, save_on_cpu, disable_saved_tensors_hooks   (what matgrad can do with them: see each)

The node API itself (next_functions, name(), metadata, register_hook/register_prehook) is on Op
(matgrad/autograd/op.py) and AccumulateGrad (hooks.py, with the leaf hooks it holds, as in PyTorch);
the hooks run in the engine, as the tensor hooks do.
"""
from __future__ import annotations

import contextlib
from abc import ABC, abstractmethod
from typing import Any, Callable, Iterable, Iterator, NamedTuple, Sequence

from ..tensor import Tensor, bump_version
from . import engine, hooks
from .hooks import AccumulateGrad, accumulate_grad
from .op import Op

__all__ = ["Node", "AccumulateGrad", "GradientEdge", "get_gradient_edge", "increment_version",
           "register_multi_grad_hook", "saved_tensors_hooks", "save_on_cpu", "disable_saved_tensors_hooks"]


class Node(ABC):
    """A node of the autograd graph (PyTorch's ABC): `isinstance(t.grad_fn, Node)` holds for every grad_fn.

    matgrad's Op (each op's node) and AccumulateGrad are registered as virtual subclasses, so they stay
    plain classes (no ABC metaclass on every op).
    """

    @abstractmethod
    def name(self) -> str:
        """The node's name as PyTorch gives it, e.g. 'MulBackward0'."""

    @property
    @abstractmethod
    def next_functions(self) -> tuple[tuple[Node | None, int], ...]:
        """One (node, output_nr) per input of this node: where its gradient goes next."""

    @property
    @abstractmethod
    def metadata(self) -> dict:
        """A dict of the user's own, kept with the node."""

    @abstractmethod
    def register_hook(self, fn: Callable[..., Any]) -> hooks.RemovableHandle:
        """fn(grad_inputs, grad_outputs) after the node ran; a returned tuple replaces grad_inputs."""

    @abstractmethod
    def register_prehook(self, fn: Callable[..., Any]) -> hooks.RemovableHandle:
        """fn(grad_outputs) before the node runs; a returned tuple replaces grad_outputs."""


Node.register(Op)  # isinstance(t.grad_fn, Node), Op staying a plain class
Node.register(AccumulateGrad)


class GradientEdge(NamedTuple):
    """Where a tensor's gradient is computed: its node and which output of it the tensor is (PyTorch's).

    matgrad's nodes have one output each (a user Function's outputs each get a node of their own), so
    `output_nr` is 0; `ownership_token` is always None (matgrad's nodes are Python objects that keep
    their graph alive themselves).
    """

    node: Node
    output_nr: int
    ownership_token: Node | None = None


def get_gradient_edge(tensor: Tensor) -> GradientEdge:
    """The edge where `tensor`'s gradient is computed: its grad_fn, or its AccumulateGrad for a leaf."""
    if not tensor.requires_grad:
        raise RuntimeError("It is not possible to get the gradient edge for a Tensor that does not require "
                           "gradients (set requires_grad=True on the leaf, or make it from one)")
    node = tensor.grad_fn
    return GradientEdge(accumulate_grad(tensor) if node is None else node, 0)


def increment_version(tensor: Tensor | Iterable[Tensor]) -> None:
    """Count an in-place change matgrad did not see (a change through `.array` or NumPy), so that a
    backward that reads the tensor's old value raises PyTorch's "modified by an inplace operation" error."""
    tensors = (tensor,) if isinstance(tensor, Tensor) else tuple(tensor)
    for t in tensors:
        if not isinstance(t, Tensor):
            raise TypeError(f"increment_version: expected a Tensor or an iterable of Tensors, got a {type(t).__name__}")
    for t in tensors:
        bump_version(t)


class _MultiHandle(hooks.RemovableHandle):
    """What register_multi_grad_hook returns: `.remove()` takes every tensor's hook off."""

    def __init__(self, handles: Sequence[hooks.RemovableHandle]) -> None:
        self.handles = tuple(handles)

    def remove(self) -> None:
        for h in self.handles:
            h.remove()


def register_multi_grad_hook(tensors: Sequence[Tensor], fn: Callable[..., Any], *,
                             mode: str = "all") -> hooks.RemovableHandle:
    """One hook over the gradients of several tensors, as PyTorch's.

    mode='all': `fn(grads)` once per backward that reaches any of them, with one entry per tensor: its
    gradient, or None for a tensor the backward did not reach. PyTorch calls it as soon as the last of
    the gradients it will compute is ready; matgrad, which does not know ahead which nodes a backward
    will reach, calls it when that backward ends (the list is the same; only the moment differs, so a
    leaf's `.grad` is already updated when fn runs). mode='any': `fn(grad)` once per backward, with the
    first of the tensors' gradients to be computed. Built on Tensor.register_hook, so the gradients are
    those the tensors' hooks see (after the hooks registered before this one). `fn` should not change them.
    """
    if mode not in ("all", "any"):
        raise ValueError(f"Expects mode to be one of ('all', 'any') but got {mode}")
    if not callable(fn):
        raise TypeError(f"register_multi_grad_hook: expected a function, got {type(fn).__name__}")
    tensors = tuple(tensors)
    # A backward's end callbacks (engine.queue_callback) are cleared when it ends, called or (if it raised)
    # not: a callback of ours still queued means this backward has already been seen.
    if mode == "any":
        def called() -> None:
            """(queued once fn was called in a backward: marks that backward done)"""

        def first(grad: Any) -> None:
            if called in engine._end_callbacks:
                return
            engine.queue_callback(called)
            fn(grad)

        return _MultiHandle([t.register_hook(first) for t in tensors if t.requires_grad])

    buffer: list[Any] = []

    def finish() -> None:
        grads = list(buffer)
        buffer.clear()
        fn(grads)

    def collect(i: int) -> Callable[[Any], None]:
        def hook(grad: Any) -> None:
            if finish not in engine._end_callbacks:  # this backward's first gradient starts the list
                buffer[:] = [None] * len(tensors)
                engine.queue_callback(finish)
            buffer[i] = grad
        return hook

    return _MultiHandle([t.register_hook(collect(i)) for i, t in enumerate(tensors)])


# --- saved tensors hooks -------------------------------------------------------------------------------------

_disabled: list[str] = []  # the innermost disable_saved_tensors_hooks' message, while one is active

_NO_PACKING = (
    "matgrad's graph nodes keep their inputs' tensors themselves, not packed copies (the explainer and the "
    "in-place version checks read them), so there is nothing for pack/unpack hooks to act on and they would never "
    "be called. To trade compute for memory, use matgrad.utils.checkpoint, which recomputes the forward in backward."
)


class saved_tensors_hooks:  # noqa: N801 - PyTorch's name
    """PyTorch's pack/unpack hooks for the tensors a graph saves: not supported (entering it raises
    NotImplementedError saying why): matgrad's nodes hold their inputs' tensors, not packed copies."""

    def __init__(self, pack_hook: Callable[[Tensor], Any], unpack_hook: Callable[[Any], Tensor]) -> None:
        self.pack_hook, self.unpack_hook = pack_hook, unpack_hook

    def __enter__(self) -> saved_tensors_hooks:
        if _disabled:
            raise RuntimeError(_disabled[-1])
        raise NotImplementedError(f"saved_tensors_hooks: {_NO_PACKING}")

    def __exit__(self, *exc: object) -> None:
        return None


class save_on_cpu(saved_tensors_hooks):  # noqa: N801 - PyTorch's name
    """PyTorch's context that moves the tensors a graph saves to the CPU until backward needs them.

    On the CPU it changes nothing, in PyTorch as here. matgrad's nodes keep their inputs themselves,
    so with a GPU (CuPy) backend the saved tensors stay on the device: nothing is offloaded and no memory
    is saved (the results are the same). `pin_memory` and `device_type` are accepted for PyTorch's code.
    """

    def __init__(self, pin_memory: bool = False, device_type: str = "cuda") -> None:
        self.pin_memory, self.device_type = pin_memory, device_type

    def __enter__(self) -> save_on_cpu:
        if _disabled:
            raise RuntimeError(_disabled[-1])
        return self


@contextlib.contextmanager
def disable_saved_tensors_hooks(error_message: str) -> Iterator[None]:
    """Inside it, entering saved_tensors_hooks or save_on_cpu raises RuntimeError(error_message), as PyTorch.

    matgrad has no saved-tensor hooks to turn off otherwise, so it changes nothing else.
    """
    _disabled.append(error_message)
    try:
        yield
    finally:
        _disabled.pop()
