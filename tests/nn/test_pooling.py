"""MaxPool2d, AvgPool2d and AdaptiveAvgPool2d as modules (the ops: tests/ops/test_pooling.py)."""
from __future__ import annotations

import numpy as np

import matgrad as mg
from matgrad import nn
from tests.helpers import assert_close


def test_pooling_modules():
    x = mg.randn(2, 3, 8, 6)
    assert nn.MaxPool2d(2)(x).shape == (2, 3, 4, 3)
    assert nn.AvgPool2d(3, stride=1, padding=1)(x).shape == (2, 3, 8, 6)
    pooled = nn.AdaptiveAvgPool2d(1)(x).numpy()[..., 0, 0]
    # means of signed values land near 0 (-0.00105 here): compare at the inputs' scale, whose last
    # digits depend on the CPU's summation order (-0.0010464550 against -0.0010464391 on AVX-512)
    assert_close(pooled, x.numpy().mean(axis=(2, 3)), rtol=1e-5, scale=np.abs(x.numpy()).max())
