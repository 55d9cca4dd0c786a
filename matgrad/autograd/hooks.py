"""Tensor hooks: functions the reverse pass calls with a tensor's gradient, as PyTorch's.

- `register_hook(t, fn)`: `fn(grad)` runs once the gradient of `t` is complete, before it
  goes on: for an intermediate, before its op's backward (a retained `.grad` is the one after
  the hooks); for a leaf, before it is added into `.grad`. A returned tensor replaces the gradient.
- `register_post_accumulate_grad_hook(t, fn)`: `fn(t)` runs after a leaf's `.grad` was updated.
- a node's own hooks (`grad_fn.register_prehook(fn)`, `grad_fn.register_hook(fn)`, also on a leaf's
  AccumulateGrad node): `fn(grad_outputs)` before the node's backward, after its output tensor's hooks
  (and its retained `.grad`); `fn(grad_inputs, grad_outputs)` after it. Each may return a tuple to use
  instead. A node's prehooks sit among its output tensor's hooks, as `NodeHook`s (so whatever copies
  or refuses those, the explainer's replay and capture, does the same with them); its post hooks in
  `node.post_hooks`. An AccumulateGrad's sit among its leaf's hooks and post-accumulate hooks alike.
- `AccumulateGrad`: the node PyTorch shows for a leaf (`next_functions`), and there the holder of the
  leaf's hooks; here the leaf's hooks stay in the tables below, and it is a view onto them.

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
#: the ids of nn.Module's hooks and of torch-style RemovableHandle(hooks_dict): one counter, as both put
#: hooks in the same dicts (a module's _forward_hooks), so neither can overwrite the other's entry
hook_ids = [0]


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
    """What `register_hook` returns: `.remove()` takes the hook off (also as a `with` block).

    Also torch.utils.hooks.RemovableHandle's form, `RemovableHandle(hooks_dict, extra_dict=...)`: the handle
    picks a fresh `id`, the caller stores the hook under it, and `remove()` pops that id from every dict.
    """

    def __init__(self, hooks: dict[Any, Any], hook_id: Any = None, *, extra_dict: Any = None) -> None:
        if hook_id is None:
            hook_ids[0] += 1
            hook_id = hook_ids[0]
        self._hooks, self.id = hooks, hook_id
        self._extra = [extra_dict] if isinstance(extra_dict, dict) else list(extra_dict or ())

    def remove(self) -> None:
        """Take the hook off; removing twice does nothing."""
        self._hooks.pop(self.id, None)
        for extra in self._extra:
            extra.pop(self.id, None)

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
    """Pass `g` through each tensor hook in the order they were added; a returned tensor replaces it."""
    for fn in list(hooks.values()):
        if type(fn) is NodeHook:  # the node's own prehook: run_prehooks runs those, later
            continue
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


# --- hooks on a node itself (torch.autograd.graph.Node's register_prehook / register_hook) ------------------

class NodeHook:
    """A node's own prehook, kept among its output tensor's hooks (or a leaf's, for its AccumulateGrad)."""

    __slots__ = ("fn",)
    #: not one of the tensor's own hooks, which utils.hooks.warn_if_has_hooks warns about (torch: _backward_hooks)
    __torch_unserializable__ = True

    def __init__(self, fn: Callable[..., Any]) -> None:
        self.fn = fn


def _checked(fn: Callable[..., Any], what: str) -> Callable[..., Any]:
    if not callable(fn):
        raise TypeError(f"{what}: expected a function, got {type(fn).__name__}")
    return fn


def register_node_prehook(node: Any, fn: Callable[[tuple], Any]) -> RemovableHandle:
    """Call `fn(grad_outputs)` before `node`'s backward; a returned tuple replaces the gradients."""
    _checked(fn, "register_prehook")
    if node.pre_hooks is None:
        node.pre_hooks = {}
    hook_id = _next_id()
    node.pre_hooks[hook_id] = NodeHook(fn)
    return RemovableHandle(node.pre_hooks, hook_id)


def register_node_hook(node: Any, fn: Callable[[tuple, tuple], Any]) -> RemovableHandle:
    """Call `fn(grad_inputs, grad_outputs)` after `node`'s backward; a returned tuple replaces grad_inputs."""
    _checked(fn, "register_hook")
    if node.post_hooks is None:
        node.post_hooks = {}
    hook_id = _next_id()
    node.post_hooks[hook_id] = fn
    return RemovableHandle(node.post_hooks, hook_id)


class AccumulateGrad:
    """The node where a leaf's gradient is added into its `.grad` (PyTorch's): `next_functions` of a node
    whose input is a leaf that requires grad holds it, and `.variable` is that leaf.

    matgrad's graph holds the leaf itself, not this object; one is made on first asking and kept while
    the leaf lives, so it is the same object every time (PyTorch keeps one per leaf while its graph
    lives). Its hooks sit on the leaf: `register_prehook(fn)`: fn((grad,)) after the leaf's tensor hooks,
    before `.grad` is updated (a returned tuple replaces the gradient); `register_hook(fn)`:
    fn((), (grad,)) after `.grad` was updated and the leaf's post-accumulate hooks ran. As in PyTorch
    neither runs when autograd.grad returns the leaf's gradient instead of filling `.grad`.
    """

    def __init__(self, ref: weakref.ref) -> None:
        self._ref = ref
        self._metadata: dict | None = None

    @property
    def variable(self) -> Tensor | None:
        """The leaf tensor (None once it no longer exists: this node does not keep it alive)."""
        return self._ref()

    def name(self) -> str:
        return "torch::autograd::AccumulateGrad"

    @property
    def next_functions(self) -> tuple:
        return ()

    @property
    def metadata(self) -> dict:
        if self._metadata is None:
            self._metadata = {}
        return self._metadata

    def register_prehook(self, fn: Callable[[tuple], Any]) -> RemovableHandle:
        return leaf_hooks.add(self._leaf(), NodeHook(_checked(fn, "register_prehook")))

    def register_hook(self, fn: Callable[[tuple, tuple], Any]) -> RemovableHandle:
        return post_accumulate_hooks.add(self._leaf(), NodeHook(_checked(fn, "register_hook")))

    def _leaf(self) -> Tensor:
        t = self._ref()
        if t is None:
            raise RuntimeError("this AccumulateGrad's leaf tensor no longer exists, so no gradient will reach it: "
                               "register hooks on a node of a live graph")
        return t

    def __repr__(self) -> str:
        return f"<AccumulateGrad object at {id(self):#x}>"


#: id(leaf) -> its AccumulateGrad (whose weak reference to the leaf drops the entry when the leaf dies).
#: By id: a Tensor's `==` is elementwise, so it cannot key a WeakKeyDictionary (as _LeafTable).
_accumulators: dict[int, AccumulateGrad] = {}


def accumulate_grad(leaf: Tensor) -> AccumulateGrad:
    """The leaf's AccumulateGrad node: the same object for as long as the leaf lives."""
    acc = _accumulators.get(id(leaf))
    if acc is not None and acc._ref() is leaf:
        return acc
    key = id(leaf)
    acc = AccumulateGrad(weakref.ref(leaf, lambda _, key=key: _accumulators.pop(key, None)))
    _accumulators[key] = acc
    return acc


def _name(fn: Any) -> str:
    return getattr(fn, "__name__", repr(fn))


def _replacement(fn: Any, out: Any, was: tuple, plain: bool) -> tuple:
    """What a node hook returned in place of `was` (arrays, or Tensors under create_graph), checked as PyTorch."""
    if type(out) is not tuple:
        raise TypeError(f"expected tuple, but hook returned '{type(out).__name__}' (hook {_name(fn)!r} must "
                        "return None or a tuple with one gradient per value it was given)")
    if len(out) != len(was):
        raise RuntimeError(f"hook '{_name(fn)}' has returned an incorrect number of values "
                           f"(got {len(out)}, but expected {len(was)})")
    new = []
    for value, old in zip(out, was):
        if value is None:
            new.append(None)
            continue
        if not isinstance(value, Tensor):
            raise TypeError(f"hook '{_name(fn)}' returned a {type(value).__name__} where a gradient belongs: "
                            "return Tensors (or None)")
        arr = value.array if plain else value
        if old is not None:
            if tuple(arr.shape) != tuple(old.shape):
                raise RuntimeError(f"hook '{_name(fn)}' has changed the size of value (was {tuple(old.shape)}, "
                                   f"got {tuple(arr.shape)})")
            if arr.dtype != old.dtype:
                raise RuntimeError(f"hook '{_name(fn)}' has changed the type of value (was {old.dtype} "
                                   f"got {arr.dtype})")
        new.append(arr)
    return tuple(new)


def _as_tensors(gs: tuple) -> tuple:
    """Gradients as the hooks see them: Tensors (arrays wrapped, without copying), None kept."""
    return tuple(g if g is None or isinstance(g, Tensor) else Tensor._make(g, None, False) for g in gs)


def run_prehooks(hooks: dict[int, Any], g: Any, plain: bool, what: str) -> Any:
    """Pass the gradient `g` through the node's own prehooks (after its tensor hooks); None if one dropped it."""
    for fn in list(hooks.values()):
        if type(fn) is not NodeHook:
            continue
        out = fn.fn(_as_tensors((g,)))  # (None,) once an earlier one dropped it, as PyTorch
        if out is not None:
            g = _replacement(fn.fn, out, (g,), plain)[0]
    return g


def run_posthooks(hooks: dict[int, Any], grads: tuple, g: Any, plain: bool) -> tuple:
    """Pass the node's input gradients `grads` (fitted to its inputs; None where none) through its post hooks,
    each called as fn(grad_inputs, grad_outputs) with grad_outputs = (g,); a returned tuple replaces grads."""
    outputs = _as_tensors((g,))
    for fn in list(hooks.values()):
        out = fn(_as_tensors(grads), outputs)
        if out is not None:
            grads = _replacement(fn, out, grads, plain)
    return grads


def run_leaf_posthooks(hooks: dict[int, Any], t: Tensor, g: Any, plain: bool) -> None:
    """After the leaf `t`'s `.grad` was updated with `g`: its post-accumulate hooks fn(t), then its
    AccumulateGrad's post hooks fn((), (g,)), as PyTorch orders them."""
    for fn in list(hooks.values()):
        if type(fn) is not NodeHook:
            fn(t)
    for fn in list(hooks.values()):
        if type(fn) is NodeHook:
            out = fn.fn((), _as_tensors((g,)))
            if out is not None:
                _replacement(fn.fn, out, (), plain)
