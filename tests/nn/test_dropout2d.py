"""Dropout2d: whole channels dropped, the rest scaled; identity in eval."""
from __future__ import annotations

import numpy as np

import matgrad as mg
from matgrad import nn


def test_dropout2d_zeroes_whole_channels_and_scales_the_rest():
    x = mg.ones(8, 16, 3, 3, requires_grad=True)
    y = nn.Dropout2d(0.5)(x)
    per_channel = y.numpy().reshape(8, 16, 9)
    assert np.all((per_channel == 0).all(axis=2) | (per_channel == 2.0).all(axis=2))
    dropped = (per_channel == 0).all(axis=2).mean()
    assert 0.3 < dropped < 0.7
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, y.numpy())  # dx = mask
    assert nn.Dropout2d(0.5).eval()(x) is x
