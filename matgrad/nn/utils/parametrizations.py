"""weight_norm and spectral_norm as parametrizations (torch.nn.utils.parametrizations): the module keeps
`weight` as a property computed from `parametrizations.weight.original*`, state_dict keys as PyTorch's."""
from __future__ import annotations

from enum import Enum, auto
from typing import Any

from ...autograd.grad_mode import no_grad
from ...creation import randn
from ...devices import backend_of, device_of, move
from ...linalg import matrix_exp, solve, vector_norm
from ...ops.join import cat
from ...tensor import Tensor, wrap_dim
from ..conv import ConvTranspose1d, ConvTranspose2d
from ..conv3d import ConvTranspose3d
from ..functional import normalize
from ..module import Module
from . import parametrize

__all__ = ["orthogonal", "spectral_norm", "weight_norm"]


def _norm_except_dim(v: Tensor, dim: int) -> Tensor:
    """‖v‖₂ over every dimension but `dim` (kept, size 1), or over all of v (a 0-d tensor) for dim = -1.

    v: (..., n_dim, ...) → (1, ..., n_dim, ..., 1): torch.norm_except_dim(v, 2, dim).
    """
    if dim == -1:
        return vector_norm(v)
    dim = dim % v.ndim
    others = tuple(d for d in range(v.ndim) if d != dim)
    return vector_norm(v, 2, dim=others, keepdim=True) if others else v.abs()


def _weight_norm(v: Tensor, g: Tensor, dim: int) -> Tensor:
    """w = g · v / ‖v‖ (the norm over every dimension but `dim`): torch._weight_norm(v, g, dim)."""
    return v * (g / _norm_except_dim(v, dim))


class _WeightNorm(Module):
    """weight = g · v / ‖v‖ from original0 = g (the norms), original1 = v (the direction)."""

    def __init__(self, dim: int | None = 0) -> None:
        super().__init__()
        self.dim = -1 if dim is None else dim

    def forward(self, weight_g: Tensor, weight_v: Tensor) -> Tensor:
        return _weight_norm(weight_v, weight_g, self.dim)

    def right_inverse(self, weight: Tensor) -> tuple[Tensor, Tensor]:
        return _norm_except_dim(weight, self.dim), weight


def weight_norm(module: Module, name: str = "weight", dim: int | None = 0) -> Module:
    """Reparametrize `module.<name>` as g · v / ‖v‖ (norms over every dimension but `dim`; None: one norm
    for the whole tensor). g is `parametrizations.<name>.original0`, v `original1`; a checkpoint of the old
    nn.utils.weight_norm (`<name>_g`, `<name>_v`) loads into them, as PyTorch's. Returns module."""
    parametrize.register_parametrization(module, name, _WeightNorm(dim), unsafe=True)

    def _weight_norm_compat_hook(state_dict: Any, prefix: str) -> None:
        """Old-style checkpoints (nn.utils.weight_norm's `<name>_g`, `<name>_v`) load into the new keys."""
        g_key, v_key = f"{prefix}{name}_g", f"{prefix}{name}_v"
        if g_key in state_dict and v_key in state_dict:
            original0, original1 = state_dict.pop(g_key), state_dict.pop(v_key)
            state_dict[f"{prefix}parametrizations.{name}.original0"] = original0
            state_dict[f"{prefix}parametrizations.{name}.original1"] = original1

    module._register_load_state_dict_pre_hook(_weight_norm_compat_hook)
    return module


class _SpectralNorm(Module):
    """weight / σ, σ the largest singular value of the weight seen as a matrix (`dim` first, the rest
    flattened), estimated by power iteration on the buffers `_u` (height) and `_v` (width), which
    move on each call in training mode only. A 1-D weight is just divided by its norm."""

    def __init__(self, weight: Tensor, n_power_iterations: int = 1, dim: int = 0, eps: float = 1e-12) -> None:
        super().__init__()
        ndim = weight.ndim
        d = wrap_dim("spectral_norm", dim, ndim)  # IndexError out of range, TypeError for a float, as PyTorch
        if n_power_iterations <= 0:
            raise ValueError("Expected n_power_iterations to be positive, but "
                             f"got n_power_iterations={n_power_iterations}")
        self.dim = d
        self.eps = eps
        if ndim > 1:
            self.n_power_iterations = n_power_iterations
            weight_mat = self._reshape_weight_to_matrix(weight)
            h, w = weight_mat.shape
            with no_grad():
                u = weight_mat.new_empty(h).normal_(0, 1)
                v = weight_mat.new_empty(w).normal_(0, 1)
                self.register_buffer("_u", normalize(u, dim=0, eps=self.eps))
                self.register_buffer("_v", normalize(v, dim=0, eps=self.eps))
            self._power_method(weight_mat, 15)

    def _reshape_weight_to_matrix(self, weight: Tensor) -> Tensor:
        """(..., n_dim, ...) → (n_dim, everything else)."""
        if self.dim != 0:
            weight = weight.permute(self.dim, *(d for d in range(weight.ndim) if d != self.dim))
        return weight.flatten(1)

    def _power_method(self, weight_mat: Tensor, n_power_iterations: int) -> None:
        """u ← W v / ‖W v‖, v ← Wᴴ u / ‖Wᴴ u‖, n times, in the buffers' own memory."""
        with no_grad():
            for _ in range(n_power_iterations):
                self._u.copy_(normalize(weight_mat.mv(self._v), dim=0, eps=self.eps))
                self._v.copy_(normalize(weight_mat.H.mv(self._u), dim=0, eps=self.eps))

    def forward(self, weight: Tensor) -> Tensor:
        if weight.ndim == 1:
            return normalize(weight, dim=0, eps=self.eps)
        weight_mat = self._reshape_weight_to_matrix(weight)
        if self.training:
            self._power_method(weight_mat, self.n_power_iterations)
        u, v = self._u.clone(), self._v.clone()  # constants: the gradient flows through W only
        sigma = u.vdot(weight_mat.mv(v))
        return weight / sigma

    def right_inverse(self, value: Tensor) -> Tensor:
        return value


def spectral_norm(module: Module, name: str = "weight", n_power_iterations: int = 1, eps: float = 1e-12,
                  dim: int | None = None) -> Module:
    """Reparametrize `module.<name>` as weight / σ(weight), σ its spectral norm by power iteration
    (dim defaults to 1 for ConvTranspose layers, 0 otherwise). Returns module."""
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if dim is None:
        dim = 1 if isinstance(module, (ConvTranspose1d, ConvTranspose2d, ConvTranspose3d)) else 0
    parametrize.register_parametrization(module, name, _SpectralNorm(weight, n_power_iterations, dim, eps))
    return module



# --- orthogonal ---------------------------------------------------------------------------------------
def _const(array: Any) -> Tensor:
    return Tensor._make(array, None, False)


def _eye_like(t: Tensor, n: int, m: int | None = None) -> Tensor:
    return _const(backend_of(t.array).xp.eye(n, m, dtype=t.array.dtype))


def _householder_product(A: Tensor, tau: Tensor) -> Tensor:
    """The first k columns of H₁⋯H_k, H_i = I - τ_i v_i v_iᴴ, v_i = e_i + the strictly lower part of A's
    column i (torch.linalg.householder_product). A: (..., n, k), tau: (..., k) → (..., n, k).

    Composed of matmuls, so its gradient is exact: Q ← Q - τ_i (Q v_i) v_iᴴ for each i.
    """
    n, k = A.shape[-2], A.shape[-1]
    V = A.tril(-1) + _eye_like(A, n, k)
    Q: Tensor = _eye_like(A, n)
    for i in range(k):
        v = V[..., :, i:i + 1]
        Q = Q - (Q @ v) @ (v.mH * tau[..., i:i + 1].unsqueeze(-1))
    return Q[..., :k]


def _is_orthogonal(Q: Any, xp: Any) -> bool:
    """QᴴQ = I within 10·n·eps (torch's check; arrays)."""
    n, k = Q.shape[-2], Q.shape[-1]
    eps = 10.0 * n * float(xp.finfo(Q.dtype).eps)
    return bool(xp.allclose(xp.swapaxes(Q, -1, -2).conj() @ Q, xp.eye(k, dtype=Q.dtype), rtol=1e-5, atol=eps))


def _make_orthogonal(A: Any, xp: Any) -> Any:
    """The Q of A's QR with the signs of R's diagonal folded in (torch's geqrf + householder_product; arrays)."""
    Q, R = xp.linalg.qr(A)
    return Q * xp.sign(xp.diagonal(R, axis1=-2, axis2=-1))[..., None, :]


class _OrthMaps(Enum):
    matrix_exp = auto()
    cayley = auto()
    householder = auto()


class _Orthogonal(Module):
    """Q(X) orthogonal (columns or rows orthonormal): exp(A) or the Cayley map of A = tril(X) - tril(X)ᴴ, or
    the Householder product of X's strictly lower part; with use_trivialization, Q = base · Q(X), base the
    buffer that right_inverse fills, so assigning Q sets base = Q and X = -I."""

    def __init__(self, weight: Tensor, orthogonal_map: _OrthMaps, *, use_trivialization: bool = True) -> None:
        super().__init__()
        if weight.array.dtype.kind == "c" and orthogonal_map == _OrthMaps.householder:
            raise ValueError("The householder parametrization does not support complex tensors.")
        self.shape = weight.shape
        self.orthogonal_map = orthogonal_map
        if use_trivialization:
            self.register_buffer("base", None)

    def forward(self, X: Tensor) -> Tensor:
        n, k = X.shape[-2], X.shape[-1]
        transposed = n < k
        if transposed:
            X = X.mT
            n, k = k, n
        if self.orthogonal_map in (_OrthMaps.matrix_exp, _OrthMaps.cayley):
            X = X.tril()
            if n != k:
                X = cat([X, X.new_zeros(n, n - k).expand(*X.shape[:-2], -1, -1)], dim=-1)
            A = X - X.mH
            if self.orthogonal_map == _OrthMaps.matrix_exp:
                Q = matrix_exp(A)
            else:
                Id = _eye_like(A, n)
                Q = solve(Id - 0.5 * A, Id + 0.5 * A)
            if n != k:
                Q = Q[..., :k]
        else:
            A = X.tril(-1)
            tau = 2.0 / (1.0 + (A * A).sum(dim=-2))
            Q = _householder_product(A, tau)
            # the diagonal's integer part (±1 as set by right_inverse), a constant as torch's .int()
            Q = Q * X.diagonal(dim1=-2, dim2=-1).detach().trunc().unsqueeze(-2)
        if "base" in self._buffers:
            Q = self.base @ Q
        if transposed:
            Q = Q.mT
        return Q

    def right_inverse(self, Q: Tensor) -> Tensor:
        """An X with forward(X) = Q: with use_trivialization, base = Q made orthogonal, X = -I; without it
        (Householder only), X = Q's Householder reflectors with ±1 on the diagonal."""
        if tuple(Q.shape) != tuple(self.shape):
            raise ValueError(f"Expected a matrix or batch of matrices of shape {tuple(self.shape)}. "
                             f"Got a tensor of shape {tuple(Q.shape)}.")
        xp = backend_of(Q.array).xp
        q = Q.array
        n, k = q.shape[-2], q.shape[-1]
        transpose = n < k
        if transpose:
            q = xp.swapaxes(q, -1, -2)
            n, k = k, n
        if "base" not in self._buffers:
            if self.orthogonal_map in (_OrthMaps.cayley, _OrthMaps.matrix_exp):
                raise NotImplementedError("It is not possible to assign to the matrix exponential or the Cayley "
                                          "parametrizations when use_trivialization=False.")
            h, tau = xp.linalg.qr(q, mode="raw")  # LAPACK's geqrf, its reflectors transposed
            a = xp.swapaxes(h, -1, -2).copy()  # C order, writable
            d = xp.sign(xp.diagonal(a, axis1=-2, axis2=-1))
            d = xp.where(tau == 0.0, -d, d)
            idx = xp.arange(k)
            a[..., idx, idx] = d
            return _const(xp.swapaxes(a, -1, -2).copy() if transpose else a)
        if n == k:
            base = q.copy() if _is_orthogonal(q, xp) else _make_orthogonal(q, xp)
        else:
            extra = move(randn(*(q.shape[:-2] + (n, n - k)), dtype=Q.dtype).array, device_of(q))
            base = _make_orthogonal(xp.concatenate([q, extra], axis=-1), xp)
        self.base = _const(base.astype(q.dtype))  # a fresh C-order array
        neg_id = xp.zeros(Q.array.shape, dtype=q.dtype)
        idx = xp.arange(min(Q.array.shape[-2:]))
        neg_id[..., idx, idx] = -1.0
        return _const(neg_id)


def orthogonal(module: Module, name: str = "weight", orthogonal_map: str | None = None, *,
               use_trivialization: bool = True) -> Module:
    """Constrain `module.<name>` (a matrix or a batch of them) to be orthogonal (orthonormal columns or rows),
    as torch.nn.utils.parametrizations.orthogonal: orthogonal_map "matrix_exp" (the default for square or
    complex), "cayley" or "householder" (the default otherwise). Returns module."""
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if weight.ndim < 2:
        raise ValueError(f"Expected a matrix or batch of matrices. Got a tensor of {weight.ndim} dimensions.")
    if orthogonal_map is None:
        square = weight.shape[-2] == weight.shape[-1]
        orthogonal_map = "matrix_exp" if square or weight.array.dtype.kind == "c" else "householder"
    orth_enum = getattr(_OrthMaps, orthogonal_map, None) if isinstance(orthogonal_map, str) else None
    if orth_enum is None:
        raise ValueError('orthogonal_map has to be one of "matrix_exp", "cayley", "householder". '
                         f"Got: {orthogonal_map}")
    orth = _Orthogonal(weight, orth_enum, use_trivialization=use_trivialization)
    parametrize.register_parametrization(module, name, orth, unsafe=True)
    return module
