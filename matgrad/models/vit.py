"""A small vision Transformer: an image cut into square patches, each patch a token.

    (N, C, 28, 28) -> 16 patches of 7×7 -> (N, 16, 49) -> linear 49→64 + learned position embedding
    -> 4 × pre-norm TransformerEncoderLayer (d_model 64, 4 heads, feed-forward 128, ReLU)
    -> LayerNorm -> mean over the tokens -> linear 64→classes

The patch side is 7 when the image's height and width are multiples of 7 (MNIST, Fashion-MNIST:
16 tokens of 49 features), else 4 when they are multiples of 4 (the 8×8 digits: 4 tokens of 16
features); any other size is refused with an error naming the shape. The feed-forward blocks use
ReLU: the exact (erf) GELU made a training step about 3× slower here. Trained with AdamW and a
one-cycle schedule for 5 epochs at batch 128.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from .. import nn
from ..creation import from_numpy
from ..nn.parameter import Parameter
from .cnn import image_shape
from .recipe import Recipe

D_MODEL, HEADS, LAYERS, FEEDFORWARD = 64, 4, 4, 128
PATCH_SIDES = (7, 4)  # the first that divides the image's height and width


def patch_side(input_shape: Sequence[int]) -> int:
    """7 for 28×28 images, 4 for 8×8 ones; ValueError naming the shape for a size neither divides."""
    _, h, w = image_shape(input_shape)
    for p in PATCH_SIDES:
        if h % p == 0 and w % p == 0:
            return p
    raise ValueError(f"vit: an image of {h}×{w} (input_shape {tuple(input_shape)}) cannot be cut into square "
                     f"patches of side {' or '.join(map(str, PATCH_SIDES))}; its height and width must both be "
                     f"multiples of one of them")


class Patches(nn.Module):
    """(N, C, H, W) or flat (N, C·H·W) -> (N, tokens, C·p·p): the p×p patches, row by row."""

    def __init__(self, shape: tuple[int, int, int], side: int) -> None:
        super().__init__()
        self.shape, self.side = tuple(shape), side

    def forward(self, x: Any) -> Any:
        (c, h, w), p = self.shape, self.side
        n = x.shape[0]
        x = x.reshape(n, c, h // p, p, w // p, p).permute(0, 2, 4, 1, 3, 5)
        return x.reshape(n, (h // p) * (w // p), c * p * p)

    def extra_repr(self) -> str:
        return f"shape={self.shape}, side={self.side}"


class ViT(nn.Module):
    """Patch embedding + learned position embedding -> Transformer encoder -> mean of tokens -> linear."""

    def __init__(self, input_shape: Sequence[int], num_classes: int, d_model: int = D_MODEL, nhead: int = HEADS,
                 num_layers: int = LAYERS, dim_feedforward: int = FEEDFORWARD, dropout: float = 0.0) -> None:
        super().__init__()
        shape = image_shape(input_shape)
        side = patch_side(input_shape)
        c, h, w = shape
        tokens = (h // side) * (w // side)
        self.patches = Patches(shape, side)
        self.embed = nn.Linear(c * side * side, d_model)
        pos = np.random.default_rng(0).normal(0.0, 0.02, (1, tokens, d_model)).astype(np.float32)
        self.pos_embedding = Parameter(from_numpy(pos))
        layer = nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward, dropout=dropout, activation="relu",
                                           batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, num_layers, norm=nn.LayerNorm(d_model),
                                             enable_nested_tensor=False)
        self.head = nn.Linear(d_model, num_classes)

    def forward(self, x: Any) -> Any:
        z = self.embed(self.patches(x)) + self.pos_embedding
        return self.head(self.encoder(z).mean(dim=1))


def build_vit(input_shape: Sequence[int], num_classes: int) -> nn.Module:
    """The network for images of `input_shape` (28×28 -> 7×7 patches, 8×8 -> 4×4) and `num_classes` logits."""
    return ViT(input_shape, num_classes)


RECIPE = Recipe(
    "vit", build_vit,
    f"a small vision Transformer: 7×7 patches (4×4 on 8×8 digits) -> linear {D_MODEL} + learned position "
    f"embedding -> {LAYERS} pre-norm encoder layers ({HEADS} heads, feed-forward {FEEDFORWARD}, ReLU) -> mean "
    "of the tokens -> linear; cross-entropy, AdamW (weight decay 0.05) with a one-cycle lr schedule peaking "
    "at 3e-3, batch 128, 5 epochs",
    loss="ce", optimizer="adamw", lr=3e-3, momentum=0.9, weight_decay=0.05, schedule="onecycle",
    epochs=5, batch_size=128, flatten_input=False,
)

__all__ = ["RECIPE", "ViT", "build_vit", "patch_side"]
