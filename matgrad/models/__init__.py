"""Model recipes by name: a builder `(input_shape, num_classes) -> Module` and its training defaults.

`matgrad train --model NAME` looks the name up here; every default can be overridden by a flag.
`cnn` is registered when matgrad/models/cnn.py is present (it defines `RECIPE`, or `build`).
"""
from __future__ import annotations

import importlib
import importlib.util
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Sequence

Builder = Callable[[Sequence[int], int], Any]


@dataclass(frozen=True)
class Recipe:
    """How to build and train one model. `output` is "probabilities" (sigmoid) or "logits"."""

    name: str
    build: Builder
    description: str
    loss: str = "ce"  # bce (one-hot targets) | ce | mse (one-hot targets)
    optimizer: str = "sgd"  # sgd | adam | adamw | rmsprop | adagrad
    lr: float = 0.1
    momentum: float = 0.9
    weight_decay: float = 0.0
    schedule: str = "none"  # none | onecycle | cosine | step
    epochs: int = 10
    batch_size: int = 256
    output: str = "logits"
    flatten_input: bool = True  # feed (N, features) rather than (N, C, H, W)
    extra: dict[str, Any] = field(default_factory=dict)

    def defaults(self) -> dict[str, Any]:
        """The training settings as a dict (for the config), without the builder."""
        d = asdict(self)
        d.pop("build")
        return d


def _seed_mlp(input_shape: Sequence[int], num_classes: int) -> Any:
    from .mlp import seed_mlp

    return seed_mlp(input_shape, num_classes)


def _best_mlp(input_shape: Sequence[int], num_classes: int) -> Any:
    from .mlp import best_mlp

    return best_mlp(input_shape, num_classes)


RECIPES: dict[str, Recipe] = {}


def register(recipe: Recipe) -> Recipe:
    """Make `recipe` available by its name (to `matgrad train --model`)."""
    RECIPES[recipe.name] = recipe
    return recipe


register(Recipe(
    "mlp", _seed_mlp,
    "the seed recipe: in -> 1024 ReLU -> classes sigmoid, BCE on one-hot labels, Xavier init, "
    "SGD momentum 0.9, batch 256, 10 epochs",
    loss="bce", optimizer="sgd", lr=1.0, momentum=0.9, epochs=10, batch_size=256, output="probabilities",
))
register(Recipe(
    "mlp-best", _best_mlp,
    "in -> 1024 -> 1024 -> classes, ReLU + dropout 0.2, cross-entropy, AdamW (weight decay 0.01) "
    "with a one-cycle lr schedule peaking at 1e-3, batch 256, 15 epochs",
    loss="ce", optimizer="adamw", lr=1e-3, momentum=0.9, weight_decay=0.01, schedule="onecycle",
    epochs=15, batch_size=256,
))


def _cnn_recipe() -> Recipe | None:
    """The conv-net recipe from matgrad/models/cnn.py, if that file is there."""
    if importlib.util.find_spec(f"{__name__}.cnn") is None:
        return None
    mod = importlib.import_module(f"{__name__}.cnn")
    recipe = getattr(mod, "RECIPE", None)
    if isinstance(recipe, Recipe):
        return recipe
    build = getattr(mod, "build", None) or getattr(mod, "cnn", None)
    if build is None:
        return None
    return Recipe("cnn", build, (mod.__doc__ or "a small conv net").strip().splitlines()[0],
                  loss="ce", optimizer="adam", lr=1e-3, momentum=0.9, epochs=5, batch_size=128,
                  flatten_input=False)


def names() -> list[str]:
    """Every model name `get` accepts."""
    out = list(RECIPES)
    if "cnn" not in out and importlib.util.find_spec(f"{__name__}.cnn") is not None:
        out.append("cnn")
    return out


def get(name: str) -> Recipe:
    """The recipe called `name`; KeyError lists the known names."""
    if name == "cnn" and name not in RECIPES:
        recipe = _cnn_recipe()
        if recipe is not None:
            register(recipe)
    if name not in RECIPES:
        raise KeyError(f"unknown model {name!r}; known models: {', '.join(names())}")
    return RECIPES[name]

