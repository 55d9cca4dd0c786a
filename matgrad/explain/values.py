"""How the explainer shows numbers: a value summary, short number/shape strings and counted words."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

#: Tensors with at most this many elements are shown in full; bigger ones as statistics.
SMALL = 16
#: What a value that is not finite (inf, nan) means at the point explained.
NOT_DEFINED = "(not finite: not defined at this point)"


def num(x: Any) -> str:
    """A number in at most 4 significant digits: 3, -0.2, 0.3932, 1e+06."""
    x = float(x)
    if x == 0:
        return "0"
    return f"{x:.4g}"


def plural(n: int, word: str, many: str | None = None) -> str:
    """'1 node', '3 nodes', '1,000 nodes': the count with its word, singular only for exactly one
    (as matgrad.cli.errors.plural words the commands' counts)."""
    return f"{n:,} {word if n == 1 else (many or word + 's')}"


def finite(a: Any) -> bool:
    """Whether every element is a finite number (no inf, no nan): only then is a value defined."""
    return bool(np.all(np.isfinite(np.asarray(a, dtype=np.float64))))


def json_ready(x: Any) -> Any:
    """`x` (nested dicts, lists, numbers) with every inf and nan as None: JSON has no such numbers."""
    if isinstance(x, dict):
        return {k: json_ready(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [json_ready(v) for v in x]
    if isinstance(x, (float, np.floating)):
        return float(x) if np.isfinite(x) else None
    return x


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
        with np.errstate(all="ignore"):  # the mean of inf and -inf is nan, and says so: not here
            mean = float(f.mean())
        return cls(tuple(a.shape), f.tolist() if small else None, mean, float(f.min()), float(f.max()))

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

    @property
    def finite(self) -> bool:
        """Whether every element is finite (for a summary: its mean, min and max are)."""
        return finite(self.values if self.values is not None else [self.mean, self.min, self.max])

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data; an element that is not finite (inf, nan) is None, as JSON has none."""
        d: dict[str, Any] = {"shape": list(self.shape)}
        if self.values is not None:
            d["values"] = json_ready(self.values)
        else:
            d.update(json_ready({"mean": self.mean, "min": self.min, "max": self.max}))
        return d


def sample(a: Any, n: int = 16) -> np.ndarray:
    """A tensor's values as a grid of at most n×n, for a heat map: rows and columns picked evenly
    (leading axes flattened into rows; a vector is one row; a scalar one cell)."""
    a = np.asarray(a, dtype=np.float64)
    a = a.reshape(1, -1) if a.ndim < 2 else a.reshape(-1, a.shape[-1])
    rows = np.unique(np.linspace(0, a.shape[0] - 1, min(a.shape[0], n)).round().astype(int))
    cols = np.unique(np.linspace(0, a.shape[1] - 1, min(a.shape[1], n)).round().astype(int))
    return a[np.ix_(rows, cols)] if a.size else np.zeros((0, 0))
