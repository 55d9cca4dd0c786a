"""Automatic differentiation: the graph, the reverse pass, grad modes and gradient checks.

function    Function: one node, an op's forward and backward side by side
engine      the reverse pass (topological order, sum-to-shape, accumulation)
api         backward() and grad(), the user's entry points
grad_mode   no_grad, enable_grad, set_grad_enabled
gradcheck   finite-difference checks, first and second order
"""
from __future__ import annotations

from . import engine
from .api import backward, grad
from .function import Function
from .grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .gradcheck import GradcheckError, gradcheck, gradgradcheck

__all__ = [
    "Function", "backward", "grad", "no_grad", "enable_grad", "is_grad_enabled",
    "set_grad_enabled", "gradcheck", "gradgradcheck", "GradcheckError", "engine",
]
