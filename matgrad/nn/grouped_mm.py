"""grouped_mm: one matrix product per group (a Mixture-of-Experts layer's experts), as torch.nn.functional's.

Composed of matmul, slicing and cat/stack, so gradients of every order are theirs. Differences from
torch 2.13's CPU kernel: float64 is accepted as well (torch takes float16, bfloat16 and float32; matgrad
has no bfloat16); there is no 16-byte stride rule; output rows or columns past offs[-1], which torch
leaves uninitialised, are zeros (and get zero gradient); and offs that decrease, run past the operand or,
with two 2-D operands, differing contraction lengths are errors where torch reads out of bounds.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..devices import to_host
from ..ops.join import cat, stack
from ..ops.matmul import matmul
from ..tensor import Tensor, as_tensor

_DTYPES = (np.float16, np.float32, np.float64)


def _check_operand(name: str, t: Tensor) -> None:
    if t.ndim not in (2, 3):
        raise RuntimeError(f"grouped_mm: {name} has to be 2 or 3d, got shape {tuple(t.shape)}")
    if t.dtype not in _DTYPES:
        raise RuntimeError(f"grouped_mm: expected {name} to be a float16, float32 or float64 matrix, got {t.dtype}")


def _group_bounds(offs: Any, groups: int | None, length: int, what: str) -> list[tuple[int, int]]:
    """[(start, end)] of each group along the jagged dimension (of size `length`) from offs' group ends."""
    if not isinstance(offs, Tensor):
        raise TypeError(f"grouped_mm: offs must be a 1-D int32 Tensor, got {type(offs).__name__}")
    if offs.ndim != 1:
        raise RuntimeError(f"grouped_mm: offs has to be 1D, got shape {tuple(offs.shape)}")
    if offs.dtype != np.int32:
        raise RuntimeError(f"grouped_mm: offsets have to be int32, got {offs.dtype}; use offs.to(matgrad.int32)")
    if groups is not None and offs.shape[0] != groups:
        raise RuntimeError(f"grouped_mm: matrix batch sizes have to match: offs has {offs.shape[0]} groups, "
                           f"the 3-D operand {groups}")
    ends = [int(e) for e in to_host(offs.array)]
    starts = [0] + ends[:-1]
    if any(e < s for s, e in zip(starts, ends)) or (ends and (ends[0] < 0 or ends[-1] > length)):
        raise RuntimeError(f"grouped_mm: offs must be non-decreasing group ends within [0, {length}] (the length "
                           f"of {what}), got {ends}")
    return list(zip(starts, ends))


def grouped_mm(mat_a: Any, mat_b: Any, *, offs: Any = None, bias: Any = None, out_dtype: Any = None) -> Tensor:
    """Products of matching groups of mat_a and mat_b; offs (1-D int32) holds the end of each group.

    3-D × 3-D (G, M, K) × (G, K, N) → (G, M, N), without offs: a batched matmul.
    2-D × 3-D (M, K) × (G, K, N) → (M, N): rows offs[g-1]:offs[g] of mat_a times mat_b[g].
    3-D × 2-D (G, M, K) × (K, N) → (M, N): mat_a[g] times columns offs[g-1]:offs[g] of mat_b.
    2-D × 2-D (M, K) × (K, N) → (G, M, N): the K-slice offs[g-1]:offs[g] of both (a weight gradient).
    Rows/columns past offs[-1] of the output are 0. bias: not supported, as in torch 2.13.
    """
    a, b = as_tensor(mat_a), as_tensor(mat_b)
    _check_operand("mat_a", a)
    _check_operand("mat_b", b)
    if b.dtype != a.dtype:
        raise RuntimeError(f"grouped_mm: mat_a and mat_b must have the same dtype, got {a.dtype} and {b.dtype}")
    if out_dtype is not None and out_dtype != a.dtype:
        raise RuntimeError(f"grouped_mm: output dtype must match mat_a's dtype ({a.dtype}), got {out_dtype} "
                           "(torch's float32 output for bfloat16 input does not apply: matgrad has no bfloat16)")
    if bias is not None:
        raise RuntimeError("grouped_mm: bias is not supported yet (as in torch 2.13); add it to the result instead")
    if (a.ndim == 2 or b.ndim == 2) != (offs is not None):
        raise RuntimeError("grouped_mm: have to provide offsets if there is a 2d matrix, or no offset if both "
                           "matrices are 3d")
    if a.shape[-1] != b.shape[-2]:
        raise RuntimeError(f"grouped_mm: contraction dimension of mat_a and mat_b must match, got mat_a "
                           f"{tuple(a.shape)} and mat_b {tuple(b.shape)}")
    if a.ndim == 3 and b.ndim == 3:
        if a.shape[0] != b.shape[0]:
            raise RuntimeError(f"grouped_mm: batched dimension has to match, got {a.shape[0]} and {b.shape[0]}")
        return matmul(a, b)
    if a.ndim == 2 and b.ndim == 3:  # jagged rows of mat_a (tokens routed to each expert)
        rows = a.shape[0]
        bounds = _group_bounds(offs, b.shape[0], rows, "mat_a's rows")
        parts = [matmul(a[s:e], b[g]) for g, (s, e) in enumerate(bounds)]
        used = bounds[-1][1] if bounds else 0
        parts.append(a.new_zeros((rows - used, b.shape[2])))
        return cat(parts, 0)
    if a.ndim == 3:  # 3-D × 2-D: jagged columns of mat_b
        cols = b.shape[1]
        bounds = _group_bounds(offs, a.shape[0], cols, "mat_b's columns")
        parts = [matmul(a[g], b[:, s:e]) for g, (s, e) in enumerate(bounds)]
        used = bounds[-1][1] if bounds else 0
        parts.append(a.new_zeros((a.shape[1], cols - used)))
        return cat(parts, 1)
    # 2-D × 2-D: jagged contraction; one (M, N) product per group
    bounds = _group_bounds(offs, None, a.shape[1], "the contraction dimension")
    if not bounds:
        return a.new_zeros((0, a.shape[0], b.shape[1]))
    return stack([matmul(a[:, s:e], b[s:e]) for s, e in bounds], 0)
