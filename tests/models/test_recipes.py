"""The model recipes: every name is registered, builds a network of the right shape, and trains as named."""
from __future__ import annotations

import numpy as np
import pytest

import matgrad as mg
from matgrad import models
from matgrad.models import cnn, mlp


def test_every_recipe_is_registered_by_its_name() -> None:
    assert models.names() == ["mlp", "mlp-best", "cnn"]
    assert models.get("mlp") is mlp.SEED_RECIPE and models.get("cnn") is cnn.RECIPE
    with pytest.raises(KeyError, match="unknown model 'vit'; known models: mlp, mlp-best, cnn"):
        models.get("vit")


@pytest.mark.parametrize("name", ["mlp", "mlp-best", "cnn"])
@pytest.mark.parametrize("input_shape", [(1, 8, 8), (1, 28, 28)])
def test_each_recipe_builds_a_network_for_the_data_it_is_given(name: str, input_shape: tuple[int, ...]) -> None:
    recipe = models.get(name)
    net = recipe.build(input_shape, 10)
    net.eval()
    x = np.zeros((2, *input_shape), np.float32)
    out = net(mg.from_numpy(x.reshape(2, -1) if recipe.flatten_input else x))
    assert out.shape == (2, 10)
    if recipe.output == "probabilities":  # the seed recipe ends in a sigmoid
        assert 0 <= out.array.min() and out.array.max() <= 1


def test_a_recipe_loss_fits_its_output() -> None:
    for recipe in models.RECIPES.values():
        assert (recipe.loss == "bce") == (recipe.output == "probabilities"), recipe.name
