"""Recording for the profiler: what is timed while a profile records, and nothing at all while none does.

While a Session records, three things are put in place and taken out again when it stops (also
when the profiled code raised):

- `Op.apply`, through which every op's forward runs, by a timing wrapper: one event per op, named
  by matgrad's op class ("Linear", "ReLU", "MatMul" ...), not PyTorch's aten names; user
  `autograd.Function`s likewise by their `Function.apply`, named by the Function's class;
- a provider among the engine's per-node hooks (hook_providers), timing each node's backward as
  f"{name}Backward". The engine calls hooks after a node's backward, so a node's event runs from the
  end of the previous node's (or the backward's start) to the end of its own: it also holds the
  engine's few bookkeeping steps between the two (summing a gradient to its input's shape, freeing);
- with `module_class` (with_modules), that class's `__call__`, timing each Module call as
  "nn.Module: <Class>_<n>" (n counts the instances of that class, as PyTorch's trace names them).

`record_function` ranges are recorded while a session records and cost a list append otherwise.
Plain runs pay nothing: Op.apply and the engine's per-node loop are as they are without a profiler.

Times are host times (time.perf_counter_ns). With CuPy tensors a GPU runs its kernels
asynchronously, so an op's event is the time to launch them, not to run them.
"""
from __future__ import annotations

import itertools
import os
import sys
import threading
import time
import weakref
from contextlib import ContextDecorator
from typing import Any, Callable

from ..tensor import Tensor
from . import hook_providers
from .function import Function, _Node, _OutputNode
from .op import Op
from .profiler_util import EventList, FunctionEvent

__all__ = ["Session", "record_function", "claim", "release"]

_clock = time.perf_counter_ns
#: A counter read beside the clock: the exact order of two readings in one thread, where the clock may
#: give both the same value. (next() on itertools.count is atomic under the GIL.)
_tick = itertools.count().__next__

_recording: list[Session | None] = [None]  # the session recording now (at most one)
_open: list[Any] = []  # the profile object that is open now, recording or between its steps (at most one)
_lock = threading.Lock()

_PKG = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_HERE = os.path.abspath(__file__)
_ROOT = os.path.dirname(_PKG)

# Kinds of event: (category in the Chrome trace, is_user_annotation, is_python_function, scope)
_OP, _BACKWARD, _RANGE, _MODULE = 0, 1, 2, 3
_KIND = {_OP: ("cpu_op", False, False, 0), _BACKWARD: ("cpu_op", False, False, 1),
         _RANGE: ("user_annotation", True, False, 0), _MODULE: ("python_function", False, True, 0)}


def claim(owner: Any) -> None:
    """Make `owner` the one open profile, or PyTorch-like RuntimeError if another is open."""
    with _lock:
        if _open and _open[0] is not owner:
            raise RuntimeError(
                "Profiler is already enabled: another matgrad profile is active, and only one can be at a time. "
                "Finish it (leave its `with` block, or call its stop()) before starting this one; "
                "to mark parts of one profile, use record_function(name) inside it.")
        _open[:] = [owner]


def release(owner: Any) -> None:
    """`owner` is no longer the open profile (nothing happens if it was not)."""
    with _lock:
        if _open and _open[0] is owner:
            _open.clear()


class _Raw:
    """One event as recorded: kept small, turned into a FunctionEvent when the session stops."""

    __slots__ = ("name", "kind", "t0", "t1", "s0", "s1", "tid", "shapes", "stack", "alloc", "flops")

    def __init__(self, name: str, kind: int, t0: int, t1: int, s0: int, s1: int, tid: int, shapes: Any = None,
                 stack: Any = None, alloc: int = 0, flops: int = 0) -> None:
        self.name, self.kind, self.t0, self.t1, self.s0, self.s1 = name, kind, t0, t1, s0, s1
        self.tid, self.shapes, self.stack, self.alloc, self.flops = tid, shapes, stack, alloc, flops


class Session:
    """One recording: start() puts the timing in place, stop() takes it out and returns the events."""

    def __init__(self, *, record_shapes: bool = False, profile_memory: bool = False, with_stack: bool = False,
                 with_flops: bool = False, module_class: type | None = None, use_device: str | None = None) -> None:
        self.record_shapes = bool(record_shapes)
        self.profile_memory = bool(profile_memory)
        self.with_stack = bool(with_stack)
        self.with_flops = bool(with_flops)
        self.module_class = module_class
        self.use_device = use_device
        self.raw: list[_Raw] = []
        self.t0 = 0
        self.wall0 = 0
        self._undo: list[Callable[[], None]] = []
        self._provider = self._backward_hook  # (one bound method: hook_providers.remove finds it by identity)
        self._fwd_stacks: Any = weakref.WeakKeyDictionary()  # node -> its forward's stack (with_stack)
        self._module_names: dict[int, tuple[Any, str]] = {}  # id -> (weak reference, name)
        self._module_counts: dict[str, int] = {}

    # --- start and stop -------------------------------------------------------------------------
    def start(self) -> None:
        """Put the timing wrappers in place; RuntimeError if another session records."""
        with _lock:
            if _recording[0] is not None:
                raise RuntimeError("Profiler is already enabled: another matgrad profile is recording; finish it "
                                   "first (only one can record at a time).")
            _recording[0] = self
        try:
            if not self.t0:  # (a session may record again, its events accumulating: acc_events)
                self.wall0 = time.time_ns()
                self.t0 = _clock()
            self._install_apply()
            self._install_function_apply()
            hook_providers.add(self._provider)
            self._undo.append(lambda: hook_providers.remove(self._provider))
            if self.module_class is not None:
                self._install_module_call(self.module_class)
        except BaseException:
            self._uninstall()
            raise

    @property
    def recording(self) -> bool:
        """Whether this session records now."""
        return _recording[0] is self

    def stop(self) -> EventList:
        """Take every wrapper out again and return what was recorded, its tree built."""
        self._uninstall()
        return self.events()

    def _uninstall(self) -> None:
        with _lock:
            if _recording[0] is self:
                _recording[0] = None
        while self._undo:
            self._undo.pop()()

    # --- the wrappers ---------------------------------------------------------------------------
    def _install_apply(self) -> None:
        plain = Op.__dict__["apply"]
        func = plain.__func__
        session = self
        add = self.raw.append
        detail = self.record_shapes or self.profile_memory or self.with_stack or self.with_flops
        skip: dict[type, bool] = {}

        def apply(cls: type, *tensors: Tensor, **params: Any) -> Any:
            if _recording[0] is not session:  # left in place below another wrapper after the session stopped
                if Op.__dict__.get("apply") is wrapper:  # and that one has gone since: step aside for good
                    Op.apply = plain  # type: ignore[method-assign]
                return func(cls, *tensors, **params)
            quiet = skip.get(cls)
            if quiet is None:  # a Function's node: Function.apply's own event covers it
                quiet = skip[cls] = issubclass(cls, (_Node, _OutputNode))
            if quiet:
                return func(cls, *tensors, **params)
            out = None
            t0 = _clock()
            s0 = _tick()
            try:
                out = func(cls, *tensors, **params)
                return out
            finally:
                s1 = _tick()
                t1 = _clock()
                if detail:
                    session._op_detail(cls.__name__, _OP, t0, t1, s0, s1, tensors, out, cls)
                else:
                    add(_Raw(cls.__name__, _OP, t0, t1, s0, s1, threading.get_native_id()))

        wrapper = classmethod(apply)
        Op.apply = wrapper  # type: ignore[method-assign,assignment]

        def undo() -> None:
            if Op.__dict__.get("apply") is wrapper:
                Op.apply = plain  # type: ignore[method-assign]
            # else another wrapper (anomaly mode, the ONNX tracer) was put on top of ours and puts ours back
            # when it goes: ours then passes calls through and, once it is on top again, puts `plain` back
        self._undo.append(undo)

    def _install_function_apply(self) -> None:
        plain = Function.__dict__["apply"]
        func = plain.__func__
        session = self

        def apply(cls: type, *args: Any, **kwargs: Any) -> Any:
            if _recording[0] is not session:  # (as in _install_apply)
                if Function.__dict__.get("apply") is wrapper:
                    Function.apply = plain  # type: ignore[method-assign]
                return func(cls, *args, **kwargs)
            out = None
            t0 = _clock()
            s0 = _tick()
            try:
                out = func(cls, *args, **kwargs)
                return out
            finally:
                s1 = _tick()
                t1 = _clock()
                tensors = tuple(a for a in (*args, *kwargs.values()) if isinstance(a, Tensor))
                session._op_detail(cls.__name__, _OP, t0, t1, s0, s1, tensors, out, None)

        wrapper = classmethod(apply)
        Function.apply = wrapper  # type: ignore[method-assign,assignment]

        def undo() -> None:
            if Function.__dict__.get("apply") is wrapper:
                Function.apply = plain  # type: ignore[method-assign]
        self._undo.append(undo)

    def _install_module_call(self, module_class: type) -> None:
        plain = module_class.__dict__["__call__"]
        session = self

        def __call__(module: Any, *args: Any, **kwargs: Any) -> Any:
            if _recording[0] is not session:  # (as in _install_apply)
                if module_class.__dict__.get("__call__") is __call__:
                    module_class.__call__ = plain  # type: ignore[method-assign]
                return plain(module, *args, **kwargs)
            name = session._module_name(module)
            stack = _stack() if session.with_stack else None
            t0 = _clock()
            s0 = _tick()
            try:
                return plain(module, *args, **kwargs)
            finally:
                s1 = _tick()
                t1 = _clock()
                session.raw.append(_Raw(name, _MODULE, t0, t1, s0, s1, threading.get_native_id(), stack=stack))

        module_class.__call__ = __call__  # type: ignore[method-assign]

        def undo() -> None:
            if module_class.__dict__.get("__call__") is __call__:
                module_class.__call__ = plain  # type: ignore[method-assign]
        self._undo.append(undo)

    def _module_name(self, module: Any) -> str:
        found = self._module_names.get(id(module))
        if found is None or found[0]() is not module:  # (a new module may have an old one's id)
            cls = type(module).__name__
            n = self._module_counts.get(cls, 0)
            self._module_counts[cls] = n + 1
            found = self._module_names[id(module)] = (weakref.ref(module), f"nn.Module: {cls}_{n}")
        return found[1]

    def _op_detail(self, name: str, kind: int, t0: int, t1: int, s0: int, s1: int, tensors: tuple, out: Any,
                   cls: type | None) -> None:
        """An op's event with what record_shapes, with_stack, profile_memory and with_flops ask for."""
        shapes = [list(t.shape) for t in tensors if isinstance(t, Tensor)] if self.record_shapes else None
        stack = None
        if self.with_stack:
            stack = _stack()
            node = getattr(out, "grad_fn", None)
            if node is not None:
                try:
                    self._fwd_stacks[node] = stack  # its backward is shown with this forward's stack, as PyTorch
                except TypeError:  # a node that takes no weak reference: its backward has no stack
                    pass
        alloc = _own_bytes(out) if self.profile_memory else 0
        flops = _flops(cls, tensors, out) if self.with_flops and cls is not None else 0
        self.raw.append(_Raw(name, kind, t0, t1, s0, s1, threading.get_native_id(), shapes, stack, alloc, flops))

    def _backward_hook(self, inner: Callable[..., Any] | None) -> Callable[..., Any] | None:
        """The engine's per-node hook for one backward: each node's event ends as its hook is called."""
        if _recording[0] is not self:
            return inner
        mark = [_clock(), _tick()]
        tid = threading.get_native_id()
        add = self.raw.append
        detail = self.record_shapes or self.profile_memory or self.with_stack

        def hook(node: Any, dy: Any, grads: tuple) -> None:
            s1 = _tick()
            t1 = _clock()
            name = f"{node.name}Backward"
            if detail:
                shapes = [list(dy.shape)] if self.record_shapes else None
                stack = self._forward_stack(node) if self.with_stack else None
                alloc = sum(_own_bytes(g) for g in grads if g is not None) if self.profile_memory else 0
                add(_Raw(name, _BACKWARD, mark[0], t1, mark[1], s1, tid, shapes, stack, alloc))
            else:
                add(_Raw(name, _BACKWARD, mark[0], t1, mark[1], s1, tid))
            if inner is not None:
                inner(node, dy, grads)
            mark[0] = _clock()  # the next node's event starts after the hooks below ours have run
            mark[1] = _tick()
        return hook

    def _forward_stack(self, node: Any) -> Any:
        try:
            return self._fwd_stacks.get(node)
        except TypeError:
            return None

    # --- the result -----------------------------------------------------------------------------
    def events(self) -> EventList:
        """The events recorded so far as FunctionEvents (µs since start), nested into their tree."""
        out = EventList(use_device=self.use_device, profile_memory=self.profile_memory, with_flops=self.with_flops)
        t0 = self.t0
        for i, r in enumerate(sorted(self.raw, key=lambda r: (r.s0, -r.s1))):
            category, annotation, python, scope = _KIND[r.kind]
            # every step's range under one name, so that key_averages sums them (the trace keeps each number)
            name = "ProfilerStep*" if r.kind == _RANGE and r.name.startswith("ProfilerStep#") else r.name
            out.append(FunctionEvent(
                i, name, r.tid, (r.t0 - t0) / 1000.0, (r.t1 - t0) / 1000.0, input_shapes=r.shapes,
                stack=list(r.stack) if r.stack else None, scope=scope, use_device=self.use_device,
                cpu_memory_usage=r.alloc, flops=r.flops, is_user_annotation=annotation, is_python_function=python,
                order=(r.s0, r.s1), category=category, trace_name=r.name))
        out._origin_ns = t0
        out._base_ns = self.wall0 - t0
        out._populate_cpu_children()
        if self.profile_memory:  # an event's memory holds its children's: sum up from the innermost
            for e in sorted(out, key=lambda e: -e._order[0]):
                e.cpu_memory_usage += sum(c.cpu_memory_usage for c in e.cpu_children)
        out._remove_dup_nodes()
        out._tree_built = True
        return out


def _own_bytes(x: Any) -> int:
    """Bytes of a new array (an op's output, a gradient); 0 for a view of another's memory."""
    arr = x.array if isinstance(x, Tensor) else x
    if arr is None or getattr(arr, "base", None) is not None:
        return 0
    return int(getattr(arr, "nbytes", 0))


def _numel(shape: tuple[int, ...]) -> int:
    n = 1
    for s in shape:
        n *= int(s)
    return n


def _flops(cls: type, tensors: tuple, out: Any) -> int:
    """Floating-point operations of the ops PyTorch counts (products, convolutions, add and mul); 0 others."""
    if not isinstance(out, Tensor) or not tensors:
        return 0
    key = (cls.__module__, cls.__name__)
    shape = tuple(out.shape)
    if key in (("matgrad.ops.linear", "Linear"), ("matgrad.ops.linear", "LinearActivation")):
        return 2 * _numel(shape) * int(tensors[0].shape[-1])  # each output: in_features multiply-adds
    if key == ("matgrad.ops.matmul", "MatMul") and len(tensors) == 2:
        return 2 * _numel(shape) * int(tensors[0].shape[-1])
    if key == ("matgrad.ops.conv", "Conv2d") and len(tensors) >= 2:
        return 2 * _numel(shape) * _numel(tuple(tensors[1].shape[1:]))  # each output: C/g·kH·kW multiply-adds
    if key in (("matgrad.ops.arithmetic", "Add"), ("matgrad.ops.arithmetic", "Mul")):
        return _numel(shape)
    return 0


def _stack() -> list[str]:
    """The Python stack where an op or range starts, innermost first, as "file(line): function";
    the profiler's own frames left out, matgrad's files named from the package (PyTorch names its own so)."""
    frames = []
    f = sys._getframe(1)
    while f is not None:
        path = os.path.abspath(f.f_code.co_filename)
        if path != _HERE:
            shown = os.path.relpath(path, _ROOT) if path.startswith(_PKG + os.sep) else f.f_code.co_filename
            frames.append(f"{shown}({f.f_lineno}): {f.f_code.co_name}")
        f = f.f_back
    return frames


class record_function(ContextDecorator):
    """A named range in the profile (PyTorch's): `with record_function("data"): ...` or as a decorator.

    Outside a recording profile it records nothing (and costs a list append).
    """

    def __init__(self, name: str, args: str | None = None) -> None:
        if not isinstance(name, str):
            raise TypeError(f"record_function: name must be a str, got {type(name).__name__}")
        if args is not None and not isinstance(args, str):
            raise TypeError(f"record_function: args must be a str or None, got {type(args).__name__}")
        self.name = name
        self.args = args
        self._starts: list[Any] = []  # one per __enter__ not yet left (a decorated function may recurse)

    def __enter__(self) -> record_function:
        session = _recording[0]
        if session is None:
            self._starts.append(None)
            return self
        stack = _stack() if session.with_stack else None
        self._starts.append((session, _clock(), _tick(), stack))
        return self

    def __exit__(self, *exc: object) -> bool:
        start = self._starts.pop() if self._starts else None
        if start is not None:
            session, t0, s0, stack = start
            s1 = _tick()
            t1 = _clock()
            if _recording[0] is session:  # the same recording is still on: its range is whole
                session.raw.append(_Raw(self.name, _RANGE, t0, t1, s0, s1, threading.get_native_id(), stack=stack))
        return False
