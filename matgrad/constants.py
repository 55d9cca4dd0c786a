"""torch's top-level numeric constants: `matgrad.inf`, `nan`, `pi`, `e`, and `newaxis` (None, for indexing).

They are Python floats (and None), as torch's are, so `x * matgrad.pi` keeps x's dtype.
"""
from __future__ import annotations

import math

inf = math.inf
nan = math.nan
pi = math.pi
e = math.e
newaxis = None  # t[:, matgrad.newaxis] adds a dim, as NumPy's np.newaxis

__all__ = ["inf", "nan", "pi", "e", "newaxis"]
