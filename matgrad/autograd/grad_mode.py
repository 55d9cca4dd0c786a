"""Whether operations record the graph: `no_grad`, `enable_grad`, `is_grad_enabled`."""
from __future__ import annotations

import functools
from typing import Any, Callable, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


class _State:
    enabled = True


_state = _State()


def is_grad_enabled() -> bool:
    """True when new operations are recorded for backward."""
    return _state.enabled


class _GradMode:
    """Context manager and decorator that sets grad mode and restores it after."""

    mode = True

    def __enter__(self) -> None:
        self._prev = _state.enabled
        _state.enabled = self.mode

    def __exit__(self, *exc: object) -> None:
        _state.enabled = self._prev

    def __call__(self, fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self.__class__():
                return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


class no_grad(_GradMode):  # noqa: N801 - PyTorch's name
    """Record nothing inside: `with matgrad.no_grad():` or `@matgrad.no_grad()`."""

    mode = False


class enable_grad(_GradMode):  # noqa: N801 - PyTorch's name
    """Record again inside a `no_grad` block."""

    mode = True


class set_grad_enabled(_GradMode):  # noqa: N801 - PyTorch's name
    """Set recording on or off: at once as a call, or for a block as `with set_grad_enabled(False):`."""

    def __init__(self, mode: bool) -> None:
        self.mode = bool(mode)
        self._prev = _state.enabled
        _state.enabled = self.mode

    def __enter__(self) -> None:
        pass  # already set by __init__; __exit__ restores what was there before

    def __call__(self, fn: F) -> F:
        _state.enabled = self._prev  # used as a decorator: record only while fn runs

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with set_grad_enabled(self.mode):
                return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]
