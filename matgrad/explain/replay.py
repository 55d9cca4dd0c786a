"""replay: rebuild a graph that backward() freed by running its forward again from the leaves.

backward() frees what each node kept for its own backward (Op.release) but keeps the graph's
shape: each node's `parent_fns` and keyword `params`, with the inputs that are leaves
(parameters and constants) in `parent_fns` where None stood. Re-running every node's forward on
those, oldest first, gives an equivalent graph: the same ops in the same order, reading the same
leaf tensors, and its tensors named as the user named them. The explainer records the same
steps from it, and `.grad` is untouched as before.

Replay refuses, and says why, when it could not be exact: a node whose forward may give
something else when run again (a user autograd.Function), a leaf changed in place since
the forward, or a replayed output that differs from the one backward saw (an optimizer step
changes the parameters' values in place).
"""
from __future__ import annotations

import gc
import weakref
from typing import Any

import numpy as np

from ..autograd import grad_mode
from ..devices import to_host as host_copy  # (replay's own `to_host` is a flag)
from ..tensor import Tensor, version_at
from .values import Value, shape_str

_FIX = ("Call explain() before backward() (explain() changes no .grad, so backward() still works "
        "after it), or call backward(retain_graph=True).")


def nodes_of(output: Tensor) -> list[Any]:
    """Every node `output` was made from, oldest first (Op.seq: each node after the nodes it reads)."""
    found: dict[int, Any] = {}
    stack = [output.grad_fn]
    while stack:
        n = stack.pop()
        if n is None or isinstance(n, (Tensor, weakref.ref)) or id(n) in found:  # (a released node's leaves)
            continue
        found[id(n)] = n
        stack.extend(n.parent_fns)
    return sorted(found.values(), key=lambda n: n.seq)


def _leaf(node: Any, i: int) -> Tensor:
    """The node's input i, a leaf: as recorded, and unchanged since (its version then)."""
    t = node.parents[i] if node.parents is not None else node.parent_fns[i]
    if isinstance(t, weakref.ref):  # a large constant (an input batch): kept only while the user keeps it
        t = t()
        if t is None:
            raise RuntimeError(
                f"explain: backward() has already freed this graph, and it cannot be rebuilt: a constant input of "
                f"{node.name} (more than 1024 elements, as a batch of data) no longer exists. {_FIX}")
    if t._version != version_at(t, node.seq):
        what = f"the input {t.name}" if t.name else f"an input of shape {shape_str(tuple(t.shape))}"
        raise RuntimeError(
            f"explain: backward() has already freed this graph, and it cannot be rebuilt as it was: {what} of "
            f"{node.name} was changed in place after the forward. {_FIX}"
        )
    return t


def _names(nodes: list[Any]) -> dict[int, str]:
    """id(node) -> the name the user gave its output tensor, where they still hold that tensor.

    Nodes do not point to their outputs, so the tensors are found on the heap: one walk per
    explain() after backward(), where a record in every release() would cost every backward.
    """
    ids = {id(n) for n in nodes}
    out: dict[int, str] = {}
    for t in gc.get_objects():
        # type(), not isinstance(): that asks every object for its __class__, and some modules warn then
        if type(t) is Tensor and t.name is not None and id(t.grad_fn) in ids:
            out.setdefault(id(t.grad_fn), t.name)
    return out


def _to_host(x: Any) -> Any:
    """A value an op was given (an array, or tuples and lists of them), with device arrays copied to the host."""
    if type(x) in (tuple, list):
        return type(x)(_to_host(v) for v in x)
    return host_copy(x) if hasattr(x, "__array_function__") else x


def replay(output: Tensor, to_host: bool = False) -> Tensor:
    """A tensor equal to `output` on a rebuilt copy of the graph backward() freed, or a clear error.

    With to_host the copy runs on the CPU from host copies of the leaves (a GPU graph, explained
    on the host: the explainer reads and prints values there); it may differ from the device's
    results in the last bits, as the CPU's and the GPU's float arithmetic do.
    """
    nodes = nodes_of(output)
    for n in nodes:
        if not n.replayable:
            raise RuntimeError(
                f"explain: backward() has already freed this graph, and it cannot be rebuilt: {n.name}'s forward "
                f"cannot be re-run (a user autograd.Function may give different values when run again). {_FIX}"
            )
    names = _names(nodes)
    made: dict[int, Tensor] = {}
    hosted: dict[int, Tensor] = {}

    def leaf(n: Any, i: int) -> Tensor:
        t = _leaf(n, i)
        if not to_host or type(t.array) is np.ndarray:
            return t
        if id(t) not in hosted:
            h = Tensor._make(host_copy(t.array), None, t.requires_grad)
            h.name = t.name
            hosted[id(t)] = h
        return hosted[id(t)]

    with grad_mode.enable_grad(), np.errstate(all="ignore"):  # as the forward ran: what is not finite is reported
        for n in nodes:
            inputs = [leaf(n, i) if fn is None or isinstance(fn, (Tensor, weakref.ref)) else made[id(fn)]
                      for i, fn in enumerate(n.parent_fns)]
            params = {k: _to_host(v) for k, v in n.params.items()} if to_host else n.params
            y = type(n).apply(*inputs, **params)
            fn = y.grad_fn
            if fn is None or fn.needs_input_grad != n.needs_input_grad:
                raise RuntimeError(
                    f"explain: backward() has already freed this graph, and it cannot be rebuilt as it was: "
                    f"which inputs of {n.name} require grad has changed since the forward. {_FIX}"
                )
            fn.pre_hooks = n.pre_hooks  # the hooks on the output's gradient run as they would have
            fn.post_hooks = n.post_hooks  # and the node's own post hooks (grad_fn.register_hook)
            y.name = names.get(id(n))
            made[id(n)] = y
    out = made[id(output.grad_fn)]
    if to_host:  # the CPU's arithmetic against the GPU's: equal to float rounding
        was = host_copy(output.array)
        same = out.array.shape == was.shape and np.allclose(out.array, was, rtol=1e-4, atol=1e-6, equal_nan=True)
    else:
        same = out.array.shape == output.array.shape and np.array_equal(
            out.array, output.array, equal_nan=out.array.dtype.kind in "fc")
    if not same:
        raise RuntimeError(
            f"explain: backward() has already freed this graph, and running its forward again gives "
            f"{Value.of(out.array)}, not the {Value.of(output.array)} it gave: some input's values changed since "
            f"(an optimizer step changes the parameters in place). {_FIX}"
        )
    out.name = output.name
    return out
