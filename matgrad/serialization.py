"""`matgrad.save(obj, f)` and `matgrad.load(f)`: state_dicts and nested containers of tensors, without pickle.

What can be saved: Tensors (Parameters stay Parameters), NumPy arrays and NumPy scalars;
None, bool, int, float (nan and ±inf included), complex, str and bytes; devices and NumPy
dtypes; and any nesting of dict, OrderedDict, list and tuple of these. Dict keys may be any
of the plain values (the int keys of an optimizer's state stay ints, tuples stay tuples).
That covers `model.state_dict()`, `optimizer.state_dict()`, scheduler state and the usual
checkpoint dicts. Objects with behaviour (modules, optimizers, functions, other classes) are
refused with a TypeError that says what to save instead: this format stores data, never code.

THE FORMAT (version 1). A zip archive, uncompressed, with fixed timestamps (the same object
gives the same bytes), readable by `numpy.load` as an .npz:

    structure.json   {"format": "matgrad.save", "version": 1, "arrays": N, "root": NODE}
    data/0.npy       one .npy file per distinct array, K = 0 .. N-1, written by NumPy with
    data/1.npy       allow_pickle=False (numbers and bools only: object arrays are refused)
    ...

A NODE is JSON: null, true/false, integers, finite floats and strings stand for themselves, a
JSON array is a Python list, and everything else is an object tagged by "$":

    {"$": "tuple", "items": [NODE, ...]}
    {"$": "dict" | "odict", "items": [[KEY_NODE, NODE], ...]}      (odict: collections.OrderedDict)
    {"$": "tensor", "array": K, "id": T, "requires_grad": bool, "parameter": bool,
     "device": "cpu", "name": str (optional)}                     (T: the same T is the same object)
    {"$": "ndarray", "array": K}       {"$": "npscalar", "array": K}  (a 0-d .npy, exact in any dtype)
    {"$": "float", "value": "nan" | "inf" | "-inf"}   {"$": "complex", "real": NODE, "imag": NODE}
    {"$": "bytes", "hex": "..."}   {"$": "dtype", "str": "<f4"}   {"$": "device", "type": ..., "index": ...}

An array shared by several tensors (tied weights) is stored once and shared again after
loading; distinct arrays, even overlapping views of one buffer, are stored separately. A
tensor's `.grad` and graph are not saved (as in PyTorch).

OTHER FORMATS, by content: a PyTorch zip checkpoint (`torch.save`) is read by a restricted
unpickler that resolves only the tensor-rebuild and container globals (matgrad/_pt_reader.py;
any other global is refused by name, nothing runs), and a `.safetensors` file through the
safetensors package (matgrad/_safetensors_io.py; `save` writes one for a `.safetensors` name).

SAFETY. `load` parses JSON and .npy headers and copies bytes into new arrays; it never
unpickles freely and never imports or calls anything named by the file. A file that asks for an
object (a plain pickle, a legacy PyTorch file, a .npy of dtype object) is refused with a LoadError
that names the file and says what it is; so is an unknown tag, a truncated or damaged file,
an array whose header claims more data than the file holds, and a compressed member (this
format never compresses, so a large array cannot hide in a small file). `weights_only=False`
is accepted for PyTorch compatibility and changes nothing: no mode of `load` runs code.

WRITING is atomic for paths (a temp file beside the target, then a rename, through
`matgrad.files.atomic_write`): an interrupted save leaves the previous file whole. A file
object is written from its current position.

DEVICES. What is saved is always host memory: a tensor on a GPU is copied to the host and written
with its device ("cuda:0") as its location, so the file is the same .npz whatever the device, and
raw device arrays (an optimizer's state) are written as host arrays. `map_location` is PyTorch's:
None (each tensor back where it was saved), "cpu", "cuda", a device, an int (cuda:N), a dict such as
{"cuda:0": "cpu"} (unlisted locations: where saved), or a callable(storage, location) returning
a storage (`storage.cpu()`, `storage.cuda()`), a tensor, an array, or None for the default. A
checkpoint saved on a GPU loads on a CPU-only machine with map_location="cpu"; asking for CUDA
without a GPU backend raises matgrad.device's RuntimeError (how to install the GPU extra, and to
pass map_location="cpu"). Raw arrays in the file (not tensors) always load on the host.
"""
from __future__ import annotations

import io
import json
import math
import os
import sys
import zipfile
import zlib
from collections import OrderedDict
from pathlib import Path
from typing import Any, BinaryIO, Callable

import numpy as np

from . import _pt_reader
from .creation import from_numpy
from .devices import CPU, backend_of, check_available, cuda_device, device, device_of, move, resolve
from .files import atomic_write
from .tensor import Tensor

FORMAT = "matgrad.save"
VERSION = 1
STRUCTURE = "structure.json"
_MEMBER = "data/{}.npy"
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_PARAMETER_MODULE = "matgrad.nn.parameter"


class LoadError(RuntimeError):
    """A file matgrad.load will not read: not a matgrad.save file, damaged, or asking to run code."""


# =============================================================================================
# save
# =============================================================================================

def save(obj: Any, f: str | os.PathLike | BinaryIO, pickle_module: Any = None, pickle_protocol: Any = None,
         _use_new_zipfile_serialization: bool = True, _disable_byteorder_record: bool = False, *,
         metadata: dict[str, str] | None = None) -> None:
    """Save `obj` (a state_dict, an optimizer's state_dict, nested containers of tensors) to `f`.

    `f` is a path (written atomically; its folder must exist) or a binary file object. The
    pickle arguments of torch.save are accepted and ignored: nothing is pickled. Unsupported
    objects raise a TypeError naming where they are, before anything is written.

    A path ending in `.safetensors` writes a safetensors file instead (a flat state_dict, with
    PyTorch's keys and layouts; needs the `safetensors` extra); `metadata` (str -> str) goes
    into its header. `metadata` is refused for the matgrad format.
    """
    if isinstance(f, (str, os.PathLike)) and str(f).endswith(".safetensors"):
        from . import _safetensors_io

        _safetensors_io.save(obj, f, metadata)
        return
    if metadata is not None:
        raise TypeError("matgrad.save: metadata is for .safetensors files; put it in the saved dict instead")
    saver = _Saver()
    root = saver.encode(obj, "obj")
    structure = {"format": FORMAT, "version": VERSION, "arrays": len(saver.arrays), "root": root}
    text = json.dumps(structure, allow_nan=False, separators=(",", ":")).encode("utf-8")

    def write(fp: BinaryIO) -> None:
        _write_zip(fp, text, saver.arrays)

    if isinstance(f, (str, os.PathLike)):
        path = Path(f)
        if path.is_dir():
            raise IsADirectoryError(f"matgrad.save: {str(path)!r} is a folder; give a file name in it, "
                                    f"e.g. {str(path / 'model.pt')!r}")
        atomic_write(path, write, make_parents=False)
        return
    if isinstance(f, io.TextIOBase):
        raise TypeError(f"matgrad.save: the file {getattr(f, 'name', f)!r} is open in text mode; "
                        "open it in binary mode: open(path, 'wb')")
    if not hasattr(f, "write"):
        raise TypeError(f"matgrad.save: f must be a path (str or os.PathLike) or a binary file object with "
                        f"write(), got {type(f).__name__}")
    write(f)


def _zip_info(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
    info.compress_type = zipfile.ZIP_STORED
    info.external_attr = 0o644 << 16
    return info


def _write_zip(fp: BinaryIO, structure: bytes, arrays: list[np.ndarray]) -> None:
    with zipfile.ZipFile(fp, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        zf.writestr(_zip_info(STRUCTURE), structure)
        for k, arr in enumerate(arrays):
            big = arr.nbytes > 2**31 - 2**20  # the .npy header is small; zip64 from ~2 GiB
            with zf.open(_zip_info(_MEMBER.format(k)), "w", force_zip64=big) as out:
                np.lib.format.write_array(out, arr, allow_pickle=False)


def _is_parameter(t: Tensor) -> bool:
    """Whether `t` is an nn.Parameter, told by its class (this module does not import nn)."""
    return any(c.__name__ == "Parameter" and c.__module__ == _PARAMETER_MODULE for c in type(t).__mro__)


def _tensor_array(t: Tensor) -> np.ndarray:
    """The tensor's values as a host array (a copy for a device tensor)."""
    arr = t.detach().numpy(force=True)
    while isinstance(arr, Tensor):  # in case .numpy() ever hands back a Tensor view
        arr = arr.array
    return np.asarray(arr)


def _device_array(obj: Any) -> bool:
    """Whether `obj` is an array of a device backend (a CuPy array), not NumPy's."""
    if isinstance(obj, (np.ndarray, np.generic)) or not hasattr(obj, "__array_function__"):
        return False
    try:
        return backend_of(obj).kind != "cpu"
    except TypeError:  # an array type matgrad does not hold: refused by _encode as any other object
        return False


def _refusal(obj: Any, where: str) -> str:
    """What to say about an object that cannot be saved."""
    name = type(obj).__name__
    if hasattr(obj, "state_dict") and callable(obj.state_dict):
        return (f"cannot save {where}: a {name} object is code as well as data, and matgrad.save stores data "
                f"only; save its state instead: matgrad.save({where}.state_dict(), f), "
                "then restore it with .load_state_dict(matgrad.load(f))")
    if callable(obj):
        return f"cannot save {where}: a {name} ({obj!r}) is code; matgrad.save stores data only (no pickle)"
    if isinstance(obj, (set, frozenset)):
        return (f"cannot save {where}: a {name} is not supported; "
                "convert it to a list or tuple (sorted, if order matters)")
    if isinstance(obj, tuple):  # a namedtuple or other tuple subclass
        return (f"cannot save {where}: a {name} (a tuple subclass) would come back as a plain tuple; "
                "save tuple(x) or x._asdict() explicitly")
    if isinstance(obj, dict):
        return (f"cannot save {where}: a {name} (a dict subclass) would come back as a plain dict; "
                "save dict(x) explicitly (OrderedDict is kept)")
    if isinstance(obj, list):
        return f"cannot save {where}: a {name} (a list subclass) would come back as a plain list; save list(x)"
    return (f"cannot save {where}: a {name} is not supported. matgrad.save stores tensors, NumPy arrays, "
            "numbers, strings, bytes, None, devices, dtypes and dict/list/tuple nestings of these")


class _Saver:
    """Turns an object into a JSON node, collecting its arrays."""

    def __init__(self) -> None:
        self.arrays: list[np.ndarray] = []
        self._array_index: dict[int, int] = {}
        self._tensor_index: dict[int, int] = {}
        self._keep: list[Any] = []  # keeps every remembered object alive, so ids stay unique
        self._open: set[int] = set()  # containers on the current path, to catch cycles
        self._host: dict[int, np.ndarray] = {}  # device array id -> its host copy, so a shared one is stored once

    def host_copy(self, arr: Any) -> np.ndarray:
        """A device array's host copy, made once per array (tied weights stay one array in the file)."""
        key = id(arr)
        if key not in self._host:
            self._keep.append(arr)
            self._host[key] = backend_of(arr).to_host(arr)
        return self._host[key]

    def add_array(self, arr: np.ndarray, where: str) -> int:
        key = id(arr)
        if key in self._array_index:
            return self._array_index[key]
        if arr.dtype.hasobject or not getattr(type(arr.dtype), "_legacy", True):
            raise TypeError(f"cannot save {where}: an array of dtype {arr.dtype} holds Python objects, which "
                            "would need pickle; matgrad.save stores numeric and bool arrays only "
                            "(convert it, e.g. x.astype(np.float32))")
        self._keep.append(arr)
        self._array_index[key] = len(self.arrays)
        self.arrays.append(arr)
        return len(self.arrays) - 1

    def encode(self, obj: Any, where: str) -> Any:
        try:
            return self._encode(obj, where)
        except RecursionError:
            raise ValueError(f"cannot save {where}: it is nested too deeply") from None

    def _encode(self, obj: Any, where: str) -> Any:
        if obj is None or type(obj) is bool:
            return obj
        if isinstance(obj, np.generic):
            return {"$": "npscalar", "array": self.add_array(np.asarray(obj), where)}
        if isinstance(obj, str):
            return str(obj)
        if isinstance(obj, int):
            return int(obj)
        if isinstance(obj, float):
            return float(obj) if math.isfinite(obj) else {"$": "float", "value": repr(float(obj))}
        if isinstance(obj, complex):
            return {"$": "complex", "real": self._encode(obj.real, where), "imag": self._encode(obj.imag, where)}
        if isinstance(obj, (bytes, bytearray)):
            return {"$": "bytes", "hex": bytes(obj).hex()}
        if isinstance(obj, Tensor):
            return self._tensor(obj, where)
        if _device_array(obj):  # e.g. an optimizer's state on a GPU: stored as host memory
            return {"$": "ndarray", "array": self.add_array(self.host_copy(obj), where)}
        if isinstance(obj, np.ndarray):
            if type(obj) is not np.ndarray and not isinstance(obj, np.memmap):
                raise TypeError(f"cannot save {where}: a {type(obj).__name__} (an ndarray subclass) would lose "
                                "what makes it one; save np.asarray(x) or its parts explicitly")
            return {"$": "ndarray", "array": self.add_array(obj, where)}
        if isinstance(obj, device):
            return {"$": "device", "type": obj.type, "index": obj.index}
        if isinstance(obj, np.dtype):
            if obj.names is not None or obj.subdtype is not None or obj.hasobject:
                raise TypeError(f"cannot save {where}: only plain dtypes (numbers, bool) can be saved, not {obj}")
            return {"$": "dtype", "str": obj.str}
        if type(obj) in (dict, OrderedDict, list, tuple):
            return self._container(obj, where)
        raise TypeError(_refusal(obj, where))

    def _container(self, obj: Any, where: str) -> Any:
        if id(obj) in self._open:
            raise ValueError(f"cannot save {where}: it contains itself (a cycle); matgrad.save stores trees")
        self._open.add(id(obj))
        try:
            if isinstance(obj, dict):
                items = [[self._key(k, where), self._encode(v, f"{where}[{k!r}]")] for k, v in obj.items()]
                return {"$": "odict" if type(obj) is OrderedDict else "dict", "items": items}
            items = [self._encode(v, f"{where}[{i}]") for i, v in enumerate(obj)]
            return items if type(obj) is list else {"$": "tuple", "items": items}
        finally:
            self._open.discard(id(obj))

    def _key(self, key: Any, where: str) -> Any:
        plain = (type(None), bool, int, float, complex, str, bytes, np.generic, device, np.dtype)
        if isinstance(key, tuple) and type(key) is tuple:
            if all(isinstance(k, plain) or type(k) is tuple for k in key):
                return {"$": "tuple", "items": [self._key(k, where) for k in key]}
        elif isinstance(key, plain):
            return self._encode(key, f"{where} key {key!r}")
        raise TypeError(f"cannot save {where}: the dict key {key!r} is a {type(key).__name__}; keys must be "
                        "None, bool, int, float, str, bytes, a NumPy scalar, a device, a dtype or a tuple of these")

    def _tensor(self, t: Tensor, where: str) -> dict[str, Any]:
        index = self._tensor_index.get(id(t))
        if index is None:
            self._keep.append(t)
            index = self._tensor_index[id(t)] = len(self._tensor_index)
        arr = t.array if type(t.array) is np.ndarray else self.host_copy(t.array)
        node: dict[str, Any] = {"$": "tensor", "array": self.add_array(arr, where), "id": index,
                                "requires_grad": bool(t.requires_grad), "parameter": _is_parameter(t),
                                "device": str(getattr(t, "device", "cpu"))}
        name = getattr(t, "name", None)
        if isinstance(name, str):
            node["name"] = name
        return node


# =============================================================================================
# load
# =============================================================================================

def load(f: str | os.PathLike | BinaryIO, map_location: Any = None, weights_only: bool | None = True, *,
         mmap: bool | None = None, pickle_module: Any = None, **pickle_load_args: Any) -> Any:
    """Read what `save` wrote: tensors come back as matgrad Tensors (Parameters as Parameters) on the CPU.

    `f` is a path or a binary file object (read from its current position). `map_location`
    as in PyTorch (see the module docstring); `weights_only` is accepted and never runs code
    either way; `mmap` is accepted, and the arrays are read into memory. Never unpickles:
    pickles, PyTorch checkpoints and object arrays are refused with a LoadError naming the file.
    """
    if pickle_module is not None:
        raise TypeError("matgrad.load never unpickles, so it takes no pickle_module; drop that argument")
    if pickle_load_args:
        raise TypeError(f"matgrad.load got unexpected keyword argument(s) {sorted(pickle_load_args)}; "
                        "it never unpickles, so pickle's options do not apply")
    if weights_only is not None and not isinstance(weights_only, bool):
        raise TypeError(f"matgrad.load: weights_only must be True or False, got {weights_only!r}")
    if mmap is not None and not isinstance(mmap, bool):
        raise TypeError(f"matgrad.load: mmap must be True or False, got {mmap!r}")
    placer = _Placer(map_location)
    fp, name, close = _open_for_reading(f)
    try:
        if _sniff(fp, name) == "safetensors":
            from . import _safetensors_io

            return _safetensors_io.load(fp, name, lambda a, loc, w: placer.place(a, loc, w), LoadError)
        try:
            zf = zipfile.ZipFile(fp)
        except (zipfile.BadZipFile, EOFError, OSError, ValueError) as e:
            raise LoadError(f"{name} is not a complete zip archive (a matgrad.save file or a PyTorch checkpoint): "
                            f"it is truncated or damaged ({e}); save it again") from None
        with zf:
            prefix = None if STRUCTURE in zf.namelist() else _pt_reader.is_pytorch_zip(zf.namelist())
            if prefix is not None:
                return _pt_reader.read(zf, name, prefix, _archive_size(fp), LoadError,
                                       lambda a, loc, w: placer.locate(a, loc, w))
            structure = _read_structure(zf, name)
            return _Loader(zf, name, placer, structure["arrays"], _archive_size(fp)).decode(structure["root"], "obj")
    finally:
        if close:
            fp.close()


def _open_for_reading(f: Any) -> tuple[BinaryIO, str, bool]:
    """(a seekable binary file, its name for messages, whether to close it)."""
    if isinstance(f, (str, os.PathLike)):
        path = Path(f)
        if path.is_dir():
            raise IsADirectoryError(f"matgrad.load: {str(path)!r} is a folder, not a saved file")
        try:
            return open(path, "rb"), str(path), True
        except FileNotFoundError:
            raise FileNotFoundError(f"matgrad.load: no such file: {str(path)!r}") from None
    if isinstance(f, (bytes, bytearray, memoryview)):
        raise TypeError("matgrad.load: f must be a path or a binary file object; wrap bytes in io.BytesIO(data)")
    if isinstance(f, io.TextIOBase):
        raise TypeError(f"matgrad.load: the file {getattr(f, 'name', f)!r} is open in text mode; "
                        "open it in binary mode: open(path, 'rb')")
    if not hasattr(f, "read"):
        raise TypeError(f"matgrad.load: f must be a path (str or os.PathLike) or a binary file object with read(), "
                        f"got {type(f).__name__}")
    name = getattr(f, "name", None)
    label = repr(name) if isinstance(name, str) else f"the {type(f).__name__} file object"
    seekable = getattr(f, "seekable", lambda: False)
    if not seekable():
        return io.BytesIO(f.read()), label, True
    return f, label, False


def _archive_size(fp: BinaryIO) -> int:
    here = fp.tell()
    end = fp.seek(0, io.SEEK_END)
    fp.seek(here)
    return end


_PYTORCH_LEGACY = (
    "Re-save it with a recent PyTorch (torch.save uses the zip format since 1.6): "
    "torch.save(torch.load(path, map_location='cpu', weights_only=True), 'model.pt'); matgrad.load reads that "
    "zip format without running code.")


def _sniff(fp: BinaryIO, name: str) -> str:
    """'zip' or 'safetensors'; anything else is refused with a clear LoadError."""
    start = fp.tell()
    head = fp.read(16)
    fp.seek(start)
    if not head:
        raise LoadError(f"{name} is empty (0 bytes): nothing was saved in it. matgrad.save writes atomically, so "
                        "this file was not written by a completed matgrad.save")
    if head[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        return "zip"
    if head[0] == 0x80 and len(head) > 1 and 2 <= head[1] <= 5:
        raise LoadError(f"{name} is a Python pickle (as written by pickle.dump, or by torch.save before PyTorch 1.6 "
                        "or with _use_new_zipfile_serialization=False). Unpickling can run arbitrary code, and "
                        "matgrad.load never unpickles, so it refuses this file. " + _PYTORCH_LEGACY)
    if head[:6] == b"\x93NUMPY":
        raise LoadError(f"{name} is a single NumPy .npy array, not a matgrad.save file; read it with "
                        "numpy.load(path, allow_pickle=False) and wrap it with matgrad.from_numpy(array)")
    if len(head) >= 9 and head[8:9] == b"{" and int.from_bytes(head[:8], "little") < 100_000_000:
        return "safetensors"
    raise LoadError(f"{name} is not a matgrad.save file (a matgrad.save file is a zip archive; this one starts "
                    f"with {head[:8]!r}); if it was cut short or overwritten, save it again")


def _identify_zip(names: set[str], name: str) -> str:
    """Why a zip without structure.json is not ours, in words."""
    if "meta.json.npy" in names:
        return (f"{name} is a `matgrad train` checkpoint, not a matgrad.save file; read it with "
                "matgrad.training.checkpoint.load_checkpoint(path) (its .model_state is a state_dict)")
    if names and all(n.endswith(".npy") for n in names):
        return (f"{name} is a NumPy .npz archive, not a matgrad.save file; read it with numpy.load(path) "
                "(allow_pickle=False) and wrap arrays with matgrad.from_numpy")
    listed = ", ".join(sorted(names)[:5]) + (", ..." if len(names) > 5 else "")
    return (f"{name} is a zip archive but not a matgrad.save file "
            f"(it has no {STRUCTURE}; it holds: {listed or 'nothing'})")


def _damaged(name: str, what: str) -> LoadError:
    return LoadError(f"{name} is damaged: {what}; it was not written by this version of matgrad.save, or it was "
                     "changed since; save it again")


def _read_structure(zf: zipfile.ZipFile, name: str) -> dict[str, Any]:
    names = set(zf.namelist())
    if STRUCTURE not in names:
        raise LoadError(_identify_zip(names, name))
    try:
        raw = zf.read(STRUCTURE)
        structure = json.loads(raw.decode("utf-8"))
    except RecursionError:
        raise _damaged(name, f"{STRUCTURE} is nested too deeply") from None
    except (zipfile.BadZipFile, EOFError, OSError, zlib.error, UnicodeDecodeError, ValueError) as e:
        raise _damaged(name, f"{STRUCTURE} cannot be read ({e})") from None
    if not isinstance(structure, dict) or structure.get("format") != FORMAT:
        raise _damaged(name, f"{STRUCTURE} does not say format {FORMAT!r}")
    version = structure.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise _damaged(name, f"its format version {version!r} is not a positive int")
    if version > VERSION:
        raise LoadError(f"{name} was written by a newer matgrad (format version {version}); this matgrad reads "
                        f"version {VERSION} and before: upgrade matgrad to load it")
    count = structure.get("arrays")
    if not isinstance(count, int) or isinstance(count, bool) or count < 0 or "root" not in structure:
        raise _damaged(name, f"{STRUCTURE} lacks a valid 'arrays' count or 'root'")
    return structure


class _Storage:
    """What a map_location callable receives: a loaded array and where it was saved (PyTorch's storage)."""

    # its data stays on the host; .cuda(), .cpu() and .to() return a storage that says where the tensor
    # is to go (checked at once), and the loader moves it there once

    __slots__ = ("_array", "location", "_device")

    def __init__(self, array: np.ndarray, location: str, dev: device = CPU) -> None:
        self._array = array
        self.location = location
        self._device = dev

    @property
    def device(self) -> device:
        return self._device

    @property
    def is_cuda(self) -> bool:
        return self._device.type == "cuda"

    def cpu(self) -> _Storage:
        return self if self._device == CPU else _Storage(self._array, self.location)

    def cuda(self, device: Any = None, non_blocking: bool = False) -> _Storage:
        target = cuda_device(device)
        check_available(target)
        return _Storage(self._array, self.location, target)

    def to(self, device: Any = None, non_blocking: bool = False, **kwargs: Any) -> _Storage:
        return _Storage(self._array, self.location, resolve(device))

    def numpy(self) -> np.ndarray:
        return self._array

    def nbytes(self) -> int:
        return self._array.nbytes

    def size(self) -> int:
        return self._array.size

    def __len__(self) -> int:
        return self._array.size

    def __repr__(self) -> str:
        return (f"<matgrad storage: {self._array.size} x {self._array.dtype}, saved on {self.location!r}, "
                f"on {self._device}>")


class _Placer:
    """Applies map_location: says, for each loaded host array, the device it goes to (checked there)."""

    def __init__(self, map_location: Any) -> None:
        self.mode = "saved"
        self.target = CPU
        self.mapping: dict[str, device] = {}
        self.function: Callable[..., Any] | None = None
        if map_location is None:
            return
        if isinstance(map_location, (str, device, int)) and not isinstance(map_location, bool):
            self.target = resolve(map_location)  # "cuda" without a GPU: matgrad.device's RuntimeError, now
            self.mode = "fixed"
        elif isinstance(map_location, dict):
            for k, v in map_location.items():
                if not isinstance(k, str) or not isinstance(v, (str, device)):
                    raise TypeError(f"matgrad.load: a map_location dict maps saved location strings to devices "
                                    f"(e.g. {{'cuda:0': 'cpu'}}), got {k!r}: {v!r}")
                device(k)  # a bad key is a clear RuntimeError now
                self.mapping[k] = v if isinstance(v, device) else device(v)
            self.mode = "dict"
        elif callable(map_location):
            self.function = map_location
            self.mode = "callable"
        else:
            raise TypeError(f"matgrad.load: map_location must be None, a device string such as 'cpu', a device, "
                            f"an int, a dict such as {{'cuda:0': 'cpu'}} or a callable(storage, location); "
                            f"got {type(map_location).__name__} {map_location!r}")

    def locate(self, arr: np.ndarray, location: str, where: str) -> tuple[np.ndarray, device]:
        """(host array, device it goes to) for an array saved on `location`."""
        if self.mode == "fixed":
            return arr, self.target
        if self.mode == "callable":
            assert self.function is not None
            result = self.function(_Storage(arr, location), location)
            if result is None:
                return arr, self._saved(location, where)
            if isinstance(result, _Storage):
                return result._array, result._device
            if isinstance(result, Tensor):
                got = result.array
            elif isinstance(result, np.ndarray) or _device_array(result):
                got = result
            else:
                raise TypeError(f"matgrad.load: map_location returned a {type(result).__name__} for {where}; it "
                                "must return the storage it was given (or storage.cpu(), storage.cuda()), a tensor, "
                                "an array, or None")
            dev = device_of(got)
            host = got if type(got) is np.ndarray else backend_of(got).to_host(got)
            return np.asarray(host).reshape(arr.shape), dev
        target = self.mapping.get(location) if self.mode == "dict" else None
        if target is not None:
            return arr, resolve(target)
        return arr, self._saved(location, where)

    def place(self, arr: np.ndarray, location: str, where: str) -> Any:
        """The array on the device map_location sends it to."""
        host, dev = self.locate(arr, location, where)
        return host if dev.type == "cpu" else move(host, dev)

    @staticmethod
    def _saved(location: str, where: str) -> device:
        saved = device(location)
        check_available(saved, hint=f"({where} was saved there; pass map_location='cpu' to "
                                    "matgrad.load to load everything onto the CPU)")
        return resolve(saved)


class _Loader:
    """Rebuilds the object from its JSON node, reading each array once."""

    def __init__(self, zf: zipfile.ZipFile, name: str, placer: _Placer, count: int, archive_size: int) -> None:
        self.zf, self.name, self.placer, self.count, self.archive_size = zf, name, placer, count, archive_size
        self.arrays: dict[int, np.ndarray] = {}
        self.placed: dict[tuple[int, str], np.ndarray] = {}
        self.tensors: dict[int, Tensor] = {}
        module = sys.modules.get(_PARAMETER_MODULE)  # matgrad imports nn; this module does not need to
        self.parameter_class = getattr(module, "Parameter", None)
        self.handlers: dict[str, Callable[[dict[str, Any], str], Any]] = {
            "tuple": lambda n, w: tuple(self._items(n, w)),
            "dict": lambda n, w: dict(self._pairs(n, w)),
            "odict": lambda n, w: OrderedDict(self._pairs(n, w)),
            "float": self._float, "complex": self._complex, "bytes": self._bytes, "dtype": self._dtype,
            "device": self._device, "ndarray": lambda n, w: self.array(n, w),
            "npscalar": self._npscalar, "tensor": self._tensor,
        }

    def decode(self, node: Any, where: str) -> Any:
        try:
            return self._decode(node, where)
        except RecursionError:
            raise _damaged(self.name, f"{where} is nested too deeply") from None

    def _decode(self, node: Any, where: str) -> Any:
        if node is None or isinstance(node, (bool, int, float, str)):
            return node
        if isinstance(node, list):
            return [self._decode(v, f"{where}[{i}]") for i, v in enumerate(node)]
        if not isinstance(node, dict) or not isinstance(node.get("$"), str):
            raise _damaged(self.name, f"{where} is a {type(node).__name__} without a '$' kind")
        handler = self.handlers.get(node["$"])
        if handler is None:
            raise LoadError(f"{self.name}: {where} is of kind {node['$']!r}, which this matgrad does not know "
                            f"(it reads {sorted(self.handlers)}); it was written by a newer matgrad, or the file "
                            "was changed; matgrad.load never runs code to find out")
        return handler(node, where)

    def _field(self, node: dict[str, Any], key: str, kind: type | tuple[type, ...], where: str) -> Any:
        value = node.get(key)
        if not isinstance(value, kind) or (isinstance(value, bool) and bool not in _as_tuple(kind)):
            raise _damaged(self.name, f"{where} ({node.get('$')}) has no valid {key!r}")
        return value

    def _items(self, node: dict[str, Any], where: str) -> list[Any]:
        return [self._decode(v, f"{where}[{i}]") for i, v in enumerate(self._field(node, "items", list, where))]

    def _pairs(self, node: dict[str, Any], where: str) -> list[tuple[Any, Any]]:
        out = []
        for pair in self._field(node, "items", list, where):
            if not isinstance(pair, list) or len(pair) != 2:
                raise _damaged(self.name, f"{where} has an item that is not a [key, value] pair")
            key = self._decode(pair[0], f"{where} key")
            try:
                hash(key)
            except TypeError:
                raise _damaged(self.name, f"{where} has an unhashable key {key!r}") from None
            if isinstance(key, (Tensor, np.ndarray)):
                raise _damaged(self.name, f"{where} has an array as a key")
            out.append((key, self._decode(pair[1], f"{where}[{key!r}]")))
        return out

    def _float(self, node: dict[str, Any], where: str) -> float:
        value = node.get("value")
        if value not in ("nan", "inf", "-inf"):
            raise _damaged(self.name, f"{where} is a special float with value {value!r}")
        return float(value)

    def _complex(self, node: dict[str, Any], where: str) -> complex:
        real, imag = self._decode(node.get("real"), where), self._decode(node.get("imag"), where)
        if not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in (real, imag)):
            raise _damaged(self.name, f"{where} is a complex number without numeric parts")
        return complex(real, imag)

    def _bytes(self, node: dict[str, Any], where: str) -> bytes:
        try:
            return bytes.fromhex(self._field(node, "hex", str, where))
        except ValueError:
            raise _damaged(self.name, f"{where} is bytes with invalid hex") from None

    def _dtype(self, node: dict[str, Any], where: str) -> np.dtype:
        spec = self._field(node, "str", str, where)
        try:
            dt = np.dtype(spec)
        except Exception:  # noqa: BLE001 - NumPy raises several kinds for a bad spec
            raise _damaged(self.name, f"{where} is a dtype with spec {spec!r}") from None
        if dt.hasobject or dt.names is not None or dt.subdtype is not None:
            raise LoadError(f"{self.name}: {where} is dtype {dt}, which matgrad.save never writes; refused")
        return dt

    def _device(self, node: dict[str, Any], where: str) -> device:
        try:
            return device(node.get("type"), node.get("index"))
        except (TypeError, RuntimeError) as e:
            raise _damaged(self.name, f"{where} is an invalid device ({e})") from None

    def _npscalar(self, node: dict[str, Any], where: str) -> np.generic:
        arr = self.array(node, where)
        if arr.ndim != 0:
            raise _damaged(self.name, f"{where} is a NumPy scalar whose array has shape {arr.shape}")
        return arr[()]

    def _tensor(self, node: dict[str, Any], where: str) -> Tensor:
        tid = self._field(node, "id", int, where)
        if tid in self.tensors:
            return self.tensors[tid]
        location = node.get("device", "cpu")
        if not isinstance(location, str):
            raise _damaged(self.name, f"{where} has a non-string device {location!r}")
        try:
            device(location)
        except (TypeError, RuntimeError) as e:
            raise _damaged(self.name, f"{where} was saved on an invalid device ({e})") from None
        k = self._field(node, "array", int, where)
        if (k, location) not in self.placed:
            self.placed[(k, location)] = self.placer.place(self.array(node, where), location, where)
        arr = self.placed[(k, location)]
        requires_grad = self._field(node, "requires_grad", bool, where)
        if requires_grad and arr.dtype.kind not in "fc":
            raise _damaged(self.name, f"{where} is a {arr.dtype} tensor that requires grad (only floats can)")
        try:
            if node.get("parameter") is True and self.parameter_class is not None:
                t = self.parameter_class(arr, requires_grad=requires_grad)
            else:
                t = from_numpy(arr) if isinstance(arr, np.ndarray) else Tensor(arr)  # (a device array as is)
                if requires_grad:
                    t.requires_grad_(True)
        except (TypeError, ValueError) as e:
            raise _damaged(self.name, f"{where} cannot be a tensor ({e})") from None
        name = node.get("name")
        if isinstance(name, str):
            t.name = name
        self.tensors[tid] = t
        return t

    def array(self, node: dict[str, Any], where: str) -> np.ndarray:
        k = self._field(node, "array", int, where)
        if not 0 <= k < self.count:
            raise _damaged(self.name, f"{where} refers to array {k}, but the file lists {self.count}")
        if k not in self.arrays:
            self.arrays[k] = self._read(_MEMBER.format(k), where)
        return self.arrays[k]

    def _read(self, member: str, where: str) -> np.ndarray:
        name = self.name
        try:
            info = self.zf.getinfo(member)
        except KeyError:
            raise _damaged(name, f"{member} (for {where}) is missing") from None
        if info.compress_type != zipfile.ZIP_STORED:
            raise LoadError(f"{name}: {member} is compressed; matgrad.save never compresses, so this file was not "
                            "written by it (or was recompressed); refused, as a compressed array can claim any size")
        if info.file_size != info.compress_size or info.compress_size > self.archive_size:
            raise _damaged(name, f"{member} claims {info.file_size} bytes but the file has {self.archive_size}")
        try:
            with self.zf.open(info) as fp:
                version = np.lib.format.read_magic(fp)
                if version == (1, 0):
                    shape, _, dtype = np.lib.format.read_array_header_1_0(fp)
                elif version == (2, 0):
                    shape, _, dtype = np.lib.format.read_array_header_2_0(fp)
                else:
                    raise ValueError(f".npy format version {version} (matgrad.save writes 1.0 or 2.0)")
                header_size = fp.tell()
            if dtype.hasobject:
                raise LoadError(f"{name}: {member} (for {where}) is an array of Python objects (dtype {dtype}), which "
                                "only unpickling could read; matgrad.load never unpickles, so it refuses this file. "
                                "matgrad.save never writes such arrays: this file was made by something else")
            need = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize if shape else dtype.itemsize
            if header_size + need != info.file_size:
                raise _damaged(name, f"{member} (for {where}) declares {need} bytes of {dtype} data in shape "
                                     f"{shape} but holds {info.file_size - header_size}")
            with self.zf.open(info) as fp:
                return np.lib.format.read_array(fp, allow_pickle=False)
        except LoadError:
            raise
        except (zipfile.BadZipFile, EOFError, OSError, zlib.error, ValueError, TypeError, SyntaxError) as e:
            raise _damaged(name, f"{member} (for {where}) cannot be read ({e})") from None


def _as_tuple(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


__all__ = ["save", "load", "LoadError", "FORMAT", "VERSION"]
