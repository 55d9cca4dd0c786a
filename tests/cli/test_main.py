"""The `matgrad` entry point: help, unknown commands, `python -m matgrad`, `data list`."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from matgrad.cli.main import main


def test_help_and_bad_usage(capsys) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for cmd in ("train", "eval", "predict", "data"):
        assert cmd in out
    assert main(["fly"]) == 2
    assert "invalid choice" in capsys.readouterr().err
    assert main(["train", "--model", "nope"]) == 2
    assert main(["train", "--epochs", "many"]) == 2


def test_python_dash_m_runs_the_command() -> None:
    proc = subprocess.run([sys.executable, "-m", "matgrad", "train", "--help"], capture_output=True,
                          text=True,
                          timeout=120)
    assert proc.returncode == 0 and "--resume" in proc.stdout and "--watch" in proc.stdout


def test_data_list_shows_where_datasets_are(tmp_path: Path, capsys) -> None:
    from matgrad.data import write_idx

    d = tmp_path / "mine" / "mnist"
    d.mkdir(parents=True)
    write_idx(d / "t10k-images-idx3-ubyte.gz", np.zeros((2, 28, 28), "uint8"))
    write_idx(d / "t10k-labels-idx1-ubyte.gz", np.zeros(2, "uint8"))
    assert main(["data", "list", "--data", str(tmp_path / "mine")]) == 0
    out = capsys.readouterr().out
    assert f"mnist: {d}" in out and "test" in out
    assert "fashion-mnist: not found" in out and "matgrad data download fashion-mnist" in out
    assert "digits" in out


def test_data_download_failure_is_one_line(tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch) -> None:

    dl = sys.modules["matgrad.data.download"]  # the package's `download` name is the function

    def refuse(*args: object, **kwargs: object) -> None:
        raise OSError("network is unreachable")

    monkeypatch.setattr(dl.urllib.request, "urlopen", refuse)
    argv = ["data", "download", "mnist", "--data", str(tmp_path), "--mirror", "http://127.0.0.1:9/"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "could not download" in err and "Traceback" not in err


def test_every_command_keeps_freed_memory_for_reuse(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import matgrad.memory

    calls = []
    monkeypatch.setattr(matgrad.memory, "keep_freed_memory", lambda: calls.append(1) or True)
    assert main(["eval", str(tmp_path / "missing.npz")]) == 2
    assert calls == [1]
