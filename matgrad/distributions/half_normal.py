"""torch.distributions.half_normal's counterpart: HalfNormal, defined in continuous.py."""
from .continuous import HalfNormal

__all__ = ["HalfNormal"]
