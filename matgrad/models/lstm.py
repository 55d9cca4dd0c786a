"""Row-by-row MNIST with an LSTM: each image read as a sequence of its rows, a classic RNN benchmark.

    (N, 1, 28, 28) -> 28 steps of 28 features -> LSTM(28 -> 128) -> last hidden state -> linear 128→classes

An image of height H and width W is H time steps of C·W features, so the 8×8 digits are 8 steps
of 8 features. Trained with Adam, a one-cycle schedule peaking at 3e-3 and gradient-norm
clipping at 1.0, for 5 epochs at batch 128. The forget gate's bias starts at 1, so the cell
keeps its state by default and gradients reach the early rows from the first steps.

With `--watch` the network also records ‖∂L/∂x_t‖, the gradient that reaches each time step's
input row (`time_step_grad_norms`): how much the loss still learns from row t. Backprop through
time carries it from the last step back to the first; where it shrinks, the early rows' gradients
vanish (watch.png plots it by time step).
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from .. import nn
from .cnn import image_shape
from .recipe import Recipe

HIDDEN = 128


class RowLSTM(nn.Module):
    """The rows of an image as a sequence -> LSTM -> the last hidden state -> linear logits."""

    def __init__(self, input_shape: Sequence[int], num_classes: int, hidden_size: int = HIDDEN,
                 num_layers: int = 1) -> None:
        super().__init__()
        c, h, w = image_shape(input_shape)
        self.shape = (c, h, w)
        self.lstm = nn.LSTM(c * w, hidden_size, num_layers=num_layers, batch_first=True)
        for layer in range(num_layers):  # forget-gate bias 1 (gate order i, f, g, o): remember by default
            getattr(self.lstm, f"bias_ih_l{layer}").array[hidden_size:2 * hidden_size] = 1.0
        self.head = nn.Linear(hidden_size, num_classes)
        self.watch_time_steps = False  # set by --watch: keep ∂L/∂x_t of the last training step
        self._rows: Any = None

    def sequence(self, x: Any) -> Any:
        """(N, C, H, W) or flat (N, C·H·W) -> (N, H, C·W): one time step per image row."""
        c, h, w = self.shape
        x = x.reshape(x.shape[0], c, h, w)
        if c > 1:
            x = x.permute(0, 2, 1, 3)
        return x.reshape(x.shape[0], h, c * w)

    def forward(self, x: Any) -> Any:
        rows = self.sequence(x)
        if self.watch_time_steps and self.training:
            rows = rows.detach().requires_grad_()
            self._rows = rows
        out, (h_n, _) = self.lstm(rows)
        return self.head(h_n[-1])

    def time_step_grad_norms(self) -> list[float] | None:
        """‖∂L/∂x_t‖ over the batch and features for each time step t of the last training step (or None)."""
        rows = self._rows
        if rows is None or rows.grad is None:
            return None
        g = rows.grad.array if hasattr(rows.grad, "array") else rows.grad
        if type(g) is not np.ndarray:  # a GPU's array: the norms are reported on the host
            from ..devices import backend_of

            g = backend_of(g).to_host(g)
        g = np.asarray(g, dtype=np.float64)
        self._rows = None
        return [float(v) for v in np.sqrt((g * g).sum(axis=(0, 2)))]


def build_lstm(input_shape: Sequence[int], num_classes: int) -> nn.Module:
    """The network for images of `input_shape` (H steps of C·W features) and `num_classes` logits."""
    return RowLSTM(input_shape, num_classes)


RECIPE = Recipe(
    "lstm", build_lstm,
    f"row-by-row images: each row one time step -> LSTM (hidden {HIDDEN}) -> last hidden state -> linear; "
    "cross-entropy, Adam with a one-cycle lr schedule peaking at 3e-3, gradient norm clipped at 1.0, "
    "batch 128, 5 epochs",
    loss="ce", optimizer="adam", lr=3e-3, momentum=0.9, schedule="onecycle", epochs=5, batch_size=128,
    flatten_input=False, grad_clip=1.0,
)
