"""`matgrad train/eval/predict --device`: on the CuPy-like test device (the `cuda` fixture), and without CUDA.

The CLI's main() runs in this process, so the fixture's device is matgrad's "cuda" for it. Runs are
tiny (the built-in digits set, a few hundred samples, one epoch). On the test device the arithmetic
is NumPy's, so a run there must give the CPU's numbers: anything computed on the wrong device, or
copied to the host where it should not be, fails with the test device's TypeError.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import matgrad
from matgrad.cli.main import main
from matgrad.training import device as device_mod
from matgrad.training.checkpoint import load_checkpoint

TINY = ("--dataset", "digits", "--epochs", "1", "--limit", "300", "--batch-size", "100", "--no-progress")


def train(out: Path, *args: str) -> int:
    return main(["train", *TINY, "--out", str(out), *args])


def _metrics(out: Path) -> dict:
    return json.loads((out / "metrics.json").read_text())


@pytest.fixture
def no_cuda():
    """CUDA as this machine has it (CuPy is not installed); skipped where a real GPU is usable."""
    if matgrad.cuda.is_available():
        pytest.skip("a GPU is usable here")


# --- with the test device ---------------------------------------------------------------------------

def test_train_on_cuda_names_the_device_and_saves_host_arrays(cuda, tmp_path: Path, capsys) -> None:
    out = tmp_path / "run"
    assert train(out, "--device", "cuda", "--watch") == 0
    text = capsys.readouterr().out
    assert "device: cuda:0 (fake_cupy)" in text
    assert "samples/s on cuda:0 (fake_cupy))" in text  # the epoch's progress line
    m = _metrics(out)
    assert m["device"] == "cuda:0 (fake_cupy)" and m["epochs"][0]["device"] == "cuda:0 (fake_cupy)"
    assert 0 <= m["epochs"][0]["test_accuracy"] <= 1 and np.isfinite(m["epochs"][0]["train_loss"])
    ckpt = load_checkpoint(out / "model.npz")
    assert all(type(a) is np.ndarray for a in ckpt.model_state.values())  # loads on a CPU-only machine
    assert ckpt["optimizer"]["state"], "the momentum buffers were saved"
    for state in ckpt["optimizer"]["state"].values():
        assert all(type(v) is np.ndarray for v in state.values() if hasattr(v, "shape"))


def test_auto_is_cuda_when_available(cuda, tmp_path: Path, capsys) -> None:
    assert train(tmp_path / "run") == 0  # no --device: auto
    assert _metrics(tmp_path / "run")["device"] == "cuda:0 (fake_cupy)"
    assert "device: cuda:0" in capsys.readouterr().out


def test_cuda_run_gives_the_cpu_run_numbers(cuda, tmp_path: Path) -> None:
    """Same seed, same batches: the test device computes with NumPy, so the runs agree closely."""
    assert train(tmp_path / "cpu", "--device", "cpu") == 0
    assert train(tmp_path / "gpu", "--device", "cuda") == 0
    a, b = _metrics(tmp_path / "cpu")["epochs"][0], _metrics(tmp_path / "gpu")["epochs"][0]
    assert a["device"] == "cpu"
    for key in ("train_loss", "train_accuracy", "test_loss", "test_accuracy"):
        assert b[key] == pytest.approx(a[key], rel=1e-5, abs=1e-7), key
    wa = load_checkpoint(tmp_path / "cpu" / "model.npz").model_state
    wb = load_checkpoint(tmp_path / "gpu" / "model.npz").model_state
    for k in wa:
        np.testing.assert_allclose(wb[k], wa[k], rtol=1e-4, atol=1e-6, err_msg=k)


def test_resume_a_cpu_run_on_cuda(cuda, tmp_path: Path) -> None:
    """A checkpoint's host arrays (weights, momentum) move to the GPU on resume, and it goes on as on the CPU."""
    assert main(["train", *TINY, "--epochs", "2", "--out", str(tmp_path / "whole"), "--device", "cpu"]) == 0
    assert train(tmp_path / "half", "--device", "cpu") == 0
    assert main(["train", "--resume", str(tmp_path / "half" / "model.npz"), "--epochs", "2", "--no-progress",
                 "--device", "cuda"]) == 0
    whole, half = _metrics(tmp_path / "whole"), _metrics(tmp_path / "half")
    assert [e["device"] for e in half["epochs"]] == ["cpu", "cuda:0 (fake_cupy)"]
    assert half["epochs"][1]["train_loss"] == pytest.approx(whole["epochs"][1]["train_loss"], rel=1e-5)


def test_eval_and_predict_on_cuda(cuda, tmp_path: Path, capsys) -> None:
    pil = pytest.importorskip("PIL.Image")
    out = tmp_path / "run"
    assert train(out, "--device", "cpu") == 0
    capsys.readouterr()
    assert main(["eval", str(out / "model.npz"), "--device", "cpu"]) == 0
    on_cpu = capsys.readouterr().out
    assert main(["eval", str(out / "model.npz"), "--device", "cuda"]) == 0
    on_gpu = capsys.readouterr().out
    assert "run on cuda:0 (fake_cupy)" in on_gpu
    acc = [line for line in on_cpu.splitlines() if line.startswith("test accuracy")]
    assert acc and acc == [line for line in on_gpu.splitlines() if line.startswith("test accuracy")]
    image = tmp_path / "seven.png"
    pixels = np.zeros((8, 8), np.uint8)
    pixels[1, 1:7] = 255
    pixels[2:7, 5] = 255
    pil.fromarray(pixels).save(image)
    assert main(["predict", str(out / "model.npz"), str(image), "--device", "cpu"]) == 0
    cpu_line = capsys.readouterr().out
    assert main(["predict", str(out / "model.npz"), str(image), "--device", "cuda"]) == 0
    assert capsys.readouterr().out == cpu_line and cpu_line.startswith(str(image))


# --- without CUDA -----------------------------------------------------------------------------------

@pytest.mark.parametrize("command", ["train", "eval", "predict"])
def test_device_cuda_without_cuda_says_why_in_one_line(no_cuda, command: str, tmp_path: Path, capsys) -> None:
    argv = {"train": ["train", *TINY, "--out", str(tmp_path / "run")],
            "eval": ["eval", str(tmp_path / "missing.npz")],
            "predict": ["predict", str(tmp_path / "missing.npz"), str(tmp_path / "x.png")]}[command]
    assert main([*argv, "--device", "cuda"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(f"matgrad {command}: error: --device cuda: no CUDA GPU can be used here")
    assert matgrad.devices.cuda_unavailable_reason() in err  # "CuPy is not installed: pip install ..."
    assert "--device cpu" in err
    assert not (tmp_path / "run").exists()  # refused before anything was made


def test_device_cuda_without_cuda_in_a_fresh_process(no_cuda, tmp_path: Path) -> None:
    from tests.cli.process import run_matgrad

    proc = run_matgrad("train", *TINY, "--out", str(tmp_path / "run"), "--device", "cuda")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines() == [proc.stderr.strip()]
    assert "no CUDA GPU can be used here" in proc.stderr and "matgrad[cuda]" in proc.stderr


def test_auto_without_cuda_trains_on_the_cpu(no_cuda, tmp_path: Path, capsys) -> None:
    assert train(tmp_path / "run", "--device", "auto") == 0
    captured = capsys.readouterr()
    assert _metrics(tmp_path / "run")["device"] == "cpu" and "device: cpu" in captured.out
    assert "warning" not in captured.err  # no GPU extra installed: nothing to say


def test_auto_with_cupy_but_no_gpu_warns_and_uses_the_cpu(tmp_path: Path, capsys,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """CuPy installed, no driver: auto trains on the CPU and says why the GPU was not used."""
    reason = "CuPy 14.0.0 is installed but found no usable NVIDIA GPU or driver (CUDARuntimeError: no driver)"
    before = matgrad.devices.set_cuda_backend(None, reason)
    monkeypatch.setattr(device_mod, "_cupy_installed", lambda: True)
    try:
        assert train(tmp_path / "run") == 0
        assert main(["train", *TINY, "--out", str(tmp_path / "r2"), "--device", "cuda"]) == 2
    finally:
        matgrad.devices.restore_cuda_backend(before)
    err = capsys.readouterr().err
    assert f"matgrad train: warning: running on the CPU: {reason}" in err
    assert f"no CUDA GPU can be used here: {reason}" in err
    assert _metrics(tmp_path / "run")["device"] == "cpu"


def test_a_bad_device_name_is_a_usage_error(tmp_path: Path, capsys) -> None:
    assert main(["train", *TINY, "--out", str(tmp_path / "run"), "--device", "gpu"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("matgrad train: error: --device gpu: not a device; choose auto, cpu, cuda or cuda:N")


@pytest.mark.parametrize("command", ["train", "eval", "predict"])
def test_help_lists_the_device_option(command: str, capsys) -> None:
    assert main([command, "--help"]) == 0
    text = capsys.readouterr().out
    assert "--device" in text and "auto" in text and "matgrad[cuda]" in text


# --- benchmarks/gpu.py, the script prepared for a GPU machine ----------------------------------------

def _gpu_script():
    import importlib.util

    path = Path(__file__).resolve().parents[2] / "benchmarks" / "gpu.py"
    spec = importlib.util.spec_from_file_location("_bench_gpu", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_gpu_benchmark_without_a_gpu_says_why(no_cuda, tmp_path: Path, capsys) -> None:
    assert _gpu_script().main([str(tmp_path / "gpu.json")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("benchmarks/gpu.py needs an NVIDIA GPU with CuPy") and "--dry-run" in err
    assert "error" in json.loads((tmp_path / "gpu.json").read_text())


def test_gpu_benchmark_dry_run_on_the_test_device(tmp_path: Path) -> None:
    """The op-table section on the test device (the script installs it itself), and its JSON."""
    before = matgrad.devices.set_cuda_backend(None, "")  # the script's dry run installs the test device
    try:
        assert _gpu_script().main([str(tmp_path / "gpu.json"), "--dry-run", "--only", "ops"]) == 0
    finally:
        matgrad.devices.restore_cuda_backend(before)
    result = json.loads((tmp_path / "gpu.json").read_text())
    assert result["machine"]["device"] == "cuda:0 (fake_cupy)"
    ops = result["sections"]["ops"]
    assert ops["rows"] > 0 and ops["agree"] == ops["rows"], ops
    assert result["targets"]["ops_agree"]["met"] is True and "dry run" in result["targets"]["note"]
