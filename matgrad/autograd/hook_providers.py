"""Who listens to every node of a backward: anomaly detection's nan check, the profiler's timings.

The engine asks `providers` once per backward: while no one listens it is empty, so a plain
backward pays one truth test and nothing per node. Each provider takes the per-node hook the
backward was given (engine.StepHook, or None) and returns the hook to use, usually wrapping it;
they are applied in the order they were added, so the last one added runs first.
"""
from __future__ import annotations

from typing import Any, Callable

#: Hook = Callable[[node, dy, grads], None]; a provider maps the hook given (or None) to the hook to use.
Provider = Callable[[Any], Any]

providers: list[Provider] = []


def add(provider: Provider) -> None:
    """Have `provider` wrap the per-node hook of every backward from now on (once, however often added)."""
    if not any(p is provider for p in providers):
        providers.append(provider)


def remove(provider: Provider) -> None:
    """Stop calling `provider` (nothing happens if it was not added)."""
    providers[:] = [p for p in providers if p is not provider]


def wrap(hook: Callable[..., Any] | None) -> Callable[..., Any] | None:
    """The per-node hook for one backward: `hook` wrapped by every provider now listening."""
    for provide in list(providers):
        hook = provide(hook)
    return hook
