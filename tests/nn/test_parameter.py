"""Parameter: a leaf Tensor that requires grad and shares its data."""
from __future__ import annotations

import pickle

import numpy as np
import pytest

import matgrad as mg
import matgrad.nn as nn


def test_parameter_is_a_leaf_tensor_requiring_grad():
    t = mg.randn(2, 3)
    p = nn.Parameter(t)
    assert isinstance(p, mg.Tensor) and p.requires_grad and p.is_leaf
    assert p.array is t.array  # shares memory
    assert not nn.Parameter(t, requires_grad=False).requires_grad
    assert nn.Parameter().shape == (0,)
    assert nn.Parameter([1.0, 2.0]).dtype == np.float32


def test_parameter_results_are_plain_tensors_and_get_gradients():
    p = nn.Parameter(mg.tensor([1.0, 2.0]))
    y = (p * p).sum()
    assert type(y) is mg.Tensor
    y.backward()
    np.testing.assert_allclose(p.grad, [2.0, 4.0])
    assert type(p.detach()) is mg.Tensor


def test_parameter_repr_and_pickle():
    p = nn.Parameter(mg.tensor([1.0]))
    assert repr(p).startswith("Parameter containing:\ntensor([1.")
    q = pickle.loads(pickle.dumps(p))
    assert isinstance(q, nn.Parameter) and q.requires_grad and q.tolist() == [1.0]


def test_integer_parameter_needs_requires_grad_false():
    with pytest.raises(TypeError, match="floating"):
        nn.Parameter(mg.tensor([1, 2]))
    assert nn.Parameter(mg.tensor([1, 2]), requires_grad=False).dtype == np.int64
