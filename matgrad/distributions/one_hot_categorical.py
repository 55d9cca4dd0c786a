"""OneHotCategorical (see discrete.py) and OneHotCategoricalStraightThrough, its straight-through reparameterisation."""
from __future__ import annotations

from typing import Any

from ..tensor import Tensor
from .discrete import OneHotCategorical

__all__ = ["OneHotCategorical", "OneHotCategoricalStraightThrough"]


class OneHotCategoricalStraightThrough(OneHotCategorical):
    """OneHotCategorical whose rsample passes gradients straight through to probs (Bengio et al. 2013)."""

    has_rsample = True

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        """sample + (probs − probs.detach()): the one-hot value, with d/dprobs = identity."""
        samples = self.sample(sample_shape)
        probs = self._categorical.probs
        return samples + (probs - probs.detach())
