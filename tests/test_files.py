"""Atomic writes: a failed write leaves the old file, and the new file gets an ordinary file's mode."""
from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from matgrad.files import atomic_write


def test_atomic_write_keeps_the_old_file_when_writing_fails(tmp_path: Path) -> None:
    path = tmp_path / "f.txt"
    atomic_write(path, lambda f: f.write("old"), mode="w")

    def boom(f: object) -> None:
        f.write("half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        atomic_write(path, boom, mode="w")
    assert path.read_text() == "old"
    assert os.listdir(tmp_path) == ["f.txt"]  # no temp file left behind


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_atomic_write_gives_the_mode_an_ordinary_open_would(tmp_path: Path, umask: int) -> None:
    """Not the 0600 of a temp file: colleagues can read a shared run folder under umask 022."""
    old = os.umask(umask)
    try:
        ordinary = tmp_path / "ordinary.txt"
        with open(ordinary, "w") as f:
            f.write("x")
        atomic = atomic_write(tmp_path / "atomic.txt", lambda f: f.write("x"), mode="w")
    finally:
        os.umask(old)
    assert mode(ordinary) == 0o666 & ~umask
    assert mode(atomic) == mode(ordinary)


def test_atomic_write_keeps_the_mode_of_the_file_it_replaces(tmp_path: Path) -> None:
    path = tmp_path / "f.txt"
    path.write_text("old")
    path.chmod(0o640)
    atomic_write(path, lambda f: f.write("new"), mode="w")
    assert path.read_text() == "new" and mode(path) == 0o640
