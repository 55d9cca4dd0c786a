"""Wishart: the distribution of X = Σᵢ xᵢxᵢᵀ, xᵢ ~ N(0, Σ), for df (real, > p − 1) degrees of freedom; drawn by the
Bartlett decomposition X = (L A)(L A)ᵀ, A lower triangular with √χ²(df − i) on its diagonal and N(0, 1) below."""
from __future__ import annotations

import math
import numbers
import warnings
from typing import Any

from .. import linalg
from ..creation import tensor
from ..ops.arithmetic import add
from ..ops.linalg import tril
from ..ops.special import digamma, mvlgamma
from ..ops.views import broadcast_shapes, diag_embed
from ..tensor import Tensor
from . import constraints
from .exp_family import ExponentialFamily
from .gamma import Chi2
from .utils import draw, finfo, lazy_property

__all__ = ["Wishart"]

_LOG_2 = math.log(2)


def _mvdigamma(x: Tensor, p: int) -> Tensor:
    """Σ_{i<p} ψ(x − i/2), the multivariate digamma (x > (p − 1)/2)."""
    if not bool((x > (p - 1) / 2).all()):
        raise ValueError("Wrong domain for multivariate digamma function.")
    steps = tensor([i / 2 for i in range(p)], dtype=x.dtype, device=x.device)
    return digamma(x.unsqueeze(-1) - steps).sum(-1)


class Wishart(ExponentialFamily):
    """The Wishart distribution W(Σ, df) over p×p positive-definite matrices: density
    |X|^((df−p−1)/2) e^(−tr(Σ⁻¹X)/2) / (2^(df·p/2) |Σ|^(df/2) Γ_p(df/2)).

    Σ is given as covariance_matrix, precision_matrix (Σ⁻¹) or scale_tril (L, Σ = L Lᵀ). rsample redraws
    singular draws (up to max_try_correction times, 10 by default) and warns once when it finds one.
    """

    support = constraints.positive_definite
    has_rsample = True
    _mean_carrier_measure = 0

    @property
    def arg_constraints(self) -> dict[str, constraints.Constraint]:
        return {"covariance_matrix": constraints.positive_definite, "precision_matrix": constraints.positive_definite,
                "scale_tril": constraints.lower_cholesky, "df": constraints.greater_than(self.event_shape[-1] - 1)}

    def __init__(self, df: Any, covariance_matrix: Tensor | None = None, precision_matrix: Tensor | None = None,
                 scale_tril: Tensor | None = None, validate_args: bool | None = None) -> None:
        given = [m for m in (covariance_matrix, precision_matrix, scale_tril) if m is not None]
        if len(given) != 1:
            raise ValueError("Exactly one of covariance_matrix or precision_matrix or scale_tril may be specified.")
        param = given[0]
        if param.dim() < 2:
            raise ValueError("scale_tril must be at least two-dimensional, with optional leading batch dimensions")
        if isinstance(df, numbers.Number):
            batch_shape = tuple(param.shape[:-2])
            self.df = tensor(df, dtype=param.dtype, device=param.device)
        else:
            batch_shape = tuple(broadcast_shapes(tuple(param.shape[:-2]), tuple(df.shape)))
            self.df = df.expand(batch_shape)
        event_shape = tuple(param.shape[-2:])
        p = event_shape[-1]
        if bool((self.df <= p - 1).any()):
            raise ValueError(f"Value of df={df} expected to be greater than ndim - 1 = {p - 1}.")
        if scale_tril is not None:
            self.scale_tril = param.expand(batch_shape + (-1, -1))
        elif covariance_matrix is not None:
            self.covariance_matrix = param.expand(batch_shape + (-1, -1))
        else:
            self.precision_matrix = param.expand(batch_shape + (-1, -1))
        if bool((self.df < p).any()):
            warnings.warn("Low df values detected. Singular samples are highly likely to occur for ndim - 1 < df < "
                          "ndim.", UserWarning, stacklevel=2)
        super().__init__(batch_shape, event_shape, validate_args=validate_args)
        if scale_tril is not None:
            self._unbroadcasted_scale_tril = scale_tril
        elif covariance_matrix is not None:
            self._unbroadcasted_scale_tril = linalg.cholesky(covariance_matrix)
        else:
            self._unbroadcasted_scale_tril = linalg.cholesky(linalg.inv(precision_matrix))

    def expand(self, batch_shape: Any, _instance: Any = None) -> Wishart:
        new = super().expand(batch_shape, _instance)
        shape = tuple(new.batch_shape) + tuple(self.event_shape)
        new.df = self.df.expand(tuple(new.batch_shape))
        new._unbroadcasted_scale_tril = self._unbroadcasted_scale_tril.expand(shape)
        for name in ("covariance_matrix", "precision_matrix", "scale_tril"):
            if name in self.__dict__:
                new.__dict__[name] = self.__dict__[name].expand(shape)
        return new

    def _chi2_df(self) -> Tensor:
        """df − i for the diagonal's i = 0 … p−1, (batch, p)."""
        p = self._event_shape[-1]
        steps = tensor(list(range(p)), dtype=self.df.dtype, device=self.df.device)
        return self.df.unsqueeze(-1) - steps

    @lazy_property
    def scale_tril(self) -> Tensor:
        return self._unbroadcasted_scale_tril.expand(tuple(self._batch_shape) + tuple(self._event_shape))

    @lazy_property
    def covariance_matrix(self) -> Tensor:
        low = self._unbroadcasted_scale_tril
        return (low @ low.mT).expand(tuple(self._batch_shape) + tuple(self._event_shape))

    @lazy_property
    def precision_matrix(self) -> Tensor:
        low = self._unbroadcasted_scale_tril
        return linalg.inv(low @ low.mT).expand(tuple(self._batch_shape) + tuple(self._event_shape))

    def _df_matrix(self, x: Tensor) -> Tensor:
        return x.reshape(tuple(self._batch_shape) + (1, 1))

    @property
    def mean(self) -> Tensor:
        return self._df_matrix(self.df) * self.covariance_matrix

    @property
    def mode(self) -> Tensor:
        factor = self.df - self.covariance_matrix.shape[-1] - 1
        factor = factor.where(factor > 0, math.nan)  # no mode for df ≤ p + 1, as torch
        return self._df_matrix(factor) * self.covariance_matrix

    @property
    def variance(self) -> Tensor:
        v = self.covariance_matrix
        d = v.diagonal(dim1=-2, dim2=-1)
        return self._df_matrix(self.df) * (v ** 2 + d.unsqueeze(-1) * d.unsqueeze(-2))

    def _bartlett(self, sample_shape: tuple[int, ...]) -> Tensor:
        shape = tuple(sample_shape) + tuple(self._batch_shape) + tuple(self._event_shape)
        chi = Chi2(self._chi2_df()).rsample(sample_shape).sqrt()
        chi = chi.clamp(min=float(finfo(chi.dtype).eps))
        a = add(diag_embed(chi), tril(draw("normal", shape, self.df), -1))
        chol = self._unbroadcasted_scale_tril @ a
        return chol @ chol.mT

    def rsample(self, sample_shape: Any = (), max_try_correction: int | None = None) -> Tensor:
        """(L A)(L A)ᵀ by the Bartlett decomposition; draws that are not positive-definite are redrawn."""
        tries = 10 if max_try_correction is None else int(max_try_correction)
        sample_shape = tuple(sample_shape) if not isinstance(sample_shape, int) else (sample_shape,)
        sample = self._bartlett(sample_shape)
        singular = ~self.support.check(sample)
        if bool(singular.any()):
            warnings.warn("Singular sample detected.", UserWarning, stacklevel=2)
            for _ in range(tries):
                sample = self._bartlett(sample_shape).where(singular.unsqueeze(-1).unsqueeze(-1), sample)
                singular = ~self.support.check(sample)
                if not bool(singular.any()):
                    break
        return sample

    def _half_log_det_scale(self) -> Tensor:
        return self._unbroadcasted_scale_tril.diagonal(dim1=-2, dim2=-1).log().sum(-1)

    def log_prob(self, value: Any) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        nu = self.df
        p = self._event_shape[-1]
        low = self._unbroadcasted_scale_tril
        half = linalg.solve_triangular(low, value, upper=False)  # Σ⁻¹X = L⁻ᵀ(L⁻¹X), torch's cholesky_solve
        trace = linalg.solve_triangular(low.mT, half, upper=True).diagonal(dim1=-2, dim2=-1).sum(-1)
        return (-nu * (p * _LOG_2 / 2 + self._half_log_det_scale()) - mvlgamma(nu / 2, p)
                + (nu - p - 1) / 2 * linalg.slogdet(value).logabsdet - trace / 2)

    def entropy(self) -> Tensor:
        nu = self.df
        p = self._event_shape[-1]
        return ((p + 1) * (p * _LOG_2 / 2 + self._half_log_det_scale()) + mvlgamma(nu / 2, p)
                - (nu - p - 1) / 2 * _mvdigamma(nu / 2, p) + nu * p / 2)

    @property
    def _natural_params(self) -> tuple[Tensor, Tensor]:
        p = self._event_shape[-1]
        return -self.precision_matrix / 2, (self.df - p - 1) / 2

    def _log_normalizer(self, x: Tensor, y: Tensor) -> Tensor:
        p = self._event_shape[-1]
        return ((y + (p + 1) / 2) * (-linalg.slogdet(-2 * x).logabsdet + _LOG_2 * p)
                + mvlgamma(y + (p + 1) / 2, p))
