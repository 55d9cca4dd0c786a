"""The cnn recipe: builds for MNIST's and the digits' shapes, and learns a tiny batch."""
from __future__ import annotations

import numpy as np
import pytest

import matgrad as mg
from matgrad import nn
from matgrad.models.cnn import RECIPE, build_cnn


@pytest.mark.parametrize("shape", [(1, 28, 28), (784,), (8, 8)])
def test_cnn_recipe_builds_for_mnist_and_digits(shape):
    model = build_cnn(shape, 10)
    x = mg.randn(2, *shape)
    y = model(x)
    assert y.shape == (2, 10)
    y.sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    assert RECIPE.name == "cnn" and RECIPE.flatten_input is False


def test_cnn_learns_a_tiny_batch():
    mg.manual_seed(0)
    model = build_cnn((1, 8, 8), 3)
    x, y = mg.randn(12, 1, 8, 8), mg.tensor(np.arange(12) % 3)
    params = list(model.parameters())
    for _ in range(30):
        loss = nn.functional.cross_entropy(model(x), y)
        model.zero_grad()
        loss.backward()
        for p in params:
            p.data -= 0.05 * p.grad  # PyTorch's idiom: .data and .grad are Tensors
    assert loss.item() < 0.2
