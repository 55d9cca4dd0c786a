"""`matgrad data list` (what is found where) and `matgrad data download NAME`."""
from __future__ import annotations

import argparse
import sys
from typing import Any

from .errors import UsageError


def add_parser(sub: Any) -> argparse.ArgumentParser:
    p = sub.add_parser("data", help="list or download datasets",
                       description="Datasets are looked for in --data DIR, $MATGRAD_DATA, ~/.cache/matgrad "
                                   "and /usr/share/datasets, in that order.")
    dsub = p.add_subparsers(dest="data_command", metavar="ACTION")
    dsub.required = True
    lst = dsub.add_parser("list", help="show where each dataset is found")
    lst.add_argument("--data", metavar="DIR", help="also look in DIR")
    dl = dsub.add_parser("download", help="fetch a dataset's official files (checked by MD5)")
    dl.add_argument("name", choices=("mnist", "fashion-mnist"))
    dl.add_argument("--data", metavar="DIR", help="save into DIR/<name>/ (default: ~/.cache/matgrad)")
    dl.add_argument("--mirror", action="append", metavar="URL", help="base URL to fetch from (repeatable)")
    dl.add_argument("--force", action="store_true", help="fetch again even when good copies are there")
    return p


def run(args: argparse.Namespace) -> int:
    return _list(args) if args.data_command == "list" else _download(args)


def _list(args: argparse.Namespace) -> int:
    from matgrad.data import find_datasets
    from matgrad.data.locator import candidate_dirs

    found = find_datasets(args.data)
    for name in ("mnist", "fashion-mnist", "digits"):
        hits = [f for f in found if f.name == name]
        if not hits:
            looked = ", ".join(str(d) for _, d in candidate_dirs(name, args.data))
            print(f"{name}: not found (looked in {looked})")
            print(f"  get it with: matgrad data download {name}")
            continue
        for f in hits:
            mark = "*" if f.used else " "
            print(f"{mark} {name}: {f.folder}  ({f.source}; {', '.join(f.splits)})")
    print("(* = the copy that is used)")
    return 0


def _download(args: argparse.Namespace) -> int:
    from matgrad.data import DownloadError, download

    bars: dict[str, Any] = {}

    def progress(fname: str, done: int, total: int | None) -> None:
        if not sys.stderr.isatty():  # a log file or a pipe: a bar's carriage returns would land in it
            return
        try:
            from tqdm.auto import tqdm
        except ImportError:
            return
        if fname not in bars:
            bars[fname] = tqdm(total=total, unit="B", unit_scale=True, desc=fname, leave=False)
        bar = bars[fname]
        bar.update(done - bar.n)

    try:
        folder = download(args.name, args.data, mirrors=args.mirror, progress=progress, force=args.force)
    except DownloadError as e:
        raise UsageError(str(e)) from None
    finally:
        for bar in bars.values():
            bar.close()
    print(f"{args.name} is in {folder}", file=sys.stdout)
    return 0
