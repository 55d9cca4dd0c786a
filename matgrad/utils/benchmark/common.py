"""What a Timer measured: TaskSpec (what was timed) and Measurement (the times and their statistics).

As PyTorch's torch.utils.benchmark.utils.common: the statistics (median, IQR by linear interpolation,
the significant-figure estimate) and the text of a Measurement's repr are the same.
"""
from __future__ import annotations

import collections
import contextlib
import dataclasses
import math
import textwrap
from typing import Any, Iterable, Iterator

import numpy as np

from ... import threads

__all__ = ["TaskSpec", "Measurement", "select_unit", "unit_to_english", "trim_sigfig", "ordered_unique",
           "set_torch_threads"]

_MAX_SIGNIFICANT_FIGURES = 4
_MIN_CONFIDENCE_INTERVAL = 25e-9  # 25 ns
# A Measurement warns when its spread is large: IQR / median above these.
_IQR_WARN_THRESHOLD = 0.1
_IQR_GROSS_WARN_THRESHOLD = 0.25


@dataclasses.dataclass(init=True, repr=False, eq=True, frozen=True)
class TaskSpec:
    """What a Timer times (all but its globals): the code and the labels Compare groups by."""

    stmt: str
    setup: str
    global_setup: str = ""
    label: str | None = None
    sub_label: str | None = None
    description: str | None = None
    env: str | None = None
    num_threads: int = 1

    @property
    def title(self) -> str:
        """A label for the measurement: the label (with sub_label), else the one-line statement."""
        if self.label is not None:
            return self.label + (f": {self.sub_label}" if self.sub_label else "")
        if "\n" not in self.stmt:
            return self.stmt + (f": {self.sub_label}" if self.sub_label else "")
        return f"stmt:{f' ({self.sub_label})' if self.sub_label else ''}\n{textwrap.indent(self.stmt, '  ')}"

    def setup_str(self) -> str:
        return ("" if (self.setup == "pass" or not self.setup)
                else f"setup:\n{textwrap.indent(self.setup, '  ')}" if "\n" in self.setup
                else f"setup: {self.setup}")

    def summarize(self) -> str:
        """The TaskSpec's lines in a Measurement's repr."""
        sections = [self.title, self.description or "", self.setup_str()]
        return "\n".join([f"{i}\n" if "\n" in i else i for i in sections if i])


_TASKSPEC_FIELDS = tuple(f.name for f in dataclasses.fields(TaskSpec))


@dataclasses.dataclass(init=True, repr=False)
class Measurement:
    """The times of a Timer's runs: raw_times[i] is the wall time of one run of `number_per_run` executions.

    `times` are per execution; median, mean and iqr are of those. TaskSpec's fields read through
    (m.label, m.num_threads ...).
    """

    number_per_run: int
    raw_times: list[float]
    task_spec: TaskSpec
    metadata: dict[Any, Any] | None = None  # for the user's own data

    def __post_init__(self) -> None:
        self._sorted_times: tuple[float, ...] = ()
        self._warnings: tuple[str, ...] = ()
        self._median = -1.0
        self._mean = -1.0
        self._p25 = -1.0
        self._p75 = -1.0

    def __getattr__(self, name: str) -> Any:
        if name in _TASKSPEC_FIELDS:  # (called only for names not found otherwise)
            return getattr(self.task_spec, name)
        return super().__getattribute__(name)

    @property
    def times(self) -> list[float]:
        """Seconds per execution, one per run."""
        return [t / self.number_per_run for t in self.raw_times]

    @property
    def median(self) -> float:
        self._lazy_init()
        return self._median

    @property
    def mean(self) -> float:
        self._lazy_init()
        return self._mean

    @property
    def iqr(self) -> float:
        """The interquartile range of `times` (75th less 25th percentile, linearly interpolated)."""
        self._lazy_init()
        return self._p75 - self._p25

    @property
    def significant_figures(self) -> int:
        """A rough count of the median's trustworthy digits (1 to 4), from the spread of the middle half."""
        self._lazy_init()
        n_total = len(self._sorted_times)
        lower = n_total // 4
        upper = math.ceil(3 * n_total / 4)
        # in float32, as PyTorch's (torch.tensor of Python floats), so that a borderline case rounds the same
        middle = np.array(self._sorted_times[lower:upper], dtype=np.float32)
        std = float(middle.std())
        sqrt_n = float(np.sqrt(np.float32(len(middle))))
        confidence_interval = max(1.645 * std / sqrt_n, _MIN_CONFIDENCE_INTERVAL)
        relative_ci = _log10_f32(self._median / confidence_interval)
        return min(max(math.floor(relative_ci), 1), _MAX_SIGNIFICANT_FIGURES)

    @property
    def has_warnings(self) -> bool:
        self._lazy_init()
        return bool(self._warnings)

    def _lazy_init(self) -> None:
        if self.raw_times and not self._sorted_times:
            self._sorted_times = tuple(sorted(self.times))
            t = np.array(self._sorted_times, dtype=np.float64)
            self._median = float(np.quantile(t, 0.5))
            self._mean = float(t.mean())
            self._p25 = float(np.quantile(t, 0.25))
            self._p75 = float(np.quantile(t, 0.75))

            def add_warning(msg: str) -> None:
                rel_iqr = self.iqr / self.median * 100
                self._warnings += (f"  WARNING: Interquartile range is {rel_iqr:.1f}% of the median measurement.\n"
                                   f"           {msg}",)

            if not self.meets_confidence(_IQR_GROSS_WARN_THRESHOLD):
                add_warning("This suggests significant environmental influence.")
            elif not self.meets_confidence(_IQR_WARN_THRESHOLD):
                add_warning("This could indicate system fluctuation.")

    def meets_confidence(self, threshold: float = _IQR_WARN_THRESHOLD) -> bool:
        """Whether IQR / median is below `threshold`."""
        return self.iqr / self.median < threshold

    @property
    def title(self) -> str:
        return self.task_spec.title

    @property
    def as_row_name(self) -> str:
        return self.sub_label or self.stmt or "[Unknown]"

    def __repr__(self) -> str:
        self._lazy_init()
        skip_line, newline = "MEASUREMENT_REPR_SKIP_LINE", "\n"
        n = len(self._sorted_times)
        time_unit, time_scale = select_unit(self._median)
        iqr_filter = "" if n >= 4 else skip_line
        repr_str = f"""
{object.__repr__(self)}
{self.task_spec.summarize()}
  {'Median: ' if n > 1 else ''}{self._median / time_scale:.2f} {time_unit}
  {iqr_filter}IQR:    {self.iqr / time_scale:.2f} {time_unit} ({self._p25 / time_scale:.2f} to {self._p75 / time_scale:.2f})
  {n} measurement{'s' if n > 1 else ''}, {self.number_per_run} runs {'per measurement,' if n > 1 else ','} {self.num_threads} thread{'s' if self.num_threads > 1 else ''}
{newline.join(self._warnings)}""".strip()  # noqa: E501  (PyTorch's text, line for line)
        return "\n".join(line for line in repr_str.splitlines(keepends=False) if skip_line not in line)

    @staticmethod
    def merge(measurements: Iterable[Measurement]) -> list[Measurement]:
        """Replicates of one TaskSpec joined into one Measurement (times per execution, number_per_run=1)."""
        grouped: collections.defaultdict[TaskSpec, list[Measurement]] = collections.defaultdict(list)
        for m in measurements:
            grouped[m.task_spec].append(m)

        def merge_group(task_spec: TaskSpec, group: list[Measurement]) -> Measurement:
            times: list[float] = []
            for m in group:
                times.extend(m.times)  # per execution: replicates may differ in number_per_run
            return Measurement(number_per_run=1, raw_times=times, task_spec=task_spec, metadata=None)

        return [merge_group(t, g) for t, g in grouped.items()]


def select_unit(t: float) -> tuple[str, float]:
    """The unit that shows `t` seconds with a few leading digits: ("us", 1e-6) for 3e-5."""
    if not t > 0:
        raise ValueError(f"select_unit: expected a positive time, got {t}")
    exponent = int(_log10_f32(t) // 3)
    time_unit = {-3: "ns", -2: "us", -1: "ms"}.get(exponent, "s")
    time_scale = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1}[time_unit]
    return time_unit, time_scale


def _log10_f32(x: float) -> float:
    """log10 as PyTorch takes it here (of a float32 tensor), correctly rounded, so that a value on a unit's
    boundary (1e-6 s) falls on the same side. (NumPy's float32 log10 can be one unit in the last place off.)"""
    return float(np.float32(math.log10(float(np.float32(x)))))


def unit_to_english(u: str) -> str:
    return {"ns": "nanosecond", "us": "microsecond", "ms": "millisecond", "s": "second"}[u]


def trim_sigfig(x: float, n: int) -> float:
    """`x` rounded to `n` significant figures (3.14159, 2 -> 3.1)."""
    if n != int(n):
        raise AssertionError("Number of significant figures must be an integer")  # (PyTorch's error)
    magnitude = int(math.ceil(_log10_f32(abs(x))))
    scale = 10 ** (magnitude - n)
    return float(np.round(np.float32(x / scale)) * np.float32(scale))


def ordered_unique(elements: Iterable[Any]) -> list[Any]:
    """The distinct elements in their first-seen order."""
    return list(dict.fromkeys(elements))


@contextlib.contextmanager
def set_torch_threads(n: int) -> Iterator[None]:
    """matgrad's threads (matgrad.set_num_threads) set to `n` inside, restored after."""
    prior = threads.get_num_threads()
    prior_chosen = list(threads.chosen)
    _set_threads(n)
    try:
        yield
    finally:
        _set_threads(prior)
        threads.chosen[:] = prior_chosen  # as it was: set by the user's set_num_threads, or not yet


def _set_threads(n: int) -> None:
    try:
        threads.set_num_threads(n)
    except RuntimeError:
        if threads.get_num_threads() != int(n):  # it already runs with n threads (set by the environment)
            raise
