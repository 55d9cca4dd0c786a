"""torch.distributions.studentT's counterpart: StudentT, defined in gamma.py."""
from .gamma import StudentT

__all__ = ["StudentT"]
