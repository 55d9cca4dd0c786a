"""Bit shifts of integer tensors: << and >> (bitwise_left_shift, bitwise_right_shift); no gradient.

(and, or, xor and not are in compare.py, beside the logical ops.) A shift by a negative amount or by the
dtype's width or more gives what PyTorch gives rather than C's undefined result: 0, or for >> of a
negative number, −1.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..tensor import ShapeError, Tensor, as_tensor
from .arithmetic import fit_int, promote

__all__ = ["bitwise_left_shift", "bitwise_right_shift"]


def _shift(op: str, a: Any, b: Any, left: bool) -> Tensor:
    if type(a) is int or type(b) is int:  # an int that does not fit an integer tensor wraps into it, as PyTorch
        a, b = fit_int(op, a, b)
    ta = as_tensor(a, b if isinstance(b, Tensor) else None)
    tb = as_tensor(b, ta)
    ta, tb = promote(ta, tb)
    x, s = ta.array, tb.array
    if x.dtype.kind not in "iu":
        raise NotImplementedError(
            f"{op}: not implemented for dtype {ta.dtype}; shifts take integer tensors (convert with .long())")
    try:
        x, s = np.broadcast_arrays(x, s)
    except ValueError:
        raise ShapeError(f"{op}: shapes {ta.shape} and {tb.shape} cannot be broadcast together (compare them from "
                         "the right: each pair of sizes must be equal or one of them 1)") from None
    outside = (s < 0) | (s >= 8 * x.dtype.itemsize)
    by = np.where(outside, 0, s).astype(x.dtype, copy=False)
    if left:
        out = np.where(outside, 0, np.left_shift(x, by))
    else:
        out = np.where(outside, np.where(x < 0, -1, 0), np.right_shift(x, by))
    return Tensor._make(out.astype(x.dtype, copy=False), None, False)


def bitwise_left_shift(input: Any, other: Any) -> Tensor:
    """input << other: input · 2^other in input's integer dtype (0 when other < 0 or ≥ the dtype's bits)."""
    return _shift("bitwise_left_shift", input, other, left=True)


def bitwise_right_shift(input: Any, other: Any) -> Tensor:
    """input >> other: floor(input / 2^other) (when other < 0 or ≥ the dtype's bits: 0, or −1 if input < 0)."""
    return _shift("bitwise_right_shift", input, other, left=False)
