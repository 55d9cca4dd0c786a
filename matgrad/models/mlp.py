"""Multi-layer perceptrons: the seed recipe (784-1024-10, sigmoid + BCE) and a stronger one."""
from __future__ import annotations

from typing import Any, Sequence

from .. import nn
from .recipe import Recipe


def init_xavier(model: Any) -> Any:
    """Xavier-uniform weights (fan-in + fan-out) and zero biases for every Linear in `model`."""
    for m in model.modules():
        if isinstance(m, nn.Linear):
            nn.init.xavier_uniform_(m.weight)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
    return model


def mlp(num_features: int, num_classes: int, hidden: Sequence[int] = (1024,), dropout: float = 0.0,
        sigmoid_output: bool = False) -> Any:
    """Linear -> ReLU (-> Dropout) ... -> Linear (-> Sigmoid), Xavier-initialised.

    Input (N, num_features), output (N, num_classes): probabilities when sigmoid_output
    (for BCELoss), else logits (for CrossEntropyLoss).
    """
    layers: list[Any] = []
    width = num_features
    for h in hidden:
        layers += [nn.Linear(width, h), nn.ReLU()]
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        width = h
    layers.append(nn.Linear(width, num_classes))
    if sigmoid_output:
        layers.append(nn.Sigmoid())
    return init_xavier(nn.Sequential(*layers))


def seed_mlp(input_shape: Sequence[int], num_classes: int) -> Any:
    """The seed recipe's network: in -> 1024 (ReLU) -> classes (sigmoid)."""
    return mlp(_features(input_shape), num_classes, (1024,), sigmoid_output=True)


def best_mlp(input_shape: Sequence[int], num_classes: int) -> Any:
    """in -> 1024 -> 1024 -> classes, ReLU and dropout 0.2 after each hidden layer; logits out."""
    return mlp(_features(input_shape), num_classes, (1024, 1024), dropout=0.2)


def _features(input_shape: Sequence[int]) -> int:
    n = 1
    for d in input_shape:
        n *= int(d)
    return n


SEED_RECIPE = Recipe(
    "mlp", seed_mlp,
    "the seed recipe: in -> 1024 ReLU -> classes sigmoid, BCE on one-hot labels, Xavier init, "
    "SGD momentum 0.9, batch 256, 10 epochs",
    loss="bce", optimizer="sgd", lr=1.0, momentum=0.9, epochs=10, batch_size=256, output="probabilities",
)
BEST_RECIPE = Recipe(
    "mlp-best", best_mlp,
    "in -> 1024 -> 1024 -> classes, ReLU + dropout 0.2, cross-entropy, AdamW (weight decay 0.01) "
    "with a one-cycle lr schedule peaking at 1e-3, batch 256, 15 epochs",
    loss="ce", optimizer="adamw", lr=1e-3, momentum=0.9, weight_decay=0.01, schedule="onecycle",
    epochs=15, batch_size=256,
)
