"""torch.backends.mkl: whether the NumPy underneath matgrad is linked against Intel MKL."""
from __future__ import annotations

import numpy as np


def is_available() -> bool:
    """True when NumPy's BLAS is MKL (then matgrad's matrix products run on it), from np.show_config."""
    try:
        config = np.show_config(mode="dicts")
        name = str(config["Build Dependencies"]["blas"]["name"])
    except Exception:  # noqa: BLE001 - older NumPy or a custom build: no way to tell, so say no
        return False
    return "mkl" in name.lower()
