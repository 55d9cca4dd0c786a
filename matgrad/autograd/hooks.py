"""Tensor hooks: functions the reverse pass calls with a tensor's gradient, as PyTorch's.

- `register_hook(t, fn)`: `fn(grad)` runs once the gradient of `t` is complete, before it
  goes on: for an intermediate, before its op's backward (a retained `.grad` is the one after
  the hooks); for a leaf, before it is added into `.grad`. A returned tensor replaces the gradient.
- `register_post_accumulate_grad_hook(t, fn)`: `fn(t)` runs after a leaf's `.grad` was updated.

An intermediate's hooks sit on the node that made it (one node, one output). A leaf's sit
here, by weak reference, so a tensor carries nothing extra and a backward without leaf hooks
pays one test of an empty table.
"""
from __future__ import annotations

import weakref
from itertools import count
from typing import Any, Callable

from ..tensor import Tensor

_next_id = count().__next__


class _LeafTable:
    """Hooks of leaf tensors by id, each entry dropped when its tensor dies.

    Keyed by id with a weak reference beside it: a Tensor's `==` is elementwise, so it
    cannot be a dictionary key by value (a WeakKeyDictionary would compare tensors).
    """

    def __init__(self) -> None:
        self._entries: dict[int, tuple[weakref.ref, dict[int, Callable[..., Any]]]] = {}

    def __bool__(self) -> bool:
        return bool(self._entries)

    def get(self, t: Tensor) -> dict[int, Callable[..., Any]] | None:
        entry = self._entries.get(id(t))
        return entry[1] if entry is not None and entry[0]() is t else None

    def add(self, t: Tensor, fn: Callable[..., Any]) -> RemovableHandle:
        hooks = self.get(t)
        if hooks is None:
            key = id(t)
            hooks = {}
            self._entries[key] = (weakref.ref(t, lambda _, key=key: self._entries.pop(key, None)), hooks)
        hook_id = _next_id()
        hooks[hook_id] = fn
        return RemovableHandle(hooks, hook_id)

    def tensors(self) -> list[Tensor]:
        alive = (ref() for ref, hooks in self._entries.values() if hooks)
        return [t for t in alive if t is not None]


#: leaf tensor -> {handle id: fn(grad)}, and leaf tensor -> {handle id: fn(tensor)}
leaf_hooks = _LeafTable()
post_accumulate_hooks = _LeafTable()


class RemovableHandle:
    """What `register_hook` returns: `.remove()` takes the hook off (also as a `with` block)."""

    def __init__(self, hooks: dict[int, Callable[..., Any]], hook_id: int) -> None:
        self._hooks, self.id = hooks, hook_id

    def remove(self) -> None:
        """Take the hook off; removing twice does nothing."""
        self._hooks.pop(self.id, None)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()


def register_hook(t: Tensor, fn: Callable[[Any], Any]) -> RemovableHandle:
    """Call `fn(grad)` with `t`'s complete gradient on every backward; a returned tensor replaces it."""
    if not callable(fn):
        raise TypeError(f"register_hook: expected a function of the gradient, got {type(fn).__name__}")
    if not t.requires_grad:
        raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
    node = t.grad_fn
    if node is None:
        return leaf_hooks.add(t, fn)
    if node.pre_hooks is None:
        node.pre_hooks = {}
    hook_id = _next_id()
    node.pre_hooks[hook_id] = fn
    return RemovableHandle(node.pre_hooks, hook_id)


def register_post_accumulate_grad_hook(t: Tensor, fn: Callable[[Any], Any]) -> RemovableHandle:
    """Call `fn(t)` after every backward that added into the leaf `t`'s `.grad`."""
    if not callable(fn):
        raise TypeError(f"register_post_accumulate_grad_hook: expected a function, got {type(fn).__name__}")
    if t.grad_fn is not None:
        raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf tensors")
    if not t.requires_grad:
        raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
    return post_accumulate_hooks.add(t, fn)


def run_hooks(hooks: dict[int, Callable[..., Any]], g: Any, plain: bool, what: str) -> Any:
    """Pass `g` through each hook in the order they were added; a returned tensor replaces it."""
    for fn in list(hooks.values()):
        arg = Tensor._make(g, None, False) if plain else g
        out = fn(arg)
        if out is None:
            continue
        new = out.array if plain and isinstance(out, Tensor) else out
        if getattr(new, "shape", None) != g.shape:
            raise RuntimeError(
                f"hook {getattr(fn, '__name__', fn)!r} on {what} has changed the size of value: "
                f"it returned shape {tuple(getattr(new, 'shape', ()))} for a gradient of shape {tuple(g.shape)}"
            )
        g = new
    return g
