"""Moving a tensor between devices (`.to("cuda")`, `.cpu()`), recorded like any op.

The values do not change, so the local derivative is the identity: y = x on another device,
dx = dy moved back to x's device. Gradients flow across the move, as in PyTorch.
"""
from __future__ import annotations

from typing import Any

from ..autograd.op import Op
from ..devices import device, device_of, move
from ..tensor import Tensor


class ToDevice(Op):
    """y = x on `device`; dx = dy, moved back to x's device."""

    def forward(self, x: Any, *, device: device) -> Any:
        self.source = device_of(x)
        return move(x, device)

    def backward(self, dy: Any) -> Any:
        if self.xp.plain:
            return move(dy, self.source)
        return ToDevice.apply(dy, device=self.source)


def to_device(x: Tensor, dev: device) -> Tensor:
    """`x` on `dev`, differentiably (the gradient goes back to x's device)."""
    return ToDevice.apply(x, device=dev)
