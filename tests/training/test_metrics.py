"""Accuracy, confusion matrix and per-class accuracy on hand-checked values; metrics.json writing."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from matgrad.training.metrics import (
    MetricsLog,
    accuracy,
    confusion_matrix,
    format_confusion,
    per_class_accuracy,
)


def test_confusion_and_accuracies() -> None:
    target = np.array([0, 0, 1, 1, 1, 2])
    pred = np.array([0, 1, 1, 1, 0, 2])
    cm = confusion_matrix(pred, target, 4)
    np.testing.assert_array_equal(cm, [[1, 1, 0, 0], [1, 2, 0, 0], [0, 0, 1, 0], [0, 0, 0, 0]])
    assert accuracy(pred, target) == 4 / 6
    pc = per_class_accuracy(cm)
    np.testing.assert_allclose(pc[:3], [0.5, 2 / 3, 1.0])
    assert np.isnan(pc[3])  # no samples of class 3
    table = format_confusion(cm[:3, :3])
    assert table.splitlines()[2].split() == ["1", "1", "2", "0"]


def test_metrics_log_writes_config_and_epochs(tmp_path: Path) -> None:
    log = MetricsLog(tmp_path / "metrics.json", {"lr": np.float32(0.5)})
    log.add_epoch({"epoch": 1, "train_loss": 0.3, "test_loss": 0.2, "test_accuracy": 0.9, "seconds": 1.5})
    log.extra["watch"] = {"grad_norm": {"0": [0.1]}}
    log.write()
    data = json.loads((tmp_path / "metrics.json").read_text())
    assert data["config"] == {"lr": 0.5} and data["epochs"][0]["test_accuracy"] == 0.9
    assert data["watch"]["grad_norm"]["0"] == [0.1]
    assert log.series("train_loss") == [0.3]
