"""Shared fixtures: a fixed seed for every test, and the real datasets where present."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

import matgrad as mg

# In CI every run draws the same examples, so a red run can be reproduced exactly;
# locally each run explores new ones.
settings.register_profile("ci", derandomize=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(autouse=True)
def _seed() -> None:
    mg.manual_seed(0)


@pytest.fixture
def mnist_dir() -> Path:
    """The real MNIST IDX files next to the repo; the test skips where they are absent."""
    d = SHARED_DATA / "mnist"
    if not (d / "train-images-idx3-ubyte.gz").exists():
        pytest.skip(f"real MNIST not found at {d}")
    return d


@pytest.fixture
def fashion_dir() -> Path:
    """The real Fashion-MNIST IDX files next to the repo; skips where absent."""
    d = SHARED_DATA / "fashion-mnist"
    if not (d / "train-images-idx3-ubyte.gz").exists():
        pytest.skip(f"real Fashion-MNIST not found at {d}")
    return d
