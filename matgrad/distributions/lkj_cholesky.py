"""LKJCholesky: the lower Cholesky factor L of a correlation matrix C = L Lᵀ with density ∝ det(C)^(η − 1) (the LKJ
distribution), drawn by the onion method (Lewandowski, Kurowicka and Joe 2009, section 3.2), vectorised."""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..creation import tensor
from ..ops.special import lgamma, mvlgamma
from ..ops.views import diag_embed
from ..tensor import Tensor
from . import constraints
from .dirichlet import Beta
from .distribution import Distribution
from .utils import broadcast_all, draw

__all__ = ["LKJCholesky"]


class LKJCholesky(Distribution):
    """The LKJ distribution over dim×dim correlation matrices, on their lower Cholesky factors: density
    ∝ Π_{i≥2} L_ii^(2(η−1) + dim − i), η = concentration (η = 1: uniform over correlation matrices).

    Only sample (no rsample), log_prob and the shapes, as torch's.
    """

    arg_constraints = {"concentration": constraints.positive}
    support = constraints.corr_cholesky

    def __init__(self, dim: int, concentration: Any = 1.0, validate_args: bool | None = None) -> None:
        if dim < 2:
            raise ValueError(f"Expected dim to be an integer greater than or equal to 2. Found dim={dim}.")
        self.dim = dim
        (self.concentration,) = broadcast_all(concentration)
        marginal = self.concentration + 0.5 * (dim - 2)
        offset = tensor([0.0] + [float(i) for i in range(dim - 1)], dtype=self.concentration.dtype,
                        device=self.concentration.device)
        # the Beta draws of the onion method, one per row: row 0 gets Beta(½, η + (dim − 2)/2) and is dropped
        self._beta = Beta(offset + 0.5, marginal.unsqueeze(-1) - 0.5 * offset, validate_args=False)
        super().__init__(tuple(self.concentration.shape), (dim, dim), validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Any = None) -> LKJCholesky:
        new = type(self).__new__(type(self)) if _instance is None else _instance
        new.__dict__.update(self.__dict__)
        batch = tuple(batch_shape)
        new.concentration = self.concentration.expand(batch)
        new._beta = self._beta.expand(batch + (self.dim,))
        Distribution.__init__(new, batch, self.event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def sample(self, sample_shape: Any = ()) -> Tensor:
        """w = √y·u, u uniform on the unit sphere of the row's first i entries, y ~ Beta; the diagonal
        completes each row to unit norm."""
        sample_shape = (sample_shape,) if isinstance(sample_shape, int) else tuple(sample_shape)
        y = self._beta.sample(sample_shape).unsqueeze(-1)
        u = draw("normal", tuple(self._extended_shape(sample_shape)), self.concentration).tril(-1)
        norm = (u * u).sum(-1, keepdim=True).sqrt()
        sphere = u / norm.where(norm > 0, 1.0)  # row 0 has no entries below the diagonal: 0, not nan
        w = y.sqrt() * sphere
        tiny = float(np.finfo(w.array.dtype).tiny)
        diag = (1 - (w * w).sum(-1)).clamp(min=tiny).sqrt()
        return w + diag_embed(diag)

    def log_prob(self, value: Any) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        diag = value.diagonal(dim1=-1, dim2=-2)[..., 1:]
        order = tensor([float(self.dim - i) for i in range(2, self.dim + 1)], dtype=self.concentration.dtype,
                       device=self.concentration.device)
        order = 2 * (self.concentration - 1).unsqueeze(-1) + order
        unnormalized = (order * diag.log()).sum(-1)
        dm1 = self.dim - 1
        alpha = self.concentration + 0.5 * dm1
        normalize = 0.5 * dm1 * math.log(math.pi) + mvlgamma(alpha - 0.5, dm1) - lgamma(alpha) * dm1
        return unnormalized - normalize
