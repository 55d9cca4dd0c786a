"""torch.distributions.beta's counterpart: Beta, defined in dirichlet.py."""
from .dirichlet import Beta

__all__ = ["Beta"]
