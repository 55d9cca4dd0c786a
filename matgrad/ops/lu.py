"""The LU factorization with partial pivoting (LAPACK's getrf) and the solve that uses it (getrs), behind
matgrad.linalg.lu_factor, lu, lu_solve and lu_unpack.

NumPy has no LU, so `lu_factor_array` runs getrf's algorithm itself: one column at a time, the row with the
largest |value| at or below the diagonal (the first such row, as LAPACK's idamax) swapped up, the column
below it scaled, the trailing block updated, every step at once over the whole batch, in the input's own
array module. Pivots are LAPACK's: 1-based, int32, `pivots[i]` the row swapped with row i at step i.

The backward formulas are torch's (FunctionsManual.cpp: linalg_lu_backward, lu_factor_ex_backward,
linalg_lu_solve_LU), written once against `self.xp`; the triangular solves there are products with the
triangular factors' inverses, so a create_graph backward records them and can be differentiated again.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd.op import Op
from .decomp import _module, _solve, _t


def lu_factor_array(a: Any) -> tuple[Any, Any, Any]:
    """(LU, pivots, info) of each m×n matrix of `a` (…, m, n), as LAPACK's getrf: LU holds L's strict lower
    part (unit diagonal implied) and U; pivots (…, min(m, n)) 1-based int32; info (…) int32, 0 or the 1-based
    index of U's first zero diagonal element (the factorization is still completed, as LAPACK's)."""
    xp = _module(a)
    *batch, m, n = a.shape
    k = min(m, n)
    count = int(np.prod(batch, dtype=np.int64))
    lu = xp.array(a.reshape((count, m, n)), copy=True)
    piv = xp.zeros((count, k), dtype=np.int32)
    info = xp.zeros((count,), dtype=np.int32)
    rows = xp.arange(count)
    for j in range(k):
        p = xp.argmax(xp.abs(lu[:, j:, j]), axis=1) + j  # argmax is the first largest, as idamax
        piv[:, j] = p + 1
        top, best = lu[:, j, :].copy(), lu[rows, p, :].copy()
        lu[rows, p, :] = top
        lu[:, j, :] = best
        d = best[:, j]
        zero = d == 0
        info = xp.where(zero & (info == 0), j + 1, info).astype(np.int32)
        if j + 1 < m:
            # a zero pivot leaves a zero column (it was the largest): LAPACK neither scales nor divides by 0
            lu[:, j + 1:, j] /= xp.where(zero, 1, d)[:, None]
            lu[:, j + 1:, j + 1:] -= lu[:, j + 1:, j, None] * lu[:, j, None, j + 1:]
    return lu.reshape(a.shape), piv.reshape(tuple(batch) + (k,)), info.reshape(tuple(batch))


def permutation_matrix(pivots: Any, m: int, dtype: Any) -> Any:
    """P (…, m, m) with A = P L U, from LAPACK's pivots (…, k): the row swaps applied in order to 0..m-1 give
    perm, the row of A each row of L U came from, and P[perm[i], i] = 1."""
    xp = _module(pivots)
    batch = pivots.shape[:-1]
    count = int(np.prod(batch, dtype=np.int64))
    flat = pivots.reshape((count, pivots.shape[-1])).astype(np.int64) - 1
    perm = xp.broadcast_to(xp.arange(m), (count, m)).copy()
    rows = xp.arange(count)
    for i in range(flat.shape[1]):
        target = flat[:, i]
        here, there = perm[:, i].copy(), perm[rows, target].copy()
        perm[:, i] = there
        perm[rows, target] = here
    p = xp.zeros((count, m, m), dtype=dtype)
    p[rows[:, None], perm, xp.arange(m)[None, :]] = 1
    return p.reshape(tuple(batch) + (m, m))


def check_pivots(op: str, pivots: Any, m: int) -> None:
    """LAPACK's rule for pivots: each in 1..m (a bad one would index out of the matrix)."""
    if pivots.size and (int(pivots.min()) < 1 or int(pivots.max()) > m):
        raise RuntimeError(f"{op}: pivots must be LAPACK's 1-based row indices in [1, {m}], got values in "
                           f"[{int(pivots.min())}, {int(pivots.max())}]")


class _Masks:
    """tril/triu of an array or Tensor of a known shape, the masks made on the device of `like`."""

    def __init__(self, xp: Any, like: Any) -> None:
        self.xp, self.am = xp, _module(like)

    def tril(self, x: Any, rows: int, cols: int, k: int = 0) -> Any:
        return self.xp.where(self.am.tri(rows, cols, k, dtype=bool), x, 0)

    def triu(self, x: Any, rows: int, cols: int, k: int = 0) -> Any:
        return self.xp.where(self.am.tri(rows, cols, k - 1, dtype=bool), 0, x)


def unpack_factors(xp: Any, lu: Any, shape: tuple[int, ...], like: Any) -> tuple[Any, Any]:
    """(L (…, m, k) unit lower, U (…, k, n) upper) out of the packed LU of `shape`."""
    m, n = shape[-2:]
    k = min(m, n)
    mk = _Masks(xp, like)
    eye = mk.am.eye(m, k, dtype=like.dtype)
    return mk.tril(lu[..., :, :k], m, k, -1) + eye, mk.triu(lu[..., :k, :], k, n)


def lu_backward(xp: Any, gl: Any, gu: Any, low: Any, up: Any, p: Any, like: Any) -> Any:
    """dA of A = P L U from dL (…, m, k) and dU (…, k, n): torch's linalg_lu_backward, square, wide and tall.

    Square: dA = P L⁻ᴴ (tril(Lᴴ dL, −1) + triu(dU Uᴴ)) U⁻ᴴ.
    """
    m, n = low.shape[-2], up.shape[-1]
    k = min(m, n)
    mk = _Masks(xp, like)
    am = mk.am
    dtype = like.dtype
    if m == n:
        x = mk.tril(xp.matmul(_t(xp, low), gl), k, k, -1) + mk.triu(xp.matmul(gu, _t(xp, up)), k, k)
        ga = xp.matmul(xp.matmul(_t(xp, xp.inv(low)), x), _t(xp, xp.inv(up)))
    elif m < n:  # A = P L [U1 | U2]: U2 takes dU's extra columns straight through
        x = xp.matmul(_t(xp, low), gl) - xp.matmul(mk.triu(gu, k, n), _t(xp, up))
        x = xp.matmul(mk.tril(x, k, k, -1), _t(xp, xp.inv(up[..., :, :k])))
        x = (xp.matmul(x + mk.triu(gu[..., :, :k], k, k), am.eye(k, n, dtype=dtype))  # [x | dU2]
             + xp.matmul(gu[..., :, k:], am.eye(n - k, n, k, dtype=dtype)))
        ga = xp.matmul(_t(xp, xp.inv(low)), x)
    else:  # A = P [L1; L2] U: L2 takes dL's extra rows straight through
        x = xp.matmul(gu, _t(xp, up)) - xp.matmul(_t(xp, low), mk.tril(gl, m, k, -1))
        x = xp.matmul(_t(xp, xp.inv(low[..., :k, :])), mk.triu(x, k, k))
        x = (xp.matmul(am.eye(m, k, dtype=dtype), x + mk.tril(gl[..., :k, :], k, k, -1))  # [x; dL2]
             + xp.matmul(am.eye(m, m - k, -k, dtype=dtype), gl[..., k:, :]))
        ga = xp.matmul(x, _t(xp, xp.inv(up)))
    return xp.matmul(p, ga)


class LuFactor(Op):
    """LU = getrf(A), packed.  dA = P L⁻ᵀ (tril(Lᵀ dL, −1) + triu(dU Uᵀ)) U⁻ᵀ (square A).

    torch's lu_factor_ex_backward: linalg_lu_backward (all shapes) of dL = dLU[…, :, :k], dU = dLU[…, :k, :].
    The factorization is done beforehand: `factored` = (LU, P).
    """

    save_output = True

    def forward(self, a, factored):
        self.pmat = factored[1]
        return factored[0]

    def backward(self, dy):
        xp = self.xp
        m, n = self.out.shape[-2:]
        k = min(m, n)
        low, up = unpack_factors(xp, self.output, self.out.shape, self.out)
        return lu_backward(xp, dy[..., :, :k], dy[..., :k, :], low, up, self.pmat, self.out)


def lu_solve_array(lu: Any, p: Any, b: Any, left: bool, adjoint: bool) -> Any:
    """X with A X = B (A = P L U; Aᴴ with adjoint), or X A = B with left=False, by two triangular solves."""
    xp = _module(lu)
    n = lu.shape[-1]
    low = xp.where(xp.tri(n, n, -1, dtype=bool), lu, 0) + xp.eye(n, dtype=lu.dtype)
    up = xp.where(xp.tri(n, n, -1, dtype=bool), 0, lu)
    if not left:  # X A = B ⇔ Aᴴ Xᴴ = Bᴴ
        return _t(xp, lu_solve_array(lu, p, _t(xp, b), True, not adjoint))
    if adjoint:  # A⁻ᴴ = P L⁻ᴴ U⁻ᴴ
        return xp.matmul(p, _solve(_t(xp, low), _solve(_t(xp, up), b)))
    return _solve(up, _solve(low, xp.matmul(_t(xp, p), b)))


class LuSolve(Op):
    """X = A⁻¹B (left; B A⁻¹ right; Aᵀ for adjoint), A = P L U packed.  dB = A⁻ᵀ dX, dLU = torch's linalg_lu_solve_LU.

    dB is the same solve with the adjoint flipped (and on the same side).
    """

    save_output = True

    def forward(self, lu, b, pmat, left, adjoint):
        self.pmat, self.left, self.adjoint = pmat, left, adjoint
        return lu_solve_array(lu, pmat, b, left, adjoint)

    def backward(self, dy):
        xp = self.xp
        lu, _ = self.inputs
        like = self.input_arrays[0]
        n = like.shape[-1]
        left, adjoint, p = self.left, self.adjoint, self.pmat
        low, up = unpack_factors(xp, lu, like.shape, like)
        linv, uinv = xp.inv(low), xp.inv(up)
        ainv = xp.matmul(xp.matmul(uinv, linv), _t(xp, p))  # A⁻¹ = U⁻¹ L⁻¹ Pᵀ
        flip = not adjoint  # the gradient's solve uses the other of A and Aᴴ
        solver = _t(xp, ainv) if flip else ainv
        db = xp.matmul(solver, dy) if left else xp.matmul(dy, solver)
        x = self.output
        mk = _Masks(xp, like)
        if left != adjoint:
            rhs = -xp.matmul(dy, _t(xp, x)) if left else -xp.matmul(_t(xp, dy), x)
            gr = xp.matmul(_t(xp, uinv), rhs)
            gl = mk.tril(xp.matmul(xp.matmul(_t(xp, linv), gr), _t(xp, up)), n, n, -1)
            return gl + mk.triu(gr, n, n), db
        gr = (xp.matmul(xp.matmul(_t(xp, p), x), _t(xp, dy)) if left
              else xp.matmul(xp.matmul(_t(xp, p), _t(xp, x)), dy))
        gr = -xp.matmul(xp.matmul(gr, p), _t(xp, linv))
        gu = mk.triu(xp.matmul(xp.matmul(_t(xp, low), gr), _t(xp, uinv)), n, n)
        return mk.tril(gr, n, n, -1) + gu, db
