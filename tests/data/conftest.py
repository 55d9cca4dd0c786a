"""Keep data tests off the real cache and system folders; helpers to write small IDX datasets."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from matgrad.data import idx, locator


@pytest.fixture(autouse=True)
def _isolated(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test sees the user's $MATGRAD_DATA, ~/.cache or /usr/share/datasets."""
    root = tmp_path_factory.mktemp("isolated")
    monkeypatch.delenv("MATGRAD_DATA", raising=False)
    monkeypatch.delenv("MATGRAD_MIRRORS", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(root / "cache"))
    monkeypatch.setattr(locator, "SYSTEM_DATA_DIR", root / "system")


def tiny_split(folder: Path, n: int = 6, train: bool = True, gz: bool = True, seed: int = 0,
               n_labels: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Write an MNIST-shaped split of n images (28x28 uint8) and labels into folder; return them."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, size=n_labels or n).astype(np.uint8)
    img_name, lab_name = locator.SPLITS[train]
    ext = ".gz" if gz else ""
    idx.write_idx(folder / (img_name + ext), images)
    idx.write_idx(folder / (lab_name + ext), labels)
    return images, labels
