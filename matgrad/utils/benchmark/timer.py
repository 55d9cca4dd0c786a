"""torch.utils.benchmark.Timer: time a statement, with warm-up, replicates and a fixed thread count.

    t = Timer("model(x)", setup="x = torch.randn(64, 784)", globals={"model": model}, label="mlp")
    print(t.blocked_autorange(min_run_time=0.5))

`stmt` and `setup` are code the caller writes in their own program, compiled and run as Python's
timeit module runs them (in fact by timeit.Timer), with `globals` as their namespace; `torch` and
`matgrad` are in it unless given (both are matgrad, so a statement written for PyTorch runs as is).
While measuring, matgrad's threads are set to `num_threads` (one by default) and restored after.
"""
from __future__ import annotations

import enum
import textwrap
import timeit
from typing import Any, Callable

import numpy as np

import matgrad  # the public facade, for the statements' `torch` and `matgrad` names

from ... import cuda
from . import common

__all__ = ["Timer", "timer", "Language"]


def timer() -> float:
    """timeit.default_timer, after waiting for the GPU's queued work where there is a GPU."""
    if cuda.is_available():
        cuda.synchronize()
    return timeit.default_timer()


class Language(enum.Enum):
    PYTHON = 0
    CPP = 1


class Timer:
    """Measure the time of `stmt` (a string of Python code), after running `setup` once.

    timeit(number) times one run of `number` executions; blocked_autorange() picks a block size
    whose timer overhead is negligible and times blocks until min_run_time has passed;
    adaptive_autorange() goes on until the spread (IQR / median) is below `threshold`. Each returns a
    Measurement; Compare tables many of them by label, sub_label and description.
    """

    _timer_cls: type = timeit.Timer

    def __init__(self, stmt: str = "pass", setup: str = "pass", global_setup: str = "",
                 timer: Callable[[], float] = timer, globals: dict[str, Any] | None = None,
                 label: str | None = None, sub_label: str | None = None, description: str | None = None,
                 env: str | None = None, num_threads: int = 1, language: Language | str = Language.PYTHON) -> None:
        if not isinstance(stmt, str):
            raise ValueError("Currently only a `str` stmt is supported.")
        if not isinstance(setup, str):
            raise ValueError("Timer: setup must be a str of Python code")
        if isinstance(num_threads, bool) or not isinstance(num_threads, int) or num_threads < 1:
            raise ValueError(f"Timer: num_threads must be a positive int, got {num_threads!r}")
        self._globals = dict(globals or {})  # a copy: exec adds __builtins__ to it
        if language in (Language.PYTHON, "py", "python"):
            self._globals.setdefault("torch", matgrad)
            self._globals.setdefault("matgrad", matgrad)
            self._language = Language.PYTHON
            if global_setup:
                raise ValueError(f"global_setup is C++ only, got `{global_setup}`. Most likely this code can "
                                 "simply be moved to `setup`.")
        elif language in (Language.CPP, "cpp", "c++"):
            raise ValueError("Timer: matgrad has no C++ API, so it times Python statements only; pass "
                             "language='python'")
        else:
            raise ValueError(f"Invalid language `{language}`.")
        # Multi-line snippets written inside a function: dedent, and drop the leading newline of a block string.
        stmt = textwrap.dedent(stmt)
        stmt = (stmt[1:] if stmt and stmt[0] == "\n" else stmt).rstrip()
        setup = textwrap.dedent(setup)
        setup = (setup[1:] if setup and setup[0] == "\n" else setup).rstrip()
        self._timer = self._timer_cls(stmt=stmt, setup=setup, timer=timer, globals=self._globals)
        self._task_spec = common.TaskSpec(stmt=stmt, setup=setup, global_setup=global_setup, label=label,
                                          sub_label=sub_label, description=description, env=env,
                                          num_threads=num_threads)

    def _timeit(self, number: int) -> float:
        # Even reading the clock takes tens of nanoseconds: no run is shorter than 1 ns (and no division by 0).
        return max(self._timer.timeit(number), 1e-9)

    def timeit(self, number: int = 1000000) -> common.Measurement:
        """Run `stmt` `number` times (after a warm-up of number // 100, at least 2) and measure that run."""
        if isinstance(number, bool) or not isinstance(number, int) or number < 1:
            raise ValueError(f"Timer.timeit: number must be a positive int, got {number!r}")
        with common.set_torch_threads(self._task_spec.num_threads):
            self._timeit(number=max(int(number // 100), 2))  # warm-up
            return common.Measurement(number_per_run=number, raw_times=[self._timeit(number=number)],
                                      task_spec=self._task_spec)

    def repeat(self, repeat: int = -1, number: int = -1) -> None:
        """Not offered (as in PyTorch): blocked_autorange measures replicates."""
        raise NotImplementedError("See `Timer.blocked_autorange.`")

    def autorange(self, callback: Callable[[int, float], Any] | None = None) -> None:
        """Not offered (as in PyTorch): blocked_autorange picks the block size itself."""
        raise NotImplementedError("See `Timer.blocked_autorange.`")

    def _threaded_measurement_loop(self, number: int, time_hook: Callable[[], float],
                                   stop_hook: Callable[[list[float]], bool], min_run_time: float,
                                   max_run_time: float | None = None,
                                   callback: Callable[[int, float], Any] | None = None) -> list[float]:
        total_time = 0.0
        can_stop = False
        times: list[float] = []
        with common.set_torch_threads(self._task_spec.num_threads):
            while (total_time < min_run_time) or (not can_stop):
                time_spent = time_hook()
                times.append(time_spent)
                total_time += time_spent
                if callback:
                    callback(number, time_spent)
                can_stop = stop_hook(times)
                if max_run_time and total_time > max_run_time:
                    break
        return times

    def _estimate_block_size(self, min_run_time: float) -> int:
        """The smallest power of 10 executions whose run makes the timer's overhead negligible (1e-4 of it),
        and lasts min_run_time / 1000 (or at most min_run_time); this is also the warm-up."""
        with common.set_torch_threads(self._task_spec.num_threads):
            overhead = float(np.median([self._timeit(0) for _ in range(5)]))
            number = 1
            while True:
                time_taken = self._timeit(number)
                relative_overhead = overhead / time_taken
                if relative_overhead <= 1e-4 and time_taken >= min_run_time / 1000:
                    break
                if time_taken > min_run_time:
                    break
                if number * 10 > 2147483647:  # (PyTorch's bound, from its C++ interface)
                    break
                number *= 10
        return number

    def blocked_autorange(self, callback: Callable[[int, float], Any] | None = None,
                          min_run_time: float = 0.2) -> common.Measurement:
        """Time blocks of a block size chosen so the timer's overhead is negligible, until min_run_time
        seconds have been measured; `callback(number, seconds)` sees each block."""
        number = self._estimate_block_size(min_run_time)
        times = self._threaded_measurement_loop(number, lambda: self._timeit(number), lambda times: True,
                                                min_run_time=min_run_time, callback=callback)
        return common.Measurement(number_per_run=number, raw_times=times, task_spec=self._task_spec)

    def adaptive_autorange(self, threshold: float = 0.1, *, min_run_time: float = 0.01, max_run_time: float = 10.0,
                           callback: Callable[[int, float], Any] | None = None) -> common.Measurement:
        """As blocked_autorange, but going on until IQR / median is below `threshold` (with more than 3 blocks
        and min_run_time seconds), or max_run_time seconds have been measured."""
        number = self._estimate_block_size(min_run_time=0.05)

        def stop_hook(times: list[float]) -> bool:
            if len(times) > 3:
                return common.Measurement(number_per_run=number, raw_times=times,
                                          task_spec=self._task_spec).meets_confidence(threshold=threshold)
            return False

        times = self._threaded_measurement_loop(number, lambda: self._timeit(number), stop_hook, min_run_time,
                                                max_run_time, callback=callback)
        return common.Measurement(number_per_run=number, raw_times=times, task_spec=self._task_spec)

    def collect_callgrind(self, *args: Any, **kwargs: Any) -> Any:
        """Not available: matgrad cannot run a statement under Callgrind."""
        raise NotImplementedError("Timer.collect_callgrind: matgrad cannot run statements under Valgrind's "
                                  "Callgrind; use blocked_autorange() for times")
