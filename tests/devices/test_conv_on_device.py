"""Convolutions on the CuPy-like test device: values, gradients and gradients of gradients equal the CPU's
(the op table has no conv rows; tests/ops/test_conv.py checks them against finite differences and PyTorch)."""
from __future__ import annotations

import numpy as np
import pytest

import matgrad as mg
from tests.devices.test_ops_on_device import _run
from tests.helpers import make_inputs

CASES = [
    ("conv2d", lambda x, w, b: mg.nn.functional.conv2d(x, w, b, padding=1), [(2, 3, 6, 5), (4, 3, 3, 3), (4,)]),
    ("conv2d_stride2_dilated", lambda x, w: mg.nn.functional.conv2d(x, w, stride=2, dilation=2, padding=2),
     [(2, 2, 7, 7), (3, 2, 3, 3)]),
    ("conv2d_groups", lambda x, w: mg.nn.functional.conv2d(x, w, groups=2), [(1, 4, 5, 5), (6, 2, 3, 3)]),
    ("conv2d_wide", lambda x, w: mg.nn.functional.conv2d(x, w, padding=1), [(2, 16, 6, 6), (16, 16, 3, 3)]),
    ("conv_transpose2d", lambda x, w: mg.nn.functional.conv_transpose2d(x, w, stride=2, padding=1, output_padding=1),
     [(2, 3, 4, 4), (3, 2, 3, 3)]),
    ("conv1d", lambda x, w: mg.nn.functional.conv1d(x, w, padding=1), [(2, 3, 9), (4, 3, 3)]),
]


@pytest.mark.parametrize("fn, shapes", [pytest.param(f, s, id=i) for i, f, s in CASES])
def test_conv_on_the_test_device(fn, shapes, cuda):
    arrays = make_inputs(shapes)
    cpu = _run(fn, arrays, True, on_device=False)
    dev = _run(fn, arrays, True, on_device=True)
    for a, b in zip(cpu, dev):
        for x, y in zip(a, b):
            assert (x is None) == (y is None)
            if x is not None:
                np.testing.assert_allclose(y, x, rtol=1e-10, atol=1e-12)
