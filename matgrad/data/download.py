"""Download MNIST / Fashion-MNIST into the cache, checking each file's published MD5.

Each file goes to a temp file in the target folder and is moved into place only once its
checksum matches, so a broken or cut-off download never leaves a file that looks good.
Mirrors are tried in order; override them with `mirrors=` or $MATGRAD_MIRRORS (base URLs
separated by spaces or commas; "{name}" in a URL is replaced by the dataset name).
"""
from __future__ import annotations

import hashlib
import http.client
import os
import tempfile
import urllib.error
import urllib.request
from pathlib import Path
from typing import Callable, Sequence

from .catalog import DIGITS_FILE, canonical_name
from .locator import cache_dir

MIRRORS: dict[str, list[str]] = {
    "mnist": [
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "http://yann.lecun.com/exdb/mnist/",
    ],
    "fashion-mnist": ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"],
}

# the published MD5s (torchvision's tables; checked against the official files)
CHECKSUMS: dict[str, dict[str, str]] = {
    "mnist": {
        "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
        "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
        "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
        "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
    },
    "fashion-mnist": {
        "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
        "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
        "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
        "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
    },
}

# progress(file name, bytes so far, total bytes or None when the server does not say)
Progress = Callable[[str, int, "int | None"], None]
_CHUNK = 1 << 16


class DownloadError(OSError):
    """No mirror gave a file with the right checksum; the message lists what each mirror did."""


def md5sum(path: str | os.PathLike) -> str:
    """The MD5 hex digest of a file."""
    h = hashlib.md5()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def mirrors_for(name: str, mirrors: Sequence[str] | str | None = None) -> list[str]:
    """The base URLs to try for `name`: `mirrors`, else $MATGRAD_MIRRORS, else MIRRORS[name]."""
    if mirrors is None:
        mirrors = os.environ.get("MATGRAD_MIRRORS") or None
    if mirrors is None:
        urls = list(MIRRORS.get(name, []))
    elif isinstance(mirrors, str):
        urls = mirrors.replace(",", " ").split()
    else:
        urls = list(mirrors)
    urls = [u.replace("{name}", name) for u in urls]
    return [u if u.endswith("/") else u + "/" for u in urls]


def download(
    name: str,
    root: str | os.PathLike | None = None,
    mirrors: Sequence[str] | str | None = None,
    timeout: float = 30.0,
    progress: Progress | None = None,
    force: bool = False,
) -> Path:
    """Fetch every file of `name` into ROOT/<name>/ (ROOT: the user cache) and return that folder.

    Files already there with the right checksum are kept (unless force). Raises DownloadError
    when no mirror gives a good copy of a file; nothing partial is left behind.
    """
    name = canonical_name(name)
    if name == "digits":
        return DIGITS_FILE.parent  # packaged with matgrad: nothing to fetch
    if name not in CHECKSUMS:
        raise ValueError(f"no download known for {name!r}; known: {', '.join(CHECKSUMS)}")
    target = Path(root).expanduser() if root is not None else cache_dir()
    target = target / name
    urls = mirrors_for(name, mirrors)
    if not urls:
        raise DownloadError(f"no mirrors to download {name} from; pass mirrors= or set MATGRAD_MIRRORS")
    created = not target.exists()
    target.mkdir(parents=True, exist_ok=True)
    try:
        for fname, md5 in CHECKSUMS[name].items():
            dest = target / fname
            if not force and dest.is_file() and md5sum(dest) == md5:
                continue
            _fetch(fname, md5, urls, dest, timeout, progress)
    except BaseException:
        if created and not any(target.iterdir()):
            target.rmdir()  # leave no empty folder that looks like a dataset was here
        raise
    return target


def _fetch(
    fname: str, md5: str, urls: list[str], dest: Path, timeout: float, progress: Progress | None
) -> None:
    """Try each mirror for `fname`; move the first copy whose MD5 matches to `dest`."""
    failures = []
    for base in urls:
        url = base + fname
        try:
            got = _get(url, dest, md5, timeout, progress, fname)
        except (OSError, ValueError, http.client.HTTPException) as e:  # HTTP errors, timeouts, cut-offs
            failures.append(f"  - {url}: {_reason(e)}")
            continue
        if got == md5:
            return
        failures.append(f"  - {url}: checksum mismatch (MD5 {got}, expected {md5}): corrupted or not the "
                        "official file; rejected")
    raise DownloadError(
        f"could not download {fname}; every mirror failed:\n" + "\n".join(failures)
        + f"\nNothing was saved for {fname}. Check your connection, try other mirrors "
        "(MATGRAD_MIRRORS=URL ...), or download the files yourself and pass --data DIR."
    )


def _reason(e: BaseException) -> str:
    """A short cause for a failed fetch: 'HTTP 404 Not Found', 'timed out', ..."""
    if isinstance(e, urllib.error.HTTPError):
        return f"HTTP {e.code} {e.reason}"
    return str(getattr(e, "reason", None) or e) or type(e).__name__


def _get(url: str, dest: Path, md5: str, timeout: float, progress: Progress | None, fname: str) -> str:
    """Stream `url` to a temp file beside `dest`; move it into place iff its MD5 is `md5`. Returns the MD5."""
    req = urllib.request.Request(url, headers={"User-Agent": "matgrad-downloader/0.1 (python urllib)"})
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
    try:
        h = hashlib.md5()
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(req, timeout=timeout) as resp:
            total = resp.headers.get("Content-Length")
            total = int(total) if total and total.isdigit() else None
            done = 0
            if progress:
                progress(fname, 0, total)
            while chunk := resp.read(_CHUNK):
                out.write(chunk)
                h.update(chunk)
                done += len(chunk)
                if progress:
                    progress(fname, done, total)
        if total is not None and done != total:  # http.client returns short reads without raising
            raise OSError(f"the transfer stopped after {done} of {total} bytes")
        digest = h.hexdigest()
        if digest == md5:
            os.replace(tmp, dest)
        return digest
    finally:
        Path(tmp).unlink(missing_ok=True)  # gone already when moved into place
