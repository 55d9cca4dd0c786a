"""`matgrad train`: run folder contents, resume == uninterrupted, NaN caught, fallback, bad flags."""
from __future__ import annotations

import json
import os
import re
import stat
from pathlib import Path

import numpy as np
import pytest

import matgrad.training.trainer as trainer_mod
from matgrad.cli import train_cmd
from matgrad.cli.main import main
from matgrad.training.checkpoint import load_checkpoint

from .process import run_matgrad

PNG = b"\x89PNG\r\n\x1a\n"


def train(*args: str) -> int:
    return main(["train", "--dataset", "digits", *args])


def test_run_folder_has_checkpoint_metrics_curves_and_progress(tmp_path: Path, capsys,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(train_cmd, "_interactive", lambda: True)  # as on a terminal: a progress bar
    out = tmp_path / "run"
    assert train("--epochs", "2", "--limit", "600", "--out", str(out)) == 0
    captured = capsys.readouterr()
    assert "samples/s" in captured.err and "loss=" in captured.err and "acc=" in captured.err  # tqdm bar
    assert "epoch  2/2" in captured.out and "test accuracy" in captured.out
    assert (out / "curves.png").read_bytes()[:8] == PNG
    m = json.loads((out / "metrics.json").read_text())
    cfg = m["config"]
    assert cfg["model"] == "mlp" and cfg["dataset"] == "digits" and cfg["limit"] == 600
    assert [e["epoch"] for e in m["epochs"]] == [1, 2]
    for e in m["epochs"]:
        assert {"train_loss", "test_loss", "test_accuracy", "seconds"} <= set(e)
        assert 0 <= e["test_accuracy"] <= 1 and e["seconds"] > 0 and np.isfinite(e["train_loss"])
    assert m["epochs"][1]["train_loss"] < m["epochs"][0]["train_loss"]
    ckpt = load_checkpoint(out / "model.npz")
    assert ckpt["epoch"] == 2 and ckpt.config.lr == 1.0 and ckpt.config.limit == 600
    assert ckpt.model_state["0.weight"].shape == (1024, 64)  # input size and classes from the data
    assert ckpt.model_state["2.weight"].shape == (10, 1024)
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]  # atomic writes leave no temp files


def test_default_folder_is_new_each_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    for _ in range(2):
        assert train("--epochs", "1", "--limit", "256", "--no-progress") == 0
    runs = sorted((tmp_path / "runs").iterdir())
    assert len(runs) == 2 and all((r / "model.npz").exists() for r in runs)
    out = capsys.readouterr().out
    assert "after 1 epoch." in out and ", 1 epoch," in out and "epochs" not in out  # not "1 epochs"


def test_a_log_file_gets_plain_lines_not_a_progress_bar(tmp_path: Path) -> None:
    """`matgrad train > log 2>&1`: no carriage-return residue, each epoch's line on a line of its own."""
    proc = run_matgrad("train", "--dataset", "digits", "--epochs", "2", "--limit", "256",
                       "--out", str(tmp_path / "r"))
    assert proc.returncode == 0, proc.stderr
    assert "\r" not in proc.stdout + proc.stderr and "samples/s]" not in proc.stderr
    assert len(re.findall(r"^epoch +[12]/2  train loss", proc.stdout, flags=re.M)) == 2


@pytest.mark.parametrize("umask", [0o022, 0o077])
def test_run_files_get_the_mode_of_ordinary_files(tmp_path: Path, umask: int, capsys) -> None:
    """Under umask 022 a colleague can read the run folder: 0644, as `open()` would make them."""
    out = tmp_path / "run"
    old = os.umask(umask)
    try:
        assert train("--epochs", "1", "--limit", "128", "--out", str(out), "--no-progress") == 0
        assert main(["eval", str(out / "model.npz")]) == 0
    finally:
        os.umask(old)
    for name in ("model.npz", "metrics.json", "curves.png", "confusion.png"):
        assert stat.S_IMODE((out / name).stat().st_mode) == 0o666 & ~umask, name


def test_core_install_without_tqdm_prints_a_line_per_epoch(tmp_path: Path) -> None:
    proc = run_matgrad("train", "--dataset", "digits", "--epochs", "2", "--limit", "256",
                       "--out", str(tmp_path / "r"), block=["tqdm"], terminal=True)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    assert len(re.findall(r"^epoch +[12]/2  train loss", proc.stdout, flags=re.M)) == 2


def test_core_install_without_matplotlib_writes_no_plots_and_says_how_to_get_them(tmp_path: Path) -> None:
    out = tmp_path / "r"
    proc = run_matgrad("train", "--dataset", "digits", "--epochs", "2", "--limit", "256", "--out", str(out),
                       block=["matplotlib"])
    text = proc.stdout + proc.stderr
    assert proc.returncode == 0 and "Traceback" not in text, text
    assert text.count('pip install "matgrad[cli]"') == 1  # one line, not one per epoch
    assert (out / "model.npz").exists() and (out / "metrics.json").exists()
    assert not (out / "curves.png").exists() and "curves.png" not in proc.stdout
    assert load_checkpoint(out / "model.npz")["epoch"] == 2
    proc = run_matgrad("eval", str(out / "model.npz"), block=["matplotlib"])
    text = proc.stdout + proc.stderr
    assert proc.returncode == 0 and "Traceback" not in text and "test accuracy" in proc.stdout, text
    assert text.count('pip install "matgrad[cli]"') == 1 and not (out / "confusion.png").exists()


def weights(path: Path) -> dict[str, np.ndarray]:
    return load_checkpoint(path).model_state


@pytest.mark.slow  # three short trainings
def test_resume_extends_to_identical_weights(tmp_path: Path) -> None:
    common = ["--limit", "512", "--no-progress", "--seed", "3"]
    assert train("--epochs", "2", "--out", str(tmp_path / "full"), *common) == 0
    assert train("--epochs", "1", "--out", str(tmp_path / "part"), *common) == 0
    resume = ["train", "--resume", str(tmp_path / "part" / "model.npz"), "--epochs", "2", "--no-progress"]
    assert main(resume) == 0
    a, b = weights(tmp_path / "full" / "model.npz"), weights(tmp_path / "part" / "model.npz")
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])
    history = json.loads((tmp_path / "part" / "metrics.json").read_text())["epochs"]
    assert [e["epoch"] for e in history] == [1, 2]


@pytest.mark.slow  # three short trainings of a 2x1024 network
def test_interrupted_run_resumes_exactly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    """Dropout (RNG), a one-cycle schedule and momentum all continue where they stopped."""
    args = ["--model", "mlp-best", "--epochs", "2", "--limit", "256", "--batch-size", "64", "--no-progress"]
    assert train(*args, "--out", str(tmp_path / "full")) == 0

    real_save = trainer_mod.Trainer.save

    def save_then_stop(self: trainer_mod.Trainer) -> Path:
        path = real_save(self)
        if self.epoch == 1:
            raise KeyboardInterrupt  # as if Ctrl-C came during epoch 2
        return path

    monkeypatch.setattr(trainer_mod.Trainer, "save", save_then_stop)
    assert train(*args, "--out", str(tmp_path / "cut")) == 130
    assert "--resume" in capsys.readouterr().err
    monkeypatch.setattr(trainer_mod.Trainer, "save", real_save)
    assert load_checkpoint(tmp_path / "cut" / "model.npz")["epoch"] == 1
    assert main(["train", "--resume", str(tmp_path / "cut" / "model.npz"), "--no-progress"]) == 0
    a, b = weights(tmp_path / "full" / "model.npz"), weights(tmp_path / "cut" / "model.npz")
    assert list(a) == list(b)
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])


def test_nan_stops_with_step_and_layer(tmp_path: Path, capsys) -> None:
    out = tmp_path / "run"
    rc = train("--model", "mlp-best", "--schedule", "none", "--lr", "1e4", "--epochs", "2",
               "--out", str(out), "--no-progress")
    assert rc == 1
    err = capsys.readouterr().err
    assert err.startswith("matgrad train: error: training stopped")  # the format of every command's errors
    assert ("nan" in err or "inf" in err) and "step" in err and "'0.weight'" in err
    assert "Traceback" not in err
    assert not (out / "model.npz").exists()  # diverged in epoch 1: nothing good to keep


def test_nan_keeps_last_good_checkpoint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    out = tmp_path / "run"
    real_fit_epoch = trainer_mod.Trainer.train_epoch

    def poisoned(self: trainer_mod.Trainer) -> dict:
        if self.epoch == 1:  # the second epoch: blow the lr up
            for g in self.optimizer.param_groups:
                g["lr"] = 1e30
        return real_fit_epoch(self)

    monkeypatch.setattr(trainer_mod.Trainer, "train_epoch", poisoned)
    assert train("--model", "mlp-best", "--schedule", "none", "--epochs", "3", "--limit", "512",
                 "--out", str(out), "--no-progress") == 1
    err = capsys.readouterr().err
    assert "epoch 2" in err and "epoch 1) is kept" in err
    assert load_checkpoint(out / "model.npz")["epoch"] == 1


@pytest.mark.slow  # two epochs with per-step statistics and two plots per epoch
def test_watch_records_per_layer_statistics(tmp_path: Path) -> None:
    out = tmp_path / "run"
    assert train("--epochs", "2", "--limit", "512", "--watch", "--out", str(out), "--no-progress") == 0
    watch = json.loads((out / "metrics.json").read_text())["watch"]
    assert set(watch) == {"grad_norm", "update_ratio", "dead_relu", "step", "epoch_end", "every"}
    assert watch["step"] == [1, 2, 4] and watch["epoch_end"] == [2, 4]  # 2 steps an epoch: first and each last
    assert set(watch["grad_norm"]) == {"0", "2"} and set(watch["dead_relu"]) == {"1"}
    for layer in ("0", "2"):
        assert len(watch["grad_norm"][layer]) == 3 and all(g > 0 for g in watch["grad_norm"][layer])
        assert all(0 < r < 1 for r in watch["update_ratio"][layer])
    assert all(0 <= d <= 1 for d in watch["dead_relu"]["1"])
    assert (out / "watch.png").read_bytes()[:8] == PNG


def test_falls_back_to_digits_when_mnist_is_missing(tmp_path: Path, capsys) -> None:
    argv = ["train", "--epochs", "1", "--limit", "256", "--out", str(tmp_path / "r"), "--no-progress"]
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert "built-in digits" in captured.err and "matgrad data download mnist" in captured.err
    assert "--data" in captured.err
    assert load_checkpoint(tmp_path / "r" / "model.npz").config.dataset == "digits"


@pytest.mark.parametrize("argv, words", [
    (["--dataset", "mnist", "--data", "EMPTY"], "not found"),
    (["--dataset", "digits", "--loss", "ce"], "--loss ce"),
    (["--dataset", "digits", "--model", "mlp-best", "--loss", "bce"], "--loss bce"),
    (["--dataset", "digits", "--limit", "0"], "--limit"),
    (["--dataset", "digits", "--lr", "-1"], "--lr"),
    (["--resume", "MISSING.npz"], "does not exist"),
])
def test_user_errors_are_one_line_exit_2(tmp_path: Path, capsys, argv: list[str], words: str) -> None:
    (tmp_path / "EMPTY").mkdir()
    argv = [a.replace("EMPTY", str(tmp_path / "EMPTY")).replace("MISSING", str(tmp_path / "missing"))
            for a in argv]
    assert main(["train", *argv, "--out", str(tmp_path / "r"), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err
    assert not (tmp_path / "r").exists()  # no run folder for a run that never started


def test_resume_as_a_different_model_is_refused(tmp_path: Path, capsys) -> None:
    out = tmp_path / "r"
    assert train("--epochs", "1", "--limit", "256", "--out", str(out), "--no-progress") == 0
    assert main(["train", "--resume", str(out / "model.npz"), "--model", "mlp-best"]) == 2
    err = capsys.readouterr().err
    assert "trained as model 'mlp'" in err and "mlp-best" in err
    assert train("--epochs", "1", "--out", str(out), "--no-progress") == 2  # never overwrite a run
    assert "already holds a run" in capsys.readouterr().err


def test_cnn_recipe_trains_and_evaluates(tmp_path: Path, capsys) -> None:
    out = tmp_path / "cnn"
    assert train("--model", "cnn", "--epochs", "1", "--limit", "128", "--out", str(out), "--no-progress") == 0
    state = load_checkpoint(out / "model.npz").model_state
    assert any("running_mean" in k for k in state)  # BatchNorm's buffers are saved with the weights
    capsys.readouterr()
    assert main(["eval", str(out / "model.npz")]) == 0
    assert "test accuracy" in capsys.readouterr().out


@pytest.mark.parametrize("model, env, threads, expect", [
    ("cnn", None, 2, True),  # a conv net on two threads: OpenBLAS's threads sleep soon
    ("mlp", None, 2, False),  # an MLP's products follow each other closely: left as it is
    ("cnn", "20", 2, False),  # the user's own OPENBLAS_THREAD_TIMEOUT stands
    ("cnn", None, 1, False),  # one thread: no pool to share the cores with
])
def test_a_conv_net_on_several_threads_has_openblas_threads_sleep_when_idle(
        tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch, model: str, env: str | None, threads: int,
        expect: bool) -> None:
    from matgrad import threads as mg_threads

    calls: list[int] = []
    monkeypatch.setattr(mg_threads, "set_blas_thread_timeout", lambda k: calls.append(k) or True)
    monkeypatch.setattr(mg_threads, "_conv_timeout_done", False)  # as in a fresh process
    monkeypatch.setattr(mg_threads, "get_num_threads", lambda: threads)
    if env is None:
        monkeypatch.delenv("OPENBLAS_THREAD_TIMEOUT", raising=False)
    else:
        monkeypatch.setenv("OPENBLAS_THREAD_TIMEOUT", env)
    assert train("--model", model, "--epochs", "1", "--limit", "64", "--out", str(tmp_path / "r"),
                 "--no-progress") == 0
    device_line = next(line for line in capsys.readouterr().out.splitlines() if "device:" in line)
    assert calls == ([mg_threads.CONV_BLAS_TIMEOUT] if expect else [])
    assert ("idle cycles" in device_line) == expect, device_line


def test_resuming_a_checkpoint_with_an_old_plain_dict_config(tmp_path: Path, capsys) -> None:
    """Checkpoints written before TrainConfig hold the config as a plain dict; they still resume."""
    out = tmp_path / "r"
    assert train("--epochs", "1", "--limit", "256", "--out", str(out), "--no-progress") == 0
    path = out / "model.npz"
    with np.load(path, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    meta = json.loads(str(arrays["meta.json"]))
    meta["config"] = {k: v for k, v in meta["config"].items() if k != "nesterov"}  # as the old code wrote it
    arrays["meta.json"] = np.array(json.dumps(meta))
    np.savez(path, **arrays)
    assert main(["train", "--resume", str(path), "--epochs", "2", "--no-progress"]) == 0
    assert "resuming" in capsys.readouterr().out
    ckpt = load_checkpoint(path)
    assert ckpt["epoch"] == 2 and ckpt.config.epochs == 2 and ckpt.config.limit == 256


def test_resumed_run_keeps_its_limit_and_data_set(tmp_path: Path, capsys) -> None:
    out = tmp_path / "r"
    assert train("--epochs", "1", "--limit", "300", "--out", str(out), "--no-progress") == 0
    capsys.readouterr()
    assert main(["train", "--resume", str(out / "model.npz"), "--epochs", "2", "--no-progress"]) == 0
    assert "digits (300 train / 360 test samples" in capsys.readouterr().out
    assert main(["train", "--resume", str(out / "model.npz"), "--limit", "100"]) == 2
    assert "was trained with --limit 300" in capsys.readouterr().err


def test_a_run_also_writes_safetensors_weights_for_other_tools(tmp_path: Path, capsys) -> None:
    """model.safetensors beside model.npz: PyTorch's keys, the config as metadata (issue: models in and out)."""
    st = pytest.importorskip("safetensors.numpy")
    out = tmp_path / "run"
    assert train("--epochs", "1", "--limit", "300", "--out", str(out), "--no-progress") == 0
    weights = st.load_file(str(out / "model.safetensors"))
    ckpt = load_checkpoint(out / "model.npz")
    assert sorted(weights) == sorted(ckpt.model_state)
    for k, v in weights.items():
        np.testing.assert_array_equal(v, ckpt.model_state[k])
    from safetensors import safe_open

    with safe_open(str(out / "model.safetensors"), framework="numpy") as f:
        assert json.loads(f.metadata()["matgrad_config"])["dataset"] == "digits"


def test_lstm_recipe_on_digits_reads_8_rows_and_watch_records_each_time_steps_gradient(tmp_path: Path,
                                                                                      capsys) -> None:
    out = tmp_path / "lstm"
    assert train("--model", "lstm", "--epochs", "2", "--limit", "256", "--watch", "--out", str(out),
                 "--no-progress") == 0
    printed = capsys.readouterr().out
    assert "training lstm on digits" in printed and "gradient norm by time step: step 1 " in printed
    assert "lstm.weight_hh_l0  grad norm" in printed  # the recurrent weight is watched too
    m = json.loads((out / "metrics.json").read_text())
    per_step = m["watch"]["time_step_grad_norm"][""]  # the model itself records it
    assert len(per_step) == 2 and all(len(epoch) == 8 and min(epoch) > 0 for epoch in per_step)  # 8 rows
    samples = len(m["watch"]["step"])  # --watch samples steps; each weight has a value at each
    assert all(len(v) == samples and min(v) > 0 for v in m["watch"]["grad_norm"].values())
    assert {"lstm.weight_ih_l0", "lstm.weight_hh_l0", "head"} <= set(m["watch"]["grad_norm"])
    assert (out / "watch.png").read_bytes()[:8] == PNG
    state = load_checkpoint(out / "model.npz").model_state
    assert state["lstm.weight_ih_l0"].shape == (512, 8) and state["head.weight"].shape == (10, 128)


def test_vit_recipe_on_digits_uses_4x4_patches_and_evaluates(tmp_path: Path, capsys) -> None:
    out = tmp_path / "vit"
    assert train("--model", "vit", "--epochs", "1", "--limit", "256", "--out", str(out), "--no-progress") == 0
    assert "training vit on digits" in capsys.readouterr().out
    state = load_checkpoint(out / "model.npz").model_state
    assert state["embed.weight"].shape == (64, 16) and state["pos_embedding"].shape == (1, 4, 64)
    assert main(["eval", str(out / "model.npz")]) == 0
    assert "accuracy" in capsys.readouterr().out
