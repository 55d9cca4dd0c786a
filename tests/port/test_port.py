"""The port corpus: ordinary PyTorch programs (tests/port/programs/) that must run unchanged under
PyTorch and, with only their import lines changed, under matgrad.

Each program asserts its own outcome, so exit status 0 means it worked. Each is run twice, in a
subprocess: as written, with PyTorch, when PyTorch is installed (this proves the program itself), and
ported by tests/port/rewrite.py to matgrad.

MATGRAD_PENDING names the programs that matgrad cannot run yet, each with the missing feature that
stops it. Those runs are strict xfails: when a feature lands and a program starts passing, the suite
fails until its entry is removed here.
"""
from __future__ import annotations

import functools
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.port.rewrite import rewrite_imports

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
PROGRAMS = sorted(HERE.glob("programs/*.py"))
TIMEOUT_S = 300  # a program takes seconds; this only stops a hang

# program name -> the missing matgrad feature that stops it today (the first error it gives).
# Remove an entry when its program passes (strict xfail makes the suite say so).
MATGRAD_PENDING: dict[str, str] = {
}


def _env() -> dict[str, str]:
    env = dict(os.environ)
    # One thread each: the suite runs beside other work on few cores.
    env.update(OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", PYTHONHASHSEED="0")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
    return env


# Runs a ported program with `torch` made unimportable, so a missed import cannot fall back to PyTorch.
WITHOUT_TORCH = ("import runpy, sys; sys.modules['torch'] = None; sys.argv = sys.argv[1:]; "
                 "runpy.run_path(sys.argv[0], run_name='__main__')")


def _run(script: Path, cwd: Path, *, block_torch: bool = False) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-c", WITHOUT_TORCH, str(script)] if block_torch else [sys.executable, str(script)]
    return subprocess.run(command, cwd=cwd, env=_env(), capture_output=True, text=True, timeout=TIMEOUT_S)


def _failure(proc: subprocess.CompletedProcess[str]) -> str:
    tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-25:])
    return f"exit status {proc.returncode}\n{tail}"


@functools.cache
def _torch_importable() -> bool:
    """Whether `import torch` works here, asked in a subprocess so this process never loads torch."""
    proc = subprocess.run([sys.executable, "-c", "import torch"], env=_env(), capture_output=True, timeout=TIMEOUT_S)
    return proc.returncode == 0


def test_corpus_is_large_enough() -> None:
    assert len(PROGRAMS) >= 25
    assert set(MATGRAD_PENDING) <= {p.stem for p in PROGRAMS}, "MATGRAD_PENDING names a program that is gone"


@pytest.mark.parametrize("program", PROGRAMS, ids=[p.stem for p in PROGRAMS])
def test_runs_under_pytorch(program: Path, tmp_path: Path) -> None:
    if not _torch_importable():
        pytest.skip("PyTorch is not installed")
    proc = _run(program, tmp_path)
    assert proc.returncode == 0, _failure(proc)


def _matgrad_params() -> list:
    params = []
    for program in PROGRAMS:
        reason = MATGRAD_PENDING.get(program.stem)
        marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
        params.append(pytest.param(program, id=program.stem, marks=marks))
    return params


@pytest.mark.parametrize("program", _matgrad_params())
def test_runs_under_matgrad(program: Path, tmp_path: Path) -> None:
    ported = tmp_path / program.name
    ported.write_text(rewrite_imports(program.read_text(encoding="utf-8")), encoding="utf-8")
    work = tmp_path / "cwd"
    work.mkdir()
    proc = _run(ported, work, block_torch=True)
    assert proc.returncode == 0, _failure(proc)
