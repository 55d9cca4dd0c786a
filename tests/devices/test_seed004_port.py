"""Seed 004's "PyTorch + GPU" program, ported by changing its imports only, takes its GPU branch on the
CuPy-like test device: `torch.device("cuda:0" if torch.cuda.is_available() else "cpu")` picks cuda:0,
the model and the data move there, and it still fits y = 4x + 0.6.

The program is the port corpus's (tests/port/programs/seed004_linear_gpu_style.py); tests/port runs
it on the CPU under PyTorch and matgrad. Here it runs in this process, as the `cuda` fixture installs
the test device for this process only, with `torch` made unimportable so nothing falls back to PyTorch.
"""
from __future__ import annotations

import runpy
import sys
from pathlib import Path

import pytest

from tests.port.rewrite import rewrite_imports

PROGRAM = Path(__file__).resolve().parents[1] / "port" / "programs" / "seed004_linear_gpu_style.py"


def _run_ported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict:
    """The program's globals after running it with its imports ported to matgrad."""
    ported = tmp_path / PROGRAM.name
    ported.write_text(rewrite_imports(PROGRAM.read_text(encoding="utf-8")), encoding="utf-8")
    monkeypatch.setitem(sys.modules, "torch", None)  # a missed import cannot reach PyTorch
    monkeypatch.chdir(tmp_path)
    return runpy.run_path(str(ported), run_name="__main__")


def test_only_the_imports_differ() -> None:
    source = PROGRAM.read_text(encoding="utf-8")
    before, after = source.splitlines(), rewrite_imports(source).splitlines()
    changed = [b for b, a in zip(before, after) if a != b]
    assert len(before) == len(after) and changed
    assert all(line.startswith(("import torch", "from torch")) for line in changed)
    assert 'torch.device("cuda:0" if torch.cuda.is_available() else "cpu")' in source


def test_seed004_gpu_program_takes_the_gpu_branch(cuda, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    g = _run_ported(tmp_path, monkeypatch)
    assert str(g["device"]) == "cuda:0"
    assert g["x"].device.type == "cuda" and g["y"].device.type == "cuda"
    assert all(p.device.type == "cuda" for p in g["model"].parameters())
    assert g["out"].device.type == "cuda" and g["loss"].device.type == "cuda"
    # what it hands to matplotlib came back to the host with .cpu()
    assert type(g["xs"]).__module__ == "numpy" and type(g["predict"]).__module__ == "numpy"
    assert abs(g["w"] - 4) < 0.02 and abs(g["b"] - 0.6) < 0.01  # the program asserts these too
    assert "Epoch[2999/3000]" in capsys.readouterr().out


def test_seed004_gpu_program_runs_on_the_cpu_without_cuda(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import matgrad

    if matgrad.cuda.is_available():
        pytest.skip("a real GPU is here: the CPU branch is not taken")
    g = _run_ported(tmp_path, monkeypatch)
    assert str(g["device"]) == "cpu" and g["x"].device.type == "cpu"
