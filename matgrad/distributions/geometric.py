"""torch.distributions.geometric's counterpart: Geometric, defined in counts.py."""
from .counts import Geometric

__all__ = ["Geometric"]
