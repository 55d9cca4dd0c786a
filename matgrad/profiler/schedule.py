"""When a profile records: ProfilerAction and schedule(), PyTorch's step for step.

A schedule maps a step number (0, 1, ... as `profile.step()` counts them) to an action: NONE (do
nothing), WARMUP (about to record; matgrad has nothing to warm up, so nothing is recorded), RECORD,
and RECORD_AND_SAVE on the last step of each active window, after which the trace is handed to
`on_trace_ready`.
"""
from __future__ import annotations

import enum
import warnings
from typing import Callable

__all__ = ["ProfilerAction", "schedule"]


class ProfilerAction(enum.Enum):
    """What a profile does during one step (PyTorch's values)."""

    NONE = 0
    WARMUP = 1
    RECORD = 2
    RECORD_AND_SAVE = 3
    #: Set by PyTorch itself when its device collection stops early; never returned by a schedule.
    DEVICE_STOPPED = 4


def schedule(*, wait: int, warmup: int, active: int, repeat: int = 0, skip_first: int = 0,
             skip_first_wait: int = 0) -> Callable[[int], ProfilerAction]:
    """Skip `skip_first` steps, then cycle: `wait` steps idle, `warmup` steps warming up, `active` steps
    recording (the last one RECORD_AND_SAVE); `repeat` cycles (0: until the profile ends).
    `skip_first_wait` drops the first cycle's wait."""
    def schedule_fn(step: int) -> ProfilerAction:
        if step < 0:
            raise AssertionError(f"Step must be non-negative. Got {step}.")  # (PyTorch's error type)
        if step < skip_first:
            return ProfilerAction.NONE
        step -= skip_first
        if skip_first_wait != 0:  # the first cycle starts at its warmup
            step += wait
        num_steps = wait + warmup + active
        if repeat > 0 and step / num_steps >= repeat:
            return ProfilerAction.NONE
        mod_step = step % num_steps
        if mod_step < wait:
            return ProfilerAction.NONE
        if mod_step < wait + warmup:
            return ProfilerAction.WARMUP
        return ProfilerAction.RECORD if mod_step < num_steps - 1 else ProfilerAction.RECORD_AND_SAVE

    if wait < 0 or warmup < 0 or active <= 0 or repeat < 0 or skip_first < 0:
        raise AssertionError(  # (PyTorch's error type)
            f"Invalid profiler schedule arguments. Got wait={wait} (need >= 0), warmup={warmup} (need >= 0), "
            f"active={active} (need > 0), repeat={repeat} (need >= 0), skip_first={skip_first} (need >= 0).")
    if warmup == 0:
        warnings.warn("Profiler won't be using warmup, this can skew profiler results", stacklevel=2)
    return schedule_fn


def _default_schedule_fn(_: int) -> ProfilerAction:
    """Without a schedule: record from start to stop."""
    return ProfilerAction.RECORD
