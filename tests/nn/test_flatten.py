"""Flatten and Unflatten against torch, and their gradients."""
from __future__ import annotations

import pytest

import matgrad as mg
import matgrad.nn as nn
from tests.helpers import check_op


def test_flatten_default_keeps_batch():
    assert nn.Flatten()(mg.zeros(2, 1, 28, 28)).shape == (2, 784)
    assert nn.Flatten(0, 1)(mg.zeros(2, 3, 4)).shape == (6, 4)
    assert nn.Flatten(start_dim=2)(mg.zeros(2, 3, 4, 5)).shape == (2, 3, 20)


def test_unflatten_and_round_trip():
    x = mg.randn(2, 12)
    y = nn.Unflatten(1, (3, 4))(x)
    assert y.shape == (2, 3, 4)
    assert nn.Unflatten(-1, (2, -1))(x).shape == (2, 2, 6)
    assert (nn.Flatten()(y).array == x.array).all()
    with pytest.raises(RuntimeError, match="product must be 12"):
        nn.Unflatten(1, (5, 2))(x)


def test_flatten_unflatten_match_torch():
    torch = pytest.importorskip("torch")
    check_op(nn.Flatten(1, 2), (2, 3, 4, 1), torch_fn=torch.nn.Flatten(1, 2))
    check_op(nn.Unflatten(1, (2, 3)), (4, 6), torch_fn=torch.nn.Unflatten(1, (2, 3)))
    assert repr(nn.Flatten()) == repr(torch.nn.Flatten())
    assert repr(nn.Unflatten(1, (2, 3))) == repr(torch.nn.Unflatten(1, (2, 3)))
