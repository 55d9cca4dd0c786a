"""The `matgrad` entry point: help, unknown commands, `python -m matgrad`, `data list`."""
from __future__ import annotations

import re
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


def test_train_help_shows_every_default(capsys) -> None:
    assert main(["train", "--help"]) == 0
    out = capsys.readouterr().out
    entries = re.split(r"\n {2}(?=--?[a-z])", out)[1:]  # one per option
    options = [e.split()[0].rstrip(",") for e in entries]
    assert {"--model", "--lr", "--epochs", "--batch-size", "--seed", "--dataset", "--limit"} <= set(options)
    for entry in entries:
        if not entry.startswith("-h"):
            assert "default" in entry, entry
    lr = entries[options.index("--lr")]
    assert "mlp 1.0" in lr and "mlp-best 0.001" in lr  # each recipe's own value


@pytest.mark.parametrize("argv", [
    ["train", "--dataset", "digits", "--lr", "-1"],
    ["train", "--epochs", "many"],
    ["eval", "MISSING.npz"],
    ["predict", "MISSING.npz", "x.png"],
    ["predict", "MISSING.npz", "x.png", "--top", "0"],
    ["data", "nothing"],
])
def test_every_command_reports_an_error_the_same_way(argv: list[str], tmp_path: Path, capsys) -> None:
    argv = [a.replace("MISSING", str(tmp_path / "missing")) for a in argv]
    assert main([*argv, *(["--out", str(tmp_path / "r")] if argv[0] == "train" else [])]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith(f"matgrad {argv[0]}: error: ") and "Traceback" not in "".join(err)


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
