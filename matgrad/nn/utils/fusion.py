"""Fold an eval-mode BatchNorm into the Conv or Linear layer before it (inference only)."""
from __future__ import annotations

import copy
from typing import Any

import numpy as np

from ...tensor import Tensor
from ..parameter import Parameter


def _arr(t: Any) -> Any:
    return None if t is None else (t.array if isinstance(t, Tensor) else np.asarray(t))


def fuse_conv_bn_eval(conv: Any, bn: Any, transpose: bool = False) -> Any:
    """A copy of `conv` whose output equals bn(conv(x)) for eval-mode conv and bn."""
    if conv.training or bn.training:
        raise AssertionError("Fusion only for eval!")
    fused = copy.deepcopy(conv)
    fused.weight, fused.bias = fuse_conv_bn_weights(fused.weight, fused.bias, bn.running_mean, bn.running_var,
                                                    bn.eps, bn.weight, bn.bias, transpose)
    return fused


def fuse_conv_bn_weights(conv_w: Tensor, conv_b: Tensor | None, bn_rm: Tensor, bn_rv: Tensor, bn_eps: float,
                         bn_w: Tensor | None, bn_b: Tensor | None,
                         transpose: bool = False) -> tuple[Parameter, Parameter]:
    """(W', b') with W' = W·γ/√(var + eps) per output channel, b' = (b − mean)·γ/√(var + eps) + β.

    conv_w: (C_out, C_in/groups, *k), or (C_in, C_out/groups, *k) with transpose=True; the rest (C_out,).
    """
    w, rm, rv = _arr(conv_w), _arr(bn_rm), _arr(bn_rv)
    b = np.zeros_like(rm) if conv_b is None else _arr(conv_b)
    gamma = np.ones_like(rm) if bn_w is None else _arr(bn_w)
    beta = np.zeros_like(rm) if bn_b is None else _arr(bn_b)
    rsqrt = 1 / np.sqrt(rv + bn_eps)
    shape = ([1, -1] if transpose else [-1, 1]) + [1] * (w.ndim - 2)
    fused_w = (w * (gamma * rsqrt).reshape(shape)).astype(w.dtype)
    fused_b = ((b - rm) * rsqrt * gamma + beta).astype(b.dtype if conv_b is not None else w.dtype)
    return (Parameter(fused_w, conv_w.requires_grad),
            Parameter(fused_b, conv_b.requires_grad if conv_b is not None else conv_w.requires_grad))


def fuse_linear_bn_eval(linear: Any, bn: Any) -> Any:
    """A copy of `linear` whose output equals bn(linear(x)) for eval-mode linear and bn."""
    if linear.training or bn.training:
        raise AssertionError("Fusion only for eval!")
    if not (linear.out_features == bn.num_features or bn.num_features == 1):
        raise AssertionError("To fuse, linear.out_features == bn.num_features or bn.num_features == 1")
    fused = copy.deepcopy(linear)
    fused.weight, fused.bias = fuse_linear_bn_weights(fused.weight, fused.bias, bn.running_mean, bn.running_var,
                                                      bn.eps, bn.weight, bn.bias)
    return fused


def fuse_linear_bn_weights(linear_w: Tensor, linear_b: Tensor | None, bn_rm: Tensor, bn_rv: Tensor,
                           bn_eps: float, bn_w: Tensor | None, bn_b: Tensor | None) -> tuple[Parameter, Parameter]:
    """(W', b') with W' = W·s[:, None], b' = (b − mean)·s + β, s = γ/√(var + eps); W: (out, in)."""
    w, rm, rv = _arr(linear_w), _arr(bn_rm), _arr(bn_rv)
    b = np.zeros_like(rm) if linear_b is None else _arr(linear_b)
    gamma = np.ones_like(rm) if bn_w is None else _arr(bn_w)
    beta = np.zeros_like(rm) if bn_b is None else _arr(bn_b)
    scale = gamma * (1 / np.sqrt(rv + bn_eps))
    fused_w = (w * scale[..., None]).astype(w.dtype)
    fused_b = ((b - rm) * scale + beta).astype(b.dtype if linear_b is not None else w.dtype)
    return (Parameter(fused_w, linear_w.requires_grad),
            Parameter(fused_b, linear_b.requires_grad if linear_b is not None else linear_w.requires_grad))
