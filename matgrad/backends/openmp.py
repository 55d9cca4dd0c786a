"""torch.backends.openmp: matgrad's threads are NumPy's BLAS and its own thread pool, not OpenMP."""
from __future__ import annotations


def is_available() -> bool:
    """False: matgrad is not built with OpenMP (matgrad.set_num_threads sets its threads all the same)."""
    return False
