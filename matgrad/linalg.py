"""matgrad.linalg: torch.linalg's functions, with its names, signatures, defaults and batching.

Every function takes matrices in the last two dims and any leading batch dims. The ops behind them
live in matgrad/ops/linalg.py (det, inverse, diagonal, cross), matgrad/ops/decomp.py (solve,
cholesky, eigh, svd, qr, pinv, matrix_exp) and matgrad/ops/lu.py (lu_factor, lu_solve); the rest are
composed of those and of matmul, so their gradients follow. A singular or not positive-definite
matrix raises `LinAlgError` (a RuntimeError, as torch.linalg.LinAlgError); a shape that does not fit
raises RuntimeError, as in PyTorch. What is computed outside an op (values without a gradient:
ranks, infos, signs) uses the input's own array module (`_xp`: NumPy, or CuPy on a GPU), so it stays
on the input's device.
"""
from __future__ import annotations

from collections import namedtuple
from typing import Any

import numpy as np

from . import _autocast
from .autograd import grad_mode
from .devices import backend_of, move, on_a_device, to_host
from .ops import decomp
from .ops import lu as lu_ops
from .ops.arithmetic import div, mul, sub
from .ops.linalg import LinAlgError, _square, inverse, singular_error, zero_pivot
from .ops.linalg import cross as _cross
from .ops.linalg import det as _det
from .ops.matmul import check_same_dtype, matmul
from .ops.reduction import EmptyInputError, Norm2, amax, amin, normalize_axes
from .ops.reduction import sum as _sum
from .ops.shape import movedim, squeeze, transpose, unsqueeze
from .ops.unary import abs as _abs
from .ops.views import diagonal as _diagonal
from .tensor import Tensor, as_tensor, wrap_dim

__all__ = [
    "LinAlgError", "vector_norm", "matrix_norm", "norm", "inv", "inv_ex", "solve", "det", "slogdet", "cholesky",
    "cholesky_ex", "multi_dot", "matrix_power", "cross", "vecdot", "diagonal", "matmul", "eigh", "eigvalsh",
    "svd", "svdvals", "qr", "pinv", "lstsq", "matrix_rank", "solve_triangular", "matrix_exp",
    "lu_factor", "lu_factor_ex", "lu", "lu_solve", "householder_product", "cond", "solve_ex", "tensorinv",
    "tensorsolve", "vander",
]

SlogdetResult = namedtuple("SlogdetResult", ["sign", "logabsdet"])
EighResult = namedtuple("EighResult", ["eigenvalues", "eigenvectors"])
SvdResult = namedtuple("SvdResult", ["U", "S", "Vh"])
QrResult = namedtuple("QrResult", ["Q", "R"])
InvExResult = namedtuple("InvExResult", ["inverse", "info"])
CholeskyExResult = namedtuple("CholeskyExResult", ["L", "info"])
LuFactorResult = namedtuple("LuFactorResult", ["LU", "pivots"])
LuFactorExResult = namedtuple("LuFactorExResult", ["LU", "pivots", "info"])
LuResult = namedtuple("LuResult", ["P", "L", "U"])
SolveExResult = namedtuple("SolveExResult", ["result", "info"])
LstsqResult = namedtuple("LstsqResult", ["solution", "residuals", "rank", "singular_values"])

_DTYPE_NAMES = {"i": "Long", "u": "Byte", "b": "Bool"}


def _floating(op: str, input: Any) -> Tensor:
    """The input as a tensor, which must hold floats (torch's error otherwise)."""
    t = as_tensor(input)
    kind = t.array.dtype.kind
    if kind not in "fc":
        name = _DTYPE_NAMES.get(kind, str(t.array.dtype))
        if kind == "i" and t.array.dtype != np.int64:
            name = str(t.array.dtype).capitalize()
        raise RuntimeError(f"{op}: Expected a floating point or complex tensor as input. Got {name}")
    return t


def _matrices(op: str, input: Any) -> Tensor:
    t = _floating(op, input)
    if t.ndim < 2:
        raise RuntimeError(f"{op}: The input tensor A must have at least 2 dimensions, got shape {t.shape}")
    return t


def _const(array: Any) -> Tensor:
    """A constant of `array`'s values, on its device (NumPy's scalars and lists become host arrays)."""
    return Tensor._make(array if on_a_device(array) else np.asarray(array), None, False)


def _xp(t: Tensor) -> Any:
    """The array module of t's array: NumPy, or its device's (CuPy)."""
    return backend_of(t.array).xp


def _tracks(*ts: Tensor) -> bool:
    return grad_mode._state.enabled and any(t.requires_grad for t in ts)


def _mT(t: Tensor) -> Tensor:
    return transpose(t, -1, -2)


# --- norms -----------------------------------------------------------------------------------------------
def vector_norm(x: Any, ord: Any = 2, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """The ord-norm of x over `dim` (all elements when None), as one long vector: ord = 2 (default), any
    real p, inf (max |x|), -inf (min |x|) or 0 (the count of non-zeros)."""
    t = _floating("linalg.vector_norm", x)
    if dtype is not None:
        t = t.to(dtype)
    if isinstance(ord, str):
        raise RuntimeError(f"linalg.vector_norm: ord must be a number, got {ord!r}")
    axes = normalize_axes("linalg.vector_norm", dim, None, t.ndim)
    p = float(ord)
    if p == 2:
        return Norm2.apply(t, axes=axes, keepdims=keepdim)
    if abs(p) == np.inf and 0 in (t.shape if axes is None else [t.shape[a] for a in axes]):
        where = f"an empty tensor (shape {t.shape})" if axes is None else f"the dimension(s) {axes} of shape {t.shape}"
        raise EmptyInputError(f"linalg.vector_norm cannot compute the {ord} norm on {where} because the operation "
                              "does not have an identity")
    if p == np.inf:
        return amax(_abs(t), dim=axes, keepdim=keepdim)
    if p == -np.inf:
        return amin(_abs(t), dim=axes, keepdim=keepdim)
    if p == 1:
        return _sum(_abs(t), dim=axes, keepdim=keepdim)
    if p == 0:
        count = _xp(t).sum(t.array != 0, axis=axes, keepdims=keepdim).astype(t.array.dtype)
        return _const(count)
    return decomp.VectorPNorm.apply(t, p=p, axes=axes, keepdims=keepdim)


def _two_dims(op: str, dim: Any, ndim: int) -> tuple[int, int]:
    if isinstance(dim, Tensor) or not isinstance(dim, (tuple, list)):
        raise TypeError(f"{op}(): argument 'dim' must be a tuple of two ints, not {type(dim).__name__}")
    if len(dim) != 2:
        raise RuntimeError(f"{op}: dim must be a 2-tuple. Got {' '.join(str(d) for d in dim)}")
    # an int list in PyTorch takes a bool as an int (only a lone dim= refuses one)
    a0, a1 = (wrap_dim(op, int(d) if isinstance(d, bool) else d, ndim) for d in dim)
    if a0 == a1:
        raise RuntimeError(f"{op}: dims must be different. Got ({a0}, {a1})")
    return a0, a1


def matrix_norm(A: Any, ord: Any = "fro", dim: Any = (-2, -1), keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """The ord-norm of the matrices in the two dims `dim`: 'fro', 'nuc', inf / -inf (max / min row sum of
    |A|), 1 / -1 (max / min column sum), 2 / -2 (largest / smallest singular value)."""
    op = "linalg.matrix_norm"
    t = _floating(op, A)
    if dtype is not None:
        t = t.to(dtype)
    if t.ndim < 2:
        raise RuntimeError(f"{op}: The input tensor A must have at least 2 dimensions, got shape {t.shape}")
    a0, a1 = _two_dims(op, dim, t.ndim)
    if ord == "fro":
        return Norm2.apply(t, axes=tuple(sorted((a0, a1))), keepdims=keepdim)
    if isinstance(ord, str) and ord != "nuc":
        raise RuntimeError(f"{op}: Order {ord} not supported.")
    if not isinstance(ord, str) and float(ord) not in (1.0, -1.0, 2.0, -2.0, np.inf, -np.inf):
        raise RuntimeError(f"{op}: Order {ord} not supported.")
    m = movedim(t, (a0, a1), (-2, -1))
    p = ord if isinstance(ord, str) else float(ord)
    if p in ("nuc", 2.0, -2.0):
        s = svdvals(m)
        out = _sum(s, dim=-1) if p == "nuc" else (amax(s, dim=-1) if p == 2.0 else amin(s, dim=-1))
    else:
        sums = _sum(_abs(m), dim=-1 if abs(p) == np.inf else -2)
        out = amax(sums, dim=-1) if p > 0 else amin(sums, dim=-1)
    if keepdim:
        for a in sorted((a0, a1)):
            out = unsqueeze(out, a)
    return out


def norm(A: Any, ord: Any = None, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """torch.linalg.norm: a vector norm when dim is an int (or ord is None and dim is None), a matrix norm
    when dim is a pair (or the input is 2-D and ord is given)."""
    t = _floating("linalg.norm", A)
    if dim is not None:
        dims = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
        if len(dims) == 1:
            if isinstance(ord, str):
                raise RuntimeError(f"linalg.norm: ord {ord!r} needs a 2-tuple dim, got dim={dim!r}")
            return vector_norm(t, 2 if ord is None else ord, dims, keepdim, dtype=dtype)
        if len(dims) == 2:
            return matrix_norm(t, "fro" if ord is None else ord, dims, keepdim, dtype=dtype)
        raise RuntimeError(f"linalg.norm: If dim is specified, it must be of length 1 or 2. Got {list(dims)}")
    if ord is None:
        return vector_norm(t, 2, None, keepdim, dtype=dtype)
    if t.ndim == 1:
        return vector_norm(t, ord, None, keepdim, dtype=dtype)
    if t.ndim == 2:
        return matrix_norm(t, ord, (-2, -1), keepdim, dtype=dtype)
    raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input must be 1D or 2D. Got {t.ndim}D.")


# --- inverses, solvers, determinants --------------------------------------------------------------------
def det(A: Any) -> Tensor:
    """The determinant of each square matrix (matgrad.det)."""
    return _det(_matrices("linalg.det", A))


def inv(A: Any) -> Tensor:
    """A⁻¹ for each square matrix; LinAlgError where one is singular."""
    return inverse(_matrices("linalg.inv", A))


def inv_ex(A: Any, *, check_errors: bool = False) -> InvExResult:
    """(inverse, info): info (int32, one per matrix) is 0, or the index of the first zero pivot where the
    matrix is singular; that matrix's inverse is then nan (torch's holds what LAPACK left)."""
    t = _square("linalg.inv_ex", _matrices("linalg.inv_ex", A))
    a, xp = t.array, _xp(t)
    try:
        xp.linalg.inv(a)
    except np.linalg.LinAlgError:
        host = to_host(a)  # the pivots of a failed inversion, one matrix at a time, on the host
        info = np.array([zero_pivot(m) for m in host.reshape((-1,) + a.shape[-2:])], np.int32).reshape(a.shape[:-2])
        if check_errors:
            raise singular_error("linalg.inv", host) from None  # the error naming the pivot
        info = move(info, t.device)
        good = info == 0
        out = xp.full_like(a, np.nan)
        if good.any():
            out[good] = xp.linalg.inv(a[good])
        return InvExResult(_const(out), _const(info))
    return InvExResult(inverse(t), _const(xp.zeros(a.shape[:-2], np.int32)))


def _promote_pair(op: str, a: Tensor, b: Tensor) -> tuple[Tensor, Tensor]:
    if a.array.dtype != b.array.dtype:
        raise RuntimeError(f"{op}: Expected A and B to have the same dtype, but found A of type "
                           f"{a.array.dtype} and B of type {b.array.dtype} instead")
    return a, b


def _is_vector_rhs(a: Tensor, b: Tensor) -> bool:
    """torch's rule: B is a (batch of) vector(s) when 1-D, or one dim short of A with A's batch shape."""
    return b.ndim == 1 or (b.ndim == a.ndim - 1 and b.shape == a.shape[:-1])


def solve(A: Any, B: Any, *, left: bool = True) -> Tensor:
    """X with A X = B (left) or X A = B (left=False); B may be a vector (or a batch of them)."""
    op = "linalg.solve"
    a = _square(op, _matrices(op, A))
    b = _floating(op, B)
    a, b = _promote_pair(op, a, b)
    vector = _is_vector_rhs(a, b)
    if vector:
        b = unsqueeze(b, -1)
    if not left:
        if vector:
            raise RuntimeError(f"{op}: Vector broadcasting of the left hand side is not supported for left=False. "
                             "In this case linalg.solve is equivalent to B / A.squeeze(-1)")
        return _mT(solve(_mT(a), _mT(b)))
    if b.shape[-2] != a.shape[-1]:
        raise RuntimeError(f"{op}: Incompatible shapes of A and B for the equation AX = B ({a.shape[-2]}x"
                         f"{a.shape[-1]} and {b.shape[-2]}x{b.shape[-1]})")
    try:
        np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    except ValueError:
        raise RuntimeError(f"{op}: the batch dims of A {a.shape} and B {b.shape} cannot be broadcast") from None
    x = decomp.Solve.apply(a, b)
    return squeeze(x, -1) if vector else x


def slogdet(A: Any) -> SlogdetResult:
    """(sign, log|det A|) for each square matrix: sign is -1, 0 or 1 (no gradient), log|det| -inf where
    singular."""
    a = _square("linalg.slogdet", _matrices("linalg.slogdet", A))
    xp = _xp(a)
    sign = xp.sign(xp.linalg.det(a.array)).astype(a.array.dtype)
    return SlogdetResult(_const(sign), decomp.LogAbsDet.apply(a))


def cholesky(A: Any, *, upper: bool = False) -> Tensor:
    """L with A = L Lᵀ (lower, read from A's lower triangle), or U = Lᵀ with upper=True;
    LinAlgError where A is not positive-definite."""
    a = _square("linalg.cholesky", _matrices("linalg.cholesky", A))
    low = decomp.Cholesky.apply(a)
    return _mT(low) if upper else low


def cholesky_ex(A: Any, *, upper: bool = False, check_errors: bool = False) -> CholeskyExResult:
    """(L, info): info (int32, one per matrix) is 0, or the order of the first leading minor that is not
    positive-definite; that matrix's L is then nan."""
    a = _square("linalg.cholesky_ex", _matrices("linalg.cholesky_ex", A))
    xp = _xp(a)
    try:
        xp.linalg.cholesky(a.array)
    except np.linalg.LinAlgError:
        if check_errors:
            cholesky(a)
        info = move(decomp.cholesky_info(a.array), a.device)
        good = info == 0
        out = xp.full_like(a.array, np.nan)
        if good.any():
            out[good] = xp.linalg.cholesky(a.array[good])
        low = _const(out)
        return CholeskyExResult(_mT(low) if upper else low, _const(info))
    return CholeskyExResult(cholesky(a, upper=upper), _const(xp.zeros(a.shape[:-2], np.int32)))


def multi_dot(tensors: Any) -> Tensor:
    """The product of a list of matrices; the first may be a row vector (1-D) and the last a column."""
    ts = [as_tensor(t) for t in tensors]
    if len(ts) < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {len(ts)}")
    for i, t in enumerate(ts):
        ends = i in (0, len(ts) - 1)
        if not (t.ndim == 2 or (ends and t.ndim == 1)):
            which = "the first and last tensors" if ends else f"tensor {i}"
            raise RuntimeError(f"multi_dot(): {which} must be {'1D or 2D' if ends else '2D'} but got {t.ndim}D")
    for i, (a, b) in enumerate(zip(ts[:-1], ts[1:])):
        if a.shape[-1] != b.shape[0]:
            raise RuntimeError(f"multi_dot(): tensors {i} and {i + 1} with shapes {list(a.shape)} and "
                               f"{list(b.shape)} cannot be multiplied")
    check_same_dtype("multi_dot", *((f"tensors[{i}]", t) for i, t in enumerate(ts)))
    out = ts[0]
    for t in ts[1:]:
        out = matmul(out, t)
    return out


def matrix_power(A: Any, n: int) -> Tensor:
    """A multiplied by itself n times (by repeated squaring); n = 0 gives the identity, n < 0 powers of A⁻¹."""
    a = _square("linalg.matrix_power", as_tensor(A))
    if int(n) != n:
        raise TypeError(f"linalg.matrix_power: n must be an integer, got {n!r}")
    n = int(n)
    if n == 0:
        xp = _xp(a)
        return _const(xp.broadcast_to(xp.eye(a.shape[-1], dtype=a.array.dtype), a.shape).copy())
    if n < 0:
        a, n = inv(a), -n
    out = None
    while n:
        if n & 1:
            out = a if out is None else matmul(out, a)
        n >>= 1
        if n:
            a = matmul(a, a)
    return out


def cross(input: Any, other: Any, *, dim: int = -1) -> Tensor:
    """The cross product of 3-vectors along `dim` (default the last); the other dims broadcast."""
    a, b = as_tensor(input), as_tensor(other)
    if a.ndim != b.ndim:
        raise RuntimeError(f"linalg.cross: inputs must have the same number of dimensions, got shapes {a.shape} "
                         f"and {b.shape}")
    return _cross(a, b, dim=dim)


def vecdot(x: Any, y: Any, *, dim: int = -1) -> Tensor:
    """Σ x·y along `dim`, the other dims broadcast."""
    if _autocast.on:  # mixed precision (matgrad/_autocast.py): torch's autocast op lists
        x, y = _autocast.cast(_autocast.LOWER, x, y)
    a, b = as_tensor(x), as_tensor(y)
    check_same_dtype("linalg.vecdot", ("x", a), ("y", b))
    _floating("linalg.vecdot", a)  # torch's error for integers, where matmul and dot take them
    return _sum(mul(a, b), dim=dim)


def diagonal(A: Any, *, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """The diagonal of the matrices in dims (dim1, dim2), as torch.diagonal with other defaults: a view of A, as
    torch.linalg.diagonal's (an in-place change of it changes A)."""
    return _diagonal(A, offset, dim1, dim2)


# --- decompositions ------------------------------------------------------------------------------------------
def eigh(A: Any, UPLO: str = "L") -> EighResult:
    """(eigenvalues ascending, eigenvectors in columns) of each symmetric matrix, read from its lower
    (UPLO='L') or upper triangle. The eigenvectors' signs are LAPACK's."""
    if UPLO not in ("L", "U"):
        raise RuntimeError(f"linalg.eigh: UPLO must be 'L' or 'U', got {UPLO!r}")
    a = _square("linalg.eigh", _matrices("linalg.eigh", A))
    w, v = decomp.Eigh.run(a, uplo=UPLO)
    return EighResult(w, v)


def eigvalsh(A: Any, UPLO: str = "L") -> Tensor:
    """The eigenvalues (ascending) of each symmetric matrix."""
    if UPLO not in ("L", "U"):
        raise RuntimeError(f"linalg.eigvalsh: UPLO must be 'L' or 'U', got {UPLO!r}")
    a = _square("linalg.eigvalsh", _matrices("linalg.eigvalsh", A))
    if not _tracks(a):
        return _const(_xp(a).linalg.eigvalsh(a.array, UPLO=UPLO))
    return eigh(a, UPLO).eigenvalues


def svd(A: Any, full_matrices: bool = True, *, driver: Any = None) -> SvdResult:
    """(U, S, Vh) with A = U diag(S) Vh, S descending. Singular vectors are unique only up to sign: only
    losses that do not depend on the signs have a meaningful gradient."""
    a = _matrices("linalg.svd", A)
    u, s, vh = decomp.Svd.run(a, full_matrices=bool(full_matrices))
    return SvdResult(u, s, vh)


def svdvals(A: Any, *, driver: Any = None) -> Tensor:
    """The singular values of each matrix, descending."""
    a = _matrices("linalg.svdvals", A)
    if not _tracks(a):
        return _const(_xp(a).linalg.svd(a.array, compute_uv=False))
    return svd(a, full_matrices=False).S


def qr(A: Any, mode: str = "reduced") -> QrResult:
    """(Q, R) with A = Q R: mode 'reduced' (Q m×k), 'complete' (Q m×m) or 'r' (Q empty, R only, no gradient)."""
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of 'reduced' (default), 'r', "
                         "or 'complete'")
    a = _matrices("linalg.qr", A)
    if mode == "r":
        xp = _xp(a)
        r = xp.linalg.qr(a.array, mode="r")
        return QrResult(_const(xp.zeros((0,), a.array.dtype)), _const(r))
    q, r = decomp.Qr.run(a, mode=mode)
    return QrResult(q, r)


def _tolerances(op: str, a: Tensor, atol: Any, rtol: Any, rcond: Any = None) -> tuple[Any, Any]:
    """torch's (atol, rtol), float64 arrays on a's device: rtol defaults to eps·max(m, n) when atol is not
    given, else to 0."""
    def value(x: Any) -> Any:
        v = x.array if isinstance(x, Tensor) else x
        return move(v.astype(np.float64) if on_a_device(v) else np.asarray(v, dtype=np.float64), a.device)

    if rcond is not None:
        rtol = rcond
    eps = np.finfo(a.array.dtype).eps
    if rtol is None:
        rtol = 0.0 if (atol is not None and bool((value(atol) > 0).any())) else eps * max(a.shape[-2:])
    return value(0.0 if atol is None else atol), value(rtol)


def pinv(A: Any, *, atol: Any = None, rtol: Any = None, hermitian: bool = False) -> Tensor:
    """The Moore–Penrose pseudoinverse, dropping singular values at or below max(atol, rtol·σ_max)."""
    a = _matrices("linalg.pinv", A)
    if hermitian:
        a = _square("linalg.pinv", a)
    at, rt = _tolerances("linalg.pinv", a, atol, rtol)
    return decomp.Pinv.apply(a, atol=at, rtol=rt, hermitian=bool(hermitian))


def matrix_rank(A: Any, *, atol: Any = None, rtol: Any = None, hermitian: bool = False, tol: Any = None) -> Tensor:
    """The number of singular values above max(atol, rtol·σ_max) of each matrix (int64, no gradient)."""
    a = _matrices("linalg.matrix_rank", A)
    if tol is not None:
        atol, rtol = tol, 0.0
    at, rt = _tolerances("linalg.matrix_rank", a, atol, rtol)
    xp = _xp(a)
    s = xp.abs(xp.linalg.eigvalsh(a.array)) if hermitian else xp.linalg.svd(a.array, compute_uv=False)
    smax = decomp._largest(s)
    return _const(xp.sum(s > xp.maximum(at, rt * smax)[..., None], axis=-1).astype(np.int64))


def lstsq(A: Any, B: Any, rcond: Any = None, *, driver: str | None = None) -> LstsqResult:
    """The least-squares solution X of A X ≈ B (the minimum-norm one where A is rank deficient), as
    torch's CPU drivers: 'gelsy' (default) returns the rank, empty residuals and singular values;
    'gelsd' and 'gelss' also the singular values, and they and 'gels' (no rank) the squared residuals
    of a tall full-rank A. The gradient is torch's: through pinv(A) B."""
    op = "linalg.lstsq"
    drivers = ("gels", "gelsy", "gelsd", "gelss")
    if driver is None:
        driver = "gelsy"
    if driver not in drivers:
        raise RuntimeError(f"{op}: parameter `driver` should be one of {drivers}, got {driver!r}")
    a = _matrices(op, A)
    b = _floating(op, B)
    a, b = _promote_pair(op, a, b)
    vector = b.ndim == a.ndim - 1
    if vector:
        b = unsqueeze(b, -1)
    if b.ndim != a.ndim:
        raise RuntimeError(f"{op}: input.dim() must be greater or equal to other.dim() and (input.dim() - "
                         f"other.dim()) <= 1, got shapes {a.shape} and {b.shape}")
    if a.shape[-2] != b.shape[-2]:
        raise RuntimeError(f"{op}: input.size(-2) should match other.size(-2), got {a.shape} and {b.shape}")
    at, rt = _tolerances(op, a, None, None, rcond)
    x = matmul(decomp.Pinv.apply(a, atol=at, rtol=rt, hermitian=False), b)
    dtype, xp = a.array.dtype, _xp(a)
    empty = xp.zeros((0,), dtype)
    s = xp.linalg.svd(a.array, compute_uv=False)
    rank_arr = xp.sum(s > (rt * decomp._largest(s))[..., None], axis=-1).astype(np.int64)
    rank = _const(xp.zeros((0,), np.int64) if driver == "gels" else rank_arr)
    residuals = _const(empty)
    values = _const(s if driver in ("gelsd", "gelss") else empty)
    m, n = a.shape[-2:]
    if driver != "gelsy" and m > n and bool((rank_arr == n).all()):
        r = sub(matmul(a, x), b)
        residuals = _sum(mul(r, r), dim=-2)  # (…, k), also for a vector B (k = 1), as torch
    if vector:
        x = squeeze(x, -1)
    return LstsqResult(x, residuals, rank, values)


def solve_triangular(A: Any, B: Any, *, upper: bool, left: bool = True, unitriangular: bool = False) -> Tensor:
    """X with A X = B (or X A = B with left=False) for triangular A: only its upper or lower triangle is read,
    and with unitriangular its diagonal is taken as ones. The gradient to A stays in that triangle."""
    from .ops.linalg import tril, triu

    op = "linalg.solve_triangular"
    a = _square(op, _matrices(op, A))
    b = _floating(op, B)
    a, b = _promote_pair(op, a, b)
    if b.ndim < 2:
        raise RuntimeError(f"{op}: The input tensor B must have at least 2 dimensions, got shape {b.shape}")
    k = 1 if unitriangular else 0
    tri = triu(a, k) if upper else tril(a, -k)
    if unitriangular:
        from .ops.arithmetic import add

        tri = add(tri, _const(_xp(a).eye(a.shape[-1], dtype=a.array.dtype)))
    if not left:
        return _mT(solve(_mT(tri), _mT(b)))
    if b.shape[-2] != a.shape[-1]:
        raise RuntimeError(f"{op}: Incompatible shapes of A and B for the equation AX = B ({a.shape[-2]}x"
                         f"{a.shape[-1]} and {b.shape[-2]}x{b.shape[-1]})")
    try:
        return decomp.Solve.apply(tri, b)
    except LinAlgError:
        raise LinAlgError(f"{op}: the triangular matrix has a zero on its diagonal (it is singular)") from None


def matrix_exp(A: Any) -> Tensor:
    """e^A of each square matrix (Padé [13/13] with scaling and squaring)."""
    a = _square("linalg.matrix_exp", _matrices("linalg.matrix_exp", A))
    return decomp.MatrixExp.apply(a)



# --- LU ------------------------------------------------------------------------------------------------------
def _lu_packed(op: str, A: Any, pivot: bool) -> tuple[Tensor, Any, Any, Any]:
    """(LU, pivots, info, P) of A: LU differentiable, the others arrays on A's device."""
    a = _matrices(op, A)
    if not pivot:
        raise RuntimeError(f"{op}: LU without pivoting is not implemented on the CPU")
    lu_arr, piv, info = lu_ops.lu_factor_array(a.array)
    pmat = lu_ops.permutation_matrix(piv, a.shape[-2], a.array.dtype)
    return lu_ops.LuFactor.apply(a, factored=(lu_arr, pmat)), piv, info, pmat


def lu_factor_ex(A: Any, *, pivot: bool = True, check_errors: bool = False) -> LuFactorExResult:
    """(LU, pivots, info) of each m×n matrix, as LAPACK's getrf: LU packs L (unit diagonal, not stored) below
    the diagonal and U on and above it; pivots (…, min(m, n)) int32, 1-based; info int32, 0 or the 1-based
    index of U's first zero on the diagonal (the factorization still completes). Only pivot=True, as torch's CPU."""
    lu_t, piv, info, _ = _lu_packed("linalg.lu_factor_ex", A, pivot)
    if check_errors:
        _lu_singular_error("linalg.lu_factor_ex", info)
    return LuFactorExResult(lu_t, _const(piv), _const(info))


def _lu_singular_error(op: str, info: Any) -> None:
    """torch's error for the first matrix of the batch whose U has a zero on its diagonal."""
    flat = to_host(info).reshape(-1)
    bad = np.flatnonzero(flat > 0)
    if bad.size:
        i = int(bad[0])
        where = f"(Batch element {i}): " if info.ndim else ""
        raise LinAlgError(f"torch.{op}: {where}U[{flat[i]},{flat[i]}] is zero and using it on lu_solve would result "
                          "in a division by zero. If you still want to perform the factorization, consider calling "
                          "linalg.lu(A, pivot) or linalg.lu_factor_ex(A, pivot)")


def lu_factor(A: Any, *, pivot: bool = True) -> LuFactorResult:
    """(LU, pivots) of each matrix (lu_factor_ex), LinAlgError where U has a zero on its diagonal."""
    lu_t, piv, info, _ = _lu_packed("linalg.lu_factor", A, pivot)
    _lu_singular_error("linalg.lu_factor", info)
    return LuFactorResult(lu_t, _const(piv))


def _unpack(lu_t: Tensor) -> tuple[Tensor, Tensor]:
    """(L (…, m, k) with ones on its diagonal, U (…, k, n)) out of the packed LU, differentiably."""
    from .ops.arithmetic import add
    from .ops.linalg import tril, triu

    m, n = lu_t.shape[-2:]
    k = min(m, n)
    eye = _const(_xp(lu_t).eye(m, k, dtype=lu_t.array.dtype))
    return add(tril(lu_t, -1)[..., :, :k], eye), triu(lu_t)[..., :k, :]


def lu(A: Any, *, pivot: bool = True) -> LuResult:
    """(P, L, U) with A = P L U: P m×m a permutation (no gradient), L m×k unit lower triangular, U k×n upper,
    k = min(m, n). Never raises for a singular A. The gradient is torch's linalg_lu_backward, all shapes."""
    lu_t, _, _, pmat = _lu_packed("linalg.lu", A, pivot)
    low, up = _unpack(lu_t)
    return LuResult(_const(pmat), low, up)


def _pivots_matrix(op: str, pivots: Any, m: int, dtype: Any) -> Any:
    piv = as_tensor(pivots)
    if piv.array.dtype != np.int32:
        raise RuntimeError(f"{op}: pivots should be a Tensor of scalar type torch.int32, got {piv.array.dtype}")
    lu_ops.check_pivots(op, piv.array, m)
    return lu_ops.permutation_matrix(piv.array, m, dtype)


def lu_solve(LU: Any, pivots: Any, B: Any, *, left: bool = True, adjoint: bool = False) -> Tensor:
    """X with A X = B (left) or X A = B (left=False), Aᴴ in A's place with adjoint, A = P L U given by
    lu_factor's (LU, pivots). Batch dims broadcast. Gradients to LU and B: torch's."""
    op = "linalg.lu_solve"
    a = _matrices(op, LU)
    b = _floating(op, B)
    a, b = _promote_pair(op, a, b)
    if a.shape[-1] != a.shape[-2]:
        raise RuntimeError(f"torch.{op}: A must be batches of square matrices, but they are {a.shape[-2]} by "
                         f"{a.shape[-1]} matrices")
    if b.ndim < 2:
        raise RuntimeError(f"{op}: The input tensor B must have at least 2 dimensions, got shape {b.shape}")
    n = a.shape[-1]
    if (b.shape[-2] if left else b.shape[-1]) != n:
        eq, dims = ("AX = B", f"{n}x{n} and {b.shape[-2]}x{b.shape[-1]}") if left else \
            ("XA = B", f"{b.shape[-2]}x{b.shape[-1]} and {n}x{n}")
        raise RuntimeError(f"{op}: Incompatible shapes of A and B for the equation {eq} ({dims})")
    pmat = _pivots_matrix(op, pivots, n, a.array.dtype)
    try:
        np.broadcast_shapes(a.shape[:-2], pmat.shape[:-2], b.shape[:-2])
    except ValueError:
        raise RuntimeError(f"{op}: the batch dims of LU {a.shape}, pivots and B {b.shape} cannot be "
                           "broadcast") from None
    try:
        return lu_ops.LuSolve.apply(a, b, pmat=pmat, left=bool(left), adjoint=bool(adjoint))
    except np.linalg.LinAlgError:
        raise LinAlgError(f"{op}: U has a zero on its diagonal: the matrix A is singular") from None


# --- Householder products, condition numbers, _ex solves, tensor inverses, Vandermonde ----------------------
def householder_product(A: Any, tau: Any) -> Tensor:
    """The first n columns of H₁…H_k, Hᵢ = I − τᵢ vᵢ vᵢᵀ with vᵢ = (0, …, 0, 1, A[i+1:, i]) (LAPACK's orgqr).

    Composed of products with the reflectors, right to left, so the gradient (to A's strict lower part and to
    τ) and its own gradient follow: the same as torch's householder_product_backward.
    """
    from .ops.arithmetic import add
    from .ops.linalg import tril

    op = "torch.linalg.householder_product"
    a, t = _floating(op, A), _floating(op, tau)
    if a.ndim < 2:
        raise RuntimeError(f"{op}: input must have at least 2 dimensions.")
    if t.ndim < 1:  # PyTorch reads tau.size(-1) first: its IndexError
        raise IndexError(f"{op}: tau must have at least 1 dimension (Dimension specified as -1 but tensor has no "
                         "dimensions)")
    m, n = a.shape[-2:]
    k = t.shape[-1]
    if m < n:
        raise RuntimeError(f"{op}: input.shape[-2] must be greater than or equal to input.shape[-1]")
    if n < k:
        raise RuntimeError(f"{op}: input.shape[-1] must be greater than or equal to tau.shape[-1]")
    if t.shape[:-1] != a.shape[:-2]:
        raise RuntimeError(f"{op}: Expected batch dimensions of tau to be equal to input.shape[:-2], but got "
                         f"{list(t.shape[:-1])}")
    a, t = _promote_pair(op, a, t)
    xp = _xp(a)
    v = add(tril(a, -1), _const(xp.eye(m, n, dtype=a.array.dtype)))  # the reflectors' vectors in columns
    q = _const(xp.broadcast_to(xp.eye(m, n, dtype=a.array.dtype), a.shape).copy())
    for i in reversed(range(k)):
        vi = v[..., :, i:i + 1]  # (…, m, 1)
        q = sub(q, mul(unsqueeze(t[..., i:i + 1], -1), matmul(vi, matmul(_mT(vi), q))))
    return q


def cond(A: Any, p: Any = None) -> Tensor:
    """The condition number ‖A‖_p ‖A⁻¹‖_p: p None or 2 (σ_max/σ_min, any m×n), -2 (σ_min/σ_max), or 'fro',
    'nuc', inf, -inf, 1, -1 (square A; inf where A is singular, as torch)."""
    op = "linalg.cond"
    a = _matrices(op, A)
    if p is None or (not isinstance(p, str) and float(p) in (2.0, -2.0)):
        s = svdvals(a)
        big, small = s[..., 0], s[..., -1]
        with np.errstate(divide="ignore"):  # σ_min = 0: inf, as torch, without NumPy's warning
            return div(big, small) if p is None or float(p) == 2.0 else div(small, big)
    if p not in ("fro", "nuc") and (isinstance(p, str) or float(p) not in (1.0, -1.0, np.inf, -np.inf)):
        raise RuntimeError(f"{op} got an invalid norm type: {p}")
    a = _square(op, a)
    inverse_, info = inv_ex(a)
    if not bool((info.array == 0).all()):
        # torch's value where A is singular: inf (the norm of a nan inverse is nan; its product is replaced)
        good = info.array == 0
        out = _xp(a).full(a.shape[:-2], np.inf, dtype=a.array.dtype)
        if bool(good.any()):
            sub_a = a.array[good]
            out[good] = (matrix_norm(_const(sub_a), p) * matrix_norm(_const(_xp(a).linalg.inv(sub_a)), p)).array
        return _const(out)
    return mul(matrix_norm(a, p), matrix_norm(inverse_, p))


def solve_ex(A: Any, B: Any, *, left: bool = True, check_errors: bool = False) -> SolveExResult:
    """(result, info): linalg.solve's X and LAPACK's getrf info per matrix (int32, 0 or the 1-based index of
    U's first zero diagonal element). Where A is singular, X is nan (torch's holds what LAPACK left: ±inf
    or nan)."""
    op = "linalg.solve_ex"
    a = _square(op, _matrices(op, A))
    _, _, info_arr = lu_ops.lu_factor_array(a.array)
    info = _const(info_arr)
    if not bool((info_arr == 0).all()):
        if check_errors:
            solve(a, B, left=left)  # torch's error for the singular matrix
        b = _floating(op, B)
        vector = _is_vector_rhs(a, b)
        with grad_mode.no_grad():
            ok = solve(_const(_xp(a).where((info_arr == 0)[..., None, None], a.array, _xp(a).eye(a.shape[-1],
                                                                                               dtype=a.array.dtype))),
                       b, left=left)
        mask = (info_arr != 0)[..., None] if vector else (info_arr != 0)[..., None, None]
        return SolveExResult(_const(_xp(a).where(mask, np.nan, ok.array)), info)
    return SolveExResult(solve(a, B, left=left), info)


def _numel(shape: Any) -> int:
    return int(np.prod(shape, dtype=np.int64))


def tensorinv(A: Any, ind: int = 2) -> Tensor:
    """The inverse of A read as the matrix (prod(shape[:ind]), prod(shape[ind:])), shaped shape[ind:] + shape[:ind]:
    tensordot(tensorinv(A, ind), A, ind) is the identity."""
    from .ops.shape import reshape

    op = "linalg.tensorinv"
    a = _floating(op, A)
    if int(ind) <= 0:
        raise RuntimeError(f"Expected a strictly positive integer for 'ind', but got {ind}")
    ind = int(ind)
    rows, cols = a.shape[:ind], a.shape[ind:]
    if _numel(rows) != _numel(cols):
        raise RuntimeError(f"{op}: Expected self to satisfy the requirement prod(self.shape[ind:]) == "
                         f"prod(self.shape[:ind]), but got {_numel(cols)} != {_numel(rows)}")
    return reshape(inv(reshape(a, (_numel(rows), _numel(cols)))), tuple(cols) + tuple(rows))


def tensorsolve(A: Any, B: Any, dims: Any = None) -> Tensor:
    """X with tensordot(A, X, X.ndim) = B, X of shape A.shape[B.ndim:]; `dims` (A's dims) are moved to the end
    first."""
    from .ops.shape import reshape

    op = "linalg.tensorsolve"
    a, b = _floating(op, A), _floating(op, B)
    a, b = _promote_pair(op, a, b)
    if dims is not None:
        ds = (dims,) if isinstance(dims, (int, np.integer)) else tuple(dims)
        a = movedim(a, ds, tuple(range(a.ndim - len(ds), a.ndim)))
    rest = a.shape[b.ndim:]
    if a.shape[:b.ndim] != b.shape or _numel(rest) != _numel(b.shape):
        raise RuntimeError(f"{op}: Expected self to satisfy the requirement prod(result_shape) == prod(other.shape) "
                         f"with self.shape[:other.ndim] == other.shape, got shapes {a.shape} and {b.shape}")
    x = solve(reshape(a, (_numel(b.shape), _numel(rest))), reshape(b, (_numel(b.shape),)))
    return reshape(x, tuple(rest))


def vander(x: Any, *, N: int | None = None) -> Tensor:
    """The Vandermonde matrix (…, n, N) of x (…, n): columns x⁰, x¹, …, x^(N−1) (N = n by default), as running
    products, so the gradient is exact at x = 0."""
    from .ops.cumulative import cumprod
    from .ops.join import cat
    from .ops.shape import expand

    t = as_tensor(x)
    if t.ndim < 1:
        raise RuntimeError("linalg.vander: x must have at least one dimension.")
    n = t.shape[-1] if N is None else int(N)
    if n <= 1:
        raise RuntimeError("N must be greater than 1.")
    ones = _const(_xp(t).ones(t.shape + (1,), dtype=t.array.dtype))
    powers = cumprod(expand(unsqueeze(t, -1), *t.shape, n - 1), dim=-1)
    return cat([ones, powers], dim=-1)
