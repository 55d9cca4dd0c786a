"""Where datasets live: --data DIR, then $MATGRAD_DATA, then the user's cache, then the system folder.

In each place the files may sit in DIR/<name>/ or directly in DIR, gzipped or raw, named as
the official downloads (train-images-idx3-ubyte.gz) or with the older dot (train-images.idx3-ubyte).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from .catalog import DIGITS_FILE, IDX_DATASETS, SPLITS, canonical_name

# Debian's dataset-* packages install here (dataset-fashion-mnist: /usr/share/datasets/fashion-mnist)
SYSTEM_DATA_DIR = Path("/usr/share/datasets")


class DatasetNotFound(FileNotFoundError):
    """No place searched holds the dataset; the message lists each place and how to get it."""


def cache_dir() -> Path:
    """The user's matgrad cache: $XDG_CACHE_HOME/matgrad, else ~/.cache/matgrad (where downloads go)."""
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return base / "matgrad"


def search_roots(data_dir: str | os.PathLike | None = None) -> list[tuple[str, Path]]:
    """The places looked in, in order, as (what it is, folder)."""
    roots: list[tuple[str, Path]] = []
    if data_dir is not None:
        roots.append(("--data", Path(data_dir).expanduser()))
    env = os.environ.get("MATGRAD_DATA")
    if env:
        roots.append(("$MATGRAD_DATA", Path(env).expanduser()))
    roots.append(("user cache", cache_dir()))
    roots.append(("system datasets", SYSTEM_DATA_DIR))
    return roots


def candidate_dirs(name: str, data_dir: str | os.PathLike | None = None) -> list[tuple[str, Path]]:
    """Every folder that may hold `name`'s files, in search order: ROOT/<name>, then ROOT itself."""
    name = canonical_name(name)
    out = []
    for what, root in search_roots(data_dir):
        out.append((what, root / name))
        # the bare cache and system folders hold one folder per dataset, never the files themselves
        if what in ("--data", "$MATGRAD_DATA"):
            out.append((what, root))
    return out


def find_file(folder: Path, stem: str) -> Path | None:
    """`stem` in `folder`, raw preferred (faster to read) over .gz, dash or dot spelling."""
    dotted = stem.replace("-idx", ".idx", 1)
    for base in (stem, dotted):
        for suffix in ("", ".gz"):
            p = folder / (base + suffix)
            if p.is_file():
                return p
    return None


def split_files(folder: Path, train: bool = True) -> tuple[Path, Path] | None:
    """(images, labels) of a split in `folder`, or None unless both are there."""
    images, labels = (find_file(folder, s) for s in SPLITS[bool(train)])
    return (images, labels) if images and labels else None


def locate(name: str, train: bool = True, data_dir: str | os.PathLike | None = None) -> tuple[Path, Path]:
    """The (images, labels) files of `name`'s train or test split, from the first place holding both.

    Raises DatasetNotFound listing every folder looked in and how to get the data.
    """
    name = canonical_name(name)
    if name not in IDX_DATASETS:
        raise ValueError(f"{name!r} is not an IDX dataset (those are {', '.join(IDX_DATASETS)})")
    looked = candidate_dirs(name, data_dir)
    for _, folder in looked:
        found = split_files(folder, train)
        if found:
            return found
    split = "train" if train else "test"
    files = " + ".join(s + "[.gz]" for s in SPLITS[bool(train)])
    places = "\n".join(f"  - {folder}  ({what})" for what, folder in looked)
    raise DatasetNotFound(
        f"{name} ({split} split) not found. Looked for {files} in:\n{places}\n"
        f"Get it with `matgrad data download {name}` (saves to {cache_dir() / name}), "
        f"or pass --data DIR (or set MATGRAD_DATA=DIR) where DIR or DIR/{name}/ holds the files."
    )


@dataclass
class FoundDataset:
    """One place where a dataset was found: which splits it holds and whether it is the one used."""

    name: str
    folder: Path
    source: str
    splits: list[str] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)
    used: bool = False


def find_datasets(data_dir: str | os.PathLike | None = None) -> list[FoundDataset]:
    """Every place each IDX dataset was found, in search order; `used` marks the one loaded.

    The packaged digits set is always listed (it ships inside matgrad).
    """
    out: list[FoundDataset] = []
    for name in IDX_DATASETS:
        seen: set[Path] = set()
        first = {True: True, False: True}
        for what, folder in candidate_dirs(name, data_dir):
            key = folder.resolve() if folder.exists() else folder
            if key in seen:
                continue
            seen.add(key)
            rec = FoundDataset(name, folder, what)
            for train in (True, False):
                files = split_files(folder, train)
                if files:
                    rec.splits.append("train" if train else "test")
                    rec.files.extend(files)
                    rec.used = rec.used or first[train]
                    first[train] = False
            if rec.splits:
                out.append(rec)
    out.append(FoundDataset("digits", DIGITS_FILE.parent, "packaged with matgrad", ["all"], [DIGITS_FILE],
                            used=True))
    return out
