"""What a profile recorded, and its summaries (PyTorch's `torch.autograd.profiler_util`).

FunctionEvent is one timed range (an op's forward, a node's backward, a record_function range, a
Module call), EventList a list of them with the parent/child tree built from their nesting,
`key_averages()` their sums by name (FunctionEventAvg), `table()` PyTorch's summary table and
`export_chrome_trace()` Chrome's trace-event JSON (chrome://tracing, https://ui.perfetto.dev).

Times are in microseconds, as PyTorch's, measured on the host's clock (time.perf_counter_ns).
Self time is total time less the total time of the direct children; an event's children are the
events of the same thread that start and end inside it. matgrad has no device timeline: every
device column PyTorch's table can show (Self CUDA ...) reads 0 here and is left out.
"""
from __future__ import annotations

import enum
import itertools
import json
import math
import os
from collections import defaultdict
from typing import Any

from ..files import write_text_atomic

__all__ = ["DeviceType", "Interval", "FunctionEvent", "FunctionEventAvg", "EventList"]


class DeviceType(enum.Enum):
    """Where an event ran (PyTorch's torch.autograd.DeviceType); matgrad records host events only."""

    CPU = 0
    CUDA = 1


class Interval:
    """[start, end) in microseconds since the profile started."""

    def __init__(self, start: float, end: float) -> None:
        self.start = start
        self.end = end

    def elapsed_us(self) -> float:
        """end - start, in microseconds."""
        return self.end - self.start

    def __repr__(self) -> str:
        return f"Interval(start={self.start}, end={self.end})"


def _format_time(time_us: float) -> str:
    """A duration as PyTorch's table writes it: 1.234s, 12.345ms or 123.456us."""
    if time_us >= 1e6:
        return f"{time_us / 1e6:.3f}s"
    if time_us >= 1e3:
        return f"{time_us / 1e3:.3f}ms"
    return f"{time_us:.3f}us"


def _format_time_share(time_us: float, total_time_us: float) -> str:
    """time_us as a percentage of total_time_us ("NaN" when the total is 0, as PyTorch)."""
    if total_time_us == 0:
        return "NaN"
    return f"{time_us * 100.0 / total_time_us:.2f}%"


def _format_memory(nbytes: int) -> str:
    """A byte count as PyTorch's table writes it (B, KB, MB, GB: powers of 1024)."""
    kb, mb, gb = 1024, 1024**2, 1024**3
    if abs(nbytes) >= gb:
        return f"{nbytes * 1.0 / gb:.2f} GB"
    if abs(nbytes) >= mb:
        return f"{nbytes * 1.0 / mb:.2f} MB"
    if abs(nbytes) >= kb:
        return f"{nbytes * 1.0 / kb:.2f} KB"
    return f"{nbytes} B"


class _Times:
    """The derived times and their strings, shared by FunctionEvent and FunctionEventAvg."""

    count: int
    cpu_time_total: float
    self_cpu_time_total: float

    @property
    def cpu_time(self) -> float:
        """Average CPU time per call (µs)."""
        return 0.0 if self.count == 0 else 1.0 * self.cpu_time_total / self.count

    #: matgrad records no device time (see the module docstring): these are PyTorch's columns, always 0.
    device_time = 0.0
    device_time_total = 0.0
    self_device_time_total = 0.0
    device_memory_usage = 0
    self_device_memory_usage = 0

    @property
    def cpu_time_str(self) -> str:
        return _format_time(self.cpu_time)

    @property
    def cpu_time_total_str(self) -> str:
        return _format_time(self.cpu_time_total)

    @property
    def self_cpu_time_total_str(self) -> str:
        return _format_time(self.self_cpu_time_total)

    @property
    def device_time_str(self) -> str:
        return _format_time(self.device_time)

    @property
    def device_time_total_str(self) -> str:
        return _format_time(self.device_time_total)

    @property
    def self_device_time_total_str(self) -> str:
        return _format_time(self.self_device_time_total)


class FunctionEvent(_Times):
    """One recorded range: its name, thread, interval (µs), and what record_shapes / with_stack /
    profile_memory / with_flops added. `cpu_parent` and `cpu_children` are set by EventList's tree."""

    def __init__(self, id: int, name: str, thread: int, start_us: float, end_us: float, *,
                 input_shapes: list[list[int]] | None = None, stack: list[str] | None = None, scope: int = 0,
                 use_device: str | None = None, cpu_memory_usage: int = 0, flops: int = 0,
                 is_user_annotation: bool = False, is_python_function: bool = False,
                 order: tuple[int, int] | None = None, category: str = "cpu_op", trace_name: str | None = None) -> None:
        self.id = id
        self.name = name
        self.trace_name = name if trace_name is None else trace_name  # the name in a Chrome trace
        self.thread = thread
        self.fwd_thread = thread
        self.time_range = Interval(start_us, end_us)
        self.input_shapes = input_shapes if input_shapes is not None else []
        self.stack = stack if stack is not None else []
        self.scope = scope  # 0: forward (or a range), 1: a node's backward (PyTorch's RecordScope)
        self.use_device = use_device
        #: Bytes of the arrays this event and its children made (see profile_memory in matgrad.profiler).
        self.cpu_memory_usage = cpu_memory_usage
        self.flops = flops
        self.is_user_annotation = is_user_annotation
        self.is_python_function = is_python_function
        self.category = category
        self.count = 1
        self.overload_name = ""
        self.node_id = -1
        self.sequence_nr = -1
        self.is_async = False
        self.is_remote = False
        self.is_legacy = False
        self.device_type = DeviceType.CPU
        self.kernels: list[Any] = []
        self.cpu_children: list[FunctionEvent] = []
        self.cpu_parent: FunctionEvent | None = None
        # (start, end) on the recorder's counter: the exact nesting order within a thread, where two clock
        # readings could be equal (a coarse clock); None: nest by time alone
        self._order = order

    @property
    def key(self) -> str:
        return self.name

    @property
    def cpu_time_total(self) -> float:
        return self.time_range.elapsed_us()

    @property
    def self_cpu_time_total(self) -> float:
        return self.cpu_time_total - sum(c.cpu_time_total for c in self.cpu_children)

    @property
    def self_cpu_memory_usage(self) -> int:
        return self.cpu_memory_usage - sum(c.cpu_memory_usage for c in self.cpu_children)

    def append_cpu_child(self, child: FunctionEvent) -> None:
        self.cpu_children.append(child)

    def set_cpu_parent(self, parent: FunctionEvent) -> None:
        self.cpu_parent = parent

    def __repr__(self) -> str:
        return (
            f"<FunctionEvent id={self.id} name={self.name} overload_name={self.overload_name} "
            f"device_type={self.device_type} node_id={self.node_id} cpu_time={self.cpu_time_str} "
            f"start_us={self.time_range.start} end_us={self.time_range.end} "
            f"cpu_children={[c.id for c in self.cpu_children]} name={self.name} thread={self.thread} "
            f"input_shapes={self.input_shapes} cpu_memory_usage={self.cpu_memory_usage} "
            f"is_async={self.is_async} is_remote={self.is_remote} seq_nr={self.sequence_nr} "
            f"is_legacy={self.is_legacy}>"
        )


class FunctionEventAvg(_Times):
    """The sums over the events of one key (PyTorch's): count, total and self times, memory, FLOPs."""

    def __init__(self) -> None:
        self.key: str | None = None
        self.count = 0
        self.node_id = 0
        self.is_async = False
        self.is_remote = False
        self.use_device: str | None = None
        self.cpu_time_total = 0.0
        self.self_cpu_time_total = 0.0
        self.input_shapes: Any = None
        self.overload_name: str | None = None
        self.stack: list[str] | None = None
        self.scope: int | None = None
        self.cpu_memory_usage = 0
        self.self_cpu_memory_usage = 0
        self.cpu_children: list[FunctionEvent] | None = None
        self.cpu_parent: FunctionEvent | None = None
        self.device_type = DeviceType.CPU
        self.is_legacy = False
        self.is_user_annotation = False
        self.flops = 0

    def add(self, other: FunctionEvent | FunctionEventAvg) -> FunctionEventAvg:
        """Add another event (or average) of the same key into this one."""
        if not isinstance(other, (FunctionEvent, FunctionEventAvg)):
            raise TypeError(f"FunctionEventAvg.add: expected a FunctionEvent or FunctionEventAvg, got "
                            f"{type(other).__name__}")
        if self.key is None:  # the first: it gives the fields that are not sums
            self.key = other.key
            self.node_id = other.node_id
            self.is_async = other.is_async
            self.is_remote = other.is_remote
            self.cpu_parent = other.cpu_parent
            self.cpu_children = other.cpu_children
            self.overload_name = other.overload_name
            self.input_shapes = other.input_shapes
            self.stack = other.stack
            self.scope = other.scope
            self.device_type = other.device_type
            self.is_legacy = other.is_legacy
            self.use_device = other.use_device
            self.is_user_annotation = other.is_user_annotation
        elif other.key != self.key:
            raise ValueError(f"FunctionEventAvg.add: keys differ ({other.key!r} into {self.key!r})")
        self.cpu_time_total += other.cpu_time_total
        self.self_cpu_time_total += other.self_cpu_time_total
        self.cpu_memory_usage += other.cpu_memory_usage
        self.self_cpu_memory_usage += other.self_cpu_memory_usage
        self.count += other.count
        self.flops += other.flops or 0
        return self

    def __iadd__(self, other: FunctionEvent | FunctionEventAvg) -> FunctionEventAvg:
        return self.add(other)

    def __repr__(self) -> str:
        device = self.use_device or "cuda"
        return (
            f"<FunctionEventAvg key={self.key} self_cpu_time={self.self_cpu_time_total_str} "
            f"cpu_time={self.cpu_time_str}  self_{device}_time={self.self_device_time_total_str} "
            f"{device}_time={self.device_time_str} input_shapes={self.input_shapes} "
            f"cpu_memory_usage={self.cpu_memory_usage} {device}_memory_usage={self.device_memory_usage}>"
        )


_STACK_METRICS = ("self_cpu_time_total", "self_cuda_time_total", "self_xpu_time_total", "self_privateuse1_time_total")


class EventList(list):
    """A list of FunctionEvent (or FunctionEventAvg) with PyTorch's summaries: table, key_averages, traces."""

    def __init__(self, *args: Any, use_device: str | None = None, profile_memory: bool = False,
                 with_flops: bool = False) -> None:
        super().__init__(*args)
        self._use_device = use_device
        self._profile_memory = profile_memory
        self._with_flops = with_flops
        self._tree_built = False
        # where the events' times (µs from 0) sit on the host's monotonic clock, and that clock's offset to
        # wall time, for a Chrome trace's timestamps (set by the recorder)
        self._origin_ns = 0
        self._base_ns = 0

    def __str__(self) -> str:
        return self.table()

    # --- the tree -------------------------------------------------------------------------------
    def _build_tree(self) -> None:
        self._populate_cpu_children()
        self._remove_dup_nodes()
        self._tree_built = True

    def _populate_cpu_children(self) -> None:
        """Each event's parent: the innermost event of its thread that it lies inside (none where two only
        overlap). Sorted by start, longest first, a stack of open events gives it in one pass."""
        def bounds(e: FunctionEvent) -> tuple[Any, Any]:
            return e._order if e._order is not None else (e.time_range.start, e.time_range.end)

        events = sorted((e for e in self if not e.is_async), key=lambda e: e.thread)
        for _, group in itertools.groupby(events, key=lambda e: e.thread):
            ordered = sorted(group, key=lambda e: (bounds(e)[0], _neg(bounds(e)[1])))
            open_events: list[FunctionEvent] = []
            for event in ordered:
                start, end = bounds(event)
                while open_events:
                    p_start, p_end = bounds(open_events[-1])
                    if start >= p_end or end > p_end:
                        open_events.pop()  # it ended before this one started (or they only overlap)
                    else:
                        open_events[-1].append_cpu_child(event)
                        event.set_cpu_parent(open_events[-1])
                        break
                open_events.append(event)

    def _remove_dup_nodes(self) -> None:
        """An event whose only child has its name (a range around one op of that name) counts once, as PyTorch."""
        while True:
            drop = set()
            for i, e in enumerate(self):
                p = e.cpu_parent
                if p is not None and p.name == e.name and len(p.cpu_children) == 1:
                    p.cpu_children = e.cpu_children
                    for c in e.cpu_children:
                        c.cpu_parent = p
                    drop.add(i)
            if not drop:
                return
            kept = [e for i, e in enumerate(self) if i not in drop]
            self.clear()
            self.extend(kept)

    # --- summaries ------------------------------------------------------------------------------
    @property
    def self_cpu_time_total(self) -> float:
        """The sum of every event's self time: the time the profile saw, each microsecond once."""
        return sum(e.self_cpu_time_total for e in self)

    def key_averages(self, group_by_input_shapes: bool = False, group_by_stack_n: int = 0,
                     group_by_overload_name: bool = False) -> EventList:
        """The events summed by name (and input shapes, top stack frames, if asked): FunctionEventAvg each."""
        if not self._tree_built:
            self._build_tree()
        stats: dict[tuple, FunctionEventAvg] = defaultdict(FunctionEventAvg)
        for e in self:
            key = [str(e.key), str(e.node_id), str(e.device_type), str(e.is_legacy), str(e.is_user_annotation)]
            if group_by_overload_name:
                key.append(e.overload_name)
            if group_by_input_shapes:
                key.append(str(e.input_shapes))
            if group_by_stack_n > 0:
                key += list(e.stack[:group_by_stack_n])
            stats[tuple(key)].add(e)
        out = EventList(stats.values(), use_device=self._use_device, profile_memory=self._profile_memory,
                        with_flops=self._with_flops)
        for avg in out:
            avg.stack = (avg.stack or [])[:group_by_stack_n]
            if not group_by_input_shapes:
                avg.input_shapes = ""
            if not group_by_overload_name:
                avg.overload_name = ""
        out._tree_built = True
        return out

    def total_average(self) -> FunctionEventAvg:
        """Every event summed into one, keyed "Total"."""
        total = FunctionEventAvg()
        for e in self:
            total.key = e.key  # add() sums events of one key; the total takes them all
            total.add(e)
        total.key = "Total"
        return total

    def table(self, sort_by: str | None = None, row_limit: int = 100, max_src_column_width: int = 75,
              max_name_column_width: int = 55, max_shapes_column_width: int = 80, header: str | None = None,
              top_level_events_only: bool = False, time_unit: str | None = None) -> str:
        """PyTorch's summary table: Name, Self CPU %, Self CPU, CPU total %, CPU total, CPU time avg,
        (CPU Mem, Self CPU Mem,) # of Calls, (Input Shapes, Source Location, Total FLOPs); rows sorted by
        `sort_by` (an attribute: cpu_time_total, self_cpu_time_total, count, cpu_memory_usage ...)."""
        return _build_table(self, sort_by=sort_by, header=header, row_limit=row_limit,
                            max_src_column_width=max_src_column_width,
                            max_name_column_width=max_name_column_width,
                            max_shapes_column_width=max_shapes_column_width, with_flops=self._with_flops,
                            profile_memory=self._profile_memory, top_level_events_only=top_level_events_only,
                            time_unit=time_unit)

    # --- files ----------------------------------------------------------------------------------
    def export_chrome_trace(self, path: str | os.PathLike) -> None:
        """Write the events as Chrome trace-event JSON ("ph": "X", ts and dur in µs), atomically."""
        write_text_atomic(path, json.dumps(_chrome_trace(self, os.fspath(path))))

    def export_stacks(self, path: str | os.PathLike, metric: str = "self_cpu_time_total") -> None:
        """Write "frame;frame;... value" lines, outermost frame first (flamegraph.pl's input); needs with_stack."""
        if metric not in _STACK_METRICS:
            raise ValueError(f"metric should be one of: {list(_STACK_METRICS)}")
        clean = str.maketrans(" ;\t\n", "____")
        lines = []
        for e in self:
            value = int(getattr(e, "self_cpu_time_total" if metric == "self_cpu_time_total" else
                                "self_device_time_total"))
            if e.stack and value > 0:
                lines.append(";".join(f.translate(clean) for f in reversed(e.stack)) + f" {value}\n")
        write_text_atomic(path, "".join(lines))


def _neg(x: Any) -> Any:
    return -x


def _chrome_trace(events: EventList, trace_name: str) -> dict[str, Any]:
    """Chrome's JSON object format: metadata naming the process and threads, then one "X" event per range.

    As PyTorch's: "ts" on the host's monotonic clock (µs), "baseTimeNanoseconds" its offset to wall time.
    """
    pid = os.getpid()
    origin_us = events._origin_ns / 1000.0
    trace: list[dict[str, Any]] = [
        {"ph": "M", "name": "process_name", "pid": pid, "tid": 0, "args": {"name": "python"}},
        {"ph": "M", "name": "process_labels", "pid": pid, "tid": 0, "args": {"labels": "CPU"}},
    ]
    for tid in sorted({e.thread for e in events}):
        trace.append({"ph": "M", "name": "thread_name", "pid": pid, "tid": tid,
                      "args": {"name": f"thread {tid} (python)"}})
    for i, e in enumerate(sorted(events, key=lambda e: (e.time_range.start, -e.time_range.end))):
        args: dict[str, Any] = {"Ev Idx": i}
        if e.input_shapes:
            args["Input Dims"] = e.input_shapes
        if e.stack:
            args["Call stack"] = ";".join(e.stack)
        if e.flops:
            args["flops"] = e.flops
        if e.cpu_memory_usage:
            args["Memory (bytes)"] = e.cpu_memory_usage
        trace.append({"ph": "X", "cat": e.category, "name": e.trace_name, "pid": pid, "tid": e.thread,
                      "ts": round(origin_us + e.time_range.start, 3), "dur": round(e.time_range.elapsed_us(), 3),
                      "args": args})
    return {"schemaVersion": 1, "deviceProperties": [], "displayTimeUnit": "ms",
            "baseTimeNanoseconds": int(events._base_ns), "traceEvents": trace, "traceName": trace_name}


def _auto_scale_flops(flops: int) -> tuple[float, str]:
    headers = ["FLOPs", "KFLOPs", "MFLOPs", "GFLOPs", "TFLOPs", "PFLOPs"]
    log_flops = max(0.0, min(math.log10(flops) / 3, float(len(headers) - 1)))
    return 10 ** (math.floor(log_flops) * -3.0), headers[int(log_flops)]


def _build_table(events: EventList, sort_by: str | None, header: str | None, row_limit: int,
                 max_src_column_width: int | None, max_name_column_width: int | None,
                 max_shapes_column_width: int | None, with_flops: bool, profile_memory: bool,
                 top_level_events_only: bool, time_unit: str | None) -> str:
    """PyTorch's _build_table, column for column, without the device columns matgrad has no data for."""
    if len(events) == 0:
        return ""
    if time_unit not in (None, "s", "ms", "us"):
        raise ValueError(f"table: time_unit must be 's', 'ms', 'us' or None, got {time_unit!r}")
    has_input_shapes = any(e.input_shapes is not None and len(e.input_shapes) > 0 for e in events)
    if sort_by is not None:
        attr = sort_by.replace("cuda", "device").replace("xpu", "device").replace("privateuse1", "device")
        if not hasattr(events[0], attr):
            raise AttributeError(f"table: sort_by={sort_by!r} is not an event attribute; use one of "
                                 "cpu_time_total, self_cpu_time_total, cpu_time, count, cpu_memory_usage, "
                                 "self_cpu_memory_usage, flops")
        events = EventList(sorted(events, key=lambda e: getattr(e, attr), reverse=True),
                           use_device=events._use_device, profile_memory=profile_memory, with_flops=with_flops)

    name_width = max(len(e.key) for e in events) + 4
    if max_name_column_width is not None:
        name_width = min(name_width, max_name_column_width)
    shapes_width = max(len(str(e.input_shapes)) for e in events) + 4
    if max_shapes_column_width is not None:
        shapes_width = min(shapes_width, max_shapes_column_width)
    width = 12
    stacks = [e.stack for e in events if e.stack is not None and len(e.stack) > 0]
    has_stack = len(stacks) > 0
    src_width = 0
    if has_stack:
        src_width = max(max(len(entry) for entry in s) for s in stacks) + 4
        if max_src_column_width is not None:
            src_width = min(src_width, max_src_column_width)

    headers = ["Name", "Self CPU %", "Self CPU", "CPU total %", "CPU total", "CPU time avg"]
    if profile_memory:
        headers += ["CPU Mem", "Self CPU Mem"]
    headers.append("# of Calls")
    spacing = 2
    row_format, header_sep, line_length = "", "", -spacing

    def add_column(padding: int, text_dir: str = ">") -> None:
        nonlocal row_format, header_sep, line_length
        row_format += "{: " + text_dir + str(padding) + "}" + " " * spacing
        header_sep += "-" * padding + " " * spacing
        line_length += padding + spacing

    add_column(name_width)
    for _ in headers[1:]:
        add_column(width)
    if has_input_shapes:
        headers.append("Input Shapes")
        add_column(shapes_width)
    if has_stack:
        headers.append("Source Location")
        add_column(src_width, text_dir="<")
    flops_scale = 1.0
    if with_flops:
        raw = [e.flops for e in events if e.flops > 0]
        if raw:
            flops_scale, flops_header = _auto_scale_flops(min(raw))
            headers.append(f"Total {flops_header}")
            add_column(width)
        else:
            with_flops = False  # no event has FLOPs

    def unit(time_us: float, default: str) -> str:
        if time_unit == "s":
            return f"{time_us / 1e6:.3f}s"
        if time_unit == "ms":
            return f"{time_us / 1e3:.3f}ms"
        if time_unit == "us":
            return f"{time_us:.3f}us"
        return default

    def trim_path(path: str) -> str:
        if len(path) > src_width:
            path = path[len(path) - src_width:]
            if len(path) > 3:
                path = "..." + path[3:]
        return path

    total = sum(e.self_cpu_time_total for e in events)
    out: list[str] = []

    def append(s: str) -> None:
        out.append(s)
        out.append("\n")

    if header is not None:
        append("=" * line_length)
        append(header)
    if top_level_events_only:
        append("=" * line_length)
        append("This report only display top-level ops statistics")
    append(header_sep)
    append(row_format.format(*headers))
    append(header_sep)
    shown = 0
    for e in events:
        if shown == row_limit:
            break
        if top_level_events_only and e.cpu_parent is not None:
            continue
        shown += 1
        name = e.key
        if max_name_column_width is not None and len(name) >= max_name_column_width - 3:
            name = name[: max_name_column_width - 3] + "..."
        row = [name, _format_time_share(e.self_cpu_time_total, total),
               unit(e.self_cpu_time_total, e.self_cpu_time_total_str),
               _format_time_share(e.cpu_time_total, total) if not e.is_async else 0,
               unit(e.cpu_time_total, e.cpu_time_total_str), unit(e.cpu_time, e.cpu_time_str)]
        if profile_memory:
            row += [_format_memory(e.cpu_memory_usage), _format_memory(e.self_cpu_memory_usage)]
        row.append(e.count)
        if has_input_shapes:
            row.append(str(e.input_shapes)[:shapes_width])
        if has_stack:
            row.append(trim_path(e.stack[0]) if len(e.stack) > 0 else "")
        if with_flops:
            row.append("--" if e.flops <= 0 else f"{e.flops * flops_scale:8.3f}")
        append(row_format.format(*row))
        if has_stack:
            empty = [""] * (len(headers) - 1)
            for entry in e.stack[1:]:
                append(row_format.format(*(empty + [trim_path(entry)])))
            empty.append("")
            append(row_format.format(*empty))
    append(header_sep)
    append(f"Self CPU time total: {unit(total, _format_time(total))}")
    return "".join(out)
