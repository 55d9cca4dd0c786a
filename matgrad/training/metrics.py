"""Classification metrics (accuracy, confusion matrix) and the run's metrics.json."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from .checkpoint import write_json
from .config import TrainConfig


def accuracy(pred: np.ndarray, target: np.ndarray) -> float:
    """Share of `pred` (class indices, (N,)) equal to `target` ((N,))."""
    pred, target = np.asarray(pred), np.asarray(target)
    return float((pred == target).mean()) if target.size else float("nan")


def confusion_matrix(pred: np.ndarray, target: np.ndarray, num_classes: int) -> np.ndarray:
    """(C, C) counts: row = true class, column = predicted class."""
    cm = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(cm, (np.asarray(target, np.int64), np.asarray(pred, np.int64)), 1)
    return cm


def per_class_accuracy(cm: np.ndarray) -> np.ndarray:
    """Recall of each class from a confusion matrix (NaN for a class with no samples)."""
    totals = cm.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(totals > 0, np.diag(cm) / np.maximum(totals, 1), np.nan)


def format_confusion(cm: np.ndarray, labels: list[str] | None = None) -> str:
    """The confusion matrix as an aligned text table (rows true, columns predicted)."""
    n = cm.shape[0]
    labels = labels or [str(i) for i in range(n)]
    width = max(max(len(s) for s in labels), len(str(int(cm.max()))) if cm.size else 1) + 1
    head_w = max(len(s) for s in labels) + 1
    lines = [" " * head_w + "".join(f"{s:>{width}}" for s in labels) + "   <- predicted"]
    for i in range(n):
        lines.append(f"{labels[i]:>{head_w - 1}} " + "".join(f"{int(v):>{width}}" for v in cm[i]))
    return "\n".join(lines)


class MetricsLog:
    """The run's metrics.json: the config, one record per epoch, and optional extra sections.

    Rewritten atomically after each epoch, so it always holds every finished epoch.
    """

    def __init__(self, path: str | os.PathLike, config: TrainConfig | dict[str, Any],
                 epochs: list[dict[str, Any]] | None = None) -> None:
        self.path = Path(path)
        self.config = config
        self.epochs: list[dict[str, Any]] = list(epochs or [])
        self.extra: dict[str, Any] = {}

    def add_epoch(self, record: dict[str, Any]) -> None:
        self.epochs.append(record)

    def series(self, key: str) -> list[float]:
        return [e[key] for e in self.epochs]

    def as_dict(self) -> dict[str, Any]:
        config = self.config.to_dict() if isinstance(self.config, TrainConfig) else self.config
        return {"config": config, "epochs": self.epochs, **self.extra}

    def write(self) -> Path:
        return write_json(self.path, self.as_dict())
