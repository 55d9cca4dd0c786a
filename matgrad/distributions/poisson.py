"""torch.distributions.poisson's counterpart: Poisson, defined in counts.py."""
from .counts import Poisson

__all__ = ["Poisson"]
