"""Atomic file writes: a temp file in the same folder, then os.replace.

Every file matgrad writes (checkpoints, metrics, plots, pictures, IDX files) goes through
here, so a crash never leaves half a file and the previous version stays until the new
one is whole. The file gets the permissions an ordinary `open(path, "w")` would give it:
0666 less the umask for a new file (0644 under the usual umask 022), the old file's mode
when it replaces one.
"""
from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any, Callable

_TRIES = 100  # temp names to try before giving up (each is 64 random bits: a clash is a fluke)


def atomic_write(path: str | os.PathLike, write: Callable[[Any], None], mode: str = "wb",
                 make_parents: bool = True) -> Path:
    """Write `path` via `write(file)` into a temp file beside it, then move it into place.

    A missing folder is created, or with make_parents=False refused with a clear error.
    """
    path = Path(path)
    if make_parents:
        path.parent.mkdir(parents=True, exist_ok=True)
    elif not path.parent.is_dir():
        raise FileNotFoundError(f"cannot write {path}: the folder {path.parent} does not exist; create it first")
    fd, tmp = _create_temp(path)
    try:
        with os.fdopen(fd, mode, **({} if "b" in mode else {"encoding": "utf-8", "newline": "\n"})) as f:
            _keep_mode(path, tmp)
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _create_temp(path: Path) -> tuple[int, Path]:
    """A new, empty `.NAME.<random>.tmp` beside `path`, opened for writing.

    Created with os.open's 0o666, so the kernel applies the umask exactly as for an ordinary
    open() (tempfile.mkstemp would make it 0600 whatever the umask).
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)
    for _ in range(_TRIES):
        tmp = path.parent / f".{path.name}.{os.urandom(8).hex()}.tmp"
        try:
            return os.open(tmp, flags, 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"cannot write {path}: could not create a temporary file beside it")


def _keep_mode(path: Path, tmp: Path) -> None:
    """Give `tmp` the mode of the file it will replace, as open(path, "w") would keep it."""
    try:
        old = stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        return
    os.chmod(tmp, old)


def write_text_atomic(path: str | os.PathLike, text: str) -> Path:
    """Write `text` (UTF-8) to `path` atomically, into an existing folder; returns the path."""
    return atomic_write(path, lambda f: f.write(text), mode="w", make_parents=False)
