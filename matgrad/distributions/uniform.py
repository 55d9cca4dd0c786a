"""torch.distributions.uniform's counterpart: Uniform, defined in continuous.py."""
from .continuous import Uniform

__all__ = ["Uniform"]
