"""A small run trained once on the built-in digits set, shared by the eval/predict tests."""
from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from matgrad.cli.main import main


@pytest.fixture(autouse=True)
def _no_real_data(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Hide any MNIST the machine has, so a test finds only what it passes with --data."""
    import matgrad.data.locator as locator

    monkeypatch.delenv("MATGRAD_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(locator, "SYSTEM_DATA_DIR", tmp_path / "system-datasets")


@pytest.fixture(autouse=True)
def _blas_timeout_restored() -> Iterator[None]:
    """A conv run sets OpenBLAS's idle timeout for the process (train_cmd._quiet_blas_threads): undo it."""
    from matgrad import threads

    before, env = threads.get_blas_thread_timeout(), os.environ.get("OPENBLAS_THREAD_TIMEOUT")
    yield
    if threads.get_blas_thread_timeout() != before and before is not None:
        threads.set_blas_thread_timeout(before)
    if env is None:
        os.environ.pop("OPENBLAS_THREAD_TIMEOUT", None)
    else:
        os.environ["OPENBLAS_THREAD_TIMEOUT"] = env


@pytest.fixture(scope="session")
def digits_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """model.npz of the seed recipe trained 6 epochs on digits (about 90% test accuracy)."""
    out = tmp_path_factory.mktemp("run") / "digits"
    assert main(["train", "--dataset", "digits", "--epochs", "6", "--out", str(out), "--no-progress"]) == 0
    return out / "model.npz"
