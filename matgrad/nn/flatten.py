"""Flatten and Unflatten: reshape layers for moving between images and vectors."""
from __future__ import annotations

from typing import Any, Sequence

from ..ops.shape import flatten, reshape
from ..tensor import Tensor, as_tensor
from .module import Module


class Flatten(Module):
    """Merge dims start_dim..end_dim: (N, 1, 28, 28) → (N, 784) by default."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, input: Any) -> Tensor:
        return flatten(input, self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Split dim `dim` into `unflattened_size`: (N, 784) → (N, 1, 28, 28) with dim=1, size (1, 28, 28)."""

    def __init__(self, dim: int, unflattened_size: Sequence[int]) -> None:
        super().__init__()
        self.dim, self.unflattened_size = dim, tuple(unflattened_size)

    def forward(self, input: Any) -> Tensor:
        x = as_tensor(input)
        d = self.dim % x.ndim if -x.ndim <= self.dim < x.ndim else None
        if d is None:
            raise IndexError(f"Unflatten: dim {self.dim} is out of range for a {x.ndim}-D input")
        sizes = self.unflattened_size
        known = 1
        for s in sizes:
            known *= s if s != -1 else 1
        n = x.shape[d]
        if (-1 not in sizes and known != n) or (-1 in sizes and (known == 0 or n % known)):
            raise RuntimeError(
                f"Unflatten: unflattened_size {sizes} does not match dim {self.dim} of size {n} "
                f"(input shape {x.shape}); its product must be {n}"
            )
        return reshape(x, x.shape[:d] + sizes + x.shape[d + 1:])

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
