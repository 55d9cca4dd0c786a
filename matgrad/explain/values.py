"""How the explainer shows numbers: a value summary and short number/shape strings."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

#: Tensors with at most this many elements are shown in full; bigger ones as statistics.
SMALL = 16


def num(x: Any) -> str:
    """A number in at most 4 significant digits: 3, -0.2, 0.3932, 1e+06."""
    x = float(x)
    if x == 0:
        return "0"
    return f"{x:.4g}"


def shape_str(shape: tuple[int, ...]) -> str:
    """The seeds' matrix-view shape: (784, 1024) -> '784×1024', () -> 'scalar'."""
    return "×".join(str(s) for s in shape) if shape else "scalar"


@dataclass
class Value:
    """A tensor's value as shown: every element for small tensors, else shape and statistics."""

    shape: tuple[int, ...]
    values: Any  # the numbers as (nested) lists when size <= SMALL, else None
    mean: float
    min: float
    max: float

    @classmethod
    def of(cls, a: Any) -> Value:
        a = np.asarray(a)
        if a.size == 0:
            return cls(a.shape, [], float("nan"), float("nan"), float("nan"))
        f = a.astype(np.float64)
        small = a.size <= SMALL
        return cls(tuple(a.shape), f.tolist() if small else None, float(f.mean()), float(f.min()),
                   float(f.max()))

    @property
    def is_scalar(self) -> bool:
        return self.values is not None and int(np.prod(self.shape, dtype=np.int64)) == 1

    def __str__(self) -> str:
        if self.values is None:
            stats = f"mean {num(self.mean)}, min {num(self.min)}, max {num(self.max)}"
            return f"({shape_str(self.shape)}) {stats}"
        if self.is_scalar:
            return num(np.asarray(self.values).item())
        body = np.array2string(np.asarray(self.values), precision=4, separator=", ", suppress_small=True)
        return " ".join(body.split())

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"shape": list(self.shape)}
        if self.values is not None:
            d["values"] = self.values
        else:
            d.update(mean=self.mean, min=self.min, max=self.max)
        return d
