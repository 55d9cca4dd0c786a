"""torch.distributions.log_normal's counterpart: LogNormal, defined in continuous.py."""
from .continuous import LogNormal

__all__ = ["LogNormal"]
