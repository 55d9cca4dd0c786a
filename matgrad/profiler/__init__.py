"""torch.profiler's counterpart: where a training step's time goes, op by op.

profiler   profile (the context manager), ProfilerActivity, tensorboard_trace_handler
schedule   ProfilerAction and schedule(wait, warmup, active, repeat, skip_first)

record_function, the events and their table live in matgrad.autograd (profiler_session,
profiler_util), as PyTorch's do in torch.autograd.profiler, which `matgrad.autograd.profiler`
mirrors with the older API.
"""
from __future__ import annotations

from ..autograd.profiler_session import record_function
from ..autograd.profiler_util import DeviceType, EventList, FunctionEvent, FunctionEventAvg
from .profiler import ProfilerActivity, kineto_available, profile, supported_activities, tensorboard_trace_handler
from .schedule import ProfilerAction, schedule

__all__ = [
    "profile", "schedule", "supported_activities", "tensorboard_trace_handler", "ProfilerAction",
    "ProfilerActivity", "kineto_available", "DeviceType", "record_function", "EventList", "FunctionEvent",
    "FunctionEventAvg",
]
