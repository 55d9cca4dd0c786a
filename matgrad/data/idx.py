"""The IDX file format of MNIST and Fashion-MNIST: read (gzip or raw) with checks, and write.

Header (big-endian): two zero bytes, a type code (0x08 = uint8, ...), the number of dims,
then each dim as a uint32; then the values, row-major. MNIST labels have magic 0x00000801
(uint8, 1 dim), images 0x00000803 (uint8, 3 dims: n, 28, 28).
"""
from __future__ import annotations

import gzip
import os
import struct
import zlib
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from ..files import atomic_write

LABELS_MAGIC = 0x00000801
IMAGES_MAGIC = 0x00000803

# IDX type code -> big-endian dtype
_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
_CODES = {np.dtype(v).newbyteorder("=").str: k for k, v in _DTYPES.items()}
_GZIP_MAGIC = b"\x1f\x8b"


class IDXError(ValueError):
    """An IDX file is damaged, truncated or not the kind expected; the message names the file."""


class IDXFileNotFoundError(FileNotFoundError):
    """An IDX file that should be there is not."""


def _fix(path: Path) -> str:
    return (f"Delete {path} and fetch it again (`matgrad data download NAME`), "
            "or point --data / $MATGRAD_DATA at a good copy.")


def _open(path: Path) -> BinaryIO:
    """The file's bytes, through gzip when its first two bytes say so (not its name)."""
    f = open(path, "rb")  # noqa: SIM115 - returned to the caller, who closes it
    head = f.read(2)
    f.seek(0)
    return gzip.GzipFile(fileobj=f, mode="rb") if head == _GZIP_MAGIC else f


def _read_exact(f: BinaryIO, n: int, path: Path, what: str) -> bytes:
    data = f.read(n)
    if len(data) != n:
        raise IDXError(f"{path}: file is truncated: the {what} needs {n} bytes, found {len(data)}. "
                       + _fix(path))
    return data


def read_idx(path: str | os.PathLike, expect_magic: int | None = None) -> np.ndarray:
    """The array stored in an IDX file (native byte order), after checking header and size.

    expect_magic: the 4-byte magic the file must start with (LABELS_MAGIC, IMAGES_MAGIC), so a
    label file given where images are wanted is refused with a clear message.
    """
    path = Path(path)
    if not path.is_file():
        raise IDXFileNotFoundError(f"{path}: no such file. Fetch the dataset with `matgrad data download "
                                   "NAME` or point --data / $MATGRAD_DATA at the folder holding it.")
    try:
        with _open(path) as f:
            magic_bytes = _read_exact(f, 4, path, "header")
            (magic,) = struct.unpack(">I", magic_bytes)
            zeros, code, ndim = magic >> 16, (magic >> 8) & 0xFF, magic & 0xFF
            if zeros != 0 or code not in _DTYPES or ndim == 0:
                raise IDXError(f"{path}: not an IDX file (magic number 0x{magic:08x}; expected e.g. "
                               f"0x{IMAGES_MAGIC:08x} for images, 0x{LABELS_MAGIC:08x} for labels). "
                               + _fix(path))
            if expect_magic is not None and magic != expect_magic:
                raise IDXError(f"{path}: wrong kind of IDX file: magic 0x{magic:08x} ({_describe(magic)}), "
                               f"expected 0x{expect_magic:08x} ({_describe(expect_magic)}). "
                               "Check that images and labels files are not swapped or misnamed.")
            dims = struct.unpack(f">{ndim}I", _read_exact(f, 4 * ndim, path, "header"))
            dtype = np.dtype(_DTYPES[code])
            count = int(np.prod(dims, dtype=np.int64))
            out = np.empty(count, dtype=dtype)
            got = _read_into(f, out.view(np.uint8))
            if got != out.nbytes:
                raise IDXError(f"{path}: file is truncated: header says shape {dims} ({out.nbytes} bytes of "
                               f"data), found {got} bytes. {_fix(path)}")
            if f.read(1):
                raise IDXError(f"{path}: unexpected bytes after the {dims} array the header describes; the "
                               f"header or the file is wrong. {_fix(path)}")
    except (EOFError, zlib.error, gzip.BadGzipFile) as e:
        raise IDXError(f"{path}: damaged gzip data ({e}). {_fix(path)}") from None
    out = out.reshape(dims)
    return out if dtype.isnative else out.astype(dtype.newbyteorder("="))


def _read_into(f: BinaryIO, buf: np.ndarray) -> int:
    """Fill `buf` from `f` (reads can come back short, from gzip); returns bytes read."""
    view, got = memoryview(buf), 0
    while got < len(view):
        n = f.readinto(view[got:])
        if not n:
            break
        got += n
    return got


def _describe(magic: int) -> str:
    return {LABELS_MAGIC: "labels: uint8, 1 dim", IMAGES_MAGIC: "images: uint8, 3 dims"}.get(
        magic, f"type 0x{(magic >> 8) & 0xFF:02x}, {magic & 0xFF} dims")


def read_images(path: str | os.PathLike) -> np.ndarray:
    """An MNIST-style images file: (n, rows, cols) uint8."""
    return read_idx(path, IMAGES_MAGIC)


def read_labels(path: str | os.PathLike) -> np.ndarray:
    """An MNIST-style labels file: (n,) uint8."""
    return read_idx(path, LABELS_MAGIC)


def encode_idx(array: Any) -> bytes:
    """The IDX bytes (uncompressed) for an array of a supported dtype."""
    a = np.asarray(array)
    key = a.dtype.newbyteorder("=").str if a.dtype.itemsize > 1 else a.dtype.str
    code = _CODES.get(key) or _CODES.get(a.dtype.str)
    if code is None or a.ndim == 0:
        raise ValueError(f"encode_idx: IDX stores 1+-dim uint8/int8/int16/int32/float32/float64 arrays, "
                         f"got {a.dtype} with shape {a.shape}")
    header = struct.pack(f">BBBB{a.ndim}I", 0, 0, code, a.ndim, *a.shape)
    return header + np.ascontiguousarray(a, dtype=_DTYPES[code]).tobytes()


def write_idx(path: str | os.PathLike, array: Any, compress: bool | None = None) -> Path:
    """Write `array` as an IDX file, gzipped when `compress` (default: when the name ends .gz).

    Written to a temp file in the same folder, then moved into place, so a reader never sees
    half a file.
    """
    path = Path(path)
    data = encode_idx(array)
    if compress if compress is not None else path.suffix == ".gz":
        data = gzip.compress(data, mtime=0)
    atomic_write(path, lambda f: f.write(data))
    return path
