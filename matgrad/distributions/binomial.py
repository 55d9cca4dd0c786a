"""torch.distributions.binomial's counterpart: Binomial, defined in counts.py."""
from .counts import Binomial

__all__ = ["Binomial"]
