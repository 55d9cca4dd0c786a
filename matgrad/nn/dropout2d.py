"""dropout2d: drop whole channels (feature maps), the dropout for convolutional layers (the layer, Dropout2d, is
in dropout.py with the other dropout layers)."""
from __future__ import annotations

from typing import Any

import numpy as np

from .. import random as _random
from ..devices import move
from ..tensor import Tensor, as_tensor


def dropout2d(input: Any, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero each channel of (N, C, H, W) (or (C, H, W)) with probability p, scale the rest by 1/(1-p).

    One draw per (sample, channel): y = x·m, m of shape (N, C, 1, 1), so dx = dy·m.
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout2d: probability has to be between 0 and 1, but got {p}")
    x = as_tensor(input)
    if x.ndim not in (3, 4):
        raise ValueError(f"dropout2d: expected (N, C, H, W) or (C, H, W) input, got shape {tuple(x.shape)}")
    if not training or p == 0.0:
        return x
    mask_shape = x.shape[: x.ndim - 2] + (1, 1)
    if p == 1.0:
        mask = np.zeros(mask_shape, dtype=x.dtype)
    else:
        keep = _random.default_generator().random(mask_shape) >= p
        mask = np.multiply(keep, 1.0 / (1.0 - p), dtype=x.dtype)
    if type(x.array) is not np.ndarray:  # drawn on the host (one seeded generator for every device), then moved
        mask = move(mask, x.device)
    return x * Tensor._make(mask, None, False)

