"""A small conv net for 28×28 MNIST / Fashion-MNIST (and 8×8 digits): 3 × (conv3×3-BN-ReLU-pool) -> linear.

    (N, 1, 28, 28) -> conv 1→32 -> 14×14 -> conv 32→64 -> 7×7 -> conv 64→128 -> 3×3 -> linear 1152→10

Each block is Conv2d(3×3, padding 1, no bias: BatchNorm's β is the bias) -> BatchNorm2d
-> ReLU -> MaxPool2d(2); padding keeps small inputs alive (8×8 -> 4 -> 2 -> 1).
Trained with AdamW and a one-cycle schedule for 3 epochs at batch 128.
"""
from __future__ import annotations

import math
from typing import Any, Sequence

from .. import nn
from .recipe import Recipe

CHANNELS = (32, 64, 128)


class AsImage(nn.Module):
    """Reshape each sample to (C, H, W), so flat (N, H·W) rows and images both work."""

    def __init__(self, shape: tuple[int, int, int]) -> None:
        super().__init__()
        self.shape = tuple(shape)

    def forward(self, x: Any) -> Any:
        return x.reshape(x.shape[0], *self.shape)

    def extra_repr(self) -> str:
        return f"shape={self.shape}"


def image_shape(input_shape: Sequence[int]) -> tuple[int, int, int]:
    """(C, H, W) from (C, H, W), (H, W) or a flat square (H·W,)."""
    dims = tuple(int(d) for d in input_shape)
    if len(dims) == 3:
        return dims  # type: ignore[return-value]
    if len(dims) == 2:
        return (1,) + dims  # type: ignore[return-value]
    if len(dims) == 1 and math.isqrt(dims[0]) ** 2 == dims[0]:
        side = math.isqrt(dims[0])
        return (1, side, side)
    raise ValueError(
        f"cnn: input_shape must be (C, H, W), (H, W) or a square number of features, got {tuple(input_shape)}"
    )


def build_cnn(input_shape: Sequence[int], num_classes: int) -> nn.Module:
    """The network for images of `input_shape` and `num_classes` outputs (logits)."""
    c, h, w = image_shape(input_shape)
    layers: list[nn.Module] = [AsImage((c, h, w))]
    for out in CHANNELS:
        layers += [nn.Conv2d(c, out, 3, padding=1, bias=False), nn.BatchNorm2d(out), nn.ReLU(),
                   nn.MaxPool2d(2)]
        c, h, w = out, h // 2, w // 2
        if h < 1 or w < 1:
            raise ValueError(f"cnn: input {tuple(input_shape)} is too small for {len(CHANNELS)} 2×2 poolings")
    layers += [nn.Flatten(), nn.Linear(c * h * w, num_classes)]
    return nn.Sequential(*layers)


RECIPE = Recipe(
    "cnn", build_cnn,
    "3 × (conv3×3-BN-ReLU-maxpool) with 32/64/128 channels -> linear; cross-entropy, AdamW "
    "(weight decay 1e-4) with a one-cycle lr schedule peaking at 5e-3, batch 128, 3 epochs",
    loss="ce", optimizer="adamw", lr=5e-3, momentum=0.9, weight_decay=1e-4, schedule="onecycle",
    epochs=3, batch_size=128, flatten_input=False,
)
