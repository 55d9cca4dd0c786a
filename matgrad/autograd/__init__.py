"""Automatic differentiation: the graph, the reverse pass, grad modes and gradient checks.

op          Op, the base of every op: one node, its forward and backward side by side
function    Function: PyTorch's user-facing autograd.Function (ctx, apply, once_differentiable)
hooks       Tensor.register_hook and register_post_accumulate_grad_hook
engine      the reverse pass (topological order, sum-to-shape, accumulation)
api         backward() and grad(), the user's entry points
grad_mode   no_grad, enable_grad, set_grad_enabled
gradcheck   finite-difference checks, first and second order
capture     capture(fn): a training step's forward and backward recorded once, then replayed exactly
functional  torch.autograd.functional: vjp, jvp, jacobian, hessian, vhp, hvp
anomaly_mode  detect_anomaly / set_detect_anomaly: forward traces and the backward's nan check
variable    Variable, PyTorch's deprecated alias of Tensor
graph       torch.autograd.graph: Node (next_functions, name(), node hooks), AccumulateGrad, multi-grad hooks
"""
from __future__ import annotations

from . import anomaly_mode, engine, functional, graph
from .anomaly_mode import detect_anomaly, is_anomaly_check_nan_enabled, is_anomaly_enabled, set_detect_anomaly
from .api import backward, grad
from .capture import CaptureError, CaptureFallback, capture
from .function import Function, FunctionCtx, once_differentiable
from .grad_mode import (
    enable_grad,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from .variable import Variable

__all__ = [
    "Function", "FunctionCtx", "once_differentiable", "backward", "grad", "no_grad", "enable_grad",
    "is_grad_enabled", "set_grad_enabled", "inference_mode", "is_inference_mode_enabled", "gradcheck",
    "gradgradcheck", "GradcheckError", "engine", "capture", "CaptureError", "CaptureFallback", "functional",
    "anomaly_mode", "detect_anomaly", "set_detect_anomaly", "is_anomaly_enabled", "is_anomaly_check_nan_enabled",
    "Variable", "graph", "profiler",
]
from . import profiler  # noqa: E402  (torch.autograd.profiler: the older profile / record_function API)
