"""torch.distributions.bernoulli's counterpart: Bernoulli, defined in discrete.py."""
from .discrete import Bernoulli

__all__ = ["Bernoulli"]
