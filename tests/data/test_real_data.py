"""The real-data fixtures (mnist_dir, fashion_dir) look where the library looks, $MATGRAD_DATA first."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import SHARED_DATA, find_real_dataset, real_data_roots
from tests.data.conftest import tiny_split

REPO = Path(__file__).resolve().parents[2]
PROBE = Path(__file__).with_name("real_data_probe.py")  # not test_*.py: collected only when named


def test_roots_put_matgrad_data_first_then_the_folder_beside_the_repo(tmp_path, monkeypatch):
    monkeypatch.setenv("MATGRAD_DATA", str(tmp_path))
    roots = real_data_roots()
    assert roots[:2] == [("$MATGRAD_DATA", tmp_path), ("beside the repo", SHARED_DATA)]
    assert [what for what, _ in roots[2:]] == ["user cache", "system datasets"]


def test_found_in_root_or_root_slash_name_with_both_splits(tmp_path):
    roots = [("here", tmp_path)]
    tiny_split(tmp_path / "mnist", train=True)
    assert find_real_dataset("mnist", roots) is None  # no test split yet
    tiny_split(tmp_path / "mnist", train=False, gz=False)
    assert find_real_dataset("mnist", roots) == tmp_path / "mnist"
    tiny_split(tmp_path / "flat", train=True)
    tiny_split(tmp_path / "flat", train=False)
    assert find_real_dataset("fashion-mnist", [("flat", tmp_path / "flat")]) == tmp_path / "flat"


def test_mnist_dir_fixture_honours_matgrad_data(tmp_path):
    # a tiny MNIST in $MATGRAD_DATA wins over the one beside the repo, even in tests/data, whose
    # autouse fixture clears $MATGRAD_DATA before each test
    tiny_split(tmp_path / "mnist", train=True)
    tiny_split(tmp_path / "mnist", train=False)
    env = {**os.environ, "MATGRAD_DATA": str(tmp_path), "MATGRAD_TEST_EXPECT_MNIST": str(tmp_path / "mnist")}
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-o", "addopts=", "-q", "-rs",
         str(PROBE.relative_to(REPO))],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300,
    )
    assert run.returncode == 0 and "1 passed" in run.stdout, run.stdout + run.stderr
