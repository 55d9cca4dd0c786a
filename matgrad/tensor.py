"""Tensor: a NumPy array that records the operations done on it, for backprop.

Imports go one way, low-level helpers -> tensor -> autograd -> ops, so this module imports
nothing above it at load time. The one deliberate exception is Tensor's own methods: the
ops, the engine and grad modes they call sit above Tensor, so those methods import them
inside their bodies (and `install_methods` attaches the operator table of `_methods` once,
from `matgrad/__init__`). The import-cycle test (tests/test_imports.py) allows exactly that.
"""
from __future__ import annotations

import itertools
import numbers
import operator
import weakref
from typing import Any, Iterator, Sequence

import numpy as np

from . import devices as _device
from . import dtypes as _dtypes
from .dtypes import bool_, float16, float32, float64, int16, int32, int64, uint8
from .memory_format import check as _check_format
from .memory_format import contiguous_format, format_strides, layout_strides, preserve_format, suggest_memory_format
from .memory_format import is_contiguous as _is_contiguous_as

#: Creation order of graph nodes and in-place changes alike (Op.seq). LAST_CHANGE holds the newest
#: change's number: a node newer than it saw every input as it is now, so its backward need not
#: check their versions (Op._check_versions). A changed tensor keeps the numbers of its latest
#: changes (`_changes`), from which the version it had when a node was recorded follows
#: (version_at): so recording a node costs nothing for versions, and parameter initialisation,
#: done in place before any graph exists, costs the training steps nothing either.
NEXT_SEQ = itertools.count().__next__
LAST_CHANGE = [-1]
_KEEP_CHANGES = 64  # older changes are forgotten: a node older than all kept ones sees "an earlier version"


def _counter(t: Tensor) -> Tensor:
    """The tensor that holds `t`'s version counter: `t` itself, or (a view, a detach(), a view(dtype)) the
    tensor whose counter it shares, as PyTorch's views share their base's."""
    owner = getattr(t, "_vc", None)
    return t if owner is None else owner


def bump_version(t: Tensor) -> None:
    """Record that `t` was changed in place (PyTorch's version counter, shared by a base and its views)."""
    t = _counter(t)
    t._ver += 1
    seq = LAST_CHANGE[0] = NEXT_SEQ()
    changes = getattr(t, "_changes", None)
    if changes is None:
        t._changes = [seq]
    else:
        changes.append(seq)
        if len(changes) > _KEEP_CHANGES:
            del changes[0]


def version_at(t: Tensor, seq: int) -> int | None:
    """The version `t` had when the node numbered `seq` was recorded (None: too many changes ago to tell)."""
    t = _counter(t)
    changes = getattr(t, "_changes", None)
    if not changes or changes[-1] < seq:
        return t._ver
    if len(changes) == _KEEP_CHANGES and changes[0] > seq:
        return None
    return t._ver - sum(1 for c in changes if c > seq)


def share_version(t: Tensor, source: Tensor) -> Tensor:
    """Give `t` `source`'s version counter (PyTorch's detach() and view(dtype) share it without being views)."""
    t._vc = _counter(source)
    return t


_NOT_COPIED = ("_vc", "_vb", "_vmeta", "_views", "_changes", "__weakref__")
_MULTI_VIEW = "multi"  # a view's creation meta (PyTorch's CreationMeta): one of several views an op returned
_NO_GRAD_VIEW = "no_grad"  # made in no_grad mode from a base that requires grad


def mark_view(out: Tensor, base: Tensor, multi: bool = False) -> Tensor:
    """Record `out` as a view of `base`'s memory, as PyTorch's view ops: `out._base` is the root base (never a
    view itself), the two share a version counter, and an in-place change through either reaches the other's
    gradient too (Tensor._modify). `multi`: one of several views one op returned (split, unbind ...), which
    PyTorch does not let an in-place change on a graph go through."""
    root = getattr(base, "_vb", None)
    meta = _MULTI_VIEW if multi else None
    if root is None:
        root = base
    elif meta is None:
        meta = getattr(base, "_vmeta", None)  # a view of a view keeps how the first was made
    out._vb = root
    out._vc = _counter(root)
    if meta is None and root.requires_grad and not _upward("grad_mode")._state.enabled:
        meta = _NO_GRAD_VIEW
    if meta is not None:
        out._vmeta = meta
    views = getattr(root, "_views", None)  # weakly: refreshed when the base's history changes in place
    if views is None:
        root._views = views = _Views()
    views.append(weakref.ref(out))
    if len(views) > views.limit:  # forget the dead ones now and then (a parameter's w.t() every step)
        views[:] = [r for r in views if r() is not None]
        views.limit = max(32, 2 * len(views))  # so that this costs O(1) a view, however many stay alive
    return out


class _Views(list):
    """A base's views, as weak references, with the length at which the dead ones are next dropped."""

    __slots__ = ("limit",)

    def __init__(self) -> None:
        super().__init__()
        self.limit = 32


def _positions(base: Any, view: Any) -> Any:
    """The row-major flat index into `base` of each element of `view` (an int64 NumPy array of view's shape),
    read from their addresses; None where `view` does not lie in `base`'s memory."""
    item = base.itemsize
    if view.itemsize != item or type(view) is not type(base):
        return None
    if type(base) is np.ndarray:
        start = view.__array_interface__["data"][0] - base.__array_interface__["data"][0]
    else:  # a device array: its pointer (CuPy's; an array module without one gets the old, unshared history)
        try:
            start = view.data.ptr - base.data.ptr
        except AttributeError:
            return None

    def addresses(shape: tuple[int, ...], strides: tuple[int, ...], first: int) -> np.ndarray:
        a = np.full((), first, np.int64)
        for n, s in zip(shape, strides):
            a = a[..., None] + np.arange(n, dtype=np.int64) * s
        return a

    at = addresses(view.shape, view.strides, start)
    if base.flags.c_contiguous:
        if at.size and (at.min() < 0 or at.max() >= base.nbytes or (at % item).any()):
            return None
        return at // item
    each = addresses(base.shape, base.strides, 0).ravel()
    order = np.argsort(each, kind="stable")
    ordered = each[order]
    pos = np.clip(np.searchsorted(ordered, at), 0, max(ordered.size - 1, 0))
    if at.size and (ordered.size == 0 or (ordered[pos] != at).any()):
        return None
    return order[pos]


def _refresh_views(root: Tensor) -> None:
    """Give each live view of `root` a history through root's new one, after root's history changed in place
    (PyTorch regenerates a view's grad_fn from its base's then): the view's gradient reaches what root is now."""
    views = getattr(root, "_views", None)
    if not views or root.grad_fn is None:
        return
    from .ops.indexing import getitem  # Tensor's helpers call up (see the module docstring)
    from .ops.shape import reshape

    flat = None
    for r in views:
        v = r()
        if v is None or getattr(v, "_vmeta", None) == _NO_GRAD_VIEW:  # (PyTorch gives those no history either)
            continue
        idx = _positions(root.array, v.array)
        if idx is None:
            continue
        if flat is None:  # a fresh alias of root: its own counter, so later changes do not trip these nodes
            flat = reshape(Tensor._make(root.array, root.grad_fn, True), (-1,))
        g = getitem(flat, idx)
        v.grad_fn, v._requires_grad = g.grad_fn, g._requires_grad


def _refuse_overlap(a: Any, error: Exception) -> None:
    """PyTorch's RuntimeError for writing into memory some elements share (an expanded tensor, read-only here)."""
    if "read-only" in str(error) and any(s == 0 and n > 1 for s, n in zip(a.strides, a.shape)):
        raise RuntimeError("unsupported operation: more than one element of the written-to tensor refers to a "
                           "single memory location. Please clone() the tensor before performing the "
                           "operation.") from None


def _check_view_inplace(view: Tensor, root: Tensor, tracking: bool) -> bool:
    """PyTorch's checks before an in-place change of a view with grad mode on (torch's check_inplace); whether
    the change is recorded (the view counts as requiring grad when its base does)."""
    tracking = tracking or root.requires_grad
    if not tracking:
        return False
    meta = getattr(view, "_vmeta", None)
    if meta == _NO_GRAD_VIEW:
        raise RuntimeError(
            "A view was created in no_grad mode and is being modified inplace with grad mode enabled. Given that "
            "this use case is ambiguous and error-prone, it is forbidden. You can clarify your code by moving both "
            "the view and the inplace either both inside the no_grad block (if you don't want the inplace to be "
            "tracked) or both outside (if you want the inplace to be tracked).")
    if meta == _MULTI_VIEW:
        raise RuntimeError(
            "Output 0 of a function that returns multiple views (split, chunk, unbind ...) is a view and is being "
            "modified inplace. This view is the output of a function that returns multiple views. Such functions "
            "do not allow the output views to be modified inplace. You should replace the inplace operation by an "
            "out-of-place one.")
    if root.requires_grad and root.grad_fn is None:
        raise RuntimeError("a view of a leaf Variable that requires grad is being used in an in-place operation.")
    return True

_default_dtype = [np.dtype(np.float32)]  # NumPy's dtype: what the hot paths hand NumPy


def get_default_dtype() -> _dtypes.dtype:
    """The dtype given to tensors made from Python floats (float32 unless changed)."""
    return _dtypes.of(_default_dtype[0])


def set_default_dtype(dtype: Any) -> None:
    """Make Python floats become `dtype` tensors (float32 or float64)."""
    dt = np.dtype(dtype)
    if dt.kind != "f":
        raise TypeError(f"set_default_dtype: only floating dtypes are allowed, got {dt}")
    _default_dtype[0] = dt


def to_array(data: Any, dtype: Any = None) -> np.ndarray:
    """NumPy array from `data`, with PyTorch's dtype rules: Python floats become float32."""
    if isinstance(data, Tensor):
        arr = data.array
    elif isinstance(data, np.ndarray):
        arr = data
    elif isinstance(data, np.generic):
        arr = np.asarray(data)
    elif hasattr(data, "__array_function__") and _device.on_a_device(data):
        arr = data  # a device array (CuPy's) stays on its device
    else:
        try:
            arr = np.asarray(data)
        except (ValueError, TypeError) as e:
            raise TypeError(
                f"tensor(): could not make a tensor from {type(data).__name__} {data!r:.80}: {e}"
            ) from None
        if arr.dtype == np.float64 and dtype is None:  # Python floats take the default dtype
            arr = arr.astype(_default_dtype[0])
    if arr.dtype.kind not in "biuf":
        raise TypeError(
            f"tensor(): expected numbers (bool, int or float), got {arr.dtype} data from "
            f"{type(data).__name__} {data!r:.80}"
        )
    if dtype is not None:
        arr = arr.astype(np.dtype(dtype), copy=False)
    return arr


class Tensor:
    """An n-dimensional array that remembers how it was made, so gradients can flow back.

    `.array` is the NumPy array underneath (shared, never copied). As in PyTorch, `.data` is a
    Tensor sharing that array, cut from the graph, and `.grad` is a Tensor (on a graph itself after
    backward(create_graph=True)); `.grad_fn` is the op that made it (None for a leaf).
    """

    # _ver: the version counter (read through `_version`); _vc: the tensor whose counter this one shares (unset:
    # its own); _vb: the root base of a view (`_base`); _vmeta: how a view was made; _views: a base's views, weakly
    __slots__ = ("array", "_grad", "_requires_grad", "grad_fn", "name", "_ver", "_changes", "_vc", "_vb", "_vmeta",
                 "_views", "__weakref__")
    __array_priority__ = 1000  # so ndarray + Tensor calls Tensor.__radd__
    __hash__ = object.__hash__

    def __init__(self, data: Any, requires_grad: bool = False, dtype: Any = None, name: str | None = None):
        arr = to_array(data, dtype)
        if requires_grad and arr.dtype.kind != "f":
            raise ArgumentError(  # TypeError and RuntimeError (PyTorch's)
                f"only floating-point tensors can require gradients, got dtype {arr.dtype}; "
                "make it a float first, e.g. tensor(data, dtype=matgrad.float32)"
            )
        self.array = arr
        #: None, a Tensor, or the bare array backward() left here (see the `grad` property)
        self._grad: Any = None
        self._requires_grad = bool(requires_grad)
        self.grad_fn = None
        self.name = name
        self._ver = 0

    @classmethod
    def _make(cls, data: Any, grad_fn: Any, requires_grad: bool) -> Tensor:
        """Fast constructor for ops: no checks, no copies."""
        t = object.__new__(cls)
        t.array = data if type(data) is np.ndarray or hasattr(data, "__array_function__") else np.asarray(data)
        t._grad = None
        t._requires_grad = requires_grad
        t.grad_fn = grad_fn
        t.name = None
        t._ver = 0
        return t

    # --- views and versions, as PyTorch's ----------------------------------------------------
    @property
    def _version(self) -> int:
        """How many times this tensor's memory was changed in place (counted with its base and views)."""
        return _counter(self)._ver

    @_version.setter
    def _version(self, value: int) -> None:
        _counter(self)._ver = value

    @property
    def _base(self) -> Tensor | None:
        """The tensor this one is a view of (the root: never a view itself), or None, as PyTorch's `_base`."""
        return getattr(self, "_vb", None)

    def _is_view(self) -> bool:
        """Whether this tensor is a view of another (its `_base`)."""
        return getattr(self, "_vb", None) is not None

    def __getstate__(self) -> Any:
        """The slots a copy or pickle keeps: a copy is a tensor of its own, no view, with its own counter."""
        state = {}
        for cls in type(self).__mro__:
            for name in cls.__dict__.get("__slots__", ()):
                if name not in _NOT_COPIED and hasattr(self, name):
                    state[name] = getattr(self, name)
        state["_ver"] = self._version
        return None, state

    # --- data and grad, as PyTorch's ------------------------------------------------------
    @property
    def data(self) -> Tensor:
        """This tensor's values as a new Tensor sharing the same array, with no graph (PyTorch's `.data`).

        Changing it in place changes this tensor, unseen by autograd; `t.data = other` swaps the array.
        """
        return Tensor._make(self.array, None, False)

    @data.setter
    def data(self, value: Any) -> None:
        arr = value.array if isinstance(value, Tensor) else np.asarray(value)
        if arr.dtype.kind not in "biuf":
            raise TypeError(f"data: expected numbers, got {arr.dtype}")
        self.array = arr

    @property
    def grad(self) -> Tensor | None:
        """The gradient backward() accumulated here (a Tensor), or None."""
        g = self._grad
        if g is None or isinstance(g, Tensor):
            return g
        # backward() leaves a leaf's new gradient as its bare array, wrapped here once, when first read:
        # a training loop's optimizer reads the array and never asks (ab.py, 8-8-4 b2: -1.2 % a step)
        g = self._grad = Tensor._make(g, None, False)
        return g

    @grad.setter
    def grad(self, value: Any) -> None:
        if value is None:
            self._grad = None
            return
        g = value if isinstance(value, Tensor) else Tensor._make(value, None, False)  # (device arrays stay)
        if g.array.shape != self.array.shape:
            raise RuntimeError(f"assigned grad has data of a different size: {tuple(g.array.shape)} for a "
                               f"tensor of shape {tuple(self.array.shape)}")
        self._grad = g

    # --- array facts ------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        """The size of each dimension."""
        return self.array.shape

    @property
    def dtype(self) -> _dtypes.dtype:
        """The element type: `matgrad.float32` and so on (NumPy's dtype inside; NumPy takes it as it is)."""
        return _dtypes.of(self.array.dtype)

    @property
    def ndim(self) -> int:
        """Number of dimensions."""
        return self.array.ndim

    @property
    def size(self) -> Any:
        """Number of elements, as NumPy's `.size`; `size(dim)` as PyTorch's `.size()`."""
        return _Size(self.array.shape)

    def dim(self) -> int:
        """Number of dimensions (PyTorch's name)."""
        return self.array.ndim

    def numel(self) -> int:
        """Number of elements."""
        return self.array.size

    def nelement(self) -> int:
        """Number of elements (PyTorch's older name for numel)."""
        return self.array.size

    def ndimension(self) -> int:
        """Number of dimensions (PyTorch's older name for dim)."""
        return self.array.ndim

    def element_size(self) -> int:
        """Bytes per element."""
        return self.array.itemsize

    def stride(self, dim: int | None = None) -> Any:
        """Steps between neighbouring elements of each dim, counted in elements (as PyTorch, not bytes)."""
        item = self.array.itemsize
        steps = tuple(s // item for s in self.array.strides)
        if dim is None:
            return steps
        if self.array.ndim == 0:  # unlike other ops, PyTorch does not read a 0-d tensor as 1-D here
            wrap_dim("stride", dim, 1 << 62)  # only its TypeError for a float or bool
            raise IndexError(f"stride(): Dimension specified as {operator.index(dim)} but tensor has no dimensions")
        return steps[wrap_dim("stride", dim, self.array.ndim)]

    def is_contiguous(self, *, memory_format: Any = contiguous_format) -> bool:
        """Whether the elements lie in memory in row-major order (or memory_format's) without gaps."""
        if memory_format is contiguous_format:
            return bool(self.array.flags.c_contiguous)
        fmt = _check_format(memory_format, "is_contiguous", optional=False)
        return _is_contiguous_as(tuple(self.shape), self.stride(), fmt)

    def data_ptr(self) -> int:
        """The address of the first element."""
        return int(self.array.__array_interface__["data"][0])

    @property
    def itemsize(self) -> int:
        """Bytes per element."""
        return self.array.itemsize

    @property
    def nbytes(self) -> int:
        """Bytes the elements take: numel · itemsize."""
        return self.array.size * self.array.itemsize

    def storage_offset(self) -> int:
        """Elements between the start of the memory this tensor views and its first element (0 unless a view)."""
        root = self.array
        while True:
            base = getattr(root, "base", None)
            if not isinstance(base, type(self.array)):  # as_strided's views hang off a stand-in with the array
                base = getattr(base, "base", None)
                if not isinstance(base, type(self.array)):
                    break
            root = base
        if type(root) is not np.ndarray:  # a device array: its data pointer, as CuPy has it
            return (self.array.data.ptr - root.data.ptr) // self.array.itemsize
        start = root.__array_interface__["data"][0]
        return (self.array.__array_interface__["data"][0] - start) // self.array.itemsize

    def is_same_size(self, other: Tensor) -> bool:
        """Whether other has this tensor's shape."""
        return self.array.shape == other.array.shape

    def is_signed(self) -> bool:
        """Whether the dtype holds negative numbers (false for uint8 and bool)."""
        return self.array.dtype.kind in "fic"

    def is_inference(self) -> bool:
        """False: matgrad's inference_mode makes ordinary tensors (PyTorch's are inference tensors there)."""
        return False

    def is_complex(self) -> bool:
        """Whether the dtype is complex (never, in matgrad)."""
        return self.array.dtype.kind == "c"

    # PyTorch's facts about the kind of tensor: matgrad's are dense, strided, real NumPy (or CuPy) arrays, never
    # sparse, quantized, nested, meta, MKL-DNN, or on another backend
    is_sparse = is_sparse_csr = is_quantized = is_meta = is_nested = is_mkldnn = False
    is_mps = is_xpu = is_vulkan = is_ipu = is_xla = is_maia = is_mtia = False

    @property
    def layout(self) -> layout:
        """The memory layout: always `matgrad.strided` (torch.strided)."""
        return strided

    @property
    def output_nr(self) -> int:
        """Which output of the op that made it this tensor is: 0 (each of matgrad's op results is a node's only
        output; PyTorch's split, for one, numbers its pieces)."""
        return 0

    def is_shared(self) -> bool:
        """False: matgrad does not put tensors in shared memory (see share_memory_)."""
        return False

    def share_memory_(self) -> Tensor:
        """Returns this tensor unchanged: a NumPy array cannot be moved into shared memory in place, so matgrad
        keeps tensors where they are (worker processes get copies)."""
        return self

    @property
    def H(self) -> Tensor:  # noqa: N802 - PyTorch's name
        """The conjugate transpose of a matrix (its transpose: matgrad's numbers are real)."""
        if self.array.ndim not in (0, 2):
            raise RuntimeError(f"tensor.H is only supported on matrices (2-D tensors). Got {self.array.ndim}-D "
                               "tensor.")
        return self._method("T").fget(self) if self.array.ndim == 2 else self

    @property
    def mH(self) -> Tensor:  # noqa: N802 - PyTorch's name
        """The conjugate transpose of the last two dims (their transpose, for real numbers)."""
        return self._method("mT").fget(self)

    @property
    def is_leaf(self) -> bool:
        """True for tensors the user made, rather than results of recorded ops."""
        return self.grad_fn is None

    def __len__(self) -> int:
        if self.array.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.array.shape[0]

    def __iter__(self) -> Iterator[Tensor]:
        if self.array.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self.array.shape[0]))

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        arr = self.numpy()
        return arr if dtype is None else arr.astype(dtype, copy=False)

    # --- conversion -------------------------------------------------------------------
    def numpy(self, *, force: bool = False) -> np.ndarray:
        """The underlying NumPy array (shared, not copied); a GPU tensor needs .cpu() first (or force=True)."""
        if type(self.array) is np.ndarray:
            return self.array
        if force:
            return _device.backend_of(self.array).to_host(self.array)
        raise TypeError(f"can't convert {self.device} device type tensor to numpy. Use Tensor.cpu() to copy the "
                        "tensor to host memory first.")

    def __dlpack__(self, *, stream: Any = -1, max_version: Any = None, dl_device: Any = None,
                   copy: Any = None) -> Any:
        """A DLPack capsule of this tensor's memory, not copied (matgrad/dlpack.py; torch's rules and messages)."""
        from .dlpack import export

        return export(self, stream=stream, max_version=max_version, dl_device=dl_device, copy=copy)

    def __dlpack_device__(self) -> tuple[Any, int]:
        """(DLDeviceType, device index) of this tensor's memory, as the array underneath reports it."""
        from .dlpack import device_of

        return device_of(self)

    def _host(self) -> np.ndarray:
        """The values as a NumPy array, copied from the device if need be (for printing and .tolist())."""
        return _device.to_host(self.array)

    def item(self) -> Any:
        """The value of a one-element tensor as a Python number."""
        if self.array.size != 1:
            raise ShapeError(
                f"item(): a Tensor with {self.array.size} elements cannot be converted to Scalar: only "
                f"one-element tensors can be converted to a Python number, this one has shape {self.shape}"
            )
        return self.array.item()

    def tolist(self) -> Any:
        """The values as (nested) Python lists."""
        return self._host().tolist()

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __bool__(self) -> bool:
        if self.array.size != 1:
            raise RuntimeError(
                f"the truth value of a tensor with {self.array.size} elements is ambiguous; "
                "use .any() or .all()"
            )
        return bool(self.array)

    def __index__(self) -> int:
        if self.array.dtype.kind not in "iub" or self.array.size != 1:
            raise TypeError("only one-element integer tensors can be used as an index")
        return int(self.array.item())

    def detach(self) -> Tensor:
        """The same values, cut from the graph (shares memory and, as PyTorch's, the version counter)."""
        t = Tensor._make(self.array, None, False)
        t._vc = _counter(self)
        return t

    @property
    def requires_grad(self) -> bool:
        """Whether operations on this tensor are recorded for backward; settable on a leaf, as PyTorch's."""
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, requires_grad: bool) -> None:
        flag = bool(requires_grad)
        if self.grad_fn is not None:  # PyTorch's attribute refuses a computed tensor either way (requires_grad_ not)
            raise RuntimeError(f"requires_grad = {flag}: only a leaf's flag can change (this tensor was computed by "
                               f"{self.grad_fn.name()})" + ("; use .detach() for a copy without history" if not flag
                                                          else ""))
        self._set_requires_grad(flag)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Start (or stop) recording operations on this leaf; returns self."""
        flag = bool(requires_grad)
        if not flag and self.grad_fn is not None:
            raise RuntimeError(f"requires_grad_(False) is only for leaves (this tensor was computed by "
                               f"{self.grad_fn.name()}); use .detach() for a copy without history instead")
        self._set_requires_grad(flag)
        return self

    def _set_requires_grad(self, flag: bool) -> None:
        """The flag, once PyTorch's dtype check passes: only a floating-point tensor may require grad."""
        if flag and self.array.dtype.kind != "f":
            raise ArgumentError(  # TypeError and RuntimeError (PyTorch's)
                f"only floating-point tensors can require gradients, got {self.dtype}; make it a float first, e.g. "
                "t.float() or t.to(matgrad.float64)")
        self._requires_grad = flag

    # --- dtype and device -------------------------------------------------------------
    @property
    def device(self) -> Any:
        """Where the data lives: `matgrad.device("cpu")`, or `device("cuda", i)` for a CuPy array on GPU i."""
        if type(self.array) is np.ndarray:
            return _device.CPU
        return _device.device_of(self.array)

    @property
    def is_cuda(self) -> bool:
        """Whether the data lives on an NVIDIA GPU."""
        return self.device.type == "cuda"

    @property
    def is_cpu(self) -> bool:
        """Whether the data lives in host memory."""
        return type(self.array) is np.ndarray

    def get_device(self) -> int:
        """The GPU's index, or -1 for a tensor on the CPU."""
        if type(self.array) is np.ndarray:
            return -1
        index = self.device.index
        return 0 if index is None else index

    def to(self, *args: Any, **kwargs: Any) -> Tensor:
        """This tensor on another device and/or dtype, as PyTorch's forms.

        to(dtype), to(device), to(device, dtype), to(other) (other's device and dtype), each with
        `non_blocking=` (accepted: copies here are synchronous), `copy=` (a new array even when
        nothing changes) and `memory_format=` (matgrad.channels_last ...: a copy laid out so, as torch's).
        A dtype change is differentiable between float types.
        """
        fmt = kwargs.get("memory_format")
        dev, dtype, _, copy = _device.parse_to_args(args, kwargs)
        out = self
        if dev is not None and dev != self.device and not (dev.type == "cuda" and dev.index is None and self.is_cuda):
            from .ops.transfer import to_device  # Tensor's methods call up into ops (see the module docstring)

            out = to_device(self, dev)
            copy = False
        if dtype is not None and np.dtype(dtype) != self.array.dtype:
            from .ops.shape import astype  # Tensor's methods call up into ops (see the module docstring)

            out = astype(out, dtype)
        elif copy:
            from .ops.arithmetic import mul  # a recorded copy, as PyTorch's to(copy=True)

            out = mul(self, 1) if self.requires_grad else Tensor._make(self.array.copy(), None, False)
        if fmt is not None:
            fmt = _check_format(fmt, "to")
        if fmt is None or fmt is preserve_format:  # a copy keeps self's layout (torch's preserve rule)
            if out is not self and out.stride() != self.stride():
                target = layout_strides(tuple(self.shape), self.stride(), preserve_format)
                if out.stride() != target:
                    from .ops.shape import Clone  # Tensor's methods call up into ops (see the module docstring)

                    out = Clone.apply(out, strides=target)
        else:  # torch returns the tensor itself if its layout looks like fmt, else a copy laid out so
            shape = tuple(out.shape)
            if not (suggest_memory_format(shape, out.stride()) is fmt if out is self
                    else out.stride() == format_strides(shape, fmt)):
                from .ops.shape import clone  # Tensor's methods call up into ops (see the module docstring)

                out = clone(out, memory_format=fmt)
        return out

    def astype(self, dtype: Any) -> Tensor:
        """This tensor converted to `dtype` (NumPy's name for to(dtype))."""
        return self.to(dtype)

    def type(self, dtype: Any = None, non_blocking: bool = False) -> Any:
        """With no argument, PyTorch's type string ('torch.FloatTensor'); otherwise to(dtype)."""
        if dtype is None:
            from .dtypes import TYPE_NAMES

            return "torch." + TYPE_NAMES.get(self.array.dtype, f"{self.array.dtype}Tensor")
        return self.to(dtype, non_blocking=non_blocking)

    def type_as(self, other: Tensor) -> Tensor:
        """Converted to `other`'s dtype."""
        return self.to(other.dtype)

    def float(self) -> Tensor:
        """Converted to float32."""
        return self.to(float32)

    def double(self) -> Tensor:
        """Converted to float64."""
        return self.to(float64)

    def half(self) -> Tensor:
        """Converted to float16."""
        return self.to(float16)

    def long(self) -> Tensor:
        """Converted to int64."""
        return self.to(int64)

    def int(self) -> Tensor:
        """Converted to int32."""
        return self.to(int32)

    def short(self) -> Tensor:
        """Converted to int16."""
        return self.to(int16)

    def byte(self) -> Tensor:
        """Converted to uint8."""
        return self.to(uint8)

    def bool(self) -> Tensor:
        """Converted to bool."""
        return self.to(bool_)

    def cpu(self, memory_format: Any = None) -> Tensor:
        """This tensor on the CPU (itself when it is there already)."""
        return self.to(_device.CPU)

    def cuda(self, device: Any = None, non_blocking: bool = False) -> Tensor:
        """This tensor on an NVIDIA GPU; without a GPU backend, PyTorch's RuntimeError saying what to install."""
        return self.to("cuda" if device is None else _device.cuda_device(device), non_blocking=non_blocking)

    def pin_memory(self, device: Any = None) -> Tensor:
        """Accepted for porting: page-locked host memory only speeds up copies, so this returns the tensor."""
        return self

    def is_pinned(self, device: Any = None) -> bool:
        """False: matgrad does not page-lock host memory (see pin_memory)."""
        return False

    def is_floating_point(self) -> bool:
        """Whether the dtype is a float type."""
        return self.array.dtype.kind == "f"

    # --- new tensors like this one ------------------------------------------------------
    def _like(self, array: np.ndarray, dtype: Any, device: Any, requires_grad: bool) -> Tensor:
        array = _device.move(array, self.device if device is None else _device.resolve(device))
        if dtype is not None:
            array = array.astype(np.dtype(dtype), copy=False)
        t = Tensor._make(array, None, False)
        return t.requires_grad_(True) if requires_grad else t

    def new_zeros(self, *size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
        """Zeros of `size`, with this tensor's dtype unless `dtype` is given."""
        return self._like(np.zeros(_shape_arg(size), self.array.dtype), dtype, device, requires_grad)

    def new_ones(self, *size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
        """Ones of `size`, with this tensor's dtype unless `dtype` is given."""
        return self._like(np.ones(_shape_arg(size), self.array.dtype), dtype, device, requires_grad)

    def new_empty(self, *size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
        """An uninitialized tensor of `size`, with this tensor's dtype unless `dtype` is given."""
        return self._like(np.empty(_shape_arg(size), self.array.dtype), dtype, device, requires_grad)

    def new_full(self, size: Any, fill_value: Any, *, dtype: Any = None, device: Any = None,
                 requires_grad: bool = False) -> Tensor:
        """`fill_value` everywhere in `size`, with this tensor's dtype unless `dtype` is given."""
        return self._like(np.full(tuple(size), fill_value, self.array.dtype), dtype, device, requires_grad)

    def new_tensor(self, data: Any, *, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
        """A copy of `data` as a tensor, with this tensor's dtype unless `dtype` is given."""
        arr = np.array(data._host() if isinstance(data, Tensor) else data, dtype=self.array.dtype)
        return self._like(arr, dtype, device, requires_grad)

    # --- autograd ---------------------------------------------------------------------
    def backward(
        self, gradient: Any = None, retain_graph: bool | None = None, create_graph: bool = False,
        *, grad: Any = None,
    ) -> None:
        """Compute the gradient of this tensor with respect to every leaf, into `.grad`.

        The seed `gradient` (also accepted as `grad=`) defaults to 1 for a one-element
        tensor. Gradients add up across calls until zeroed, as in PyTorch.
        """
        if grad is not None:
            if gradient is not None:
                raise TypeError("backward: pass the seed once, as gradient= or grad=, not both")
            gradient = grad
        if gradient is None and not create_graph and self.grad_fn is not None and self.array.size == 1:
            # the common case, loss.backward(): seed 1, straight to the reverse pass
            a = self.array  # the seed on the tensor's device (ones_like dispatches to CuPy; ones is faster)
            seed = np.ones(a.shape, a.dtype) if type(a) is np.ndarray else np.ones_like(a)
            _upward("engine").run_backward((self,), (seed,), bool(retain_graph), False)
            return
        _upward("backward")([self], None if gradient is None else [gradient], retain_graph, create_graph)

    def zero_grad(self) -> None:
        """Forget the accumulated gradient (`.grad = None`)."""
        self._grad = None

    def retain_grad(self) -> None:
        """Keep this intermediate tensor's gradient in `.grad` on backward (leaves always do)."""
        if not self.requires_grad:
            raise RuntimeError(
                "retain_grad: this tensor does not require grad, so it will never have a gradient; "
                "make it from inputs with requires_grad=True (and not under no_grad)"
            )
        if self.grad_fn is not None:
            self.grad_fn.retained = weakref.ref(self)

    def register_hook(self, hook: Any) -> Any:
        """Call `hook(grad)` with this tensor's gradient on each backward; a returned tensor replaces it.

        Returns a handle whose `.remove()` takes the hook off.
        """
        from .autograd import hooks  # Tensor's methods call up (see the module docstring)

        return hooks.register_hook(self, hook)

    def register_post_accumulate_grad_hook(self, hook: Any) -> Any:
        """Call `hook(tensor)` after each backward has added into this leaf's `.grad`."""
        from .autograd import hooks  # Tensor's methods call up (see the module docstring)

        return hooks.register_post_accumulate_grad_hook(self, hook)

    @property
    def retains_grad(self) -> bool:
        """Whether backward() will fill this non-leaf tensor's `.grad` (see retain_grad)."""
        fn = self.grad_fn
        return fn is not None and fn.retained is not None and fn.retained() is self

    # --- in-place changes, as PyTorch's ---------------------------------------------------
    def _modify(self, name: str, recorded: Any, plain: Any = None, operands: tuple[Any, ...] = ()) -> Tensor:
        """Change this tensor in place: its own array changes, so every alias and view sees the new values.

        When the change is recorded (grad mode on, and this tensor or an operand requires grad), the
        tensor takes on a new history, as in PyTorch: `recorded(old)` is computed out of place from
        a copy of the old values, and the gradient flows through that op to the old history. Nodes
        recorded before keep the old history for their own gradient. The version goes up, so a
        backward that needs the old values says so rather than computing with the new ones.
        Otherwise `plain(array)` changes the array directly (or `recorded` is computed and copied in).
        """
        from .autograd import grad_mode  # Tensor's methods call up (see the module docstring)

        tracking = grad_mode._state.enabled and (
            self.requires_grad or any(isinstance(o, Tensor) and o.requires_grad for o in operands))
        root = getattr(self, "_vb", None)
        if root is not None and grad_mode._state.enabled:
            tracking = _check_view_inplace(self, root, tracking)
        if not tracking:
            if plain is not None:
                try:
                    plain(self.array)
                except ValueError as e:  # NumPy's broadcast error, where PyTorch raises RuntimeError
                    _refuse_overlap(self.array, e)
                    if "broadcast" not in str(e):
                        raise
                    raise ShapeError(f"{name}: {e}; an in-place change keeps this tensor's shape "
                                     f"{self.shape}, so the other operand must broadcast to it") from None
            else:
                self._write(name, recorded(self))
            bump_version(self)
            return self
        if root is not None and self._modify_view(name, recorded, root):
            return self
        if self.grad_fn is None and self.requires_grad:
            raise RuntimeError(
                f"{name}: a leaf tensor that requires grad is being used in an in-place operation; change "
                "it inside `with matgrad.no_grad():` (as an optimizer step does), or change a copy (x.clone())"
            )
        node = self.grad_fn
        old = Tensor._make(self.array.copy(), node, self.requires_grad)
        if node is not None and getattr(node, "out", None) is self.array:
            node.out = old.array  # the node that made this tensor kept its output: keep the old values
        out = recorded(old)
        self._write(name, out)
        self.grad_fn, self._requires_grad = out.grad_fn, out._requires_grad
        bump_version(self)
        if getattr(self, "_views", None):
            _refresh_views(self)
        return self

    def _modify_view(self, name: str, recorded: Any, root: Tensor) -> bool:
        """A recorded in-place change of this view: the base `root` takes the new history (PyTorch's CopySlices),
        its old values with the changed elements written in, so the gradient reaches the base's old history
        outside the view and the op's inputs inside it; then every view of root is given a history through that.
        False (nothing done) when this tensor no longer lies in root's memory."""
        from .ops.indexing import getitem, index_put  # Tensor's methods call up (see the module docstring)
        from .ops.shape import reshape

        idx = _positions(root.array, self.array)
        if idx is None:
            return False
        node = root.grad_fn
        base = Tensor._make(root.array.copy(), node, root.requires_grad)  # row-major, as idx counts
        if node is not None and getattr(node, "out", None) is root.array:
            node.out = base.array  # the node that made the base kept its output: keep the old values
        flat = reshape(base, (-1,))
        out = recorded(getitem(flat, idx))  # this view's old values, with the base's old history
        self._write(name, out)
        new = reshape(index_put(flat, idx, out), root.array.shape)
        root.grad_fn, root._requires_grad = new.grad_fn, new._requires_grad
        bump_version(self)
        _refresh_views(root)
        return True

    def _write(self, name: str, out: Tensor) -> None:
        """Copy an op's result into this tensor's own array (same shape; a dtype it can take)."""
        if out.array.shape != self.array.shape:
            raise RuntimeError(
                f"{name}: the result has shape {tuple(out.array.shape)}, which cannot be written in place "
                f"into a tensor of shape {tuple(self.array.shape)}"
            )
        if not np.can_cast(out.array.dtype, self.array.dtype, "same_kind"):
            raise RuntimeError(
                f"{name}: result type {out.array.dtype} can't be cast to the desired output type "
                f"{self.array.dtype}; convert first (x = x.to(...))"
            )
        try:
            np.copyto(self.array, out.array, casting="same_kind")
        except ValueError as e:
            _refuse_overlap(self.array, e)
            raise

    def _method(self, name: str) -> Any:
        from . import _methods  # Tensor's methods call up into ops (see the module docstring)

        return _methods.METHODS[name]

    def __setitem__(self, index: Any, value: Any) -> None:
        from .ops.indexing import _index_array, index_on, index_put  # Tensor's methods call up (see the docstring)

        def plain(a: np.ndarray) -> None:
            a[index_on(_index_array(index), a)] = _values_for(a, value)

        self._modify("__setitem__", lambda t: index_put(t, index, value), plain, (value,))

    def copy_(self, src: Any, non_blocking: bool = False) -> Tensor:
        """Copy values from `src` (broadcast to this shape) into this tensor; the gradient flows to `src`."""
        from .ops.indexing import index_put  # Tensor's methods call up (see the module docstring)

        def plain(a: np.ndarray) -> None:
            np.copyto(a, _values_for(a, src), casting="unsafe")

        return self._modify("copy_", lambda t: index_put(t, Ellipsis, src), plain, (src,))

    def fill_(self, value: Any) -> Tensor:
        """Set every element to `value`."""
        from .ops.indexing import index_put  # Tensor's methods call up (see the module docstring)

        return self._modify("fill_", lambda t: index_put(t, Ellipsis, value),
                            lambda a: a.fill(value.item() if isinstance(value, Tensor) else value), (value,))

    def zero_(self) -> Tensor:
        """Set every element to zero."""
        return self.fill_(0)

    def _arith_(self, name: str, ufunc: Any, op: str, other: Any) -> Tensor:
        def plain(a: np.ndarray) -> None:
            try:
                ufunc(a, other.array if isinstance(other, Tensor) else other, out=a, casting="same_kind")
            except (OverflowError, TypeError):  # NumPy refused before writing: an int that does not fit the dtype
                self._write(name, self._method(op)(self, other))  # (PyTorch wraps it), a float into an int tensor

        return self._modify(name, lambda t: self._method(op)(t, other), plain, (other,))

    def __iadd__(self, other: Any) -> Tensor:
        return self._arith_("__iadd__", np.add, "__add__", other)

    def __isub__(self, other: Any) -> Tensor:
        return self._arith_("__isub__", np.subtract, "__sub__", other)

    def __imul__(self, other: Any) -> Tensor:
        return self._arith_("__imul__", np.multiply, "__mul__", other)

    def __itruediv__(self, other: Any) -> Tensor:
        return self._arith_("__itruediv__", np.true_divide, "__truediv__", other)

    def add_(self, other: Any, alpha: Any = 1) -> Tensor:
        """self += alpha * other, in place."""
        return self._arith_("add_", np.add, "__add__", other if alpha == 1 else other * alpha)

    def sub_(self, other: Any, alpha: Any = 1) -> Tensor:
        """self -= alpha * other, in place."""
        return self._arith_("sub_", np.subtract, "__sub__", other if alpha == 1 else other * alpha)

    def mul_(self, other: Any) -> Tensor:
        """self *= other, in place."""
        return self._arith_("mul_", np.multiply, "__mul__", other)

    def div_(self, other: Any) -> Tensor:
        """self /= other, in place."""
        return self._arith_("div_", np.true_divide, "__truediv__", other)

    def masked_fill_(self, mask: Any, value: Any) -> Tensor:
        """Set the elements where `mask` is True to `value`, in place."""
        return self._modify("masked_fill_", lambda t: self._method("masked_fill")(t, mask, value), operands=(value,))

    def clamp_(self, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002 - PyTorch's names
        """Limit every element to [min, max], in place."""
        return self._modify("clamp_", lambda t: self._method("clamp")(t, min, max), operands=(min, max))

    clip_ = clamp_

    def relu_(self) -> Tensor:
        """max(x, 0), in place."""
        return self._modify("relu_", lambda t: self._method("relu")(t))

    def sigmoid_(self) -> Tensor:
        """1/(1 + e⁻ˣ), in place."""
        return self._modify("sigmoid_", lambda t: self._method("sigmoid")(t))

    def tanh_(self) -> Tensor:
        """tanh(x), in place."""
        return self._modify("tanh_", lambda t: self._method("tanh")(t))

    def exp_(self) -> Tensor:
        """eˣ, in place."""
        return self._modify("exp_", lambda t: self._method("exp")(t))

    def square_(self) -> Tensor:
        """x², in place."""
        return self._modify("square_", lambda t: self._method("square")(t))

    def abs_(self) -> Tensor:
        """|x|, in place."""
        return self._modify("abs_", lambda t: self._method("abs")(t))

    def log_(self) -> Tensor:
        """ln x, in place."""
        return self._modify("log_", lambda t: self._method("log")(t))

    def sqrt_(self) -> Tensor:
        """√x, in place."""
        return self._modify("sqrt_", lambda t: self._method("sqrt")(t))

    def neg_(self) -> Tensor:
        """-x, in place."""
        return self._modify("neg_", lambda t: self._method("neg")(t))

    def pow_(self, exponent: Any) -> Tensor:
        """x ** exponent, in place."""
        return self._modify("pow_", lambda t: self._method("pow")(t, exponent), operands=(exponent,))

    def _reshape_(self, name: str, op: str, *args: Any) -> Tensor:
        """Give this tensor the shape of the view `op(self, *args)` in place (t_, squeeze_ ...): its array
        becomes a view of the same memory, so aliases keep sharing the values (not the new shape), as in PyTorch.

        On a graph the view op becomes the tensor's new history, from a copy of the old array (as in _modify,
        so a node that kept this tensor as its output keeps its values); the version goes up, so a backward
        that reads the old tensor says so."""
        from .autograd import grad_mode  # Tensor's methods call up (see the module docstring)

        fn = self._method(op)
        view = fn(Tensor._make(self.array, None, False), *args).array
        if grad_mode._state.enabled and self.requires_grad:
            if self.grad_fn is None:
                raise RuntimeError(
                    f"{name}: a leaf tensor that requires grad is being used in an in-place operation; change "
                    "it inside `with matgrad.no_grad():`, or change a copy (x.clone())")
            node = self.grad_fn
            old = Tensor._make(self.array.copy(), node, True)
            if getattr(node, "out", None) is self.array:
                node.out = old.array
            self.grad_fn = fn(old, *args).grad_fn
        self.array = view
        bump_version(self)
        return self

    def t_(self) -> Tensor:
        """t(), in place: this tensor's own shape changes (a matrix is transposed; 0-d and 1-d stay)."""
        return self._reshape_("t_", "t")

    def transpose_(self, dim0: int, dim1: int) -> Tensor:
        """transpose(dim0, dim1), in place: this tensor's own shape changes."""
        return self._reshape_("transpose_", "transpose", dim0, dim1)

    swapaxes_ = swapdims_ = transpose_

    def squeeze_(self, dim: Any = None) -> Tensor:
        """squeeze(dim), in place: this tensor's own shape changes."""
        return self._reshape_("squeeze_", "squeeze", dim)

    def unsqueeze_(self, dim: int) -> Tensor:
        """unsqueeze(dim), in place: this tensor's own shape changes."""
        return self._reshape_("unsqueeze_", "unsqueeze", dim)

    def index_add_(self, dim: int, index: Any, source: Any, *, alpha: Any = 1) -> Tensor:
        """Add alpha·source's slices at `index` along dim, in place (repeated indices add up)."""
        from .ops.scatter import index_add  # Tensor's methods call up (see the module docstring)

        return self._modify("index_add_", lambda t: index_add(t, dim, index, source, alpha=alpha), operands=(source,))

    def index_fill_(self, dim: int, index: Any, value: Any) -> Tensor:
        """Set the slices at `index` along dim to value, in place."""
        from .ops.scatter import index_fill  # Tensor's methods call up (see the module docstring)

        return self._modify("index_fill_", lambda t: index_fill(t, dim, index, value), operands=(value,))

    def scatter_(self, dim: int, index: Any, src: Any = None, value: Any = None, *, reduce: Any = None) -> Tensor:
        """Write src (or value) at `index` along dim, in place (reduce='add'/'multiply' combines instead)."""
        from .ops.scatter import scatter  # Tensor's methods call up (see the module docstring)

        return self._modify("scatter_", lambda t: scatter(t, dim, index, src, value, reduce=reduce), operands=(src,))

    def scatter_add_(self, dim: int, index: Any, src: Any) -> Tensor:
        """Add src at `index` along dim, in place (repeated indices add up)."""
        from .ops.scatter import scatter_add  # Tensor's methods call up (see the module docstring)

        return self._modify("scatter_add_", lambda t: scatter_add(t, dim, index, src), operands=(src,))

    def masked_scatter_(self, mask: Any, source: Any) -> Tensor:
        """Write source's elements, in order, where mask is True, in place."""
        from .ops.scatter import masked_scatter  # Tensor's methods call up (see the module docstring)

        return self._modify("masked_scatter_", lambda t: masked_scatter(t, mask, source), operands=(source,))

    def index_copy_(self, dim: int, index: Any, source: Any) -> Tensor:
        """Write source's slices at `index` along dim, in place."""
        from .ops.scatter import index_copy  # Tensor's methods call up (see the module docstring)

        return self._modify("index_copy_", lambda t: index_copy(t, dim, index, source), operands=(source,))

    def scatter_reduce_(self, dim: int, index: Any, src: Any, reduce: str, *, include_self: bool = True) -> Tensor:
        """Combine src into this tensor at `index` along dim by `reduce` (see matgrad.scatter_reduce), in place."""
        from .ops.scatter import scatter_reduce  # Tensor's methods call up (see the module docstring)

        return self._modify("scatter_reduce_", lambda t: scatter_reduce(t, dim, index, src, reduce,
                                                                        include_self=include_self), operands=(src,))

    def index_put(self, indices: Any, values: Any, accumulate: bool = False) -> Tensor:
        """A copy with `values` written (or with accumulate, added; repeats add up) at the tuple of index
        tensors `indices`: self[indices] = values, out of place."""
        from .ops.indexing import index_put_tuple  # Tensor's methods call up (see the module docstring)

        return index_put_tuple(self, indices, values, accumulate)

    def index_put_(self, indices: Any, values: Any, accumulate: bool = False) -> Tensor:
        """self[indices] = values (with accumulate, +=, repeats adding up), in place."""
        from .ops.indexing import index_put_tuple  # Tensor's methods call up (see the module docstring)

        return self._modify("index_put_", lambda t: index_put_tuple(t, indices, values, accumulate),
                            operands=(values,))

    def put(self, index: Any, source: Any, accumulate: bool = False) -> Tensor:
        """A copy with source's elements written (or added) at the flat indices `index`."""
        from .ops.indexing import put  # Tensor's methods call up (see the module docstring)

        return put(self, index, source, accumulate)

    def put_(self, index: Any, source: Any, accumulate: bool = False) -> Tensor:
        """Write (or with accumulate, add) source's elements at the flat indices `index`, in place."""
        from .ops.indexing import put  # Tensor's methods call up (see the module docstring)

        return self._modify("put_", lambda t: put(t, index, source, accumulate), operands=(source,))

    def fill_diagonal_(self, fill_value: Any, wrap: bool = False) -> Tensor:
        """Set the main diagonal (of a 2-D tensor, or of one whose dims are all equal) to fill_value, in place;
        with wrap, a tall matrix's diagonal starts again every ncols + 1 rows (numpy.fill_diagonal)."""
        from .ops.indexing import diagonal_mask, index_put  # Tensor's methods call up (see the module docstring)

        mask = diagonal_mask(self.array, wrap)
        return self._modify("fill_diagonal_", lambda t: index_put(t, mask, fill_value), operands=(fill_value,))

    def _draw_(self, name: str, draw: Any) -> Tensor:
        """Fill with a random draw, in place (on a graph: a zero gradient, as PyTorch)."""
        from .ops.random_ops import Sampled  # Tensor's methods call up (see the module docstring)

        sample = draw(self.array.shape, self.array.dtype)
        if type(self.array) is not np.ndarray:  # drawn on the host with matgrad's generator: the same numbers anywhere
            sample = _device.move(sample, self.device)

        def plain(a: np.ndarray) -> None:
            a[...] = sample

        return self._modify(name, lambda t: Sampled.apply(t, sample=sample), plain)

    def uniform_(self, from_: float = 0.0, to: float = 1.0, *, generator: Any = None, **kwargs: Any) -> Tensor:
        """Fill with uniform numbers in [from, to), in place (`from=` is accepted as a keyword too)."""
        from .ops import random_ops  # Tensor's methods call up (see the module docstring)

        low = float(kwargs.pop("from", from_))
        if kwargs:
            raise TypeError(f"uniform_() got unexpected keyword arguments {sorted(kwargs)}")
        return self._draw_("uniform_", lambda s, d: random_ops.draw_uniform(s, d, low, float(to), generator))

    def normal_(self, mean: float = 0.0, std: float = 1.0, *, generator: Any = None) -> Tensor:
        """Fill with normal numbers of the given mean and std, in place."""
        from .ops import random_ops  # Tensor's methods call up (see the module docstring)

        return self._draw_("normal_", lambda s, d: random_ops.draw_normal(s, d, float(mean), float(std), generator))

    def bernoulli_(self, p: Any = 0.5, *, generator: Any = None) -> Tensor:
        """Fill with 1 with probability p (a number or a tensor broadcast to this shape), else 0, in place."""
        from .ops import random_ops  # Tensor's methods call up (see the module docstring)

        return self._draw_("bernoulli_", lambda s, d: random_ops.draw_bernoulli(s, d, p, generator))

    def exponential_(self, lambd: float = 1.0, *, generator: Any = None) -> Tensor:
        """Fill with exponential numbers of rate lambd, in place."""
        from .ops import random_ops  # Tensor's methods call up (see the module docstring)

        return self._draw_("exponential_", lambda s, d: random_ops.draw_exponential(s, d, float(lambd), generator))

    def cauchy_(self, median: float = 0.0, sigma: float = 1.0, *, generator: Any = None) -> Tensor:
        """Fill with Cauchy numbers of the given median and scale sigma, in place."""
        from .random import numpy_generator  # drawn on the host with matgrad's generator, as _draw_'s others

        if self.array.dtype.kind != "f":
            raise RuntimeError("Cauchy distribution is a continuous probability distribution. dtype must be a "
                               f"floating point but you specified {self.dtype}")
        if not float(sigma) > 0:
            raise RuntimeError(f"cauchy_ expects sigma > 0.0, but found sigma={sigma}")
        return self._draw_("cauchy_", lambda s, d: (float(median) + float(sigma) * numpy_generator(generator)
                                                    .standard_cauchy(s)).astype(d))

    def geometric_(self, p: float, *, generator: Any = None) -> Tensor:
        """Fill with the number of Bernoulli(p) trials up to the first success (1, 2, ...), in place."""
        from .random import numpy_generator  # drawn on the host with matgrad's generator, as _draw_'s others

        if self.array.dtype == np.bool_:
            raise NotImplementedError(f"geometric_ is not implemented for {self.dtype} tensors: use an integer or "
                                      "float dtype")
        if not 0 < float(p) < 1:
            raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={p}")
        return self._draw_("geometric_", lambda s, d: numpy_generator(generator).geometric(float(p), s).astype(d))

    def log_normal_(self, mean: float = 1.0, std: float = 2.0, *, generator: Any = None) -> Tensor:
        """Fill with exp(N(mean, std²)) numbers (mean and std are the underlying normal's), in place."""
        from .random import numpy_generator  # drawn on the host with matgrad's generator, as _draw_'s others

        if self.array.dtype.kind != "f":
            raise NotImplementedError(f"log_normal_ is not implemented for {self.dtype} tensors: use a float dtype")
        if not float(std) > 0:
            raise RuntimeError(f"log_normal_ expects std > 0.0, but found std={std}")
        return self._draw_("log_normal_", lambda s, d: numpy_generator(generator).lognormal(float(mean), float(std), s)
                           .astype(d))

    def random_(self, *args: Any, generator: Any = None, **kwargs: Any) -> Tensor:
        """Fill with integers, in place: random_() from 0 to the largest integer the dtype holds exactly,
        random_(to) in [0, to), random_(from, to) in [from, to) (`from=`/`to=` as keywords too)."""
        from .ops import random_ops  # Tensor's methods call up (see the module docstring)

        if len(args) > 2:
            raise TypeError(f"random_() takes at most 2 positional arguments ({len(args)} given)")
        low, to = (0, args[0]) if len(args) == 1 else (args if args else (0, None))
        low, to = kwargs.pop("from", low), kwargs.pop("to", to)
        if kwargs:
            raise TypeError(f"random_() got unexpected keyword arguments {sorted(kwargs)}")
        return self._draw_("random_", lambda s, d: random_ops.draw_random(s, d, int(low), to, generator))

    def detach_(self) -> Tensor:
        """Cut this tensor from its graph, in place: it becomes a leaf that does not require grad."""
        if self.grad_fn is None and self.requires_grad:
            raise RuntimeError("detach_: a leaf that requires grad cannot be detached in place; "
                               "use requires_grad_(False)")
        self.grad_fn, self._requires_grad = None, False
        return self

    # --- display ----------------------------------------------------------------------
    def __format__(self, spec: str) -> str:
        """`f"{loss:.4f}"` formats a 0-d tensor's number, as PyTorch; other tensors format as their repr."""
        if self.array.ndim == 0:
            return format(self.array.item(), spec)
        if spec:
            raise TypeError(f"unsupported format string {spec!r} passed to Tensor.__format__: only a 0-d "
                            "tensor formats as a number (use t.item() or t.tolist())")
        return repr(self)

    def __repr__(self) -> str:
        body = np.array2string(
            self._host(), separator=", ", precision=4, threshold=200, edgeitems=3, prefix="tensor("
        )
        extras = []
        if type(self.array) is not np.ndarray:
            extras.append(f"device='{self.device}'")
        if self.array.ndim > 1 or self.array.size > 6:
            extras.append(f"shape={self.shape}")
        if self.array.dtype not in (np.float32, np.int64, np.bool_):
            extras.append(f"dtype={_dtypes.of(self.array.dtype)}")
        if self.grad_fn is not None:
            extras.append(f"grad_fn=<{self.grad_fn.name()}>")  # MulBackward0, as PyTorch prints it
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + body + "".join(", " + e for e in extras) + ")"


    def explain(self, **kwargs: Any) -> Any:
        """Run the reverse pass from this tensor and show, node by node, how each gradient came to be."""
        from .explain import explain  # Tensor's methods call up (see the module docstring)

        return explain(self, **kwargs)


_UPWARD: dict[str, Any] = {}


def _upward(name: str) -> Any:
    """matgrad.autograd's `engine` or `backward`, imported once on first use.

    Tensor's methods call up (see the module docstring); an import in the method body would cost
    microseconds on every training step."""
    found = _UPWARD.get(name)
    if found is None:
        from . import autograd

        found = _UPWARD[name] = getattr(autograd, name)
    return found


def install_methods() -> None:
    """Attach the operators and op methods (`_methods.METHODS`) to Tensor; matgrad/__init__ calls it once."""
    from . import _methods  # Tensor's methods call up into ops (see the module docstring)

    for name, fn in _methods.METHODS.items():
        setattr(Tensor, name, fn)


class _Size(int):
    """`t.size` is the element count (NumPy); `t.size()` / `t.size(d)` the shape (PyTorch)."""

    shape: tuple[int, ...]

    def __new__(cls, shape: tuple[int, ...]) -> _Size:
        n = super().__new__(cls, int(np.prod(shape, dtype=np.int64)))
        n.shape = shape
        return n

    def __call__(self, dim: int | None = None) -> Any:
        return Size(self.shape) if dim is None else self.shape[dim]


class Size(tuple):
    """A shape, as PyTorch's torch.Size: a tuple of ints (what `t.size()` returns)."""

    __slots__ = ()

    def __new__(cls, sizes: Any = ()) -> Size:
        return super().__new__(cls, (operator.index(n) for n in sizes))

    def __repr__(self) -> str:
        return f"torch.Size({list(self)})"

    def __getitem__(self, key: Any) -> Any:
        out = super().__getitem__(key)
        return Size(out) if isinstance(key, slice) else out

    def __add__(self, other: Any) -> Size:
        return Size(tuple(self) + tuple(other))

    def __radd__(self, other: Any) -> Size:
        return Size(tuple(other) + tuple(self))

    def __mul__(self, n: Any) -> Size:
        return Size(tuple(self) * n)

    __rmul__ = __mul__

    def numel(self) -> int:
        """The number of elements a tensor of this shape holds."""
        return int(np.prod(self, dtype=np.int64))

    def __reduce__(self) -> tuple[Any, ...]:
        return (Size, (tuple(self),))


class layout:  # noqa: N801 - PyTorch's name
    """A tensor's memory layout (torch.layout). matgrad has one, `strided`: dense arrays with strides."""

    __slots__ = ("name",)

    def __init__(self, name: str):
        self.name = name

    def __repr__(self) -> str:
        return f"matgrad.{self.name}"  # as dtypes print (matgrad.float32); torch's is torch.strided

    def __reduce__(self) -> str:
        return self.name  # the module's own object: unpickles as the same one


strided = layout("strided")


def _values_for(a: Any, value: Any) -> Any:
    """What is written into array `a`: a Tensor's or array's values moved to a's device (copy_ and
    item assignment cross devices, as in PyTorch); numbers as they are."""
    v = value.array if isinstance(value, Tensor) else value
    if type(v) is type(a) or isinstance(v, (numbers.Number, np.generic)):
        return v
    if not hasattr(v, "__array_function__"):  # nested lists: through NumPy
        v = np.asarray(v)
    return _device.move(v, _device.device_of(a))


def _shape_arg(shape: Sequence[Any]) -> tuple[int, ...]:
    """Accept f(2, 3) and f((2, 3)) alike, as PyTorch does."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return tuple(shape)


class ShapeError(RuntimeError, ValueError):
    """Shapes that do not fit (operands that do not broadcast, a many-element tensor as a number, a conv's or a
    pool's arguments that do not fit its input)."""
    # PyTorch raises RuntimeError here; NumPy (and matgrad before) ValueError. Both kinds of except catch this.


class ArgumentError(TypeError, RuntimeError):
    """Arguments of the wrong kind that PyTorch rejects when the op runs: a conv's input and weight of different
    dtypes, a stride or padding with the wrong number of values, a matrix product's operands of different dtypes,
    requires_grad on an integer tensor."""
    # PyTorch raises RuntimeError here; matgrad before raised TypeError. Both kinds of except catch this.


def wrap_dim(op: str, dim: Any, ndim: int) -> int:
    """`dim` as a non-negative axis of an ndim-D tensor (a 0-d one counts as 1-D), as PyTorch's maybe_wrap_dim:
    its IndexError "Dimension out of range" outside [-ndim, ndim - 1], its TypeError for a non-integer."""
    try:
        d = operator.index(dim)
        if dim.__class__ is bool:  # an int to Python, but PyTorch's argument parser refuses it
            raise TypeError
    except TypeError:
        raise TypeError(f"{op}(): argument 'dim' must be int, not {type(dim).__name__}") from None
    n = ndim if ndim > 0 else 1
    if -n <= d < n:
        return d + n if d < 0 else d
    raise IndexError(f"{op}: Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {d})")


def as_tensor(x: Any, like: Tensor | None = None) -> Tensor:
    """`x` as a Tensor; a Python number takes `like`'s float dtype, so it never upcasts."""
    if type(x) is Tensor:
        return x
    if isinstance(x, Tensor):
        return x
    if isinstance(x, (numbers.Number, np.bool_)):  # Python and NumPy scalars alike
        if like is not None:
            kind = like.array.dtype.kind
            integral = isinstance(x, numbers.Integral) and not isinstance(x, (bool, np.bool_))
            if kind == "f" or (kind in "iu" and integral):
                arr = np.asarray(x, like.array.dtype)
                if type(like.array) is not np.ndarray:  # a number meeting a GPU tensor goes to its device
                    arr = _device.move(arr, like.device)
                return Tensor._make(arr, None, False)
        if isinstance(x, (bool, np.bool_)):
            return Tensor._make(np.asarray(x), None, False)
        if isinstance(x, numbers.Integral):
            return Tensor._make(np.asarray(x, np.int64), None, False)
        return Tensor._make(np.asarray(x, _default_dtype[0]), None, False)
    return Tensor._make(to_array(x), None, False)
