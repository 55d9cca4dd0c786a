"""The reverse pass: walk the graph from the output back, applying the chain rule.

Done here once for every op: topological order (iterative, so a 100,000-op chain is
fine), summing each gradient back to its input's broadcast shape, checking its shape
and dtype, summing the gradients of a tensor used more than once ("a copy sums"),
accumulating into leaves' `.grad`, and freeing what each node kept once it has run.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Sequence

import numpy as np

from . import grad_mode
from . import xp as _xp

if TYPE_CHECKING:
    from ..tensor import Tensor
    from .function import Function

#: Called as hook(node, dy, grads) after each node's backward; the explainer listens here.
StepHook = Callable[["Function", Any, tuple], None]


def topological_order(roots: Sequence[Function]) -> list[Function]:
    """Every node reachable from `roots`, each after all the nodes that consume its output."""
    order: list[Function] = []
    seen: set[int] = set()
    for root in roots:
        if id(root) in seen:
            continue
        seen.add(id(root))
        stack = [(root, iter(root._parents_or_raise()))]
        while stack:
            node, parents = stack[-1]
            for p in parents:
                fn = p.grad_fn
                if fn is not None and id(fn) not in seen:
                    seen.add(id(fn))
                    stack.append((fn, iter(fn._parents_or_raise())))
                    break
            else:
                stack.pop()
                order.append(node)
    order.reverse()
    return order


def run_backward(
    roots: Sequence[Tensor],
    grad_roots: Sequence[Any],
    retain_graph: bool,
    create_graph: bool,
    inputs: Sequence[Tensor] | None = None,
    hook: StepHook | None = None,
) -> list[Any] | None:
    """Backpropagate `grad_roots` from `roots`.

    With `inputs=None` gradients accumulate into the leaves' `.grad` (Tensor.backward);
    otherwise the gradients of `inputs` are returned and no `.grad` is touched
    (autograd.grad). Under create_graph, gradients are Tensors on a new graph.
    """
    ns = _xp.graph_ns if create_graph else _xp.numpy_ns
    want: dict[int, int] = {}  # id(tensor or node) -> position in the result
    result: list[Any] = []
    if inputs is not None:
        result = [None] * len(inputs)
        for i, t in enumerate(inputs):
            want[id(t.grad_fn) if t.grad_fn is not None else id(t)] = i

    pending: dict[int, Any] = {}  # id(node) -> gradient of its output, summed so far
    owned: set[int] = set()  # pending sums we allocated ourselves, so may add into in place
    # Arrays a leaf must not take as its own .grad (it later adds into .grad in place):
    # the caller's seeds, and arrays already stored in some .grad.
    handed: set[int] = {id(g) for g in grad_roots}
    roots_fn = []
    for t, g in zip(roots, grad_roots):
        if t.grad_fn is None:  # a leaf as the root: its gradient is the seed itself
            _deliver_leaf(t, g, want, result, handed, create_graph)
            continue
        _accumulate(pending, owned, id(t.grad_fn), g)
        roots_fn.append(t.grad_fn)

    prev_mode = grad_mode._state.enabled
    grad_mode._state.enabled = create_graph
    try:
        for node in topological_order(roots_fn):
            dy = pending.pop(id(node), None)
            if dy is None:
                continue
            pos = want.get(id(node))
            if pos is not None:
                result[pos] = dy
            if create_graph:  # otherwise node.xp is already NumPy, as apply() left it
                node.xp = ns
                grads = node.backward(dy)
                node.xp = _xp.numpy_ns
            else:
                grads = node.backward(dy)
            if type(grads) is not tuple:
                grads = (grads,)
            elif not create_graph and len(grads) > 1:
                grads = _unalias(grads)
            parents = node.parents
            if hook is not None:
                hook(node, dy, grads)
            if not retain_graph:
                node.release()
            for parent, need, g in zip(parents, node.needs_input_grad, grads):
                if g is None or not need:
                    continue
                data = parent.data
                if g.shape != data.shape or g.dtype != data.dtype:
                    g = _fit(g, parent, node, ns)
                fn = parent.grad_fn
                if fn is None:
                    _deliver_leaf(parent, g, want, result, handed, create_graph)
                else:
                    _accumulate(pending, owned, id(fn), g)
    finally:
        grad_mode._state.enabled = prev_mode
    return result if inputs is not None else None


def _fit(g: Any, parent: Tensor, node: Function, ns: Any) -> Any:
    """Sum `g` back to the parent's shape and dtype, or say which op produced a bad one."""
    shape = parent.data.shape
    if g.shape != shape:
        if len(g.shape) < len(shape) or any(
            s != 1 and s != gs for s, gs in zip(shape[::-1], g.shape[::-1])
        ):
            raise RuntimeError(
                f"{node.name}.backward returned a gradient of shape {tuple(g.shape)} for an "
                f"input of shape {shape}; the two are not broadcast-compatible (a bug in the op)"
            )
        g = ns.sum_to(g, shape)
    if g.dtype != parent.data.dtype:
        g = ns.astype(g, parent.data.dtype)
    return g


def _unalias(grads: tuple) -> tuple:
    """Copy an array an op returned for several inputs (add's dy, dy): each must own its own."""
    seen: set[int] = set()
    out = []
    for g in grads:
        if g is not None and id(g) in seen:
            g = g.copy()
        elif g is not None:
            seen.add(id(g))
        out.append(g)
    return tuple(out)


def _accumulate(pending: dict[int, Any], owned: set[int], key: int, g: Any) -> None:
    """Add `g` into the running sum for one node's output."""
    acc = pending.get(key)
    if acc is None:
        pending[key] = g
    elif key in owned and isinstance(acc, np.ndarray):
        acc += g
    else:
        pending[key] = acc + g
        owned.add(key)


def _deliver_leaf(
    t: Tensor, g: Any, want: dict[int, int], result: list[Any], handed: set[int], create_graph: bool
) -> None:
    """Hand a leaf its gradient: into the result (autograd.grad) or into `.grad`."""
    if want:
        pos = want.get(id(t))
        if pos is not None:
            result[pos] = g if result[pos] is None else result[pos] + g
        return
    if create_graph or (t.grad is not None and not isinstance(t.grad, np.ndarray)):
        # a Tensor .grad (left by backward(create_graph=True)) adds out of place, as PyTorch
        t.grad = g if t.grad is None else t.grad + g
        return
    if isinstance(g, np.ndarray) and (id(g) in handed or not g.flags.writeable or g.base is not None):
        g = g.copy()  # never alias another tensor's .grad or a read-only broadcast view
    handed.add(id(g))
    if t.grad is None:
        t.grad = g if isinstance(g, np.ndarray) else np.asarray(g)
    else:
        np.add(t.grad, g, out=t.grad, casting="unsafe")
