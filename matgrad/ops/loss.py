"""Fused losses: log-softmax + NLL, sigmoid + BCE, and BCE on probabilities, each one op.

Each op takes the reduction too, so the loss is one node: `reduction` is 'none'
(per-element loss), 'sum', or 'mean' (sum divided by `denom`, which the caller computes
with PyTorch's rules, e.g. the summed class weights of the targets for cross-entropy).
The class-index, weight, label-smoothing and ignore_index bookkeeping is done once by the
caller into a coefficient array A (same shape as the logits): every such loss is then
L = -Σ_c A_c · log p_c per element.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd.op import Op
from ..devices import backend_of
from ..kernels import ignoring

#: torch's floor for p·(1-p) in BCE's gradient: keeps it finite at p = 0 or 1.
BCE_EPS = 1e-12


def _array(v: Any, dtype: Any) -> Any:
    """A 0-d array of `dtype`: NumPy's reductions give a scalar; a device's give an array already."""
    if isinstance(v, (np.generic, np.ndarray, float)):
        return np.asarray(v, dtype=dtype)
    return v if v.dtype == dtype else v.astype(dtype)  # a device's 0-d array


def _reduce(elem, reduction, denom):
    if reduction == "none":
        return elem
    total = np.add.reduce(elem, axis=None)
    if reduction == "sum":
        return _array(total, total.dtype)
    if not denom:  # all targets ignored (or no elements): nan, as torch
        return np.full_like(elem, np.nan, shape=())
    return _array(total / denom, elem.dtype)


def _upstream(fn, dy):
    """dL/d(element loss): dy itself, dy spread over the elements, or dy / denom."""
    if fn.reduction == "mean":
        # nothing counted (every target ignored): the loss is nan but, as torch, the gradient is 0
        return dy * (1.0 / fn.denom) if fn.denom else dy * 0.0
    return dy


def class_coef(x, t, weight, ignore_index, label_smoothing, axis, name):
    """A (x's shape) and the 'mean' divisor from the targets t, as PyTorch computes them.

    t: class indices (x's shape without `axis`; ignore_index skipped) or class probabilities (x's
    shape, floats, divisor N); weight: one per class or None. The caller checked the shapes.
    """
    n_cls = x.shape[axis]
    wshape = [1] * x.ndim
    wshape[axis] = n_cls
    if t.dtype.kind == "f":  # class probabilities
        q = t.astype(x.dtype, copy=False)
        if label_smoothing > 0:
            q = q * (1 - label_smoothing) + label_smoothing / n_cls
        coef = q * weight.reshape(wshape) if weight is not None else q.astype(x.dtype, copy=True)
        return coef, x.size / n_cls
    valid = t != ignore_index
    tt = np.where(valid, t, 0).astype(np.int64)
    bad = (tt < 0) | (tt >= n_cls)
    if bad.any():
        raise IndexError(
            f"{name}: target {int(tt[bad].ravel()[0])} is out of bounds for {n_cls} classes "
            f"(targets must be in 0..{n_cls - 1}, or ignore_index={ignore_index})"
        )
    w_t = (weight[tt] if weight is not None else np.ones_like(tt, dtype=x.dtype)) * valid
    denom = float(np.sum(w_t, dtype=np.float64))
    coef = np.zeros_like(x)
    np.put_along_axis(coef, np.expand_dims(tt, axis), np.expand_dims(w_t * (1 - label_smoothing), axis), axis)
    if label_smoothing > 0:
        per_class = weight.reshape(wshape) if weight is not None else np.ones_like(x, shape=wshape)
        spread = per_class * (label_smoothing / n_cls)
        coef += spread * np.expand_dims(valid, axis)
    return coef, denom


class CrossEntropy(Op):
    """L = -Σ_c A_c · log_softmax(x)_c per element, reduced.  dx = g · (p·Σ_c A_c - A), p = softmax(x).

    Shapes: x and A (N, C, d1..) with classes on `axis` (or (C,) with axis 0); the
    element loss (N, d1..). With A one-hot this is log_softmax + nll_loss in one op.
    Given the targets as a second input, the op makes A and the divisor from them (class_coef),
    so running it again on other targets needs nothing else (autograd.capture replays it so).
    """

    def forward(self, x, target=None, coef=None, axis=1, reduction="mean", denom=None, weight=None,
                ignore_index=-100, label_smoothing=0.0):
        self.targeted = target is not None
        if self.targeted:
            coef, denom = class_coef(x, target, weight, ignore_index, label_smoothing, axis, "cross_entropy")
        self.coef, self.axis, self.reduction, self.denom = coef, axis, reduction, denom
        logp = x - np.max(x, axis=axis, keepdims=True)
        logp -= np.log(np.sum(np.exp(logp), axis=axis, keepdims=True))
        self.logp = logp
        self.coef_sum = np.sum(coef, axis=axis, keepdims=True)
        return _reduce(-np.sum(coef * logp, axis=axis), reduction, denom)

    def backward(self, dy):
        xp = self.xp
        g = _upstream(self, dy)
        if self.reduction == "none":
            g = xp.expand_dims(g, self.axis)
        if xp.plain:
            p = np.exp(self.logp)
        else:  # under create_graph p must be a recorded function of x
            from .softmax import softmax

            p = softmax(self.inputs[0], dim=self.axis)
        dx = (p * self.coef_sum - self.coef) * g
        return (dx, None) if self.targeted else dx

    def release(self) -> None:
        super().release()
        self.logp = self.coef = self.coef_sum = None


class NLL(Op):
    """L = -Σ_c A_c · x_c per element (x = log-probabilities), reduced.  dx = -A · g.

    Given the class indices as a second input, the op makes A and the divisor from them (class_coef).
    """

    def forward(self, x, target=None, coef=None, axis=1, reduction="mean", denom=None, weight=None,
                ignore_index=-100):
        self.targeted = target is not None
        if self.targeted:
            coef, denom = class_coef(x, target, weight, ignore_index, 0.0, axis, "nll_loss")
        self.coef, self.axis, self.reduction, self.denom = coef, axis, reduction, denom
        return _reduce(-np.sum(coef * x, axis=axis), reduction, denom)

    def backward(self, dy):
        g = _upstream(self, dy)
        if self.reduction == "none":
            g = self.xp.expand_dims(g, self.axis)
        dx = -self.coef * g
        return (dx, None) if self.targeted else dx


class BinaryCrossEntropy(Op):
    """L = -w·(y·ln p + (1-y)·ln(1-p)), reduced.  dp = g·w·(p - y)/(p·(1-p)), dy = g·w·(ln(1-p) - ln p).

    With PyTorch's clamps: L uses max(ln p, -100) and max(ln(1-p), -100), dp divides by
    max(p·(1-p), 1e-12), dy = g·w·(max(ln(1-p), -100) - max(ln p, -100)).
    The clamps are PyTorch's: a saturated sigmoid (p exactly 0 or 1) gives a finite loss
    and a finite gradient. p, y and w share a broadcast shape.
    """

    @ignoring(divide="ignore", invalid="ignore")  # ln 0 = -inf is clamped below; p outside [0, 1] gives nan,
    def forward(self, p, y, weight, reduction, denom):  # which the caller checks
        self.weight, self.reduction, self.denom = weight, reduction, denom
        # out= keeps 0-d results arrays, so the in-place steps below work for any shape
        # np.empty is NumPy's C function; empty_like dispatches (to the device's) through a Python wrapper
        host = type(p) is np.ndarray
        log_p = np.log(p, out=np.empty(p.shape, p.dtype) if host else np.empty_like(p))
        log_1mp = np.log1p(-p, out=np.empty(p.shape, p.dtype) if host else np.empty_like(p))
        np.maximum(log_p, -100, out=log_p)
        np.maximum(log_1mp, -100, out=log_1mp)
        log_1mp *= y - 1
        log_p *= y
        elem = np.subtract(log_1mp, log_p, out=log_1mp)  # (y-1)·ln(1-p) - y·ln p
        if weight is not None:
            elem = elem * weight
        return _reduce(elem, reduction, denom)

    def backward(self, dy):
        xp = self.xp
        p, y = self.inputs
        g = _upstream(self, dy)
        if self.weight is not None:
            g = g * self.weight
        dp = dt = None
        if self.needs_input_grad[0]:
            if xp.plain:  # the same formula, with fewer temporaries
                var = p * (1 - p)
                np.maximum(var, BCE_EPS, out=var)
                dp = p - y
                dp /= var
                dp = np.multiply(dp, g, out=dp) if g.shape in ((), dp.shape) else dp * g
            else:
                dp = g * (p - y) / xp.maximum(p * (1 - p), BCE_EPS)
        if self.needs_input_grad[1]:
            with np.errstate(divide="ignore"):
                dt = g * (xp.maximum(xp.log(1 - p), -100) - xp.maximum(xp.log(p), -100))
        return dp, dt


class BCEWithLogits(Op):
    """L = w·((1-y)·x + (1 + (q-1)·y)·softplus(-x)), reduced.  dx = g·w·((q·y + 1 - y)·σ(x) - q·y).

    q = pos_weight (1 if None); dy = g·w·(-x + (q-1)·softplus(-x)).
    softplus(-x) = ln(1 + e⁻ˣ) = max(-x, 0) + ln(1 + e^-|x|): exact for logits of ±1000.
    """

    def forward(self, x, y, weight, pos_weight, reduction, denom):
        self.weight, self.pos_weight, self.reduction, self.denom = weight, pos_weight, reduction, denom
        sp = backend_of(x).namespace.softplus(-x)  # the kernel of x's device
        if pos_weight is None:
            elem = (1 - y) * x + sp
        else:
            elem = (1 - y) * x + (1 + (pos_weight - 1) * y) * sp
        if weight is not None:
            elem = elem * weight
        return _reduce(elem, reduction, denom)

    def backward(self, dy):
        xp = self.xp
        x, y = self.inputs
        q = self.pos_weight
        g = _upstream(self, dy)
        if self.weight is not None:
            g = g * self.weight
        dx = dt = None
        if self.needs_input_grad[0]:
            s = xp.exp(-xp.softplus(-x))  # σ(x) = e^(-softplus(-x)): no overflow for any x
            dx = g * (s - y) if q is None else g * ((q * y + 1 - y) * s - q * y)
        if self.needs_input_grad[1]:
            sp = xp.softplus(-x)
            dt = g * (-x) if q is None else g * ((q - 1) * sp - x)
        return dx, dt
