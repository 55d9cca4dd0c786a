"""`matgrad train --logdir`: the event files read back with TensorBoard's own EventAccumulator."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from matgrad.cli.main import main
from matgrad.training.checkpoint import load_checkpoint

pytest.importorskip("tensorboardX")
event_accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")

from ..cli.process import run_matgrad  # noqa: E402


def train(*args: str) -> int:
    return main(["train", "--dataset", "digits", "--no-progress", *args])


def read(logdir: Path):
    acc = event_accumulator.EventAccumulator(str(logdir), size_guidance={"scalars": 0, "histograms": 0})
    acc.Reload()
    return acc


def scalars(acc, tag: str) -> dict[int, float]:
    return {e.step: e.value for e in acc.Scalars(tag)}


def test_every_tag_and_value_reads_back(tmp_path: Path) -> None:
    out = tmp_path / "run"  # 512 samples, batch 64: 8 steps an epoch; logged at 1, 3, 6, 8 | 9, 12, 15, 16
    assert train("--epochs", "2", "--limit", "512", "--batch-size", "64", "--log-every", "3", "--watch",
                 "--out", str(out)) == 0
    acc = read(out / "tb")
    metrics = json.loads((out / "metrics.json").read_text())
    layers = {"0.weight", "2.weight"}
    assert set(acc.Tags()["scalars"]) == {
        "train/loss", "train/lr", "train/samples_per_s", "epoch/train_loss", "epoch/train_accuracy",
        "test/loss", "test/accuracy", "watch/dead_relu/1",
        *(f"watch/{k}/{layer}" for k in ("grad_norm", "update_ratio") for layer in layers)}
    params = ("0.weight", "0.bias", "2.weight", "2.bias")
    assert set(acc.Tags()["histograms"]) == {f"{kind}/{p}" for kind in ("weights", "grads") for p in params}

    logged = [1, 3, 6, 8, 9, 12, 15, 16]
    loss = scalars(acc, "train/loss")
    assert sorted(loss) == logged
    # train/loss is the mean over the steps since the last point: weighted by those steps it is the epoch's loss
    for epoch, points in zip(metrics["epochs"], ([1, 3, 6, 8], [9, 12, 15, 16])):
        start = points[0] - 1
        batches = np.diff([start, *points])
        assert np.average([loss[s] for s in points], weights=batches) == pytest.approx(epoch["train_loss"], rel=1e-5)
    assert scalars(acc, "train/lr") == {s: pytest.approx(1.0) for s in logged}  # the recipe's lr, no schedule
    assert sorted(scalars(acc, "train/samples_per_s")) == logged
    assert all(v > 0 for v in scalars(acc, "train/samples_per_s").values())

    watch = metrics["watch"]
    assert watch["step"] == logged and watch["epoch_end"] == [8, 16]
    for key in ("grad_norm", "update_ratio", "dead_relu"):
        for name, values in watch[key].items():
            tag = f"watch/{key}/{name}" if key == "dead_relu" else f"watch/{key}/{name}.weight"
            assert scalars(acc, tag) == {s: pytest.approx(v, rel=1e-6) for s, v in zip(logged, values)}

    for tag, key in (("epoch/train_loss", "train_loss"), ("epoch/train_accuracy", "train_accuracy"),
                     ("test/loss", "test_loss"), ("test/accuracy", "test_accuracy")):
        assert scalars(acc, tag) == {8: pytest.approx(metrics["epochs"][0][key], rel=1e-6),
                                     16: pytest.approx(metrics["epochs"][1][key], rel=1e-6)}, tag

    state = load_checkpoint(out / "model.npz").model_state  # the weights after epoch 2
    for p in params:
        for kind in ("weights", "grads"):
            assert [e.step for e in acc.Histograms(f"{kind}/{p}")] == [8, 16]
        h = acc.Histograms(f"weights/{p}")[-1].histogram_value
        w = np.asarray(state[p], np.float64)
        assert (h.num, h.min, h.max) == (w.size, w.min(), w.max())
        assert h.sum == pytest.approx(w.sum(), rel=1e-6, abs=1e-9)
        assert sum(h.bucket) == w.size
        g = acc.Histograms(f"grads/{p}")[-1].histogram_value
        assert g.num == w.size and g.min <= g.max


def test_log_every_one_logs_each_batch_loss(tmp_path: Path) -> None:
    out = tmp_path / "run"
    assert train("--epochs", "1", "--limit", "320", "--batch-size", "64", "--log-every", "1",
                 "--logdir", str(tmp_path / "tb"), "--out", str(out)) == 0
    loss = scalars(read(tmp_path / "tb"), "train/loss")
    assert sorted(loss) == [1, 2, 3, 4, 5]
    epoch = json.loads((out / "metrics.json").read_text())["epochs"][0]
    assert np.mean(list(loss.values())) == pytest.approx(epoch["train_loss"], rel=1e-5)
    assert not (out / "tb").exists()  # --logdir moved it


def test_logdir_none_and_no_tensorboard_write_nothing(tmp_path: Path) -> None:
    for flag in (["--logdir", "none"], ["--no-tensorboard"]):
        out = tmp_path / flag[-1].strip("-")
        assert train("--epochs", "1", "--limit", "128", *flag, "--out", str(out)) == 0
        assert (out / "model.npz").exists() and not (out / "tb").exists()


def test_resume_appends_and_drops_points_past_the_checkpoint(tmp_path: Path) -> None:
    out = tmp_path / "run"
    assert train("--epochs", "1", "--limit", "256", "--batch-size", "64", "--log-every", "2", "--out", str(out)) == 0
    assert main(["train", "--resume", str(out / "model.npz"), "--epochs", "2", "--no-progress"]) == 0
    acc = read(out / "tb")
    assert sorted(scalars(acc, "train/loss")) == [1, 2, 4, 6, 8]
    assert sorted(scalars(acc, "test/accuracy")) == [4, 8]


def test_without_tensorboardx_one_line_says_what_to_install(tmp_path: Path) -> None:
    out = tmp_path / "r"
    proc = run_matgrad("train", "--dataset", "digits", "--epochs", "1", "--limit", "128", "--out", str(out),
                       block=["tensorboardX"])
    text = proc.stdout + proc.stderr
    assert proc.returncode == 0 and "Traceback" not in text, text
    assert text.count('pip install "matgrad[tensorboard]"') == 1
    assert (out / "model.npz").exists() and not (out / "tb").exists()
    proc = run_matgrad("train", "--dataset", "digits", "--epochs", "1", "--limit", "128", "--out", str(tmp_path / "s"),
                       "--logdir", str(tmp_path / "tb"), block=["tensorboardX"])
    text = proc.stdout + proc.stderr
    assert proc.returncode == 2 and "Traceback" not in text and len(proc.stderr.strip().splitlines()) == 1, text
    assert 'pip install "matgrad[tensorboard]"' in proc.stderr


def test_two_writers_in_one_second_keep_both_files(tmp_path: Path) -> None:
    """Event files are named by the second; a resumed run opened within it must not overwrite the first."""
    pytest.importorskip("tensorboardX")
    from matgrad.training.tensorboard import TensorBoardLog

    first, second = TensorBoardLog(tmp_path), TensorBoardLog(tmp_path, purge_step=3)
    first.close()
    second.close()
    assert len(list(tmp_path.glob("events.out.tfevents.*"))) == 2
