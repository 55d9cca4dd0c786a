"""Anomaly detection: `detect_anomaly`, `set_detect_anomaly`, `is_anomaly_enabled` (PyTorch's).

While it is on, every node records the stack of the forward call that made it, and the reverse
pass checks each node's gradients for nan: the first node to return one raises PyTorch's
RuntimeError, and the forward traceback of the node that failed (for any error) is shown as
PyTorch's UserWarning. While it is off nothing is recorded and the engine asks one list per
backward (autograd/hook_providers.py, shared with the profiler): recording works by putting a
recording `Op.apply` in place, and the nan check among the engine's hook providers, only while
the mode is on.
"""
from __future__ import annotations

import os
import traceback
import warnings
from typing import Any, Callable

import numpy as np

from ..tensor import Tensor
from . import hook_providers

__all__ = ["detect_anomaly", "set_detect_anomaly", "is_anomaly_enabled", "is_anomaly_check_nan_enabled"]

#: [enabled, check_nan]: global, as PyTorch's (not per thread).
_state = [False, True]
_plain_apply: list[Any] = []  # Op.apply as it was before recording was put in place

_HERE = os.path.dirname(os.path.abspath(__file__))
_PKG = os.path.dirname(_HERE)
# Frames inside these stand for PyTorch's C++ (ops, the tensor, the engine): left out of the trace.
_HIDDEN = (os.path.join(_PKG, "ops") + os.sep, _HERE + os.sep, os.path.join(_PKG, "tensor.py"),
           os.path.join(_PKG, "_methods.py"))


def is_anomaly_enabled() -> bool:
    """True while anomaly detection is on."""
    return _state[0]


def is_anomaly_check_nan_enabled() -> bool:
    """True while anomaly detection also checks the backward's gradients for nan."""
    return _state[1]


def _set(mode: bool, check_nan: bool) -> None:
    _state[0], _state[1] = bool(mode), bool(check_nan)
    if mode:  # the engine's per-backward check: its nan check wraps each backward's per-node hook
        hook_providers.add(checking_hook)
    else:
        hook_providers.remove(checking_hook)
    from .op import Op  # (op sits beside this module; imported late so either may load first)

    if mode and not _plain_apply:
        plain = Op.__dict__["apply"]
        _plain_apply.append(plain)

        def apply(cls: type, *tensors: Any, **params: Any) -> Any:
            out = plain.__func__(cls, *tensors, **params)
            fn = out.grad_fn if isinstance(out, Tensor) else None
            if fn is not None and getattr(fn, "_anomaly_trace", None) is None:
                fn._anomaly_trace = traceback.extract_stack()[:-1]
            return out

        Op.apply = classmethod(apply)  # type: ignore[method-assign,assignment]
    elif not mode and _plain_apply:
        plain = _plain_apply.pop()
        if getattr(Op.__dict__["apply"], "__func__", None) is not plain.__func__:  # ours (the ONNX tracer may
            Op.apply = plain  # type: ignore[method-assign]  # have put its own on top and restores it itself)


class detect_anomaly:
    """Context manager turning anomaly detection on (PyTorch's; it warns that it is slow)."""

    def __init__(self, check_nan: bool = True) -> None:
        self.prev = _state[0]
        self.check_nan = check_nan
        self.prev_check_nan = _state[1]
        warnings.warn(
            "Anomaly Detection has been enabled. This mode will increase the runtime and should only be enabled "
            "for debugging.",
            stacklevel=2,
        )

    def __enter__(self) -> None:
        _set(True, self.check_nan)

    def __exit__(self, *args: object) -> None:
        _set(self.prev, self.prev_check_nan)


class set_detect_anomaly:
    """Turn anomaly detection on or off now (also a context manager that restores it on exit)."""

    def __init__(self, mode: bool, check_nan: bool = True) -> None:
        self.prev, self.prev_check_nan = _state[0], _state[1]
        _set(mode, check_nan)

    def __enter__(self) -> None:
        pass

    def __exit__(self, *args: object) -> None:
        _set(self.prev, self.prev_check_nan)


def node_name(node: Any) -> str:
    """The node's name as PyTorch shows it: 'MulBackward0', or 'MyFunctionBackward' for an autograd.Function."""
    return node.name()


def checking_hook(inner: Callable[..., Any] | None) -> Callable[..., Any] | None:
    """The engine's per-node hook with the nan check added (when check_nan is on); `inner` runs after."""
    if not _state[1]:
        return inner

    def hook(node: Any, dy: Any, grads: tuple) -> None:
        for i, g in enumerate(grads):
            if g is None:
                continue
            arr = g.array if isinstance(g, Tensor) else g
            if arr.dtype.kind in "fc" and bool(np.isnan(arr).any()):  # (NumPy hands a device array to its library)
                raise RuntimeError(f"Function '{node_name(node)}' returned nan values in its {i}th output.")
        if inner is not None:
            inner(node, dy, grads)
    return hook


def report(node: Any) -> None:
    """Show where `node`'s forward ran, as PyTorch's warning, when its backward failed."""
    if node is None:
        return
    stack = getattr(node, "_anomaly_trace", None)
    name = node_name(node)
    if stack is None:
        warnings.warn(f"Error detected in {name}. No forward pass information available. Enable detect "
                      "anomaly during forward pass for more information.", stacklevel=3)
        return
    frames = [f for f in stack if not f.filename.startswith(_HIDDEN)]
    text = "".join(traceback.format_list(frames))
    warnings.warn(f"Error detected in {name}. Traceback of forward call that caused the error:\n{text}",
                  stacklevel=3)
