"""torch's older top-level linear algebra, kept for the programs that still call it: chain_matmul, logdet,
matrix_exp, matrix_power, pinverse, svd (U, S, V), cholesky, lu, lu_solve, lu_unpack, qr (some=), triangular_solve
and orgqr. Each is a thin layer on matgrad.linalg, so its
values, errors and gradients are linalg's; the deprecated ones warn as PyTorch does.
"""
from __future__ import annotations

import warnings
from collections import namedtuple
from typing import Any

import numpy as np

from . import linalg
from .ops.binary import where
from .ops.matmul import check_same_dtype
from .ops.shape import clone, transpose
from .tensor import Tensor, as_tensor

__all__ = ["chain_matmul", "cholesky", "logdet", "matrix_exp", "matrix_power", "pinverse", "svd", "lu", "lu_solve",
           "lu_unpack", "qr", "triangular_solve", "orgqr"]

SvdResult = namedtuple("svd", ["U", "S", "V"])
LuUnpackResult = namedtuple("lu_unpack", ["P", "L", "U"])
QrResult = namedtuple("qr", ["Q", "R"])
TriangularSolveResult = namedtuple("triangular_solve", ["solution", "cloned_coefficient"])


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
    if len(ts) == 1:
        return clone(ts[0])
    check_same_dtype("chain_matmul", *((f"matrices[{i}]", t) for i, t in enumerate(ts)))
    return linalg.multi_dot(ts)


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


def lu(A: Any, pivot: bool = True, get_infos: bool = False) -> tuple[Tensor, ...]:
    """(LU, pivots), or (LU, pivots, infos) with get_infos (deprecated: linalg.lu_factor / lu_factor_ex). Like
    torch's, it does not raise for a singular A."""
    warnings.warn("torch.lu is deprecated in favor of torch.linalg.lu_factor / torch.linalg.lu_factor_ex and will be "
                  "removed in a future PyTorch release.\nLU, pivots = torch.lu(A, compute_pivots)\nshould be replaced "
                  "with\nLU, pivots = torch.linalg.lu_factor(A, compute_pivots)\nand\nLU, pivots, info = torch.lu(A, "
                  "compute_pivots, get_infos=True)\nshould be replaced with\nLU, pivots, info = "
                  "torch.linalg.lu_factor_ex(A, compute_pivots)", UserWarning, stacklevel=2)
    out = linalg.lu_factor_ex(A, pivot=pivot)
    return tuple(out) if get_infos else (out.LU, out.pivots)


def lu_solve(b: Any, LU_data: Any, LU_pivots: Any) -> Tensor:
    """X with A X = b, A given by lu's (LU_data, LU_pivots) (deprecated: linalg.lu_solve, arguments reversed)."""
    warnings.warn("torch.lu_solve is deprecated in favor of torch.linalg.lu_solveand will be removed in a future "
                  "PyTorch release.\nNote that torch.linalg.lu_solve has its arguments reversed.\nX = "
                  "torch.lu_solve(B, LU, pivots)\nshould be replaced with\nX = torch.linalg.lu_solve(LU, pivots, B)",
                  UserWarning, stacklevel=2)
    return linalg.lu_solve(LU_data, LU_pivots, b)


def lu_unpack(LU_data: Any, LU_pivots: Any, unpack_data: bool = True, unpack_pivots: bool = True) -> LuUnpackResult:
    """(P, L, U) with A = P L U out of lu_factor's (LU, pivots); L and U carry LU's gradient. What is not unpacked
    comes back empty (shape (0,)), as torch."""
    lu_t = linalg._floating("torch.lu_unpack", LU_data)
    if lu_t.ndim < 2:
        raise ValueError(f"torch.lu_unpack: LU_data must have at least 2 dimensions, got shape {lu_t.shape}")
    xp = linalg._xp(lu_t)
    empty = linalg._const(xp.zeros((0,), dtype=lu_t.array.dtype))
    p = empty
    if unpack_pivots:
        p = linalg._const(linalg._pivots_matrix("torch.lu_unpack", LU_pivots, lu_t.shape[-2], lu_t.array.dtype))
    low, up = linalg._unpack(lu_t) if unpack_data else (empty, empty)
    return LuUnpackResult(p, low, up)


def qr(input: Any, some: bool = True) -> QrResult:
    """(Q, R) with input = Q R: reduced (some=True) or complete (deprecated: linalg.qr with mode)."""
    warnings.warn("torch.qr is deprecated in favor of torch.linalg.qr and will be removed in a future PyTorch "
                  "release.\nThe boolean parameter 'some' has been replaced with a string parameter 'mode'.\nQ, R = "
                  "torch.qr(A, some)\nshould be replaced with\nQ, R = torch.linalg.qr(A, 'reduced' if some else "
                  "'complete')", UserWarning, stacklevel=2)
    q, r = linalg.qr(input, "reduced" if some else "complete")
    return QrResult(q, r)


def triangular_solve(b: Any, A: Any, upper: bool = True, transpose: bool = False,
                     unitriangular: bool = False) -> TriangularSolveResult:
    """(X, a copy of A broadcast to the batch) with A X = b (Aᵀ X = b with transpose), A triangular (only its upper
    or lower part read) (deprecated: linalg.solve_triangular, arguments reversed). The copy passes its gradient
    straight to A, as torch's."""
    warnings.warn("torch.triangular_solve is deprecated in favor of torch.linalg.solve_triangularand will be removed "
                  "in a future PyTorch release.\ntorch.linalg.solve_triangular has its arguments reversed and does not "
                  "return a copy of one of the inputs.\nX = torch.triangular_solve(B, A).solution\nshould be replaced "
                  "with\nX = torch.linalg.solve_triangular(A, B).", UserWarning, stacklevel=2)
    from .ops.shape import broadcast_to

    bt, at = as_tensor(b), as_tensor(A)
    if bt.ndim < 2:
        raise RuntimeError(f"torch.triangular_solve: Expected b to have at least 2 dimensions, but it has {bt.ndim} "
                           "dimensions instead")
    if at.ndim < 2:
        raise RuntimeError(f"torch.triangular_solve: Expected A to have at least 2 dimensions, but it has {at.ndim} "
                           "dimensions instead")
    try:
        batch = np.broadcast_shapes(bt.shape[:-2], at.shape[:-2])
    except ValueError:
        raise ValueError(f"torch.triangular_solve: the batch dims of b {bt.shape} and A {at.shape} cannot be "
                         "broadcast") from None
    a_used = linalg._mT(at) if transpose else at
    x = linalg.solve_triangular(a_used, bt, upper=bool(upper) != bool(transpose), unitriangular=unitriangular)
    return TriangularSolveResult(x, clone(broadcast_to(at, tuple(batch) + at.shape[-2:])))


def orgqr(input: Any, tau: Any) -> Tensor:
    """The first n columns of the product of the Householder reflectors in input and tau
    (linalg.householder_product)."""
    return linalg.householder_product(input, tau)
