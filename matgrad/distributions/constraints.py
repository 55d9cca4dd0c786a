"""torch.distributions.constraints: the sets a parameter or a value must lie in.

Each constraint's `check(value)` gives a bool Tensor, one element per event (a constraint with
event_dim 1 or 2 reduces the rightmost dims). Distributions name theirs in `arg_constraints`
(parameters) and `support` (values); with validate_args they are checked at construction and
in log_prob, as PyTorch does.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..ops import join as _join
from ..tensor import Tensor, as_tensor

__all__ = [
    "Constraint", "boolean", "dependent", "dependent_property", "greater_than", "greater_than_eq",
    "independent", "integer_interval", "interval", "is_dependent", "lower_cholesky", "nonnegative",
    "nonnegative_integer", "one_hot", "positive", "positive_definite", "real", "real_vector", "simplex",
    "unit_interval",
    "MixtureSameFamilyConstraint", "cat", "corr_cholesky", "half_open_interval", "less_than", "lower_triangular",
    "multinomial",
    "positive_integer", "positive_semidefinite", "square", "stack", "symmetric",
]


class Constraint:
    """A set of valid values; `check(value)` says, per event, whether value lies in it."""

    is_discrete = False
    event_dim = 0

    def check(self, value: Any) -> Tensor:
        raise NotImplementedError

    def __repr__(self) -> str:
        return type(self).__name__[1:] + "()"


class _Dependent(Constraint):
    """A set that depends on other parameters (Uniform's low and high): not checked."""

    def __init__(self, *, is_discrete: bool = False, event_dim: int = 0) -> None:
        self.is_discrete, self.event_dim = is_discrete, event_dim

    def __call__(self, *, is_discrete: bool = False, event_dim: int = 0) -> _Dependent:
        return _Dependent(is_discrete=is_discrete, event_dim=event_dim)

    def check(self, value: Any) -> Tensor:
        raise ValueError("Cannot determine validity of dependent constraint")


def is_dependent(constraint: Any) -> bool:
    """Whether a constraint depends on other parameters, so it cannot be checked alone."""
    return isinstance(constraint, _Dependent)


class dependent_property(property):
    """A property whose value is a constraint built from the instance (a support like interval(low, high));
    on the class it reads as `dependent`."""

    def __init__(self, fn: Any = None, *, is_discrete: bool = False, event_dim: int = 0) -> None:
        super().__init__(fn)
        self.is_discrete, self.event_dim = is_discrete, event_dim

    def __call__(self, fn: Any) -> dependent_property:
        return dependent_property(fn, is_discrete=self.is_discrete, event_dim=self.event_dim)


def _all_last(ok: Tensor, n: int) -> Tensor:
    for _ in range(n):
        ok = ok.all(-1)
    return ok


class _IndependentConstraint(Constraint):
    """A constraint on single values, applied to events of `reinterpreted_batch_ndims` more dims."""

    def __init__(self, base_constraint: Constraint, reinterpreted_batch_ndims: int) -> None:
        self.base_constraint = base_constraint
        self.reinterpreted_batch_ndims = reinterpreted_batch_ndims
        self.is_discrete = base_constraint.is_discrete
        self.event_dim = base_constraint.event_dim + reinterpreted_batch_ndims

    def check(self, value: Any) -> Tensor:
        ok = self.base_constraint.check(value)
        return _all_last(ok, self.reinterpreted_batch_ndims)

    def __repr__(self) -> str:
        return f"IndependentConstraint({self.base_constraint!r}, {self.reinterpreted_batch_ndims})"


class _Boolean(Constraint):
    is_discrete = True

    def check(self, value: Any) -> Tensor:
        v = as_tensor(value)
        return (v == 0) | (v == 1)


class _OneHot(Constraint):
    is_discrete = True
    event_dim = 1

    def check(self, value: Any) -> Tensor:
        v = as_tensor(value)
        return ((v == 0) | (v == 1)).all(-1) & (v.sum(-1) == 1)


class _IntegerInterval(Constraint):
    is_discrete = True

    def __init__(self, lower_bound: Any, upper_bound: Any) -> None:
        self.lower_bound, self.upper_bound = lower_bound, upper_bound

    def check(self, value: Any) -> Tensor:
        v = as_tensor(value)
        return (v % 1 == 0) & (self.lower_bound <= v) & (v <= self.upper_bound)

    def __repr__(self) -> str:
        return f"IntegerInterval(lower_bound={self.lower_bound}, upper_bound={self.upper_bound})"


class _IntegerGreaterThan(Constraint):
    is_discrete = True

    def __init__(self, lower_bound: Any) -> None:
        self.lower_bound = lower_bound

    def check(self, value: Any) -> Tensor:
        v = as_tensor(value)
        return (v % 1 == 0) & (v >= self.lower_bound)

    def __repr__(self) -> str:
        return f"IntegerGreaterThan(lower_bound={self.lower_bound})"


class _Real(Constraint):
    def check(self, value: Any) -> Tensor:
        v = as_tensor(value)
        return v == v  # everything but NaN


class _GreaterThan(Constraint):
    def __init__(self, lower_bound: Any) -> None:
        self.lower_bound = lower_bound

    def check(self, value: Any) -> Tensor:
        return as_tensor(value) > self.lower_bound

    def __repr__(self) -> str:
        return f"GreaterThan(lower_bound={self.lower_bound})"


class _GreaterThanEq(Constraint):
    def __init__(self, lower_bound: Any) -> None:
        self.lower_bound = lower_bound

    def check(self, value: Any) -> Tensor:
        return as_tensor(value) >= self.lower_bound

    def __repr__(self) -> str:
        return f"GreaterThanEq(lower_bound={self.lower_bound})"


class _Interval(Constraint):
    def __init__(self, lower_bound: Any, upper_bound: Any) -> None:
        self.lower_bound, self.upper_bound = lower_bound, upper_bound

    def check(self, value: Any) -> Tensor:
        v = as_tensor(value)
        return (self.lower_bound <= v) & (v <= self.upper_bound)

    def __repr__(self) -> str:
        return f"Interval(lower_bound={self.lower_bound}, upper_bound={self.upper_bound})"


class _HalfOpenInterval(_Interval):
    def check(self, value: Any) -> Tensor:
        v = as_tensor(value)
        return (self.lower_bound <= v) & (v < self.upper_bound)

    def __repr__(self) -> str:
        return f"HalfOpenInterval(lower_bound={self.lower_bound}, upper_bound={self.upper_bound})"


class _Simplex(Constraint):
    """Non-negative entries in the last dim that sum to 1 (within 1e-6)."""

    event_dim = 1

    def check(self, value: Any) -> Tensor:
        v = as_tensor(value)
        return (v >= 0).all(-1) & ((v.sum(-1) - 1).abs() < 1e-6)


class _LowerCholesky(Constraint):
    """Lower-triangular square matrices with a positive diagonal."""

    event_dim = 2

    def check(self, value: Any) -> Tensor:
        v = as_tensor(value)
        lower = (v.tril() == v).all(-1).all(-1)
        return lower & (v.diagonal(dim1=-2, dim2=-1) > 0).all(-1)


class _PositiveDefinite(Constraint):
    """Symmetric (within 1e-6) matrices that have a Cholesky factor."""

    event_dim = 2

    def check(self, value: Any) -> Tensor:
        a = np.asarray(as_tensor(value).detach().cpu().array)
        sym = np.isclose(a, np.swapaxes(a, -1, -2), atol=1e-6).all((-2, -1))
        ok = np.zeros(a.shape[:-2], dtype=bool)
        for i in np.ndindex(*a.shape[:-2]):
            try:
                np.linalg.cholesky(a[i])
                ok[i] = True
            except np.linalg.LinAlgError:
                pass
        return as_tensor(sym & ok)


class _LessThan(Constraint):
    def __init__(self, upper_bound: Any) -> None:
        self.upper_bound = upper_bound

    def check(self, value: Any) -> Tensor:
        return as_tensor(value) < self.upper_bound

    def __repr__(self) -> str:
        return f"LessThan(upper_bound={self.upper_bound})"


class _Multinomial(Constraint):
    """Non-negative counts in the last dim summing to at most upper_bound."""

    is_discrete = True
    event_dim = 1

    def __init__(self, upper_bound: Any) -> None:
        self.upper_bound = upper_bound

    def check(self, value: Any) -> Tensor:
        v = as_tensor(value)
        return (v >= 0).all(-1) & (v.sum(-1) <= self.upper_bound)


class _LowerTriangular(Constraint):
    """Lower-triangular square matrices."""

    event_dim = 2

    def check(self, value: Any) -> Tensor:
        v = as_tensor(value)
        return (v.tril() == v).all(-1).all(-1)


class _CorrCholesky(Constraint):
    """Lower Cholesky factors of correlation matrices: positive diagonal, rows of unit norm."""

    event_dim = 2

    def check(self, value: Any) -> Tensor:
        v = as_tensor(value)
        tol = float(np.finfo(v.array.dtype).eps) * v.shape[-1] * 10  # torch's fudge factor
        row_norm = (v.detach() ** 2).sum(-1).sqrt()
        return _LowerCholesky().check(v) & ((row_norm - 1.0).abs() <= tol).all(-1)


class _Square(Constraint):
    """Square matrices (a shape property: one bool per batch element)."""

    event_dim = 2

    def check(self, value: Any) -> Tensor:
        v = as_tensor(value)
        return as_tensor(np.full(tuple(v.shape[:-2]), v.shape[-2] == v.shape[-1], dtype=bool))


class _Symmetric(_Square):
    """Square matrices equal to their transpose within 1e-6."""

    def check(self, value: Any) -> Tensor:
        square = super().check(value)
        if not bool(square.all()):
            return square
        a = np.asarray(as_tensor(value).detach().cpu().array)
        return as_tensor(np.isclose(a, np.swapaxes(a, -1, -2), atol=1e-6).all((-2, -1)))


class _PositiveSemidefinite(_Symmetric):
    """Symmetric matrices with no negative eigenvalue."""

    def check(self, value: Any) -> Tensor:
        sym = super().check(value)
        if not bool(sym.all()):
            return sym
        a = np.asarray(as_tensor(value).detach().cpu().array)
        return as_tensor((np.linalg.eigvalsh(a) >= 0).all(-1))


class _Cat(Constraint):
    """Constraints cseq applied to consecutive slices (of sizes lengths) along dim."""

    def __init__(self, cseq: Any, dim: int = 0, lengths: Any = None) -> None:
        if not all(isinstance(c, Constraint) for c in cseq):
            raise AssertionError("All elements of cseq must be Constraint instances")
        self.cseq = list(cseq)
        self.lengths = [1] * len(self.cseq) if lengths is None else list(lengths)
        if len(self.lengths) != len(self.cseq):
            raise AssertionError(f"lengths ({len(self.lengths)}) must match cseq ({len(self.cseq)})")
        self.dim = dim

    @property
    def is_discrete(self) -> bool:  # type: ignore[override]
        return any(c.is_discrete for c in self.cseq)

    @property
    def event_dim(self) -> int:  # type: ignore[override]
        return max(c.event_dim for c in self.cseq)

    def check(self, value: Any) -> Tensor:
        v = as_tensor(value)
        if not -v.dim() <= self.dim < v.dim():
            raise AssertionError(f"dim {self.dim} out of range for value with {v.dim()} dimensions")
        checks, start = [], 0
        for c, n in zip(self.cseq, self.lengths):
            checks.append(c.check(v.narrow(self.dim, start, n)))
            start += n
        return _join.cat(checks, self.dim)


class _Stack(Constraint):
    """Constraints cseq applied to the slices of value along dim, one each."""

    def __init__(self, cseq: Any, dim: int = 0) -> None:
        if not all(isinstance(c, Constraint) for c in cseq):
            raise AssertionError("All elements of cseq must be Constraint instances")
        self.cseq = list(cseq)
        self.dim = dim

    @property
    def is_discrete(self) -> bool:  # type: ignore[override]
        return any(c.is_discrete for c in self.cseq)

    @property
    def event_dim(self) -> int:  # type: ignore[override]
        dim = max(c.event_dim for c in self.cseq)
        return dim + 1 if self.dim + dim < 0 else dim

    def check(self, value: Any) -> Tensor:
        v = as_tensor(value)
        if not -v.dim() <= self.dim < v.dim():
            raise AssertionError(f"dim {self.dim} out of range for value with {v.dim()} dimensions")
        return _join.stack([c.check(v.select(self.dim, i)) for i, c in enumerate(self.cseq)], self.dim)


class MixtureSameFamilyConstraint(Constraint):
    """A component's constraint, checked for a value against every component (a MixtureSameFamily's support)."""

    def __init__(self, base_constraint: Constraint) -> None:
        if not isinstance(base_constraint, Constraint):
            raise AssertionError(f"base_constraint must be a Constraint, got {type(base_constraint).__name__}")
        self.base_constraint = base_constraint

    @property
    def is_discrete(self) -> bool:  # type: ignore[override]
        return self.base_constraint.is_discrete

    @property
    def event_dim(self) -> int:  # type: ignore[override]
        return self.base_constraint.event_dim

    def check(self, value: Any) -> Tensor:
        v = as_tensor(value)
        result = self.base_constraint.check(v.unsqueeze(-1 - self.event_dim))
        if v.dim() < self.event_dim:
            raise ValueError(f"Expected value.dim() >= {self.event_dim} but got {v.dim()}")
        keep = v.dim() - self.event_dim
        return result.reshape(tuple(result.shape[:keep]) + (-1,)).all(-1)

    def __repr__(self) -> str:
        return f"MixtureSameFamilyConstraint({self.base_constraint!r})"


dependent = _Dependent()
boolean = _Boolean()
one_hot = _OneHot()
nonnegative_integer = _IntegerGreaterThan(0)
integer_interval = _IntegerInterval
real = _Real()
real_vector = _IndependentConstraint(real, 1)
positive = _GreaterThan(0.0)
nonnegative = _GreaterThanEq(0.0)
greater_than = _GreaterThan
greater_than_eq = _GreaterThanEq
interval = _Interval
half_open_interval = _HalfOpenInterval
unit_interval = _Interval(0.0, 1.0)
simplex = _Simplex()
lower_cholesky = _LowerCholesky()
positive_definite = _PositiveDefinite()
independent = _IndependentConstraint
positive_integer = _IntegerGreaterThan(1)
less_than = _LessThan
multinomial = _Multinomial
lower_triangular = _LowerTriangular()
corr_cholesky = _CorrCholesky()
square = _Square()
symmetric = _Symmetric()
positive_semidefinite = _PositiveSemidefinite()
cat = _Cat
stack = _Stack
