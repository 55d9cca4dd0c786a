"""Checkpoints: model weights, optimizer and scheduler state, config, epoch and RNG state in one .npz.

A run's config is stored as TrainConfig.to_dict() and read back as a TrainConfig (`ckpt.config`,
also `ckpt["config"]`); the plain-dict configs of older checkpoints read back the same way.

The file is written with `allow_pickle=False`, so it can be read without trusting it: arrays
are stored as arrays, everything else (config, optimizer hyper-parameters, RNG state) as JSON
strings. Nested state with arrays inside (an optimizer's momentum buffers) is split: each
array goes into the npz under its own key and the JSON holds `{"__array__": key}` in its place.
"""
from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from ..files import atomic_write
from .config import ConfigError, TrainConfig

FORMAT = "matgrad-checkpoint-1"


class CheckpointError(ValueError):
    """A checkpoint that cannot be used: missing, damaged, or for another model."""


def write_json(path: str | os.PathLike, obj: Any) -> Path:
    """`obj` as indented JSON at `path`, atomically."""
    text = json.dumps(obj, indent=2, default=_json_default)
    return atomic_write(path, lambda f: f.write(text + "\n"), mode="w")


def _json_default(x: Any) -> Any:
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, np.ndarray):
        return x.tolist()
    raise TypeError(f"{type(x).__name__} is not JSON serialisable")


def _host_array(obj: Any) -> np.ndarray | None:
    """`obj` as a NumPy array when it is a Tensor or an array on any device (a GPU's is copied), else None."""
    if isinstance(obj, np.ndarray):
        return obj
    arr = getattr(obj, "array", None)  # a Tensor
    if arr is None:
        data = getattr(obj, "data", None)
        arr = data if isinstance(data, np.ndarray) else obj
    if isinstance(arr, np.ndarray):
        return arr
    if isinstance(arr, np.generic) or not (hasattr(arr, "shape") and hasattr(arr, "dtype")):
        return None
    from ..devices import backend_of

    try:
        return backend_of(arr).to_host(arr)  # checkpoints hold host arrays: a GPU's run loads anywhere
    except TypeError:  # not an array matgrad knows
        return None


def _split(obj: Any, prefix: str, arrays: dict[str, np.ndarray]) -> Any:
    """`obj` with every array replaced by a reference; the arrays are collected into `arrays`."""
    host = _host_array(obj)
    if host is not None:
        obj = host
    if isinstance(obj, np.ndarray):
        key = f"{prefix}"
        arrays[key] = obj
        return {"__array__": key}
    if isinstance(obj, dict):
        if any(not isinstance(k, (str, int)) for k in obj):
            raise TypeError(f"checkpoint: state keys must be str or int, got {list(obj)[:5]}")
        # int keys (optimizer state by parameter index) survive JSON as tagged strings
        return {("#" + str(k) if isinstance(k, int) else k): _split(v, f"{prefix}/{k}", arrays)
                for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_split(v, f"{prefix}/{i}", arrays) for i, v in enumerate(obj)]
    if isinstance(obj, np.generic):
        return obj.item()
    return obj


def _join(obj: Any, arrays: Any) -> Any:
    """Inverse of _split: references replaced by the arrays from the npz."""
    if isinstance(obj, dict):
        if set(obj) == {"__array__"}:
            return np.array(arrays[obj["__array__"]])
        return {(int(k[1:]) if k.startswith("#") and k[1:].lstrip("-").isdigit() else k): _join(v, arrays)
                for k, v in obj.items()}
    if isinstance(obj, list):
        return [_join(v, arrays) for v in obj]
    return obj


def save_checkpoint(path: str | os.PathLike, model_state: dict[str, Any], **extra: Any) -> Path:
    """Save `model_state` (a state_dict) plus any JSON-able or array-holding `extra` state, atomically.

    Model tensors are stored under `model/<name>`; each extra entry as JSON under `<name>.json`
    with its arrays under `<name>/...`.
    """
    arrays: dict[str, np.ndarray] = {}
    for name, value in model_state.items():
        host = _host_array(value)
        arrays[f"model/{name}"] = host if host is not None else np.asarray(value)
    meta = {"format": FORMAT, "model_keys": list(model_state)}
    for name, value in extra.items():
        if isinstance(value, TrainConfig):
            value = value.to_dict()
        meta[name] = _split(value, name, arrays)
    arrays["meta.json"] = np.array(json.dumps(meta, default=_json_default))
    return atomic_write(path, lambda f: np.savez(f, allow_pickle=False, **arrays))


class Checkpoint:
    """A loaded checkpoint: `.model_state` (name -> array), `.config` and the other saved state by name."""

    def __init__(self, path: Path, model_state: dict[str, np.ndarray], meta: dict[str, Any]) -> None:
        self.path = path
        self.model_state = model_state
        self.meta = meta
        self._config: TrainConfig | None = None

    @property
    def config(self) -> TrainConfig:
        """The training run's config; CheckpointError when there is none or it cannot be used."""
        if self._config is None:
            raw = self.meta.get("config")
            if not isinstance(raw, dict) or "model" not in raw:
                raise CheckpointError(f"{self.path} has no training config; it was not written by `matgrad train`")
            try:
                self._config = TrainConfig.from_dict(raw)
            except ConfigError as e:
                raise CheckpointError(f"{self.path}: its training config cannot be used: {e}") from None
        return self._config

    def __getitem__(self, name: str) -> Any:
        return self.config if name == "config" else self.meta[name]

    def get(self, name: str, default: Any = None) -> Any:
        if name == "config":
            return self.config if "config" in self.meta else default
        return self.meta.get(name, default)


def load_checkpoint(path: str | os.PathLike) -> Checkpoint:
    """Read a checkpoint written by save_checkpoint; CheckpointError names what is wrong."""
    path = Path(path)
    if not path.exists():
        raise CheckpointError(f"checkpoint {path} does not exist")
    if path.is_dir():
        if (path / "model.npz").is_file():
            path = path / "model.npz"
        else:
            raise CheckpointError(f"{path} is a folder without a model.npz; pass the checkpoint file itself")
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as e:
        raise CheckpointError(f"{path} is not a readable matgrad checkpoint (.npz): {e}") from None
    if "meta.json" not in arrays:
        raise CheckpointError(f"{path} is an .npz but not a matgrad checkpoint (no meta.json inside)")
    try:
        meta = json.loads(str(arrays.pop("meta.json")))
    except json.JSONDecodeError as e:
        raise CheckpointError(f"{path}: its metadata is damaged ({e})") from None
    if meta.get("format") != FORMAT:
        raise CheckpointError(f"{path}: unknown checkpoint format {meta.get('format')!r} (expected {FORMAT})")
    try:
        model_state = {k: arrays[f"model/{k}"] for k in meta["model_keys"]}
        full = {k: _join(v, arrays) for k, v in meta.items()}
    except KeyError as e:
        raise CheckpointError(f"{path}: damaged, the array {e} is missing") from None
    return Checkpoint(path, model_state, full)
