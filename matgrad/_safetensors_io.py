"""safetensors files through the `safetensors` package's NumPy API (the optional `safetensors` extra).

`matgrad.save(state_dict, "m.safetensors")` writes a flat {name: tensor} dict with PyTorch's
keys and layouts, so `safetensors.torch.load_file` + `load_state_dict` fills the same PyTorch
architecture. `metadata` (str -> str) goes into the header's `__metadata__` (the `matgrad
export` command puts the run's config there as JSON). `matgrad.load("m.safetensors")` gives
back a dict of tensors; `metadata(path)` reads the metadata. The package parses and checks the
header (offsets, lengths, dtypes); its errors come back as LoadErrors naming the file.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, BinaryIO, Callable

import numpy as np

from .creation import from_numpy
from .files import atomic_write
from .tensor import Tensor

INSTALL = "pip install 'matgrad[safetensors]' (or: pip install safetensors)"


def _package(what: str) -> Any:
    try:
        import safetensors.numpy as st_numpy
    except ImportError:
        raise ImportError(f"{what} needs the safetensors package: {INSTALL}") from None
    return st_numpy


def save(obj: Any, path: str | os.PathLike | BinaryIO, metadata: dict[str, str] | None = None) -> None:
    """Write a flat {str: tensor or array} dict as safetensors (atomically for a path)."""
    st = _package("saving a .safetensors file")
    if not isinstance(obj, dict):
        raise TypeError(f"a .safetensors file holds a flat dict of tensors (a state_dict), not a {type(obj).__name__}; "
                        "save it with a .pt/.mg name instead")
    arrays: dict[str, np.ndarray] = {}
    for k, v in obj.items():
        if not isinstance(k, str):
            raise TypeError(f"a .safetensors file needs string keys; {k!r} is a {type(k).__name__}")
        if isinstance(v, Tensor):
            v = v.detach().numpy(force=True)  # a device tensor: a host copy (the file holds host memory)
        if not isinstance(v, np.ndarray) or v.dtype.hasobject:
            raise TypeError(f"a .safetensors file holds only tensors; {k!r} is a {type(v).__name__} "
                            "(save nested state such as optimizer state with a .pt/.mg name instead)")
        arrays[k] = v if v.flags.c_contiguous else np.array(v, order="C")  # (ascontiguousarray makes 0-d 1-d)
    if metadata is not None and not all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
        raise TypeError("safetensors metadata maps strings to strings (JSON-encode anything else)")
    data = st.save(arrays, metadata=metadata)
    if isinstance(path, (str, os.PathLike)):
        atomic_write(Path(path), lambda fp: fp.write(data), make_parents=False)
    else:
        path.write(data)


def load(fp: BinaryIO, name: str, place: Callable[[np.ndarray, str, str], np.ndarray],
         error: type[Exception]) -> dict[str, Tensor]:
    """Read a safetensors file from `fp` into {name: Tensor}; hostile or damaged files raise `error`."""
    st = _package(f"reading {name} (a safetensors file)")
    data = fp.read()
    header_len = int.from_bytes(data[:8], "little")
    if 8 + header_len > len(data):
        raise error(f"{name} is a damaged safetensors file: its header claims {header_len} bytes but the file "
                    f"has {len(data)}")
    try:
        arrays = st.load(data)
    except Exception as e:  # noqa: BLE001 - the package raises SafetensorError and others; all mean damaged
        raise error(f"{name} is a damaged or hostile safetensors file: {type(e).__name__}: {e}") from None
    out: dict[str, Tensor] = {}
    for key, arr in arrays.items():
        arr = np.array(arr, copy=True) if not arr.flags.writeable else arr
        placed = place(arr, "cpu", key)
        out[key] = from_numpy(placed) if isinstance(placed, np.ndarray) else Tensor(placed)  # (a device array as is)
    return out


def metadata(path: str | os.PathLike) -> dict[str, str]:
    """The `__metadata__` strings of a safetensors file ({} when it has none)."""
    _package("reading safetensors metadata")
    from safetensors import safe_open

    with safe_open(str(path), framework="np") as f:
        return dict(f.metadata() or {})


def config_metadata(config: Any) -> dict[str, str]:
    """A matgrad config (a dict) as safetensors metadata: {'format': 'pt', 'matgrad_config': JSON}."""
    return {"format": "pt", "matgrad_config": json.dumps(config, sort_keys=True, default=str)}
