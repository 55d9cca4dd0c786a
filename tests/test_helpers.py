"""tests/helpers.py's assert_close: float tolerances that hold on every CPU."""
from __future__ import annotations

import numpy as np
import pytest

from tests.helpers import assert_close


def test_a_mean_near_zero_is_compared_at_its_inputs_scale():
    # test_pooling_modules on an AVX-512 Xeon: the mean of 48 values of size ~3 came out
    # -0.0010464550 there and -0.0010464391 here; rtol=1e-5 of the mean alone refused it
    ours, theirs = np.float32(-0.0010464550), np.float32(-0.0010464391)
    with pytest.raises(AssertionError):
        np.testing.assert_allclose(ours, theirs, rtol=1e-5)
    assert_close(ours, theirs, rtol=1e-5, scale=3.0)


def test_scale_defaults_to_the_largest_finite_expected_value():
    want = np.array([100.0, 1e-6, np.inf], np.float32)
    assert_close(np.array([100.0, 5e-4, np.inf], np.float32), want, rtol=1e-5)  # 5e-4 < 1e-5 * 100
    with pytest.raises(AssertionError):
        assert_close(np.array([100.0, 2e-3, np.inf], np.float32), want, rtol=1e-5)
    with pytest.raises(AssertionError):  # an infinity still has to match exactly
        assert_close(np.array([100.0, 0.0, -np.inf], np.float32), want, rtol=1e-5)
