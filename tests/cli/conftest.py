"""A small run trained once on the built-in digits set, shared by the eval/predict tests."""
from __future__ import annotations

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


@pytest.fixture(scope="session")
def digits_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """model.npz of the seed recipe trained 6 epochs on digits (about 90% test accuracy)."""
    out = tmp_path_factory.mktemp("run") / "digits"
    assert main(["train", "--dataset", "digits", "--epochs", "6", "--out", str(out), "--no-progress"]) == 0
    return out / "model.npz"
