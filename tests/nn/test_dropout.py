"""Dropout: drops and rescales in training, identity in eval, reproducible from the seed."""
from __future__ import annotations

import numpy as np
import pytest

import matgrad as mg
import matgrad.nn as nn


def test_dropout_training_statistics():
    d = nn.Dropout(0.25)
    out = d(mg.ones(200, 200))
    dropped = (out.array == 0).mean()
    assert dropped == pytest.approx(0.25, abs=0.01)
    np.testing.assert_allclose(out.array[out.array != 0], 1 / 0.75, rtol=1e-6)
    assert out.array.mean() == pytest.approx(1.0, abs=0.02)  # expectation preserved


def test_dropout_eval_is_identity():
    d = nn.Dropout(0.9).eval()
    x = mg.randn(10)
    assert d(x) is x


def test_dropout_uses_matgrads_generator():
    mg.manual_seed(1)
    a = nn.Dropout()(mg.ones(100))
    mg.manual_seed(1)
    b = nn.Dropout()(mg.ones(100))
    np.testing.assert_array_equal(a.array, b.array)


def test_dropout_backward_and_errors():
    x = mg.ones(100, requires_grad=True)
    y = nn.Dropout(0.5)(x)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, y.array)
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout(-0.1)
    assert repr(nn.Dropout(0.3)) == "Dropout(p=0.3, inplace=False)"
