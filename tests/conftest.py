"""Shared fixtures: a fixed seed for every test, the real datasets where present, and `cuda`, the test device."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

import matgrad as mg
from matgrad.data import CHECKSUMS, locator

# In CI every run draws the same examples, so a red run can be reproduced exactly;
# locally each run explores new ones.
settings.register_profile("ci", derandomize=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

# The data folder beside the repo (../shared/data), where this project's machines keep MNIST.
SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def real_data_roots() -> list[tuple[str, Path]]:
    """Where the real datasets are looked for, in order: where the library's locator looks
    ($MATGRAD_DATA, the user cache, the system folder), with the folder beside the repo
    right after $MATGRAD_DATA."""
    roots = locator.search_roots(None)
    at = 1 if roots and roots[0][0] == "$MATGRAD_DATA" else 0
    roots.insert(at, ("beside the repo", SHARED_DATA))
    return roots


def find_real_dataset(name: str, roots: list[tuple[str, Path]]) -> Path | None:
    """The first folder, ROOT/<name> or ROOT itself, holding both splits of `name`; None if none does."""
    for _, root in roots:
        for folder in (root / name, root):
            if locator.split_files(folder, True) and locator.split_files(folder, False):
                return folder
    return None


# Read once, when the tests are collected: fixtures such as tests/data's `_isolated` clear
# $MATGRAD_DATA and the cache for each test, after which the user's places can't be seen.
REAL_DATA_ROOTS = real_data_roots()


def _real(name: str) -> Path:
    folder = find_real_dataset(name, REAL_DATA_ROOTS)
    if folder is None:
        places = ", ".join(f"{root} ({what})" for what, root in REAL_DATA_ROOTS)
        pytest.skip(f"real {name} not found; looked in {places}")
    return folder


def official_files(folder: Path, name: str) -> list[Path]:
    """The official .gz downloads of `name` in `folder`; skips the test unless all are there."""
    files = [folder / f for f in CHECKSUMS[name]]
    if not all(f.is_file() for f in files):
        pytest.skip(f"{folder} does not hold the official {name} .gz files")
    return files


@pytest.fixture(autouse=True)
def _seed() -> None:
    mg.manual_seed(0)


@pytest.fixture
def mnist_dir() -> Path:
    """The folder holding real MNIST (both splits), found as the library finds it; skips where absent."""
    return _real("mnist")


@pytest.fixture
def fashion_dir() -> Path:
    """The folder holding real Fashion-MNIST (both splits); skips where absent."""
    return _real("fashion-mnist")


@pytest.fixture
def cuda():
    """matgrad's "cuda" is the CuPy-like test device (tests/devices/fake_cupy.py) for this test; a real GPU
    backend, if any, is put back after."""
    from matgrad import devices
    from tests.devices.conftest import fake_backend

    before = devices.set_cuda_backend(fake_backend())
    try:
        yield devices.device("cuda", 0)
    finally:
        devices.restore_cuda_backend(before)
