"""torch.backends.mps: Apple's Metal is not a matgrad device, so both answers are False."""
from __future__ import annotations


def is_available() -> bool:
    """False: matgrad runs on the CPU (NumPy) and on CUDA through CuPy only."""
    return False


def is_built() -> bool:
    """False: matgrad has no MPS backend."""
    return False
