"""torch.profiler.profile: where a step's time goes, op by op, forward and backward.

    with matgrad.profiler.profile(record_shapes=True) as prof:
        with matgrad.profiler.record_function("step"):
            loss = loss_fn(model(x), y)
            loss.backward()
    print(prof.key_averages().table(sort_by="cpu_time_total", row_limit=10))
    prof.export_chrome_trace("trace.json")   # chrome://tracing or https://ui.perfetto.dev

What is recorded (matgrad/autograd/profiler_session.py): every op's forward under matgrad's op
names ("Linear", "ReLU", "MatMul" ...; PyTorch shows aten names such as "aten::addmm" instead), every
node's backward as "<op>Backward", record_function ranges, "ProfilerStep#N" per step when a schedule
is given, and with with_modules=True each Module call as "nn.Module: <Class>_<n>". Ops that do not
run through matgrad's autograd (tensor creation, in-place updates of parameters by an optimizer,
a step replayed by matgrad.autograd.capture) are not seen. While no profile records, nothing of this
costs anything.

Times are host wall times. ProfilerActivity.CUDA is accepted: with CuPy tensors the times are still
host times, the time to launch each op's kernels (the GPU runs them asynchronously); call
matgrad.cuda.synchronize() inside a record_function range to see where the GPU's time goes.
"""
from __future__ import annotations

import enum
import gzip
import json
import os
import socket
import time
import uuid
import warnings
from typing import Any, Callable, Iterable

from .. import cuda
from ..autograd import profiler_session
from ..autograd.profiler_session import Session, record_function
from ..autograd.profiler_util import EventList, _chrome_trace
from ..files import atomic_write
from ..nn.module import Module
from .schedule import ProfilerAction, _default_schedule_fn

__all__ = ["ProfilerActivity", "profile", "supported_activities", "kineto_available", "tensorboard_trace_handler"]


class ProfilerActivity(enum.Enum):
    """Which activity groups to record (PyTorch's names and values); matgrad records CPU, and CUDA as host time."""

    CPU = 0
    XPU = 1
    CUDA = 2
    HPU = 3
    MTIA = 4
    PrivateUse1 = 5


def supported_activities() -> set[ProfilerActivity]:
    """The activities a profile can take here: CPU, and CUDA where a GPU is available (recorded as host time)."""
    found = {ProfilerActivity.CPU}
    if cuda.is_available():
        found.add(ProfilerActivity.CUDA)
    return found


def kineto_available() -> bool:
    """PyTorch's Kineto tracing library: matgrad has none (its profiler is its own), so False."""
    return False


def _check_activities(activities: Iterable[Any] | None, use_cuda: bool | None) -> set[ProfilerActivity]:
    if activities is None:
        chosen = supported_activities()
    else:
        chosen = set()
        for a in activities:
            groups = a.keys() if isinstance(a, dict) else [a]
            for g in groups:
                if not isinstance(g, ProfilerActivity):
                    raise TypeError(f"profile: activities must be ProfilerActivity values, got {g!r}")
                if g in chosen:
                    raise ValueError(f"profile: the activity group {g.name} appears more than once in activities")
                chosen.add(g)
    if use_cuda:
        warnings.warn("The attribute `use_cuda` will be deprecated soon, please use "
                      "``use_device = 'cuda'`` instead.", FutureWarning, stacklevel=3)
        chosen.add(ProfilerActivity.CUDA)
    other = chosen - {ProfilerActivity.CPU, ProfilerActivity.CUDA}
    if other:
        names = ", ".join(sorted(a.name for a in other))
        raise ValueError(f"profile: matgrad records host (CPU) time only, and CUDA as host time; {names} is not "
                         "supported: pass activities=[ProfilerActivity.CPU]")
    if not chosen:
        raise ValueError("profile: activities is empty, so nothing would be recorded; pass "
                         "activities=[ProfilerActivity.CPU]")
    return chosen


class profile:
    """PyTorch's profiler: a context manager recording each op's forward and backward (see the module docstring).

    Without a schedule it records from __enter__ to __exit__. With one (matgrad.profiler.schedule), call
    `prof.step()` once per training step: the schedule says which steps are recorded, and `on_trace_ready`
    (for instance tensorboard_trace_handler(dir)) gets the profile at the end of each recorded window.
    Only one profile can be active at a time: a second raises RuntimeError.

    profile_memory counts the bytes of the new arrays each op makes (its output; a backward's gradients),
    not frees or temporaries. with_flops counts the products, convolutions, add and mul, as PyTorch does.
    with_stack records the Python stack of each op and range (see key_averages(group_by_stack_n=...)).
    """

    def __init__(self, *, activities: Iterable[Any] | None = None,
                 schedule: Callable[[int], ProfilerAction] | None = None,
                 on_trace_ready: Callable[..., Any] | None = None, record_shapes: bool = False,
                 profile_memory: bool = False, with_stack: bool = False, with_flops: bool = False,
                 with_modules: bool = False, experimental_config: Any = None,
                 execution_trace_observer: Any = None, acc_events: bool = False, use_cuda: bool | None = None,
                 custom_trace_id_callback: Callable[[], str] | None = None,
                 post_processing_timeout_s: float | None = None) -> None:
        if experimental_config is not None:
            raise NotImplementedError("profile: experimental_config configures PyTorch's Kineto tracer, which "
                                      "matgrad does not have; leave it None")
        if execution_trace_observer is not None:
            raise NotImplementedError("profile: matgrad has no execution trace observer; leave "
                                      "execution_trace_observer None and use export_chrome_trace(path) instead")
        if on_trace_ready is not None and not callable(on_trace_ready):
            raise TypeError(f"profile: on_trace_ready must be callable, got {type(on_trace_ready).__name__}")
        self.activities = _check_activities(activities, use_cuda)
        self.use_device = "cuda" if ProfilerActivity.CUDA in self.activities else None
        named_cuda = bool(use_cuda) or (activities is not None and ProfilerActivity.CUDA in self.activities)
        if named_cuda and cuda.is_available():  # asked for by name (not just the default): say what it gives
            warnings.warn("matgrad's profiler records host time: with CuPy tensors an op's time is the time to "
                          "launch its kernels, not to run them (call matgrad.cuda.synchronize() to wait for them)",
                          stacklevel=2)
        self.record_shapes = record_shapes
        self.profile_memory = profile_memory
        self.with_stack = with_stack
        self.with_flops = with_flops
        self.with_modules = with_modules
        self.acc_events = acc_events
        self.custom_trace_id_callback = custom_trace_id_callback
        self.post_processing_timeout_s = post_processing_timeout_s
        if schedule is not None:
            if not callable(schedule):
                raise TypeError(f"profile: schedule must be callable (matgrad.profiler.schedule(...)), got "
                                f"{type(schedule).__name__}")
            self.schedule = schedule
            self.record_steps = True  # "ProfilerStep#N" ranges in the trace and the table
        else:
            self.schedule = _default_schedule_fn
            self.record_steps = False
        self.on_trace_ready = on_trace_ready
        self.step_num = 0
        self.step_rec_fn: record_function | None = None
        self.current_action = self._scheduled(self.step_num)
        self.profiler: Session | None = None  # the recording of the current (or last) window
        self._events: EventList | None = None
        self._trace_id: str | None = None
        self._metadata: dict[str, Any] = {}
        self._started = False
        self._action_map: dict[tuple[ProfilerAction, ProfilerAction | None], list[Callable[[], Any]]] = {
            (ProfilerAction.NONE, ProfilerAction.NONE): [],
            (ProfilerAction.NONE, ProfilerAction.WARMUP): [self.prepare_trace],
            (ProfilerAction.NONE, ProfilerAction.RECORD): [self.prepare_trace, self.start_trace],
            (ProfilerAction.NONE, ProfilerAction.RECORD_AND_SAVE): [self.prepare_trace, self.start_trace],
            (ProfilerAction.WARMUP, ProfilerAction.NONE): [
                lambda: warnings.warn("Incorrect schedule: WARMUP followed by NONE", stacklevel=4),
                self.start_trace, self.stop_trace],
            (ProfilerAction.WARMUP, ProfilerAction.WARMUP): [],
            (ProfilerAction.WARMUP, ProfilerAction.RECORD): [self.start_trace],
            (ProfilerAction.WARMUP, ProfilerAction.RECORD_AND_SAVE): [self.start_trace],
            (ProfilerAction.RECORD, ProfilerAction.NONE): [
                lambda: warnings.warn("Incorrect schedule: RECORD followed by NONE", stacklevel=4),
                self.stop_trace],
            (ProfilerAction.RECORD, ProfilerAction.WARMUP): [
                lambda: warnings.warn("Incorrect schedule: RECORD followed by WARMUP", stacklevel=4),
                self.stop_trace],
            (ProfilerAction.RECORD, ProfilerAction.RECORD): [],
            (ProfilerAction.RECORD, ProfilerAction.RECORD_AND_SAVE): [],
            (ProfilerAction.RECORD_AND_SAVE, ProfilerAction.NONE): [self.stop_trace, self._trace_ready],
            (ProfilerAction.RECORD_AND_SAVE, ProfilerAction.WARMUP): [
                self.stop_trace, self._trace_ready, self.prepare_trace],
            (ProfilerAction.RECORD_AND_SAVE, ProfilerAction.RECORD): [
                self.stop_trace, self._trace_ready, self.prepare_trace, self.start_trace],
            (ProfilerAction.RECORD_AND_SAVE, ProfilerAction.RECORD_AND_SAVE): [
                self.stop_trace, self._trace_ready, self.prepare_trace, self.start_trace],
            # on stop()
            (ProfilerAction.WARMUP, None): [self.start_trace, self.stop_trace],
            (ProfilerAction.RECORD, None): [self.stop_trace, self._trace_ready],
            (ProfilerAction.RECORD_AND_SAVE, None): [self.stop_trace, self._trace_ready],
        }

    def _scheduled(self, step: int) -> ProfilerAction:
        action = self.schedule(step)
        if not isinstance(action, ProfilerAction):
            raise TypeError(f"profile: the schedule returned {action!r} for step {step}; it must return a "
                            "matgrad.profiler.ProfilerAction")
        if action == ProfilerAction.DEVICE_STOPPED:
            raise ValueError("ProfilerAction.DEVICE_STOPPED is set internally by the profiler and must not be "
                             "returned by a user-provided schedule")
        return action

    # --- the context manager and the steps ------------------------------------------------------
    def __enter__(self) -> profile:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        """Begin: record now if the schedule says so for step 0 (RuntimeError if another profile is active)."""
        if self._started:
            raise RuntimeError("profile.start(): this profile has already started; call stop() first")
        profiler_session.claim(self)
        self._started = True
        try:
            self._transit_action(ProfilerAction.NONE, self.current_action)
            if self.record_steps:
                self.step_rec_fn = record_function(f"ProfilerStep#{self.step_num}")
                self.step_rec_fn.__enter__()
        except BaseException:
            self._abandon()
            raise

    def stop(self) -> None:
        """End: stop recording (handing the last window to on_trace_ready) and put every wrapper back."""
        if not self._started:
            return
        try:
            if self.record_steps and self.step_rec_fn is not None:
                self.step_rec_fn.__exit__(None, None, None)
                self.step_rec_fn = None
            self._transit_action(self.current_action, None)
        finally:
            self._abandon()

    def _abandon(self) -> None:
        """Whatever happened: no wrapper stays in place and the profile is no longer the active one."""
        if self.profiler is not None and self.profiler.recording:
            self._events = self.profiler.stop()
        self._started = False
        profiler_session.release(self)

    def step(self) -> None:
        """Mark the start of the next step: the schedule's action for it is taken now."""
        if self.record_steps and self.step_rec_fn is not None:
            self.step_rec_fn.__exit__(None, None, None)
            self.step_rec_fn = None
        prev_action = self.current_action
        next_step = self.step_num + 1
        action = self._scheduled(next_step)
        self.step_num = next_step
        self.current_action = action
        self._transit_action(prev_action, action)
        if self.record_steps:
            self.step_rec_fn = record_function(f"ProfilerStep#{self.step_num}")
            self.step_rec_fn.__enter__()

    def _transit_action(self, prev: ProfilerAction, current: ProfilerAction | None) -> None:
        for action in self._action_map.get((prev, current), []):
            action()

    def _trace_ready(self) -> None:
        if self.on_trace_ready is not None:
            self.on_trace_ready(self)

    # --- one recorded window --------------------------------------------------------------------
    def prepare_trace(self) -> None:
        """Get a new recording ready (with acc_events, keep adding to the one before)."""
        if self.profiler is None or not self.acc_events:
            module_class = Module if self.with_modules else None
            self.profiler = Session(record_shapes=self.record_shapes, profile_memory=self.profile_memory,
                                    with_stack=self.with_stack, with_flops=self.with_flops,
                                    module_class=module_class, use_device=self.use_device)
            self._trace_id = None

    def start_trace(self) -> None:
        """Start recording."""
        if self.profiler is None:
            self.prepare_trace()
        assert self.profiler is not None
        if self._trace_id is None:
            self._trace_id = (self.custom_trace_id_callback() if self.custom_trace_id_callback is not None
                              else uuid.uuid4().hex.upper())
        self.profiler.start()

    def stop_trace(self) -> None:
        """Stop recording; the window's events are what events() and key_averages() show from now on."""
        if self.profiler is not None:
            self._events = self.profiler.stop()

    # --- the results ----------------------------------------------------------------------------
    def events(self) -> EventList:
        """Every recorded event (FunctionEvent: name, interval, thread, children ...) of the last window."""
        if self.profiler is not None and self.profiler.recording:
            raise RuntimeError("profile.events(): the profile is still recording; read its events after the "
                               "`with` block, or in on_trace_ready")
        if self._events is None:
            raise RuntimeError("profile.events(): nothing has been recorded yet (the schedule has not reached an "
                               "active step, or the profile never started)")
        return self._events

    def key_averages(self, group_by_input_shape: bool = False, group_by_stack_n: int = 0,
                     group_by_overload_name: bool = False) -> EventList:
        """The events summed by name (and by input shapes, with record_shapes, if asked); `.table()` prints them."""
        return self.events().key_averages(group_by_input_shape, group_by_stack_n, group_by_overload_name)

    def export_chrome_trace(self, path: str | os.PathLike, use_python_export: bool = False) -> None:
        """Write the last window as Chrome trace-event JSON (gzip-compressed if path ends in .gz), atomically."""
        trace = _chrome_trace(self.events(), os.fspath(path))
        trace["trace_id"] = self._trace_id or ""
        trace["host_name"] = socket.gethostname()
        trace.update({k: v for k, v in self._metadata.items() if k not in trace})
        data = json.dumps(trace).encode("utf-8")
        if os.fspath(path).endswith(".gz"):
            data = gzip.compress(data)
        atomic_write(path, lambda f: f.write(data), mode="wb", make_parents=False)

    def export_stacks(self, path: str | os.PathLike, metric: str = "self_cpu_time_total") -> None:
        """Write the stacks (with_stack=True) with their self times, for flamegraph.pl."""
        if not self.with_stack:
            raise RuntimeError("export_stacks: the profile recorded no stacks; create it with with_stack=True")
        self.events().export_stacks(path, metric)

    def add_metadata(self, key: str, value: str) -> None:
        """A string to store in the Chrome trace's top level."""
        self._metadata[key] = value

    def add_metadata_json(self, key: str, value: str) -> None:
        """A JSON value (given as its text) to store in the Chrome trace's top level."""
        self._metadata[key] = json.loads(value)

    def get_trace_id(self) -> str | None:
        """The current (or last) window's trace id (custom_trace_id_callback's, or a random one)."""
        return self._trace_id

    def set_custom_trace_id_callback(self, callback: Callable[[], str]) -> None:
        """Name each window's trace with callback() from the next window on."""
        self.custom_trace_id_callback = callback


def tensorboard_trace_handler(dir_name: str | os.PathLike, worker_name: str | None = None, use_gzip: bool = False,
                              use_python_export: bool = False) -> Callable[[profile], None]:
    """An on_trace_ready that writes each window into `dir_name` as
    `<worker_name>.<time_ns>.pt.trace.json` (.gz with use_gzip), TensorBoard's profiler plugin's layout;
    worker_name defaults to "<host>_<pid>"."""
    def handler_fn(prof: profile) -> None:
        nonlocal worker_name
        if not os.path.isdir(dir_name):
            try:
                os.makedirs(dir_name, exist_ok=True)
            except Exception as e:
                raise RuntimeError(f"Can't create directory: {dir_name}") from e
        if not worker_name:
            worker_name = f"{socket.gethostname()}_{os.getpid()}"
        file_name = f"{worker_name}.{time.time_ns()}.pt.trace.json"  # nanoseconds: no two files clash
        if use_gzip:
            file_name += ".gz"
        prof.export_chrome_trace(os.path.join(dir_name, file_name), use_python_export=use_python_export)
    return handler_fn
