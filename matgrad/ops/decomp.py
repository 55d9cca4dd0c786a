"""Matrix factorizations and solvers behind matgrad.linalg: solve, cholesky, slogdet, eigh, svd, qr,
pinv, matrix_exp and the general p-norm of vectors.

The input's own array module computes each forward (NumPy's linalg, or CuPy's on a GPU: `backend_of`),
and the constants and masks a backward needs are made with it, beside the arrays they meet. Every
backward is written once against `self.xp` from the inputs and the op's own outputs (the
matrix-calculus results of torch's FunctionsManual.cpp), so under create_graph it is recorded too
and the gradient can be differentiated again.

An op with several outputs (eigh, svd, qr) hands them out as one flat array, cut into pieces by
`Packed.run` (getitem and reshape): the pieces' gradients meet in that array's gradient, zeros
for a piece nothing used, and its backward cuts them apart again.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd.op import Op
from ..devices import backend_of, to_host
from ..tensor import Tensor
from .linalg import LinAlgError
from .shape import reshape


def _t(xp: Any, x: Any) -> Any:
    return xp.swapaxes(x, -1, -2)


def _array(a: Any) -> Any:
    """`a` as an array: NumPy's scalars (a 0-d result) become 0-d arrays, a device's arrays stay as they are."""
    return np.asarray(a) if isinstance(a, np.generic) else a


def _module(array: Any) -> Any:
    """The array module `array` lives in (NumPy, or the device's: CuPy), to make constants beside it."""
    return backend_of(array).xp


def _eye(like: Any, n: int, dtype: Any) -> Any:
    """The n×n identity on the device of the array `like`."""
    return _module(like).eye(n, dtype=dtype)


def _largest(x: Any, keepdims: bool = False) -> Any:
    """The largest element along the last axis of x ≥ 0, 0 where that axis is empty (max's `initial=0`,
    which CuPy's max lacks)."""
    if x.shape[-1] == 0:
        return _module(x).zeros(x.shape[:-1] + ((1,) if keepdims else ()), x.dtype)
    return x.max(axis=-1, keepdims=keepdims)


def _solve(a: Any, b: Any) -> Any:
    """A⁻¹B (B: (…, n, k)) by the arrays' module; on a device the batch dims are broadcast first (CuPy's
    solve does not broadcast them)."""
    xp = _module(a)
    if xp is not np:
        batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
        a, b = xp.broadcast_to(a, batch + a.shape[-2:]), xp.broadcast_to(b, batch + b.shape[-2:])
    return xp.linalg.solve(a, b)


def _pack(*arrays: Any) -> Any:
    return _module(arrays[0]).concatenate([a.reshape(-1) for a in arrays])


def _unpack(xp: Any, flat: Any, shapes: tuple[tuple[int, ...], ...]) -> list[Any]:
    out, off = [], 0
    for s in shapes:
        n = int(np.prod(s, dtype=np.int64))
        out.append(xp.reshape(flat[off:off + n], s))
        off += n
    return out


class Packed(Op):
    """Several outputs as one flat array.  dA = the subclass's backward of dY cut into the outputs' parts.

    (See the module's docstring.)
    """

    save_output = True
    shapes: tuple[tuple[int, ...], ...] = ()

    @staticmethod
    def out_shapes(shape: tuple[int, ...], **params: Any) -> tuple[tuple[int, ...], ...]:  # pragma: no cover
        """The outputs' shapes for an input of `shape`."""
        raise NotImplementedError

    @classmethod
    def run(cls, a: Tensor, **params: Any) -> list[Tensor]:
        """apply(), then the outputs cut apart (differentiable pieces of the flat output)."""
        t = cls.apply(a, **params)
        out, off = [], 0
        for s in cls.out_shapes(a.shape, **params):
            n = int(np.prod(s, dtype=np.int64))
            out.append(reshape(t[off:off + n], s))
            off += n
        return out

    def pieces(self, dy: Any) -> tuple[list[Any], list[Any]]:
        """(the gradients of the outputs, the outputs), arrays or Tensors to match."""
        return _unpack(self.xp, dy, self.shapes), _unpack(self.xp, self.output, self.shapes)


# --- solve, cholesky, slogdet --------------------------------------------------------------------
class Solve(Op):
    """X = A⁻¹B (B: (…, n, k)).  dB = A⁻ᵀ dX,  dA = -dB Xᵀ."""

    save_output = True

    def forward(self, a, b):
        try:
            return _solve(a, b)
        except np.linalg.LinAlgError:
            raise LinAlgError("linalg.solve: The solver failed because the input matrix is singular.") from None

    def backward(self, dy):
        xp = self.xp
        a, _ = self.inputs
        if xp.plain:
            db = _solve(_t(xp, a), dy)
        else:
            db = xp.matmul(_t(xp, xp.inv(a)), dy)
        return -xp.matmul(db, _t(xp, self.output)), db


def _cholesky_failure(a: np.ndarray) -> int:
    """The order of the first leading minor of one symmetric matrix that is not positive-definite (0: none)."""
    n = a.shape[-1]
    low = np.zeros((n, n))
    for j in range(n):
        d = a[j, j] - low[j, :j] @ low[j, :j]
        if not d > 0:
            return j + 1
        low[j, j] = np.sqrt(d)
        low[j + 1:, j] = (a[j + 1:, j] - low[j + 1:, :j] @ low[j, :j]) / low[j, j]
    return 0


def cholesky_info(a: Any) -> np.ndarray:
    """LAPACK's potrf info for each matrix of the batch (a host array, int32, the batch's shape)."""
    a = to_host(a)  # a failed factorization only: one matrix at a time, on the host
    flat = a.reshape((-1,) + a.shape[-2:]).astype(np.float64)
    return np.array([_cholesky_failure(m) for m in flat], dtype=np.int32).reshape(a.shape[:-2])


class Cholesky(Op):
    """L = chol(A), lower, from A's lower triangle.  dA = L⁻ᵀ Φ(Lᵀ dL) L⁻¹, Φ(P) = ½(tril P + (tril P)ᵀ)
    with the diagonal counted once (the symmetric gradient, as torch)."""

    save_output = True

    def forward(self, a):
        try:
            return _module(a).linalg.cholesky(a)
        except np.linalg.LinAlgError:
            info = cholesky_info(a)
            k = int(info.reshape(-1)[np.argmax(info.reshape(-1) > 0)]) if info.size else 0
            raise LinAlgError(
                "linalg.cholesky: The factorization could not be completed because the input is not "
                f"positive-definite (the leading minor of order {k} is not positive-definite)."
            ) from None

    def backward(self, dy):
        xp = self.xp
        low = self.output
        n = self.out.shape[-1]
        am = _module(self.out)
        lower = am.tri(n, dtype=bool)
        strict = am.tri(n, k=-1, dtype=bool)
        p = xp.where(lower, xp.matmul(_t(xp, low), dy), 0)
        phi = (p + _t(xp, xp.where(strict, p, 0))) * 0.5
        linv = xp.inv(low)
        return xp.matmul(xp.matmul(_t(xp, linv), phi), linv)


class LogAbsDet(Op):
    """y = log|det A|.  dA = dy · A⁻ᵀ."""

    def forward(self, a):
        _, logabs = _module(a).linalg.slogdet(a)
        self.singular = bool((logabs == -np.inf).any())
        return _array(logabs)

    def backward(self, dy):
        if self.singular:
            raise LinAlgError("linalg.slogdet: the gradient of log|det A| is not defined at a singular matrix")
        xp = self.xp
        (a,) = self.inputs
        return xp.expand_dims(dy, (-1, -2)) * _t(xp, xp.inv(a))


# --- eigh, svd, qr -------------------------------------------------------------------------------
def _off_diagonal_ratio(xp: Any, x: Any, e: Any, n: int, like: Any) -> Any:
    """x / e off the diagonal, 0 on it (e's diagonal is 0); the mask made on the device of the array `like`."""
    eye = _eye(like, n, bool)
    return xp.where(eye, 0, x / xp.where(eye, 1, e))


class Eigh(Packed):
    """A = V diag(L) Vᵀ.  dA = V (diag(dL) + ½(VᵀdV − dVᵀV) / E) Vᵀ,  E_ij = L_j − L_i.

    A is symmetric, read from one triangle.
    """

    @staticmethod
    def out_shapes(shape, uplo):
        return shape[:-1], shape

    def forward(self, a, uplo):
        w, v = _module(a).linalg.eigh(a, UPLO=uplo)
        self.shapes = (w.shape, v.shape)
        return _pack(w, v)

    def backward(self, dy):
        xp = self.xp
        (gw, gv), (w, v) = self.pieces(dy)
        n = self.shapes[1][-1]
        vtgv = xp.matmul(_t(xp, v), gv)
        e = xp.expand_dims(w, -2) - xp.expand_dims(w, -1)
        g = _off_diagonal_ratio(xp, (vtgv - _t(xp, vtgv)) * 0.5, e, n, self.out)
        g = g + xp.expand_dims(gw, -2) * _eye(self.out, n, self.out.dtype)
        return xp.matmul(xp.matmul(v, g), _t(xp, v))


class Svd(Packed):
    """A = U diag(S) Vh.  dA = torch's svd_backward of (dU, dS, dVh): U diag(dS) Vh plus U's and V's rotations.

    The reduced factors; with full_matrices the extra columns of U and rows of Vh carry no gradient, as torch.
    """

    @staticmethod
    def out_shapes(shape, full_matrices):
        *batch, m, n = shape
        k = min(m, n)
        b = tuple(batch)
        return (b + (m, m if full_matrices else k), b + (k,), b + (n if full_matrices else k, n))

    def forward(self, a, full_matrices):
        u, s, vh = _module(a).linalg.svd(a, full_matrices=full_matrices)
        self.full = full_matrices
        self.shapes = (u.shape, s.shape, vh.shape)
        return _pack(u, s, vh)

    def backward(self, dy):
        xp = self.xp
        (gu, gs, gvh), (u, s, vh) = self.pieces(dy)
        m, n = self.shapes[0][-2], self.shapes[2][-1]
        k = self.shapes[1][-1]
        if self.full:
            u, gu, vh, gvh = u[..., :, :k], gu[..., :, :k], vh[..., :k, :], gvh[..., :k, :]
        v, gv = _t(xp, vh), _t(xp, gvh)
        uhgu = xp.matmul(_t(xp, u), gu)
        vhgv = xp.matmul(vh, gv)
        uhgu = uhgu - _t(xp, uhgu)
        vhgv = vhgv - _t(xp, vhgv)
        s2 = s * s
        e = xp.expand_dims(s2, -2) - xp.expand_dims(s2, -1)
        g = _off_diagonal_ratio(xp, uhgu * xp.expand_dims(s, -2) + xp.expand_dims(s, -1) * vhgv, e, k, self.out)
        g = g + xp.expand_dims(gs, -2) * _eye(self.out, k, self.out.dtype)
        if m > n:
            gus = gu / xp.expand_dims(s, -2)
            g = xp.matmul(u, g) + gus - xp.matmul(u, xp.matmul(_t(xp, u), gus))
            return xp.matmul(g, vh)
        if m < n:
            gvs = gv / xp.expand_dims(s, -2)
            g = xp.matmul(g, vh) + _t(xp, gvs) - xp.matmul(xp.matmul(_t(xp, gvs), v), vh)
            return xp.matmul(u, g)
        return xp.matmul(xp.matmul(u, g), vh)


class Qr(Packed):
    """A = Q R.  dA = (dQ + Q sym(M)) R⁻ᵀ, M = dR Rᵀ − Qᵀ dQ, sym(M) = triu M + (triu(M, 1))ᵀ (m ≥ n).

    Reduced, or complete when m ≤ n; the backward is torch's linalg_qr_backward.
    """

    @staticmethod
    def out_shapes(shape, mode):
        *batch, m, n = shape
        k = m if mode == "complete" else min(m, n)
        return tuple(batch) + (m, k), tuple(batch) + (k, n)

    def forward(self, a, mode):
        q, r = _module(a).linalg.qr(a, mode=mode)
        self.mode = mode
        self.shapes = (q.shape, r.shape)
        return _pack(q, r)

    def backward(self, dy):
        xp = self.xp
        (gq, gr), (q, r) = self.pieces(dy)
        m, n = self.shapes[0][-2], self.shapes[1][-1]
        if self.mode == "complete" and m > n:
            raise RuntimeError("linalg.qr: The QR decomposition is not differentiable when mode='complete' and "
                               "nrows > ncols; use mode='reduced'.")
        am = _module(self.out)
        x = xp.matmul(gr, _t(xp, r)) - xp.matmul(_t(xp, q), gq)
        if m >= n:
            upper = ~am.tri(n, k=-1, dtype=bool)
            strict = ~am.tri(n, dtype=bool)
            sym = xp.where(upper, x, 0) + _t(xp, xp.where(strict, x, 0))
            g = xp.matmul(q, sym) + gq
            return xp.matmul(g, _t(xp, xp.inv(r)))
        # m < n: Q is m×m and R = [R1 | R2] with R1 m×m upper triangular
        lower = am.tri(m, dtype=bool)
        skew = xp.where(lower, _t(xp, x) - x, 0)
        g = xp.matmul(xp.matmul(q, skew), _t(xp, xp.inv(r[..., :, :m])))
        pad = am.eye(m, n, dtype=self.out.dtype)  # [I | 0]
        return xp.matmul(g, pad) + xp.matmul(q, gr)


# --- pinv, matrix_exp --------------------------------------------------------------------------------
def pinv_array(a: Any, atol: Any, rtol: Any, hermitian: bool) -> Any:
    """The pseudoinverse, keeping the singular values (|eigenvalues| when hermitian) above max(atol, rtol·σ_max).

    atol and rtol are arrays on a's device (linalg._tolerances makes them), broadcasting against its batch dims.
    """
    xp = _module(a)
    if hermitian:
        w, v = xp.linalg.eigh(a)
        s, left, right = xp.abs(w), v, _t(xp, v) * xp.sign(w)[..., :, None]
    else:
        left, s, right = xp.linalg.svd(a, full_matrices=False)
    smax = _largest(s, keepdims=True)
    cut = xp.maximum(atol[..., None], rtol[..., None] * smax)
    keep = s > cut
    with np.errstate(divide="ignore"):
        inv_s = xp.where(keep, 1.0 / xp.where(keep, s, 1), 0).astype(a.dtype)
    return xp.matmul(_t(xp, right) * inv_s[..., None, :], _t(xp, left))


class Pinv(Op):
    """Y = A⁺.  dA = −Yᵀ dY Yᵀ + (I − AY) dYᵀ Y Yᵀ + Yᵀ Y dYᵀ (I − YA), torch's pinv_backward.

    Exact where the rank does not change.
    """

    save_output = True

    def forward(self, a, atol, rtol, hermitian):
        return pinv_array(a, atol, rtol, hermitian)

    def backward(self, dy):
        xp = self.xp
        (a,) = self.inputs
        p = self.output
        m, n = self.out.shape[-1], self.out.shape[-2]
        ph, gh = _t(xp, p), _t(xp, dy)
        if m <= n:
            k = xp.matmul(gh, p)
            kph = xp.matmul(k, ph)
            return (-_t(xp, xp.matmul(p, k)) + kph - xp.matmul(xp.matmul(a, p), kph)
                    + xp.matmul(xp.matmul(ph, p), gh - xp.matmul(k, a)))
        k = xp.matmul(p, gh)
        phk = xp.matmul(ph, k)
        return (-_t(xp, xp.matmul(k, p)) + xp.matmul(xp.matmul(gh - xp.matmul(a, k), p), ph) + phk
                - xp.matmul(xp.matmul(phk, p), a))


_PADE13 = (64764752532480000., 32382376266240000., 7771770303897600., 1187353796428800., 129060195264000.,
           10559470521600., 670442572800., 33522128640., 1323241920., 40840800., 960960., 16380., 182., 1.)
_THETA13 = 5.371920351148152


def expm_array(a: Any) -> Any:
    """e^A by the [13/13] Padé approximant with scaling and squaring (Higham 2005), in float64, per matrix,
    on a's device."""
    xp = _module(a)
    x = a.astype(np.float64)
    n = x.shape[-1]
    norm1 = _largest(xp.abs(x).sum(axis=-2))
    with np.errstate(divide="ignore"):
        s = xp.maximum(0, xp.ceil(xp.log2(xp.maximum(norm1, 1e-300) / _THETA13))).astype(np.int64)
    x = x / (2.0 ** s)[..., None, None]
    b = _PADE13
    eye = xp.eye(n)
    x2 = x @ x
    x4 = x2 @ x2
    x6 = x4 @ x2
    u = x @ (x6 @ (b[13] * x6 + b[11] * x4 + b[9] * x2) + b[7] * x6 + b[5] * x4 + b[3] * x2 + b[1] * eye)
    v = x6 @ (b[12] * x6 + b[10] * x4 + b[8] * x2) + b[6] * x6 + b[4] * x4 + b[2] * x2 + b[0] * eye
    r = xp.linalg.solve(v - u, v + u)
    for k in range(int(s.max()) if s.size else 0):
        r = xp.where((k < s)[..., None, None], r @ r, r)
    return r.astype(a.dtype)


class MatrixExp(Op):
    """Y = e^A.  dA = L(Aᵀ, dY), the Fréchet derivative: the upper-right block of exp([[Aᵀ, dY], [0, Aᵀ]])."""

    def forward(self, a):
        return expm_array(a)

    def backward(self, dy):
        xp = self.xp
        (a,) = self.inputs
        n = self.input_arrays[0].shape[-1]
        dtype = self.input_arrays[0].dtype
        at = _t(xp, a)
        am = _module(self.input_arrays[0])
        if xp.plain:
            big = am.zeros(np.broadcast_shapes(at.shape, dy.shape)[:-2] + (2 * n, 2 * n), dtype)
            big[..., :n, :n] = at
            big[..., n:, n:] = at
            big[..., :n, n:] = dy
            return expm_array(big)[..., :n, n:]
        top, bottom = am.eye(2 * n, n, dtype=dtype), am.eye(2 * n, n, -n, dtype=dtype)  # [I; 0] and [0; I]
        big = (xp.matmul(xp.matmul(top, at), top.T) + xp.matmul(xp.matmul(bottom, at), bottom.T)
               + xp.matmul(xp.matmul(top, dy), bottom.T))
        return xp.matmul(xp.matmul(top.T, MatrixExp.apply(big)), bottom)


# --- vector p-norms ------------------------------------------------------------------------------------
class VectorPNorm(Op):
    """y = (Σ|x|^p)^(1/p) over axes.  dx = sign(x)|x|^(p−1) · dy / y^(p−1).

    For p other than 0, 1, 2 and ±inf; dx is 0 where y = 0, and where x = 0 for p < 1, as torch.
    """

    save_output = True

    def forward(self, x, p, axes, keepdims):
        self.p, self.axes, self.keepdims = p, axes, keepdims
        with np.errstate(divide="ignore", over="ignore"):
            return _array(np.sum(np.abs(x) ** p, axis=axes, keepdims=keepdims) ** (1.0 / p))

    def backward(self, dy):
        xp = self.xp
        (x,) = self.inputs
        xa = self.input_arrays[0]
        p = self.p
        y, yarr = self.output, self.out
        if not self.keepdims and self.axes is not None:
            y, dy, yarr = xp.expand_dims(y, self.axes), xp.expand_dims(dy, self.axes), np.expand_dims(yarr, self.axes)
        elif not self.keepdims:
            shape = (1,) * xa.ndim
            y, dy, yarr = xp.reshape(y, shape), xp.reshape(dy, shape), np.reshape(yarr, shape)
        zero_x = xa == 0
        zero_y = (yarr == 0) | ~np.isfinite(yarr)
        ax = xp.abs(x)
        scaled = xp.sign(x) * xp.where(zero_x, 1, ax) ** (p - 1)
        if p < 1:
            scaled = xp.where(zero_x, 0, scaled)
        return scaled * xp.where(zero_y, 0, dy / xp.where(zero_y, 1, y) ** (p - 1))
