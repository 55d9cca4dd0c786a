"""torch's older top-level linear algebra, kept for the programs that still call it: chain_matmul, logdet,
matrix_exp, matrix_power, pinverse, svd (U, S, V), cholesky. Each is a thin layer on matgrad.linalg, so its
values, errors and gradients are linalg's; the deprecated ones warn as PyTorch does.
"""
from __future__ import annotations

import warnings
from collections import namedtuple
from typing import Any

import numpy as np

from . import linalg
from .ops.binary import where
from .ops.shape import clone, transpose
from .tensor import Tensor, as_tensor

__all__ = ["chain_matmul", "cholesky", "logdet", "matrix_exp", "matrix_power", "pinverse", "svd"]

SvdResult = namedtuple("svd", ["U", "S", "V"])


def chain_matmul(*matrices: Any) -> Tensor:
    """The product of the 2-D tensors, left to right (deprecated: linalg.multi_dot takes a list)."""
    warnings.warn("torch.chain_matmul is deprecated and will be removed in a future PyTorch release. Use "
                  "torch.linalg.multi_dot instead, which accepts a list of two or more tensors rather than "
                  "multiple parameters.", UserWarning, stacklevel=2)
    if not matrices:
        raise RuntimeError("chain_matmul(): Expected one or more matrices")
    ts = [as_tensor(m) for m in matrices]
    for i, t in enumerate(ts):
        if t.ndim != 2:
            raise RuntimeError(f"chain_matmul(): matrix {i} has {t.ndim} dimensions, expected 2 (shape {t.shape})")
    return clone(ts[0]) if len(ts) == 1 else linalg.multi_dot(ts)


def logdet(input: Any) -> Tensor:
    """ln det A of each square matrix: nan where det < 0, -inf where A is singular."""
    sign, logabs = linalg.slogdet(input)
    return where(sign < 0, np.nan, logabs)


def matrix_exp(A: Any) -> Tensor:
    """e^A of each square matrix (linalg.matrix_exp)."""
    return linalg.matrix_exp(A)


def matrix_power(input: Any, n: int) -> Tensor:
    """input to the integer power n (linalg.matrix_power)."""
    return linalg.matrix_power(input, n)


def pinverse(input: Any, rcond: float = 1e-15) -> Tensor:
    """The pseudoinverse, dropping singular values at or below rcond · σ_max (linalg.pinv's rtol)."""
    return linalg.pinv(input, rtol=rcond)


def svd(input: Any, some: bool = True, compute_uv: bool = True) -> SvdResult:
    """(U, S, V) with input = U diag(S) Vᵀ: V, not linalg.svd's Vh. some=False gives square U and V;
    compute_uv=False gives S and zero-filled U (m×m) and V (n×n), as PyTorch."""
    a = as_tensor(input)
    if not compute_uv:
        s = linalg.svdvals(a)
        xp = linalg.backend_of(a.array).xp
        m, n = a.shape[-2:]
        zeros = [Tensor._make(xp.zeros(a.shape[:-2] + (k, k), dtype=s.array.dtype), None, False) for k in (m, n)]
        return SvdResult(zeros[0], s, zeros[1])
    u, s, vh = linalg.svd(a, full_matrices=not some)
    return SvdResult(u, s, transpose(vh, -2, -1))


def cholesky(input: Any, upper: bool = False) -> Tensor:
    """The Cholesky factor L (A = L Lᵀ), or U = Lᵀ with upper=True (deprecated: linalg.cholesky)."""
    warnings.warn("torch.cholesky is deprecated in favor of torch.linalg.cholesky and will be removed in a future "
                  "PyTorch release.\nL = torch.cholesky(A)\nshould be replaced with\nL = torch.linalg.cholesky(A)\n"
                  "and\nU = torch.cholesky(A, upper=True)\nshould be replaced with\nU = torch.linalg.cholesky(A).mH\n"
                  "This transform will produce equivalent results for all valid (symmetric positive definite) "
                  "inputs.", UserWarning, stacklevel=2)
    return linalg.cholesky(input, upper=bool(upper))
