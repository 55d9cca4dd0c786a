"""torch.distributions.categorical's counterpart: Categorical, defined in discrete.py."""
from .discrete import Categorical

__all__ = ["Categorical"]
