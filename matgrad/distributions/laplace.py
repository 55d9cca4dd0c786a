"""torch.distributions.laplace's counterpart: Laplace, defined in continuous.py."""
from .continuous import Laplace

__all__ = ["Laplace"]
