"""The reverse pass: walk the graph from the output back, applying the chain rule.

Done here once for every op: running the nodes in a valid order (newest first, no
recursion, so a 100,000-op chain is fine), summing each gradient back to its input's
broadcast shape, checking its shape and dtype, summing the gradients of a tensor used
more than once ("a copy sums"), accumulating into leaves' `.grad` (and retained
intermediates'), and freeing what each node kept once it has run.
"""
from __future__ import annotations

from heapq import heappop, heappush
from typing import TYPE_CHECKING, Any, Callable, Sequence

import numpy as np

from .. import memory
from ..backend import ArrayNamespace, numpy_ns
from ..devices import backend_of
from ..kernels import ignoring
from ..tensor import Tensor
from . import anomaly_mode, grad_mode, hook_providers, hooks

if TYPE_CHECKING:
    from .op import Op

#: Called as hook(node, dy, grads) after each node's backward; the explainer listens here.
StepHook = Callable[["Op", Any, tuple], None]


_graph_ns: list[ArrayNamespace] = []  # the ops under NumPy's names, for create_graph


def use_graph_namespace(ns: ArrayNamespace) -> None:
    """Name the namespace backward formulas run on under create_graph (matgrad.ops registers it).

    The ops sit above the engine, so the engine cannot import them: they hand it in instead.
    """
    if ns.plain:
        raise ValueError("use_graph_namespace: a graph namespace records its ops (plain=False)")
    _graph_ns[:] = [ns]


def graph_namespace() -> ArrayNamespace:
    """The namespace that records a backward's ops, so the gradient can be differentiated again."""
    if not _graph_ns:
        raise RuntimeError("create_graph needs matgrad's ops: import matgrad (or matgrad.ops) first")
    return _graph_ns[0]


def topological_order(roots: Sequence[Op]) -> list[Op]:
    """Every node reachable from `roots`, each after all the nodes that consume its output."""
    order: list[Op] = []
    seen: set[int] = set()
    for root in roots:
        if id(root) in seen:
            continue
        seen.add(id(root))
        root._parents_or_raise()
        stack = [(root, iter(root.parent_fns))]
        while stack:
            node, parent_fns = stack[-1]
            for fn in parent_fns:
                if fn is not None and id(fn) not in seen:
                    seen.add(id(fn))
                    fn._parents_or_raise()
                    stack.append((fn, iter(fn.parent_fns)))
                    break
            else:
                stack.pop()
                order.append(node)
    order.reverse()
    return order


#: Functions to call once, when the outermost backward now running has finished (PyTorch's
#: `Variable._execution_engine.queue_callback`): DistributedDataParallel waits for its bucket
#: allreduces there. Dropped, uncalled, if that backward raises.
_end_callbacks: list[Callable[[], Any]] = []
_depth = [0]


#: Per reverse pass now running, innermost last: whether it returns its gradients (autograd.grad,
#: backward(inputs=...)) rather than accumulating them into .grad. A node whose backward runs a
#: backward of its own (utils.checkpoint's recomputation) asks, so that it touches no .grad then.
_returning: list[bool] = []


def returning_gradients() -> bool:
    """Whether the innermost reverse pass now running returns its gradients instead of filling `.grad`."""
    return bool(_returning) and _returning[-1]


def queue_callback(fn: Callable[[], Any]) -> None:
    """Call `fn()` once when the backward pass now running ends (its outermost pass, if nested)."""
    if _depth[0] == 0:
        raise RuntimeError("queue_callback: no backward pass is running")
    _end_callbacks.append(fn)


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

    Nodes run newest first (by `Op.seq`): every node is made after the nodes of its
    inputs, so when a node is the newest one still waiting, every consumer of its output
    has run and its gradient is complete. Only nodes a gradient reaches are visited.
    """
    if memory.UNDECIDED[0]:  # the process trains: freed arrays kept for the next step (memory.keep_for_training)
        memory.keep_for_training()
    ns = graph_namespace() if create_graph else numpy_ns
    want: dict[int, int] = {}  # id(tensor or node) -> position in the result
    result: list[Any] = []
    if inputs is not None:
        result = [None] * len(inputs)
        for i, t in enumerate(inputs):
            want[id(t.grad_fn) if t.grad_fn is not None else id(t)] = i

    pending: dict[int, Any] = {}  # id(node) -> gradient of its output, summed so far
    owned: set[int] = set()  # pending sums we allocated ourselves, so may add into in place
    ready: list[tuple[int, Op]] = []  # heap of (-seq, node): the newest node first
    # Arrays a leaf must not take as its own .grad: the caller's seeds, and arrays a leaf
    # already took in this pass (`taken`: those may also be waiting at another node, so a
    # leaf holding one adds into a fresh array rather than in place).
    handed: set[int] = set(map(id, grad_roots))
    taken: set[int] = set()
    deliver = _deliver_leaf
    if hooks.leaf_hooks._entries or hooks.post_accumulate_hooks._entries:  # a leaf has hooks: hold its parts
        deliver = _HookedLeaves(roots, want, result, handed, taken, create_graph)
    for t, g in zip(roots, grad_roots):
        fn = t.grad_fn
        if fn is None:  # a leaf as the root: its gradient is the seed itself
            deliver(t, g, want, result, handed, taken, create_graph)
        else:
            _send(pending, owned, ready, fn, g)

    prev_mode = grad_mode._state.enabled
    grad_mode._state.enabled = create_graph
    _depth[0] += 1
    _returning.append(inputs is not None)
    ok = False
    node = None
    fresh = False  # whether the node just run returned a fresh array (see Op.add_grad_into)
    # --- per-node listeners (anomaly detection, the profiler): matgrad/autograd/hook_providers.py ---
    anomaly = False
    if hook_providers.providers:  # the one check they cost a backward while none listens
        anomaly = anomaly_mode._state[0]
        hook = hook_providers.wrap(hook)
    # --- (end of per-node listeners) ---
    try:
        while ready:
            node = heappop(ready)[1]
            key = id(node)
            dy = pending.pop(key)
            if owned:
                owned.discard(key)
            parents = node.parents
            if parents is None:
                node._parents_or_raise()  # freed by an earlier backward: say so
            if node.pre_hooks:  # the output tensor's hooks see its complete gradient first (and the node's prehooks)
                dy = _pre_hooked(node, dy, want, result, create_graph)
            elif want:
                pos = want.get(key)
                if pos is not None:
                    result[pos] = dy
            elif node.retained is not None:
                _retain(node, dy, create_graph)
            if create_graph:  # otherwise node.xp is already the plain namespace, as apply() left it
                node.xp = ns
                try:
                    grads = node.backward(dy)
                finally:
                    node.xp = numpy_ns
            elif type(dy) is np.ndarray:
                if node.add_grad_into is not None and hook is None and node.post_hooks is None:
                    fn = node.parent_fns[0]
                    if not node.needs_input_grad[0]:
                        acc = None
                    elif fn is not None:  # the running sum, if it is ours to add into
                        acc = pending[id(fn)] if id(fn) in owned else None
                    else:  # a leaf: its .grad, where the engine would add into it in place
                        acc = _leaf_sum(node.parents[0], taken) if deliver is _deliver_leaf and not want else None
                    if acc is not None and node.add_grad_into(acc, dy):  # a slice added into a sum: no zeros, no add
                        if not retain_graph:
                            node.release()
                        continue
                    fresh = True  # its gradient is a fresh array: later parts may add into it in place
                grads = node.backward(dy)
            else:  # a gradient on a GPU: the backward runs on that device's arrays
                node.xp = backend_of(dy).namespace
                try:
                    grads = node.backward(dy)
                finally:
                    node.xp = numpy_ns
            if type(grads) is not tuple:
                grads = (grads,)
            if node.post_hooks is not None:  # the node's own hooks (register_hook): all they cost others is this test
                grads = _post_hooked(node, dy, grads, parents, create_graph, ns)
            if hook is not None:
                hook(node, dy, grads)
            parent_fns = node.parent_fns
            if not retain_graph:
                node.release()
            for parent, fn, need, g in zip(parents, parent_fns, node.needs_input_grad, grads):
                if g is None or not need:
                    if need and deliver is not _deliver_leaf and fn is None:
                        deliver(parent, None, want, result, handed, taken, create_graph)  # one part fewer to wait for
                    continue
                data = parent.array
                if g.shape != data.shape or g.dtype != data.dtype:
                    g = _fit(g, parent, node, ns)
                if fn is None:
                    deliver(parent, g, want, result, handed, taken, create_graph)
                    if fresh and parent._grad is g:  # waiting nowhere else: later parts may add into it
                        taken.discard(id(g))
                else:
                    _send(pending, owned, ready, fn, g)
                    if fresh and pending[id(fn)] is g:
                        owned.add(id(fn))
            fresh = False
        if deliver is not _deliver_leaf:
            deliver.flush()
        ok = True
    except Exception:
        if anomaly:
            anomaly_mode.report(node)  # where the failing node's forward ran, as PyTorch's warning
        raise
    finally:
        grad_mode._state.enabled = prev_mode
        _depth[0] -= 1
        _returning.pop()
        if _depth[0] == 0 and _end_callbacks:
            calls = _end_callbacks[:]
            _end_callbacks.clear()
            if ok:
                for fn in calls:
                    fn()
    return result if inputs is not None else None


def _pre_hooked(node: Op, dy: Any, want: dict[int, int], result: list[Any], create_graph: bool) -> Any:
    """A node whose output has hooks, in PyTorch's order: the output tensor's hooks, then its gradient
    as autograd.grad's result or retained .grad, then the node's own prehooks; the gradient they leave."""
    plain = not create_graph
    what = f"the output of {node.name}"
    dy = hooks.run_hooks(node.pre_hooks, dy, plain, what)
    if want:
        pos = want.get(id(node))
        if pos is not None:
            result[pos] = dy
    elif node.retained is not None:
        _retain(node, dy, create_graph)
    dy = hooks.run_prehooks(node.pre_hooks, dy, plain, what)
    if dy is None:
        raise NotImplementedError(
            f"a prehook of {node.name()} returned None for its output's gradient; PyTorch then skips the node, "
            "matgrad cannot: return a tuple with a zero gradient (torch.zeros_like(grad)) instead")
    return dy


def _post_hooked(node: Op, dy: Any, grads: tuple, parents: tuple[Tensor, ...], create_graph: bool,
                 ns: ArrayNamespace) -> tuple:
    """The node's post hooks see its input gradients as PyTorch's do, fitted to the inputs' shapes and None
    for an input that needs none, and may replace them."""
    if not node.post_hooks:  # all removed
        return grads
    fitted = []
    for parent, need, g in zip(parents, node.needs_input_grad, grads):
        if g is None or not need:
            fitted.append(None)
        elif g.shape != parent.array.shape or g.dtype != parent.array.dtype:
            fitted.append(_fit(g, parent, node, ns))
        else:
            fitted.append(g)
    return hooks.run_posthooks(node.post_hooks, tuple(fitted), dy, not create_graph)


def _retain(node: Op, dy: Any, create_graph: bool) -> None:
    """Store a node's complete output gradient in its tensor's .grad (Tensor.retain_grad)."""
    t = node.retained()
    if t is None:
        return
    grad = t.grad  # (the property: a bare array becomes its Tensor)
    if create_graph or (grad is not None and not _plain_grad(grad)):
        g = _as_grad_tensor(dy)
        t._grad = g if grad is None else _sum(grad, g)
    elif grad is None:
        t._grad = Tensor._make(np.array(dy, dtype=t.array.dtype), None, False)  # a copy: dy goes on
    else:
        _add_into(grad.array, dy, grad.array)


# Summing gradients: inf + (-inf) is nan, silently, as in PyTorch; NumPy would warn ("invalid value
# encountered in add"). Only the sums are quiet, not the ops' backwards. The state (kernels.ignoring)
# costs 0.5-1 µs a sum, paid only where a gradient has more than one part or adds into a .grad: none in
# benchmarks/mlp.py's step, 57 in the backward of a 20-step nn.RNN (~1% of it, 2026-11-30).
@ignoring(invalid="ignore")
def _sum(acc: Any, g: Any) -> Any:
    """acc + g (arrays, or Tensors under create_graph), a new one."""
    return acc + g


@ignoring(invalid="ignore")
def _add_into(acc: Any, g: Any, out: Any) -> None:
    """acc + g written into out (acc itself, or a fresh array), in acc's dtype."""
    np.add(acc, g, out=out, casting="unsafe")


def _plain_grad(grad: Tensor) -> bool:
    """A `.grad` the reverse pass may add into in place: no graph, an array of its own."""
    return grad.grad_fn is None and not grad._requires_grad and grad.array.flags.writeable


def _as_grad_tensor(g: Any) -> Tensor:
    """A create_graph gradient as `.grad`: on its graph, or a copy when it is a constant (never the seed)."""
    if isinstance(g, Tensor):
        return g if g._requires_grad else Tensor._make(np.array(g.array), None, False)
    return Tensor._make(np.array(g), None, False)


def _fit(g: Any, parent: Tensor, node: Op, ns: Any) -> Any:
    """Sum `g` back to the parent's shape and dtype, or say which op produced a bad one."""
    shape = parent.array.shape
    if g.shape != shape:
        if len(g.shape) < len(shape) or any(
            s != 1 and s != gs for s, gs in zip(shape[::-1], g.shape[::-1])
        ):
            raise RuntimeError(
                f"{node.name}.backward returned a gradient of shape {tuple(g.shape)} for an "
                f"input of shape {shape}; the two are not broadcast-compatible (a bug in the op)"
            )
        g = ns.sum_to(g, shape)
    if g.dtype != parent.array.dtype:
        g = ns.astype(g, parent.array.dtype)
    return g


def _send(pending: dict[int, Any], owned: set[int], ready: list, fn: Op, g: Any) -> None:
    """Add `g` into the running sum for `fn`'s output; a node's first gradient queues it."""
    key = id(fn)
    acc = pending.get(key)
    if acc is None:
        pending[key] = g
        heappush(ready, (-fn.seq, fn))
    elif key in owned and type(acc) is np.ndarray:
        _add_into(acc, g, acc)
    else:
        pending[key] = _sum(acc, g)
        owned.add(key)


def _leaf_sum(t: Tensor, taken: set[int]) -> Any:
    """The array of a leaf's .grad when _deliver_leaf would add the next part into it in place, else None."""
    grad = t._grad
    if type(grad) is np.ndarray:  # a bare array the engine placed: plain, writeable
        array = grad
    elif grad is not None and _plain_grad(grad):
        array = grad.array
    else:
        return None
    return array if id(array) not in taken and type(array) is np.ndarray else None


def _deliver_leaf(
    t: Tensor, g: Any, want: dict[int, int], result: list[Any], handed: set[int], taken: set[int],
    create_graph: bool,
) -> None:
    """Hand a leaf its gradient: into the result (autograd.grad) or into `.grad`."""
    if want:
        pos = want.get(id(t))
        if pos is not None:
            result[pos] = g if result[pos] is None else _sum(result[pos], g)
        return
    grad = t._grad
    if grad is None and not create_graph:
        if type(g) is not np.ndarray:
            if backend_of(g).kind == "cpu":
                g = np.asarray(g)
            elif id(g) in handed or g.base is not None:  # a device array: the same rule, without NumPy's flags
                g = g.copy()
        elif id(g) in handed or g.base is not None or not g.flags.writeable:
            g = g.copy()  # never alias the caller's seed, another .grad, or a view of either
        handed.add(id(g))
        taken.add(id(g))
        t._grad = g  # the bare array: Tensor.grad wraps it when it is first read
        return
    if grad is not None and not isinstance(grad, Tensor):
        grad = t.grad  # a bare array left by an earlier backward: as the Tensor it stands for
    if create_graph or (grad is not None and not _plain_grad(grad)):
        # a .grad on a graph (left by backward(create_graph=True)) adds out of place, as PyTorch
        g = _as_grad_tensor(g)
        t._grad = g if grad is None else _sum(grad, g)
    elif id(grad.array) in taken:  # .grad may also be waiting at another node: add into a fresh array
        out = np.empty_like(grad.array)
        _add_into(grad.array, g, out)
        t._grad = Tensor._make(out, None, False)
    else:
        _add_into(grad.array, g, grad.array)


class _HookedLeaves:
    """Leaf delivery when some leaf has hooks: a hooked leaf's parts are summed until the last one
    arrives, then its hooks see the whole gradient once, as in PyTorch; other leaves as usual.

    How many parts a leaf waits for is counted up front over the graph this backward reaches
    (PyTorch counts its dependencies the same way); a part that turns out to be None counts too.
    """

    def __init__(self, roots: Sequence[Tensor], *_: Any) -> None:
        hooked = {id(t): t for t in (*hooks.leaf_hooks.tensors(), *hooks.post_accumulate_hooks.tensors())}
        self.waiting: dict[int, int] = {}
        self.sums: dict[int, Any] = {}
        for t in roots:
            if t.grad_fn is None and id(t) in hooked:
                self.waiting[id(t)] = self.waiting.get(id(t), 0) + 1
        nodes = [t.grad_fn for t in roots if t.grad_fn is not None]
        for node in topological_order(nodes) if nodes else ():
            for parent, fn, need in zip(node._parents_or_raise(), node.parent_fns, node.needs_input_grad):
                if need and fn is None and id(parent) in hooked:
                    self.waiting[id(parent)] = self.waiting.get(id(parent), 0) + 1
        self.tensors = {k: hooked[k] for k in self.waiting}

    def __call__(self, t: Tensor, g: Any, want: dict[int, int], result: list[Any], handed: set[int],
                 taken: set[int], create_graph: bool) -> None:
        key = id(t)
        if key not in self.waiting:
            if g is not None:
                _deliver_leaf(t, g, want, result, handed, taken, create_graph)
            return
        if g is not None:
            acc = self.sums.get(key)
            self.sums[key] = g if acc is None else _sum(acc, g)
        self.waiting[key] -= 1
        if self.waiting[key] == 0:
            del self.waiting[key]
            self._finish(t, want, result, handed, taken, create_graph)
        self.args = (want, result, handed, taken, create_graph)

    def _finish(self, t: Tensor, want: dict[int, int], result: list[Any], handed: set[int], taken: set[int],
                create_graph: bool) -> None:
        g = self.sums.pop(id(t), None)
        if g is None:
            return
        pre = hooks.leaf_hooks.get(t)
        if pre:
            g = hooks.run_hooks(pre, g, not create_graph, "a leaf tensor")
            if not want:  # its AccumulateGrad's prehooks: autograd.grad runs no AccumulateGrad, as PyTorch
                g = hooks.run_prehooks(pre, g, not create_graph, "a leaf tensor")
        if g is not None:  # (None: a prehook dropped it)
            _deliver_leaf(t, g, want, result, handed, taken, create_graph)
        post = hooks.post_accumulate_hooks.get(t)
        if post and not want:  # after .grad changed (and then the AccumulateGrad's post hooks); autograd.grad
            hooks.run_leaf_posthooks(post, t, g, not create_graph)  # touches no .grad, so calls none

    def flush(self) -> None:
        """Leaves whose remaining parts never came (their nodes got no gradient): finish with what came."""
        if not hasattr(self, "args"):
            return
        for key in list(self.waiting):
            del self.waiting[key]
            self._finish(self.tensors[key], *self.args)
