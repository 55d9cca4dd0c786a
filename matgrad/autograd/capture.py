"""capture: record a training step's forward once, then replay its ops without the Python around them.

    step = matgrad.autograd.capture(lambda x, y: loss_fn(model(x), y))
    for x, y in batches:
        opt.zero_grad()
        loss = step(x, y)  # calls 1 and 2 run the lambda and record its graph; later calls replay it
        loss.backward()
        opt.step()

On a small network most of a step is the Python around each kernel: Module.__call__, the
functional checks, Tensor objects, Op.apply's bookkeeping, the engine's heap and dicts. A
captured step runs the recorded ops' forwards straight on the arrays (a fresh op per node, as
Op.apply makes one), and its loss has ONE node, `CapturedGraph`, whose backward runs the recorded
backwards newest first, summing each gradient in the order the engine would and fitting it to its
input's shape as the engine does. The loss and every `.grad` are bit for bit those of the step
run uncaptured, also when `.grad` already holds a value: a parameter is one input of the node per
use, in the order the engine delivers the parts, so the engine adds them up as it would have.
(The idea behind CUDA graphs and tinygrad's JIT, with NumPy's kernels.)

What is checked. The first two calls run `fn` as usual and read the graph from the loss; the
second must match the first: the same ops with the same arguments and shapes, reading the same
parameters. Every other tensor the graph reads must be an input of the step (by identity: read
anew each call), a tensor that both calls read (read live, as a parameter is), or a constant of
equal value in both calls (kept). Each later call compares its inputs' shapes, dtypes, devices and
requires_grad, and the parameters', with the capture's. When they differ, `fn` runs as usual
instead, once with a `CaptureFallback` warning that says what changed, and a capture for the new
shapes follows; up to `max_shapes` captures are kept (the last, smaller batch of an epoch gets
its own). Under no_grad `fn` simply runs (there is no graph to capture or replay).

What capture refuses, with a CaptureError that says what to do:
- a constant that differs between the two calls (dropout's mask, drawn outside its op; a tensor
  computed from the inputs under no_grad or without requires_grad): replay would reuse a stale one.
  Only ops on tensors that require grad are recorded, so a step that reshapes, slices or converts
  an input before a parameter meets it (nn.LSTM slices its input) is refused: do that outside the
  step, or pass that input with requires_grad=True (its gradient is then computed too). Op arguments
  made from the data (nn.Embedding's and tensor indexing's indices) are refused alike;
- an in-place change during the forward (BatchNorm's running statistics in training mode,
  ReLU(inplace=True)): replay would not make it;
- a user autograd.Function (module backward hooks are one): its forward may do anything;
- hooks or retain_grad on a tensor inside the step, or hooks on its node (grad_fn.register_hook,
  register_prehook) (hooks on the parameters and on the returned loss are fine: the engine runs them
  as usual);
- a loss that is not one element, or that does not require grad;
- a graph that changes on every call (value-dependent control flow), after three tries.

Limits, as those of torch.jit.trace and CUDA graphs: Python in `fn` runs only on the traced calls,
so anything it does besides building the graph (prints, forward hooks that record, a branch on a
value or on a global setting, the functional checks on values such as BCE's "target outside
[0, 1]") is not seen on replay. After changing the model (train/eval, new layers, a replaced
parameter) call `step.recapture()`. A constant made anew in each call is compared between the two
traced calls; while they ran on the same input values, capture waits for one that did not. A
replayed loss cannot be differentiated twice (create_graph) or explained: call `fn` itself for
those. The replay keeps the step's activations until its backward ends, where the engine frees each
as it goes: the peak is up to one set of gradients higher. `step.stats` counts the calls.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from operator import attrgetter
from typing import Any, Callable

import numpy as np

from ..backend import numpy_ns
from ..devices import backend_of
from ..tensor import LAST_CHANGE, NEXT_SEQ, Tensor
from . import grad_mode
from .engine import _add_into, _fit, _sum  # the engine's own fitting and sums (quiet at inf + -inf): the same bits
from .hooks import NodeHook
from .op import Op

__all__ = ["capture", "CapturedStep", "CapturedGraph", "CaptureError", "CaptureFallback", "CaptureStats"]

_TRIES = 3  # graphs that differ this many times running (for the same shapes) are not static: refuse
_SKIP, _NODE, _USE = 0, 1, 2  # where a backward's gradient for one input goes
# A replay's quick check, all in C: per input (its class, its array's class, shape, dtype, requires_grad), per live
# leaf the same less the tensor's class. Equal to the capture's, the input signatures are equal (see _Plan.key).
_INPUT_KEY = attrgetter("__class__", "array.__class__", "array.shape", "array.dtype", "_requires_grad")
_LIVE_KEY = attrgetter("array.__class__", "array.shape", "array.dtype", "_requires_grad")
_GRAD_FN = attrgetter("grad_fn")


class CaptureError(RuntimeError):
    """The step cannot be captured: replaying it would not give what running it gives."""


class CaptureFallback(UserWarning):
    """A captured step ran uncaptured because its inputs or its graph changed (it captures them anew)."""


@dataclass
class CaptureStats:
    """What a captured step's calls did."""

    replays: int = 0  #: calls answered by replaying the captured ops
    traces: int = 0  #: calls that ran fn and recorded its graph (two per capture, more after changes)
    fallbacks: int = 0  #: calls that found the inputs or the graph changed (each warned once)
    plain: int = 0  #: calls under no_grad, which ran fn as it is


def capture(fn: Callable[..., Tensor], *, max_shapes: int = 8) -> CapturedStep:
    """Capture `fn(*inputs) -> loss` once, then replay it: see the module docstring.

    `inputs` are Tensors (the batch and its targets). Returns the step: call it as `fn`.
    """
    return CapturedStep(fn, max_shapes)


class CapturedStep:
    """`fn`, captured: calls 1 and 2 run it and record its graph; later calls replay it exactly."""

    def __init__(self, fn: Callable[..., Tensor], max_shapes: int = 8) -> None:
        if not callable(fn):
            raise TypeError(f"capture: expected a function of the inputs returning the loss, got {type(fn).__name__}")
        self.fn = fn
        self.max_shapes = max(1, int(max_shapes))
        self.stats = CaptureStats()
        self._plans: dict[tuple, _Plan] = {}  # input signature -> its capture
        self._traces: dict[tuple, _Trace] = {}  # input signature -> its first traced call, waiting for the second
        self._tries: dict[tuple, int] = {}  # input signature -> traced pairs that differed, running
        self._plan: _Plan | None = None  # the capture the last call used
        self._last_sig: tuple | None = None
        self._waiting = False  # warned that two traced calls ran on the same values

    def recapture(self) -> None:
        """Forget every capture: the next two calls run `fn` and capture it anew (after changing the model)."""
        self._plans.clear()
        self._traces.clear()
        self._tries.clear()
        self._plan = self._last_sig = None

    def __call__(self, *inputs: Tensor) -> Tensor:
        if not grad_mode._state.enabled:
            self.stats.plain += 1
            return self.fn(*inputs)
        plan = self._plan
        if plan is not None:
            key = plan.key
            if key is not None:  # NumPy arrays, no input repeated: compare the quick keys
                try:
                    same = (tuple(map(_INPUT_KEY, inputs)) == key and tuple(map(_LIVE_KEY, plan.live)) == plan.live_key
                            and (len(inputs) < 2 or len(set(map(id, inputs))) == len(inputs)))
                except AttributeError:  # not a Tensor: _signature says so
                    same = False
                if same:
                    return plan.replay(self, inputs)
            else:
                sig = _signature(inputs)
                if sig == plan.sig and plan.live_ok():
                    return plan.replay(self, inputs)
                return self._slow(sig, inputs)
        return self._slow(_signature(inputs), inputs)

    def _slow(self, sig: tuple, inputs: tuple[Tensor, ...]) -> Tensor:
        """A call the current capture cannot answer: another capture's, or a traced call (with a warning)."""
        plan = self._plans.get(sig)
        why = None
        if plan is not None:
            why = plan.live_change()
            if why is None:
                self._plan, self._last_sig = plan, sig
                return plan.replay(self, inputs)
            del self._plans[sig]
        elif sig not in self._traces and self._last_sig is not None:
            why = _sig_change(sig, self._last_sig)
        if why is not None:
            self.stats.fallbacks += 1
            warnings.warn(f"capture: {why}; running the step uncaptured and capturing it anew",
                          CaptureFallback, stacklevel=3)
        return self._trace(sig, inputs)

    def _trace(self, sig: tuple, inputs: tuple[Tensor, ...]) -> Tensor:
        """Run fn as usual and record its graph; the second matching trace makes the capture."""
        self.stats.traces += 1
        self._plan = None
        self._last_sig = sig
        start, before = NEXT_SEQ(), LAST_CHANGE[0]
        loss = self.fn(*inputs)
        trace = _Trace(loss, inputs, start, before)
        first = self._traces.pop(sig, None)
        if first is None:
            _keep(self._traces, sig, trace, self.max_shapes)
            return loss
        change = first.compare(trace)
        if change is not None:
            tries = self._tries[sig] = self._tries.get(sig, 0) + 1
            if tries >= _TRIES:
                raise CaptureError(f"capture: the graph changed {tries} times in a row (the last time: {change}); "
                                   "replay needs the same graph on every call. Call the step uncaptured")
            self.stats.fallbacks += 1
            warnings.warn(f"capture: the graph changed between two calls ({change}); capturing it anew",
                          CaptureFallback, stacklevel=4)
            _keep(self._traces, sig, trace, self.max_shapes)
            return loss
        self._tries.pop(sig, None)
        made = any(a is not b and b.array.size > 1 for a, b in zip(first.leaves, trace.leaves))
        if made and first.same_inputs(trace):  # a constant equal in both calls may still come from the inputs:
            _keep(self._traces, sig, trace, self.max_shapes)  # wait for a call with other inputs to tell
            if not self._waiting:
                self._waiting = True
                warnings.warn("capture: the step makes tensors of its own, and two calls on the same input values "
                              "cannot tell those from tensors computed from the inputs; it runs uncaptured until "
                              "called on other values", CaptureFallback, stacklevel=4)
            return loss
        self._plan = _keep(self._plans, sig, _Plan(trace, first, sig), self.max_shapes)
        return loss


def _keep(table: dict, key: tuple, value: Any, most: int) -> Any:
    """table[key] = value, dropping the oldest entries past `most`."""
    table[key] = value
    while len(table) > most:
        del table[next(iter(table))]
    return value


# --- signatures ----------------------------------------------------------------------------------------------

def _signature(inputs: tuple[Tensor, ...]) -> tuple:
    """What a capture depends on in the inputs: per input its shape, dtype, requires_grad and device; and which
    inputs are the same tensor."""
    sig = []
    for t in inputs:
        if not isinstance(t, Tensor):
            raise TypeError(f"capture: the step's inputs must be Tensors, got a {type(t).__name__}; "
                            "make it one first (matgrad.from_numpy, matgrad.tensor)")
        a = t.array
        sig.append((a.shape, a.dtype, t.requires_grad) if type(a) is np.ndarray
                   else (a.shape, a.dtype, t.requires_grad, str(t.device)))
    if len(inputs) > 1 and len({id(t) for t in inputs}) < len(inputs):
        sig.append(tuple(next(j for j, u in enumerate(inputs) if u is t) for t in inputs))  # who is whom
    return tuple(sig)


def _describe(entry: tuple) -> str:
    """One input's signature entry, in words."""
    device = entry[3] if len(entry) > 3 else "cpu"
    grad = ", requires_grad" if entry[2] else ""
    return f"shape {tuple(entry[0])}, {entry[1]} on {device}{grad}"


def _sig_change(new: tuple, old: tuple) -> str:
    """What differs between two input signatures, for the fallback's message."""
    if len(new) != len(old):
        return f"the step now has {len(new)} inputs (or repeats one), captured with {len(old)}"
    for i, (a, b) in enumerate(zip(new, old)):
        if a == b:
            continue
        if len(a) and type(a[0]) is int:  # the "who is whom" entry
            return "the inputs repeat a tensor differently than when captured"
        if a[0] != b[0]:
            return f"input {i} has shape {tuple(a[0])}, captured with {tuple(b[0])}"
        return f"input {i} has {_describe(a)}, captured with {_describe(b)}"
    return "the inputs changed"


def _leaf_sig(t: Tensor) -> tuple:
    a = t.array
    return (a.shape, a.dtype, t.requires_grad) if type(a) is np.ndarray else (a.shape, a.dtype, t.requires_grad,
                                                                             str(t.device))


# --- tracing -------------------------------------------------------------------------------------------------

class _Trace:
    """One run of fn, as its graph shows it: each node's class, arguments, input shapes and sources.

    A source is ("in", k): input k of the step; ("leaf", j): a tensor that no node made (a parameter
    or a constant), numbered by first use; ("node", i): the output of the i-th node (oldest first).
    """

    def __init__(self, loss: Any, inputs: tuple[Tensor, ...], start: int, before: int) -> None:
        if not isinstance(loss, Tensor):
            raise TypeError(f"capture: the step must return the loss as a Tensor, got a {type(loss).__name__}")
        if loss.array.size != 1:
            raise CaptureError(f"capture: the step returned a tensor of shape {tuple(loss.shape)}; it must return "
                               "the loss, one element (reduce it first, e.g. .mean())")
        root = loss.grad_fn
        if root is None:
            raise CaptureError("capture: the loss does not require grad, so there is no backward to capture; "
                               "are the parameters' requires_grad off?")
        if LAST_CHANGE[0] != before:
            raise CaptureError(
                "capture: a tensor was changed in place while the step ran (BatchNorm's running statistics in "
                "training mode do that, as do in-place ops such as relu_ or ReLU(inplace=True)); replay would not "
                "change it. Use out-of-place ops, put such layers in eval mode, or call the step uncaptured")
        position: dict[int, int] = {}
        for k, t in enumerate(inputs):
            position.setdefault(id(t), k)
        found: dict[int, Op] = {}
        stack = [root]
        while stack:
            n = stack.pop()
            if id(n) in found:
                continue
            if n.seq < start:
                raise CaptureError(
                    f"capture: the step reads a tensor that {n.name} made before the step was called, so its graph "
                    "is not the step's own; pass that tensor as an input of the step, or compute it inside the step")
            found[id(n)] = n
            for p, f in zip(n.parents, n.parent_fns):
                if f is not None and id(p) not in position:
                    stack.append(f)
        nodes = sorted(found.values(), key=lambda n: n.seq)
        index = {id(n): i for i, n in enumerate(nodes)}
        leaf_of: dict[int, int] = {}
        self.leaves: list[Tensor] = []
        self.ops = [(type(n), n.params, n.needs_input_grad) for n in nodes]  # not the nodes: they hold the graph
        self.sources: list[tuple[tuple[str, int], ...]] = []
        self.shapes: list[tuple] = []
        for i, n in enumerate(nodes):
            _check_node(n, i, len(nodes))
            srcs = []
            for p, f in zip(n.parents, n.parent_fns):
                if id(p) in position:
                    srcs.append(("in", position[id(p)]))
                elif f is None:
                    j = leaf_of.setdefault(id(p), len(self.leaves))
                    if j == len(self.leaves):
                        self.leaves.append(p)
                    srcs.append(("leaf", j))
                else:
                    srcs.append(("node", index[id(f)]))
            self.sources.append(tuple(srcs))
            self.shapes.append(tuple((p.array.shape, p.array.dtype) for p in n.parents))
        self.out = (loss.array.shape, loss.array.dtype)
        self.inputs = inputs
        self.values = [t.array.copy() for t in inputs]  # as they were: a reused buffer may be refilled in place

    def where(self, j: int) -> str:
        """The first node that reads leaf j, and as which input, in words."""
        for i, srcs in enumerate(self.sources):
            if ("leaf", j) in srcs:
                return f"input {srcs.index(('leaf', j))} of {self.ops[i][0].__name__} (op {i + 1} of {len(self.ops)})"
        return "a node"  # pragma: no cover - every leaf has a reader

    def compare(self, new: _Trace) -> str | None:
        """None when `new` is the same graph; else what changed. Raises when it differs in values only."""
        if len(new.ops) != len(self.ops):
            return f"{len(new.ops)} ops, {len(self.ops)} before"
        for i, ((ca, pa, na), (cb, pb, nb)) in enumerate(zip(self.ops, new.ops)):
            where = f"op {i + 1} of {len(self.ops)}"
            if ca is not cb:
                return f"{where} is {cb.__name__}, {ca.__name__} before"
            name = cb.__name__
            if self.sources[i] != new.sources[i] or na != nb:
                return f"{where}, {name}, reads other tensors"
            if self.shapes[i] != new.shapes[i]:
                return f"{where}, {name}, reads tensors of other shapes"
            for k in pa.keys() | pb.keys():
                if not _same(pa.get(k), pb.get(k)):
                    if _holds_array(pa.get(k)) or _holds_array(pb.get(k)):
                        raise CaptureError(
                            f"capture: the argument {k!r} of {name} ({where}) is an array whose values differ "
                            "between the two traced calls: it is computed from the data outside the graph, so replay "
                            "cannot compute it again. Call the step uncaptured")
                    return f"{where}, {name}, has {k}={pb.get(k)!r}, {pa.get(k)!r} before"
        for j, (a, b) in enumerate(zip(self.leaves, new.leaves)):
            if a is b:
                continue
            if a.requires_grad or b.requires_grad:
                return (f"{new.where(j)} is another tensor that requires grad (a parameter replaced, or one made "
                        "anew in each call: pass that one as an input of the step)")
            if not _same(a.array, b.array):
                raise CaptureError(
                    f"capture: {new.where(j)} is a constant of shape {tuple(b.shape)} whose values differ between the "
                    "two traced calls (a random draw outside the op, as dropout's mask; or a tensor computed from "
                    "the inputs under no_grad or without requires_grad), so replay cannot reproduce it. Put dropout "
                    "in eval mode (model.eval()), pass such a tensor as an input of the step, or call the step "
                    "uncaptured")
        if new.out != self.out:
            return f"the loss has shape {new.out[0]} and dtype {new.out[1]}, {self.out[0]} and {self.out[1]} before"
        return None

    def same_inputs(self, new: _Trace) -> bool:
        """Whether `new` ran on the same input values as this trace did."""
        return all(_same(a, t.array) for a, t in zip(self.values, new.inputs))


def _check_node(n: Op, i: int, count: int) -> None:
    """Refuse a node that replay could not run as the uncaptured step does."""
    where = f"{n.name} (op {i + 1} of {count})"
    if not n.replayable:
        raise CaptureError(
            f"capture: {where} is a user autograd.Function (module backward hooks add one); its forward may do "
            "anything when run, so it cannot be replayed. Write it with matgrad's ops or call the step uncaptured")
    if n.post_hooks or (n.pre_hooks and any(type(h) is NodeHook for h in n.pre_hooks.values())):
        raise CaptureError(
            f"capture: {where} inside the step has a hook of its own (grad_fn.register_hook or register_prehook); "
            "replay makes no such node. Hooks on the parameters (and their AccumulateGrad nodes) and on the "
            "returned loss work; or call the step uncaptured")
    if n.pre_hooks or n.retained is not None:
        raise CaptureError(
            f"capture: a tensor inside the step ({where}'s output) has a hook or retain_grad(); replay makes no "
            "such tensor. Hooks on the parameters and on the returned loss work; or call the step uncaptured")
    if n.params is None:  # pragma: no cover - only a released node has none
        raise CaptureError(f"capture: {where} has no recorded arguments")


def _holds_array(v: Any) -> bool:
    if isinstance(v, (tuple, list)):
        return any(_holds_array(x) for x in v)
    return hasattr(v, "__array_function__") or isinstance(v, Tensor)


def _same(a: Any, b: Any) -> bool:
    """Whether two op arguments are equal: arrays by shape, dtype and every value (nan equal to nan)."""
    if a is b:
        return True
    if type(a) is not type(b):
        return False
    if isinstance(a, Tensor):
        return _same(a.array, b.array)
    if hasattr(a, "__array_function__"):
        return a.shape == b.shape and a.dtype == b.dtype and bool(
            np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"))
    if isinstance(a, (tuple, list)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, float) and a != a:
        return b != b
    try:
        return bool(a == b)
    except Exception:  # an object without a truth value for ==
        return False


def _shares_memory(a: Any, b: Any) -> bool:
    if a is b:
        return True
    return type(a) is np.ndarray and type(b) is np.ndarray and bool(np.may_share_memory(a, b))


# --- the capture -------------------------------------------------------------------------------------------

class _Plan:
    """A captured step, ready to replay: the nodes with their sources as slots, and where gradients go.

    Slots: the step's inputs, then the leaves (a live tensor, or a kept copy of a constant), then
    each node's output. A leaf is a `use` (an input of the CapturedGraph node) each time a node reads
    it and needs its gradient, in the engine's order of delivery (newest node first, inputs in order).
    """

    def __init__(self, trace: _Trace, first: _Trace, sig: tuple) -> None:
        self.sig = sig
        n_in = len(trace.inputs)
        fixed: list[Tensor] = []
        self.live: list[Tensor] = []
        watched = [t.array for t in trace.inputs] + [t.array for a, t in zip(first.leaves, trace.leaves) if a is t]
        for j, (a, t) in enumerate(zip(first.leaves, trace.leaves)):
            if a is t:  # read in both calls: a parameter, a buffer; read live, so updates are seen
                fixed.append(t)
                self.live.append(t)
            elif any(_shares_memory(t.array, w) for w in watched):
                raise CaptureError(
                    f"capture: {trace.where(j)} is a constant that shares memory with an input or a parameter (.data, "
                    ".detach() or a view of it, made anew in each call); replay could not follow it. Use the tensor "
                    "itself, pass it as an input of the step, or call the step uncaptured")
            else:  # made anew, with equal values, in both calls: kept (a copy)
                fixed.append(Tensor._make(t.array.copy(), None, False))
        self.fixed = fixed
        self.live_sig = tuple(_leaf_sig(t) for t in self.live)
        # the quick check (CapturedStep.__call__) where it is exact: NumPy arrays only, no input repeated
        plain = all(type(t.array) is np.ndarray for t in (*trace.inputs, *self.live))
        self.key = tuple(map(_INPUT_KEY, trace.inputs)) if plain and len(sig) == n_in else None
        self.live_key = tuple(map(_LIVE_KEY, self.live))
        first_slot = {"in": 0, "leaf": n_in, "node": n_in + len(fixed)}
        self.nodes = []
        for (cls, params, needs), srcs in zip(trace.ops, trace.sources):
            slots = tuple(first_slot[kind] + i for kind, i in srcs)
            # params None when empty: forward(*arrays) costs less than forward(*arrays, **{})
            self.nodes.append((cls, len(slots), slots, params or None, needs, cls.save_output))
        uses = []
        routes: list[Any] = [None] * len(self.nodes)
        for i in range(len(self.nodes) - 1, -1, -1):  # newest first, as the engine runs them
            route = []
            _, _, slots, _, needs, _ = self.nodes[i]
            for (kind, k), slot, need in zip(trace.sources[i], slots, needs):
                if not need:
                    route.append((slot, _SKIP, 0))
                elif kind == "node":
                    route.append((slot, _NODE, k))
                else:
                    route.append((slot, _USE, len(uses)))
                    uses.append(slot)
            routes[i] = tuple(route)
        # the backward's order, and per node the inputs that need a gradient: (which, slot, a use?, use or node)
        self.back = tuple((i, tuple((pos, slot, kind == _USE, k) for pos, (slot, kind, k) in enumerate(routes[i])
                                    if kind != _SKIP)) for i in range(len(routes) - 1, -1, -1))
        self.uses = tuple(uses)
        self.needs = (True,) * len(uses)

    def live_ok(self) -> bool:
        """Whether the live leaves (parameters) still have the captured shapes, dtypes and requires_grad."""
        return tuple([_leaf_sig(t) for t in self.live]) == self.live_sig

    def live_change(self) -> str | None:
        """What changed in the live leaves, in words; None if nothing."""
        for t, s in zip(self.live, self.live_sig):
            now = _leaf_sig(t)
            if now != s:
                what = "parameter" if s[2] else "tensor"
                return f"a {what} the step reads now has {_describe(now)}, captured with {_describe(s)}"
        return None

    def replay(self, step: CapturedStep, inputs: tuple[Tensor, ...]) -> Tensor:
        """Run the captured forwards on the arrays; the loss's one node backpropagates through them."""
        step.stats.replays += 1
        tens = [*inputs, *self.fixed]
        seq = NEXT_SEQ()  # newer than anything the step reads, older than anything made from its loss
        fns = []
        make = Tensor._make
        for cls, n, slots, params, needs, save in self.nodes:
            fn = cls.__new__(cls)
            if n == 1:  # one to three inputs unrolled, as in Op.apply
                a = tens[slots[0]]
                parents = (a,)
                out = fn.forward(a.array) if params is None else fn.forward(a.array, **params)
            elif n == 2:
                a, b = tens[slots[0]], tens[slots[1]]
                parents = (a, b)
                out = fn.forward(a.array, b.array) if params is None else fn.forward(a.array, b.array, **params)
            elif n == 3:
                a, b, c = tens[slots[0]], tens[slots[1]], tens[slots[2]]
                parents = (a, b, c)
                out = (fn.forward(a.array, b.array, c.array) if params is None
                       else fn.forward(a.array, b.array, c.array, **params))
            else:
                parents = tuple([tens[s] for s in slots])
                out = fn.forward(*[p.array for p in parents], **(params or {}))
            fn.parents = parents
            fn.needs_input_grad = needs
            fn.seq = seq
            if save:
                fn.out = out
            fns.append(fn)
            tens.append(make(out, None, False))
        node = CapturedGraph.__new__(CapturedGraph)
        node.parents = uses = tuple(map(tens.__getitem__, self.uses))
        node.parent_fns = tuple(map(_GRAD_FN, uses))
        node.needs_input_grad = self.needs
        node.seq = seq
        node.params = {}
        node.plan, node.nodes, node.tensors = self, fns, tens
        return make(tens[-1].array, node, True)


class CapturedGraph(Op):
    """loss = the captured step's forward, replayed.  d(uses) = the recorded nodes' backwards, in the engine's order.

    One node for the whole step: its inputs are the leaves the step reads (a parameter once per use),
    its backward runs each recorded node's backward newest first, sums each node's output gradient
    in arrival order and fits each gradient to its input's shape and dtype, as engine.run_backward does.
    """

    replayable = False  # its forward is the replay itself: the explainer cannot run it again
    plan: Any
    nodes: Any
    tensors: Any

    def forward(self, *arrays: Any, **params: Any) -> Any:  # pragma: no cover - made by _Plan.replay only
        raise RuntimeError("CapturedGraph is made by a captured step (matgrad.autograd.capture), not applied")

    def backward(self, dy: Any) -> Any:
        if not self.xp.plain:
            raise RuntimeError("capture: a replayed loss cannot be differentiated twice (create_graph=True); "
                               "call the step's function uncaptured for that")
        plan, nodes, tens = self.plan, self.nodes, self.tensors
        n = len(nodes)
        pending: list[Any] = [None] * n  # each node's output gradient, summed in arrival order
        owned = [False] * n  # sums allocated here, so they may be added into in place (as engine._send)
        pending[-1] = dy
        grads_out: list[Any] = [None] * len(plan.uses)
        device = type(dy) is not np.ndarray
        for i, route in plan.back:
            d = pending[i]
            if d is None:  # no gradient reached this node: the engine would not run it either
                continue
            pending[i] = None
            node = nodes[i]
            fresh = node.add_grad_into is not None and not device  # as the engine: a slice added into a sum
            if fresh and route and not route[0][2] and route[0][0] == 0 and owned[route[0][3]]:
                if node.add_grad_into(pending[route[0][3]], d):
                    continue
            if device:  # a gradient on a GPU: the backward runs on that device's arrays
                node.xp = backend_of(d).namespace
            grads = node.backward(d)
            if type(grads) is not tuple:
                grads = (grads,)
            for pos, slot, use, k in route:  # the inputs that need a gradient
                g = grads[pos]
                if g is None:
                    continue
                data = tens[slot].array
                if g.shape != data.shape or g.dtype != data.dtype:
                    g = _fit(g, tens[slot], node, numpy_ns)
                if use:
                    grads_out[k] = g
                    continue
                acc = pending[k]
                if acc is None:
                    pending[k] = g
                    owned[k] = fresh  # a fresh array (Op.add_grad_into): later parts may add into it in place
                elif owned[k] and type(acc) is np.ndarray:
                    _add_into(acc, g, acc)
                else:
                    pending[k] = _sum(acc, g)
                    owned[k] = True
        return tuple(grads_out)

    def release(self) -> None:
        super().release()
        self.nodes = self.tensors = None
