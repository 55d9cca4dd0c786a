"""MultivariateNormal, with the two linear-algebra steps it shares with its relatives (Cholesky factor,
lower-triangular solve), both matgrad.linalg's."""
from __future__ import annotations

import math
from typing import Any

from .. import linalg
from ..ops.linalg import inverse
from ..ops.unary import log
from ..ops.views import broadcast_shapes
from ..tensor import Tensor
from . import constraints
from .distribution import Distribution
from .utils import draw, lazy_property

__all__ = ["MultivariateNormal"]


def _cholesky(a: Tensor) -> Tensor:
    """L = cholesky(A), lower (matgrad.linalg's op: torch's backward, on every device)."""
    return linalg.cholesky(a)


def _solve_tril(lower: Tensor, b: Tensor) -> Tensor:
    """X = L⁻¹·B for lower-triangular L (..., n, n), B (..., n, k), batch shapes broadcast; only L's lower
    triangle is read, as torch's."""
    return linalg.solve_triangular(lower, b, upper=False)


def _batch_mahalanobis(bL: Tensor, bx: Tensor) -> Tensor:
    """|L⁻¹x|² over the last dim of x (..., n), for L (..., n, n) broadcast against x's batch."""
    m = _solve_tril(bL, bx.unsqueeze(-1))
    return (m * m).sum((-2, -1))


class MultivariateNormal(Distribution):
    """N(loc, Σ) with Σ given as covariance_matrix, precision_matrix (Σ⁻¹) or scale_tril (L, Σ = L·Lᵀ)."""

    arg_constraints = {"loc": constraints.real_vector, "covariance_matrix": constraints.positive_definite,
                       "precision_matrix": constraints.positive_definite, "scale_tril": constraints.lower_cholesky}
    support = constraints.real_vector
    has_rsample = True
    _batch_params = {"loc": 1, "covariance_matrix": 2, "precision_matrix": 2, "scale_tril": 2}

    def __init__(self, loc: Tensor, covariance_matrix: Tensor | None = None, precision_matrix: Tensor | None = None,
                 scale_tril: Tensor | None = None, validate_args: bool | None = None) -> None:
        if loc.dim() < 1:
            raise ValueError("loc must be at least one-dimensional.")
        if (covariance_matrix is not None) + (scale_tril is not None) + (precision_matrix is not None) != 1:
            raise ValueError("Exactly one of covariance_matrix or precision_matrix or scale_tril may be specified.")
        given = next((name, m) for name, m in (("scale_tril", scale_tril), ("covariance_matrix", covariance_matrix),
                                               ("precision_matrix", precision_matrix)) if m is not None)
        name, matrix = given
        if matrix.dim() < 2:
            raise ValueError(f"{name} matrix must be at least two-dimensional, with optional leading batch dimensions")
        if matrix.shape[-1] != matrix.shape[-2] or matrix.shape[-1] != loc.shape[-1]:
            raise ValueError(f"{name} must be square with the size of loc's last dim: got {tuple(matrix.shape)} "
                             f"for loc of shape {tuple(loc.shape)}")
        batch_shape = tuple(broadcast_shapes(tuple(matrix.shape[:-2]), tuple(loc.shape[:-1])))
        setattr(self, name, matrix.expand(batch_shape + (-1, -1)))
        self.loc = loc.expand(batch_shape + (-1,))
        super().__init__(batch_shape, self.loc.shape[-1:], validate_args=validate_args)
        if scale_tril is not None:
            self._unbroadcasted_scale_tril = scale_tril
        elif covariance_matrix is not None:
            self._unbroadcasted_scale_tril = _cholesky(covariance_matrix)
        else:
            self._unbroadcasted_scale_tril = _cholesky(inverse(precision_matrix))

    def _full(self, x: Tensor, dims: int) -> Tensor:
        n = self._event_shape[0]
        return x.expand(tuple(self._batch_shape) + (n,) * dims)

    @lazy_property
    def scale_tril(self) -> Tensor:
        return self._full(self._unbroadcasted_scale_tril, 2)

    @lazy_property
    def covariance_matrix(self) -> Tensor:
        L = self._unbroadcasted_scale_tril
        return self._full(L @ L.mT, 2)

    @lazy_property
    def precision_matrix(self) -> Tensor:
        L = self._unbroadcasted_scale_tril
        return self._full(inverse(L @ L.mT), 2)

    @property
    def mean(self) -> Tensor:
        return self.loc

    @property
    def mode(self) -> Tensor:
        return self.loc

    @property
    def variance(self) -> Tensor:
        return self._full((self._unbroadcasted_scale_tril ** 2).sum(-1), 1)

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        """loc + L·ε, ε ~ N(0, I)."""
        eps = draw("normal", tuple(self._extended_shape(sample_shape)), self.loc)
        return self.loc + (self._unbroadcasted_scale_tril @ eps.unsqueeze(-1)).squeeze(-1)

    def _half_log_det(self) -> Tensor:
        return log(self._unbroadcasted_scale_tril.diagonal(dim1=-2, dim2=-1)).sum(-1)

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        m = _batch_mahalanobis(self._unbroadcasted_scale_tril, value - self.loc)
        return -0.5 * (self._event_shape[0] * math.log(2 * math.pi) + m) - self._half_log_det()

    def entropy(self) -> Tensor:
        h = 0.5 * self._event_shape[0] * (1.0 + math.log(2 * math.pi)) + self._half_log_det()
        return h if len(self._batch_shape) == 0 else h.expand(tuple(self._batch_shape))
