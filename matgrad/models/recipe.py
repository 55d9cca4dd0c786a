"""Recipe: how to build one model and the settings it trains with by default."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

Builder = Callable[[Sequence[int], int], Any]


@dataclass(frozen=True)
class Recipe:
    """How to build and train one model. `output` is "probabilities" (sigmoid) or "logits"."""

    name: str
    build: Builder  # (input_shape, num_classes) -> Module
    description: str
    loss: str = "ce"  # bce (one-hot targets) | ce | mse (one-hot targets)
    optimizer: str = "sgd"  # sgd | adam | adamw | rmsprop | adagrad
    lr: float = 0.1
    momentum: float = 0.9
    weight_decay: float = 0.0
    nesterov: bool = False  # Nesterov momentum (SGD only)
    schedule: str = "none"  # none | onecycle | cosine | step
    epochs: int = 10
    batch_size: int = 256
    output: str = "logits"
    flatten_input: bool = True  # feed (N, features) rather than (N, C, H, W)
    grad_clip: float = 0.0  # clip the gradients' total norm to this before each step (0: no clipping)
