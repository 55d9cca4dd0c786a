"""torch.distributions.exponential's counterpart: Exponential, defined in continuous.py."""
from .continuous import Exponential

__all__ = ["Exponential"]
