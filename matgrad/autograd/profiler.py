"""torch.autograd.profiler's older API: `profile` and `record_function`.

    with matgrad.autograd.profiler.profile(record_shapes=True) as prof:
        loss = model(x).sum()
        loss.backward()
    print(prof.key_averages().table(sort_by="self_cpu_time_total"))

It records what matgrad.profiler.profile records (every op's forward under matgrad's op names, each
node's backward as "<op>Backward", record_function ranges: see profiler_session.py), from __enter__ to
__exit__, without schedules. As in PyTorch's, with_modules adds nothing for eager code here; use
matgrad.profiler.profile(with_modules=True) for Module ranges.
"""
from __future__ import annotations

import os
import warnings
from typing import Any, Callable

from . import profiler_session
from .profiler_session import Session, record_function
from .profiler_util import EventList, FunctionEvent, FunctionEventAvg

__all__ = ["profile", "record_function", "EventList", "FunctionEvent", "FunctionEventAvg"]


class profile:
    """Record every op's forward and backward from __enter__ to __exit__ (PyTorch's legacy profiler)."""

    def __init__(self, enabled: bool = True, *, use_cuda: bool = False, use_device: str | None = None,
                 record_shapes: bool = False, with_flops: bool = False, profile_memory: bool = False,
                 with_stack: bool = False, with_modules: bool = False, use_kineto: bool = False,
                 use_cpu: bool = True, experimental_config: Any = None, acc_events: bool = False,
                 custom_trace_id_callback: Callable[[], str] | None = None,
                 post_processing_timeout_s: float | None = None) -> None:
        if experimental_config is not None:
            raise NotImplementedError("profile: experimental_config configures PyTorch's Kineto tracer, which "
                                      "matgrad does not have; leave it None")
        if use_cuda:
            warnings.warn("The attribute `use_cuda` will be deprecated soon, please use ``use_device = 'cuda'`` "
                          "instead.", FutureWarning, stacklevel=2)
            use_device = "cuda"
        if use_device not in (None, "cuda"):
            raise ValueError(f"profile: use_device={use_device!r} is not supported; matgrad records host time, "
                             "and with use_device='cuda' records CuPy ops as host time")
        if not use_cpu:
            raise ValueError("profile: matgrad records host (CPU) time only, so use_cpu=False would record "
                             "nothing; leave use_cpu=True")
        self.enabled = enabled
        self.use_device = use_device
        self.record_shapes = record_shapes
        self.with_flops = with_flops
        self.profile_memory = profile_memory
        self.with_stack = with_stack
        self.with_modules = with_modules
        self.use_kineto = use_kineto
        self.acc_events = acc_events
        self.custom_trace_id_callback = custom_trace_id_callback
        self.function_events: EventList | None = None
        self.entered = False
        self._session: Session | None = None

    def __enter__(self) -> profile:
        if not self.enabled:
            return self
        if self.entered:
            raise RuntimeError("Profiler context manager is not reentrant")
        profiler_session.claim(self)
        try:
            if self._session is None or not self.acc_events:
                self._session = Session(record_shapes=self.record_shapes, profile_memory=self.profile_memory,
                                        with_stack=self.with_stack, with_flops=self.with_flops,
                                        use_device=self.use_device)
            self._session.start()
        except BaseException:
            profiler_session.release(self)
            raise
        self.entered = True
        return self

    def __exit__(self, *exc: object) -> None:
        if not self.enabled or not self.entered:
            return
        try:
            assert self._session is not None
            self.function_events = self._session.stop()
        finally:
            self.entered = False
            profiler_session.release(self)

    def _check_finish(self) -> EventList:
        if self.function_events is None:
            raise RuntimeError("Profiler didn't finish running")
        return self.function_events

    def __repr__(self) -> str:
        if self.function_events is None:
            return "<unfinished torch.autograd.profile>"
        return repr(self.function_events)

    def __str__(self) -> str:
        if self.function_events is None:
            return "<unfinished torch.autograd.profile>"
        return str(self.function_events)

    def table(self, sort_by: str | None = None, row_limit: int = 100, max_src_column_width: int = 75,
              max_name_column_width: int = 55, max_shapes_column_width: int = 80, header: str | None = None,
              top_level_events_only: bool = False) -> str:
        """The events' table, one row per event (key_averages().table() sums them by name)."""
        return self._check_finish().table(sort_by=sort_by, row_limit=row_limit,
                                          max_src_column_width=max_src_column_width,
                                          max_name_column_width=max_name_column_width,
                                          max_shapes_column_width=max_shapes_column_width, header=header,
                                          top_level_events_only=top_level_events_only)

    def export_chrome_trace(self, path: str | os.PathLike, metadata: Any = None,
                            use_python_export: bool = False) -> None:
        """Write the events as Chrome trace-event JSON, atomically."""
        self._check_finish().export_chrome_trace(path)

    def export_stacks(self, path: str | os.PathLike, metric: str = "self_cpu_time_total") -> None:
        """Write the stacks (with_stack=True) with their self times, for flamegraph.pl."""
        if not self.with_stack:
            raise RuntimeError("export_stacks: the profile recorded no stacks; create it with with_stack=True")
        self._check_finish().export_stacks(path, metric)

    def key_averages(self, group_by_input_shape: bool = False, group_by_stack_n: int = 0,
                     group_by_overload_name: bool = False) -> EventList:
        """The events summed by name (and by input shapes or stack, if asked)."""
        return self._check_finish().key_averages(group_by_input_shape, group_by_stack_n, group_by_overload_name)

    def total_average(self) -> FunctionEventAvg:
        """Every event summed into one."""
        return self._check_finish().total_average()

    @property
    def self_cpu_time_total(self) -> float:
        """The profile's time, each microsecond counted once (µs)."""
        return self._check_finish().self_cpu_time_total
