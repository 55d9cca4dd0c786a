"""Reading PyTorch's zip checkpoints (torch.save since PyTorch 1.6) without importing torch or running code.

A PyTorch checkpoint is a zip archive holding `<prefix>/data.pkl` (a pickle of the object,
with every tensor's storage replaced by a persistent id), `<prefix>/data/<key>` (the raw bytes
of each storage), `<prefix>/version` and, since PyTorch 1.10, `<prefix>/byteorder`.

The pickle is read by a restricted unpickler, the way `torch.load(weights_only=True)` reads it:
`find_class` resolves only the tensor-rebuild functions, the storage types, torch.Size,
torch.device, the torch dtypes and the containers (OrderedDict, Counter, set, bytearray,
complex, _codecs.encode for bytes). Those names map to matgrad's own stand-ins, never to
PyTorch or to anything the file chose; any other global is refused with a LoadError naming
the global and the file, before anything is called. The BUILD opcode (setting an object's
state) is allowed only on OrderedDicts (torch's state_dict `_metadata`).

Storages are read from their zip members by dtype and byte order onto the host (tensors for a GPU
are cut from them there, then moved, once per distinct view); tensors honour their
size, stride and storage offset. A contiguous tensor is a view of its storage, so tensors
that share a storage share memory as in PyTorch; any other layout is gathered with
`as_strided` (after a bounds check) and copied, so no two arrays overlap in surprising ways.
bfloat16 storages are widened to float32 (NumPy has no bfloat16).
"""
from __future__ import annotations

import io
import pickle
import sys
import zipfile
import zlib
from collections import Counter, OrderedDict
from typing import Any

import numpy as np

from .creation import from_numpy
from .devices import CPU, move
from .devices import device as _device
from .tensor import Tensor

_STORAGE_DTYPES = {
    "FloatStorage": "f4", "DoubleStorage": "f8", "HalfStorage": "f2", "BFloat16Storage": "bf16",
    "LongStorage": "i8", "IntStorage": "i4", "ShortStorage": "i2", "CharStorage": "i1", "ByteStorage": "u1",
    "BoolStorage": "?", "ComplexFloatStorage": "c8", "ComplexDoubleStorage": "c16",
    "UntypedStorage": "u1",
}
_TORCH_DTYPES = {
    "float32": "f4", "float": "f4", "float64": "f8", "double": "f8", "float16": "f2", "half": "f2",
    "bfloat16": "bf16", "int64": "i8", "long": "i8", "int32": "i4", "int": "i4", "int16": "i2", "short": "i2",
    "int8": "i1", "uint8": "u1", "bool": "?", "complex64": "c8", "complex128": "c16",
    "uint16": "u2", "uint32": "u4", "uint64": "u8",
}


class _StorageType:
    """What `torch.FloatStorage` & co. resolve to: a name and a dtype, never callable."""

    def __init__(self, name: str, code: str) -> None:
        self.name, self.code = name, code

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise pickle.UnpicklingError(f"the pickle calls torch.{self.name}, which a checkpoint never does")


class _DType:
    """What `torch.float32` & co. resolve to."""

    def __init__(self, name: str, code: str) -> None:
        self.name, self.code = name, code

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise pickle.UnpicklingError(f"the pickle calls torch.{self.name}, which a checkpoint never does")


class _Storage:
    """A storage read from the archive: a 1-d host array of its dtype (native byte order), and the
    device map_location sends its tensors to."""

    __slots__ = ("array", "location", "device")

    def __init__(self, array: np.ndarray, location: str, device: Any = CPU) -> None:
        self.array, self.location, self.device = array, location, device


def _parameter_class() -> Any:
    module = sys.modules.get("matgrad.nn.parameter")
    return getattr(module, "Parameter", None)


def _np_dtype(code: str, big_endian: bool) -> np.dtype:
    if code == "bf16":
        return np.dtype(">u2" if big_endian else "<u2")
    dt = np.dtype(code)
    return dt.newbyteorder(">" if big_endian else "<") if dt.itemsize > 1 else dt


class _Reader:
    def __init__(self, zf: zipfile.ZipFile, name: str, prefix: str, archive_size: int, place: Any) -> None:
        self.zf, self.name, self.prefix, self.archive_size, self.place = zf, name, prefix, archive_size, place
        self.storages: dict[str, _Storage] = {}
        self.moved: dict[tuple[Any, ...], Any] = {}  # one device array per host view, so shared tensors stay shared
        order = b"little"
        if prefix + "byteorder" in zf.namelist():
            order = zf.read(prefix + "byteorder").strip()
        if order not in (b"little", b"big"):
            raise ValueError(f"its byteorder record says {order!r} (expected little or big)")
        self.big_endian = order == b"big"

    # --- storages ------------------------------------------------------------------------------
    def storage(self, saved_id: Any) -> _Storage:
        if not isinstance(saved_id, tuple) or len(saved_id) != 5 or saved_id[0] != "storage":
            raise pickle.UnpicklingError(f"a persistent id {saved_id!r:.80} that is not a storage")
        _, kind, key, location, numel = saved_id
        if isinstance(kind, _DType):
            code = kind.code
        elif isinstance(kind, _StorageType):
            code = kind.code
        else:
            raise pickle.UnpicklingError(f"a storage of type {kind!r:.80}")
        if not isinstance(key, str) or not isinstance(numel, int) or numel < 0:
            raise pickle.UnpicklingError(f"a storage with key {key!r:.40} and size {numel!r:.40}")
        if key in self.storages:
            return self.storages[key]
        member = f"{self.prefix}data/{key}"
        try:
            info = self.zf.getinfo(member)
        except KeyError:
            raise pickle.UnpicklingError(f"storage {member} is missing from the archive") from None
        dt = _np_dtype(code, self.big_endian)
        need = numel * dt.itemsize
        stored = info.compress_type == zipfile.ZIP_STORED
        if info.file_size < need or (stored and info.compress_size > self.archive_size):
            raise pickle.UnpicklingError(f"storage {member} should hold {need} bytes but holds {info.file_size}")
        with self.zf.open(info) as fp:
            raw = fp.read(need)
        if len(raw) != need:
            raise pickle.UnpicklingError(f"storage {member} is cut short ({len(raw)} of {need} bytes)")
        arr = np.frombuffer(raw, dtype=dt)
        if code == "bf16":
            arr = (arr.astype(np.uint32) << 16).view(np.float32)
        else:
            arr = arr.astype(dt.newbyteorder("="), copy=True)  # native order, writeable, owned
        arr, dev = self.place(arr, str(location), member)
        self.storages[key] = _Storage(arr, str(location), dev)
        return self.storages[key]

    # --- tensors -------------------------------------------------------------------------------
    def tensor(self, storage: Any, offset: Any, size: Any, stride: Any, requires_grad: Any = False,
               backward_hooks: Any = None, metadata: Any = None, dtype: Any = None) -> Tensor:
        if not isinstance(storage, _Storage):
            raise pickle.UnpicklingError(f"a tensor rebuilt from a {type(storage).__name__}, not a storage")
        size, stride = tuple(size), tuple(stride)
        if not (isinstance(offset, int) and offset >= 0 and len(size) == len(stride)
                and all(isinstance(n, int) and n >= 0 for n in size)
                and all(isinstance(s, int) and s >= 0 for s in stride)):
            raise pickle.UnpicklingError(f"a tensor with offset {offset!r}, size {size!r}, stride {stride!r}")
        base = storage.array
        if isinstance(dtype, _DType) and dtype.code != "bf16":  # _rebuild_tensor_v3 on an untyped storage
            want = np.dtype(dtype.code)
            if base.dtype != want:
                usable = base.nbytes // want.itemsize * want.itemsize
                base = base[:usable].view(want) if base.dtype.itemsize == 1 else base
        count = int(np.prod(size, dtype=np.int64))
        if count:
            last = offset + sum((n - 1) * s for n, s in zip(size, stride))
            if last >= base.size:
                raise pickle.UnpicklingError(f"a tensor of size {size} and stride {stride} at offset {offset} "
                                             f"reaches element {last}, past its storage of {base.size}")
        contiguous = all(stride[i] == int(np.prod(size[i + 1:], dtype=np.int64))
                         for i in range(len(size)) if size[i] > 1)
        if contiguous:
            arr = base[offset:offset + count].reshape(size)  # a view: shared storages stay shared
        elif count == 0:
            arr = np.empty(size, dtype=base.dtype)
        else:
            view = np.lib.stride_tricks.as_strided(base[offset:], shape=size,
                                                   strides=[s * base.itemsize for s in stride], writeable=False)
            arr = view.copy()
        if storage.device.type != "cpu":  # views are taken on the host, then moved once per distinct view
            key = (id(storage), offset, size, stride, arr.dtype.str)
            if key not in self.moved:
                self.moved[key] = move(arr, storage.device)
            t = Tensor(self.moved[key])
        else:
            t = from_numpy(arr)
        if requires_grad is True and arr.dtype.kind in "fc":
            t.requires_grad_(True)
        return t

    def parameter(self, data: Any, requires_grad: Any = True, backward_hooks: Any = None,
                  state: Any = None) -> Tensor:
        if not isinstance(data, Tensor):
            raise pickle.UnpicklingError(f"a Parameter rebuilt from a {type(data).__name__}")
        cls = _parameter_class()
        grad = bool(requires_grad) and data.array.dtype.kind in "fc"
        if cls is None:
            return data.requires_grad_(grad) if grad else data
        return cls(data.array, requires_grad=grad)


class _TensorType:
    """torch.Tensor / torch.nn.Parameter as named by _rebuild_from_type_v2."""

    def __init__(self, parameter: bool) -> None:
        self.parameter = parameter


class _Unpickler(pickle._Unpickler):  # type: ignore[name-defined,misc]  # the Python one: BUILD can be policed
    def __init__(self, file: Any, reader: _Reader) -> None:
        super().__init__(file, encoding="utf-8")
        self.reader = reader
        self.dispatch = dict(pickle._Unpickler.dispatch)  # type: ignore[attr-defined]
        self.dispatch[pickle.BUILD[0]] = _Unpickler._load_build

    def _load_build(self) -> None:
        state = self.stack.pop()
        inst = self.stack[-1]
        if type(inst) in (OrderedDict, Counter) and isinstance(state, dict) and set(state) <= {"_metadata"}:
            for k, v in state.items():
                setattr(inst, k, v)
            return
        raise pickle.UnpicklingError(f"the pickle sets the state of a {type(inst).__name__}, which a "
                                     "checkpoint of tensors and containers never does")

    def persistent_load(self, pid: Any) -> Any:
        return self.reader.storage(pid)

    def find_class(self, module: str, name: str) -> Any:
        full = f"{module}.{name}"
        reader = self.reader
        allowed: dict[str, Any] = {
            "collections.OrderedDict": OrderedDict, "collections.Counter": Counter,
            "builtins.set": set, "builtins.frozenset": frozenset, "builtins.bytearray": bytearray,
            "builtins.complex": complex, "builtins.list": list, "builtins.dict": dict, "builtins.tuple": tuple,
            "_codecs.encode": _encode,
            "torch._utils._rebuild_tensor_v2": reader.tensor, "torch._utils._rebuild_tensor": reader.tensor,
            "torch._utils._rebuild_tensor_v3": _rebuild_v3(reader),
            "torch._utils._rebuild_parameter": reader.parameter,
            "torch._utils._rebuild_parameter_with_state": reader.parameter,
            "torch._tensor._rebuild_from_type_v2": _rebuild_from_type_v2,
            "torch.Tensor": _TensorType(False), "torch.nn.parameter.Parameter": _TensorType(True),
            "torch.Size": _size, "torch.device": _torch_device,
        }
        if full in allowed:
            return allowed[full]
        if module in ("torch", "torch.storage", "torch.cuda") and name in _STORAGE_DTYPES:
            return _StorageType(name, _STORAGE_DTYPES[name])
        if module == "torch" and name in _TORCH_DTYPES:
            return _DType(name, _TORCH_DTYPES[name])
        raise _Refused(full)


class _Refused(pickle.UnpicklingError):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.global_name = name


def _encode(text: Any, encoding: str = "utf-8") -> bytes:
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise pickle.UnpicklingError("_codecs.encode used for anything but bytes")
    return text.encode("latin1")


def _size(*args: Any) -> tuple:
    items = args[0] if len(args) == 1 and isinstance(args[0], (tuple, list)) else args
    return tuple(int(n) for n in items)


def _torch_device(*args: Any) -> Any:
    try:
        return _device(*args)
    except (TypeError, RuntimeError, ValueError) as e:
        raise pickle.UnpicklingError(f"an invalid device {args!r:.60} ({e})") from None


def _rebuild_v3(reader: _Reader) -> Any:
    def rebuild(storage: Any, offset: Any, size: Any, stride: Any, requires_grad: Any, backward_hooks: Any,
                dtype: Any, metadata: Any = None) -> Tensor:
        return reader.tensor(storage, offset, size, stride, requires_grad, backward_hooks, metadata, dtype=dtype)
    return rebuild


def _rebuild_from_type_v2(func: Any, new_type: Any, args: Any, state: Any) -> Any:
    if not callable(func) or not isinstance(new_type, _TensorType) or not isinstance(args, tuple):
        raise pickle.UnpicklingError("a tensor subclass rebuilt in an unexpected way")
    t = func(*args)
    if not isinstance(t, Tensor):
        raise pickle.UnpicklingError(f"a tensor rebuilt as a {type(t).__name__}")
    if new_type.parameter:
        cls = _parameter_class()
        if cls is not None and not isinstance(t, cls):
            t = cls(t.array, requires_grad=t.requires_grad)
    return t


def is_pytorch_zip(names: list[str]) -> str | None:
    """The record prefix (e.g. 'archive/') if the archive is a torch.save zip, else None."""
    for n in names:
        if n == "data.pkl":
            return ""
        if n.endswith("/data.pkl") and n.count("/") == 1:
            return n[: -len("data.pkl")]
    return None


def read(zf: zipfile.ZipFile, name: str, prefix: str, archive_size: int, error: type[Exception],
         place: Any) -> Any:
    """The object pickled in a torch.save zip, with matgrad Tensors in place of torch's.

    `place(array, location, where)` applies map_location to each storage (and may raise): it returns
    the host array and the device its tensors go to.
    """
    try:
        reader = _Reader(zf, name, prefix, archive_size, place)
        with zf.open(prefix + "data.pkl") as fp:
            data = fp.read()
        return _Unpickler(io.BytesIO(data), reader).load()
    except _Refused as e:
        raise error(f"{name}: refused to load this PyTorch checkpoint: its pickle names the global "
                    f"{e.global_name!r}, which is not a tensor, storage or container (the globals "
                    "torch.load(weights_only=True) allows). Nothing in it was run. If you trust the file, "
                    "load it with PyTorch and save its state_dict again") from None
    except RecursionError:
        raise error(f"{name}: the PyTorch checkpoint is nested too deeply to read") from None
    except (pickle.UnpicklingError, zipfile.BadZipFile, EOFError, OSError, zlib.error, ValueError, TypeError,
            KeyError, IndexError, AttributeError, UnicodeDecodeError, OverflowError, MemoryError) as e:
        raise error(f"{name}: this PyTorch checkpoint cannot be read: {e}. Nothing in it was run; "
                    "if it was cut short or changed, save it again") from None
