"""Atomic file writes: a temp file in the same folder, then os.replace.

Every file matgrad writes (checkpoints, metrics, plots, pictures, IDX files) goes through
here, so a crash never leaves half a file and the previous version stays until the new
one is whole.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any, Callable


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
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, mode, **({} if "b" in mode else {"encoding": "utf-8", "newline": "\n"})) as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_text_atomic(path: str | os.PathLike, text: str) -> Path:
    """Write `text` (UTF-8) to `path` atomically, into an existing folder; returns the path."""
    return atomic_write(path, lambda f: f.write(text), mode="w", make_parents=False)
