"""`--watch` samples every N steps: several points per epoch, watch.png's x axis in steps; old histories load."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from matgrad import models
from matgrad.cli.main import main
from matgrad.training import plots
from matgrad.training.build import make_model
from matgrad.training.config import TrainConfig
from matgrad.training.watch import Watch, upgrade

DIGITS = {"dataset": "digits", "input_shape": (1, 8, 8), "num_classes": 10}
OLD = {"grad_norm": {"0": [0.3, 0.2], "2": [0.4, 0.1]}, "update_ratio": {"0": [0.01, 0.02], "2": [0.03, 0.04]},
       "dead_relu": {"1": [0.05, 0.1]}}  # what checkpoints held before: one value per epoch


def test_a_single_epoch_has_several_points_and_a_step_axis(tmp_path: Path) -> None:
    out = tmp_path / "run"  # 512 samples, batch 32: 16 steps, sampled at 1, 4, 8, 12, 16
    assert main(["train", "--dataset", "digits", "--epochs", "1", "--limit", "512", "--batch-size", "32",
                 "--log-every", "4", "--watch", "--no-tensorboard", "--out", str(out), "--no-progress"]) == 0
    watch = json.loads((out / "metrics.json").read_text())["watch"]
    assert watch["step"] == [1, 4, 8, 12, 16] and watch["epoch_end"] == [16] and watch["every"] == 4
    for key, layers in (("grad_norm", {"0", "2"}), ("update_ratio", {"0", "2"}), ("dead_relu", {"1"})):
        assert set(watch[key]) == layers
        for values in watch[key].values():
            assert len(values) == 5 and all(v is not None and 0 <= v for v in values)
    assert all(0 < r < 1 for r in watch["update_ratio"]["0"])
    pytest.importorskip("matplotlib")
    fig = plots.watch_figure(watch)
    for ax in fig.axes[:3]:
        assert ax.get_xlabel() == "step"
        data = [line for line in ax.get_lines() if not line.get_label().startswith("_")]
        assert data and all(list(line.get_xdata()) == [1, 4, 8, 12, 16] for line in data)
        marks = [line for line in ax.get_lines() if line.get_label() == "_epoch_end"]
        assert [list(m.get_xdata()) for m in marks] == [[16, 16]]
        lo, hi = ax.get_xlim()
        assert lo == 0 and hi >= 16  # the whole epoch, not 0.945 ... 1.05
        assert "epoch 1" in [t.get_text().strip() for t in ax.texts]


def test_an_old_per_epoch_history_reads_as_samples_at_epoch_ends() -> None:
    h = upgrade(json.loads(json.dumps(OLD)), steps_per_epoch=10)
    assert h["step"] == [10, 20] and h["epoch_end"] == [10, 20] and h["grad_norm"]["0"] == [0.3, 0.2]
    pytest.importorskip("matplotlib")
    fig = plots.watch_figure(OLD)  # drawn by epoch as before
    assert fig.axes[0].get_xlabel() == "epoch"


def test_a_resumed_run_continues_an_old_history() -> None:
    cfg = TrainConfig.for_new_run(models.get("mlp"), **DIGITS, log_every=3)
    model = make_model(cfg)
    w = Watch(model, json.loads(json.dumps(OLD)), every=3, steps_per_epoch=10)
    rng = np.random.default_rng(0)
    from matgrad import nn
    from matgrad.creation import from_numpy

    for step in (23, 26, 30):  # epoch 3 of a run whose first two epochs were recorded per epoch
        w.training_step = True
        out = model(from_numpy(rng.random((16, 64), dtype=np.float32)))
        w.training_step = False
        nn.BCELoss()(out, from_numpy(np.full((16, 10), 0.5, np.float32))).backward()
        w.before_step()
        for p in model.parameters():
            p.array -= 0.1 * p.grad.array
        w.after_step(step)
    w.end_epoch(30)
    h = w.history
    assert h["step"] == [10, 20, 23, 26, 30] and h["epoch_end"] == [10, 20, 30]
    assert h["grad_norm"]["0"][:2] == [0.3, 0.2] and len(h["grad_norm"]["0"]) == 5
    assert w.epoch_means["grad_norm"]["0"] == pytest.approx(np.mean(h["grad_norm"]["0"][2:]))
    assert "0.weight  grad norm" in w.summary()
    w.close()
