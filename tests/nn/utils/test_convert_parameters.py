"""parameters_to_vector and vector_to_parameters."""
from __future__ import annotations

import numpy as np
import pytest

import matgrad as mg
import matgrad.nn as nn
from matgrad.nn.utils import parameters_to_vector, vector_to_parameters


def test_round_trip_in_order():
    lin = nn.Linear(3, 2)
    vec = parameters_to_vector(lin.parameters())
    assert vec.shape == (8,)
    np.testing.assert_array_equal(vec.array, np.concatenate([lin.weight.array.ravel(), lin.bias.array]))
    w = lin.weight.array
    vector_to_parameters(mg.arange(8).float(), lin.parameters())
    assert lin.weight.array is w  # written in place
    assert lin.weight.tolist() == [[0, 1, 2], [3, 4, 5]] and lin.bias.tolist() == [6, 7]


def test_parameters_to_vector_is_differentiable():
    lin = nn.Linear(2, 2)
    (parameters_to_vector(lin.parameters()) * mg.arange(6).float()).sum().backward()
    assert lin.weight.grad.tolist() == [[0, 1], [2, 3]] and lin.bias.grad.tolist() == [4, 5]


def test_errors():
    lin = nn.Linear(2, 2)
    with pytest.raises(TypeError, match="Tensor"):
        vector_to_parameters(np.zeros(6), lin.parameters())
    with pytest.raises(ValueError, match="hold 6 values"):
        vector_to_parameters(mg.zeros(5), lin.parameters())
