"""Model recipes by name: a builder `(input_shape, num_classes) -> Module` and its training defaults.

`matgrad train --model NAME` looks the name up here; every default can be overridden by a flag.
The recipes: mlp (the seed recipe) and mlp-best in mlp.py, cnn in cnn.py, lstm (row-by-row images) in
lstm.py, vit (a small vision Transformer) in vit.py.
"""
from __future__ import annotations

from . import cnn, lstm, mlp, vit
from .recipe import Builder, Recipe

__all__ = ["RECIPES", "Builder", "Recipe", "get", "names", "register"]

RECIPES: dict[str, Recipe] = {}


def register(recipe: Recipe) -> Recipe:
    """Make `recipe` available by its name (to `matgrad train --model`)."""
    RECIPES[recipe.name] = recipe
    return recipe


for _recipe in (mlp.SEED_RECIPE, mlp.BEST_RECIPE, cnn.RECIPE, lstm.RECIPE, vit.RECIPE):
    register(_recipe)


def names() -> list[str]:
    """Every model name `get` accepts."""
    return list(RECIPES)


def get(name: str) -> Recipe:
    """The recipe called `name`; KeyError lists the known names."""
    if name not in RECIPES:
        raise KeyError(f"unknown model {name!r}; known models: {', '.join(names())}")
    return RECIPES[name]
