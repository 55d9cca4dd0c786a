"""Tensor: a NumPy array that records the operations done on it, for backprop.

Imports go one way, low-level helpers -> tensor -> autograd -> ops, so this module imports
nothing above it at load time. The one deliberate exception is Tensor's own methods: the
ops, the engine and grad modes they call sit above Tensor, so those methods import them
inside their bodies (and `install_methods` attaches the operator table of `_methods` once,
from `matgrad/__init__`). The import-cycle test (tests/test_imports.py) allows exactly that.
"""
from __future__ import annotations

import numbers
import weakref
from typing import Any, Iterator, Sequence

import numpy as np

from . import devices as _device
from .dtypes import bool_, float16, float32, float64, int16, int32, int64, uint8

_default_dtype = [float32]


def get_default_dtype() -> np.dtype:
    """The dtype given to tensors made from Python floats (float32 unless changed)."""
    return _default_dtype[0]


def set_default_dtype(dtype: Any) -> None:
    """Make Python floats become `dtype` tensors (float32 or float64)."""
    dt = np.dtype(dtype)
    if dt.kind != "f":
        raise TypeError(f"set_default_dtype: only floating dtypes are allowed, got {dt}")
    _default_dtype[0] = dt


def to_array(data: Any, dtype: Any = None) -> np.ndarray:
    """NumPy array from `data`, with PyTorch's dtype rules: Python floats become float32."""
    if isinstance(data, Tensor):
        arr = data.data
    elif isinstance(data, np.ndarray):
        arr = data
    elif isinstance(data, np.generic):
        arr = np.asarray(data)
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

    `.data` is the NumPy array; `.grad` the gradient (a NumPy array, or a Tensor after
    backward(create_graph=True)); `.grad_fn` the op that made it (None for a leaf).
    """

    __slots__ = ("data", "grad", "requires_grad", "grad_fn", "name", "__weakref__")
    __array_priority__ = 1000  # so ndarray + Tensor calls Tensor.__radd__
    __hash__ = object.__hash__

    def __init__(self, data: Any, requires_grad: bool = False, dtype: Any = None, name: str | None = None):
        arr = to_array(data, dtype)
        if requires_grad and arr.dtype.kind != "f":
            raise TypeError(
                f"only floating-point tensors can require gradients, got dtype {arr.dtype}; "
                "make it a float first, e.g. tensor(data, dtype=matgrad.float32)"
            )
        self.data = arr
        self.grad: Any = None
        self.requires_grad = bool(requires_grad)
        self.grad_fn = None
        self.name = name

    @classmethod
    def _make(cls, data: Any, grad_fn: Any, requires_grad: bool) -> Tensor:
        """Fast constructor for ops: no checks, no copies."""
        t = object.__new__(cls)
        t.data = data if type(data) is np.ndarray else np.asarray(data)
        t.grad = None
        t.requires_grad = requires_grad
        t.grad_fn = grad_fn
        t.name = None
        return t

    # --- array facts ------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        """The size of each dimension."""
        return self.data.shape

    @property
    def dtype(self) -> np.dtype:
        """The element type (a NumPy dtype)."""
        return self.data.dtype

    @property
    def ndim(self) -> int:
        """Number of dimensions."""
        return self.data.ndim

    @property
    def size(self) -> Any:
        """Number of elements, as NumPy's `.size`; `size(dim)` as PyTorch's `.size()`."""
        return _Size(self.data.shape)

    def dim(self) -> int:
        """Number of dimensions (PyTorch's name)."""
        return self.data.ndim

    def numel(self) -> int:
        """Number of elements."""
        return self.data.size

    @property
    def is_leaf(self) -> bool:
        """True for tensors the user made, rather than results of recorded ops."""
        return self.grad_fn is None

    def __len__(self) -> int:
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.data.shape[0]

    def __iter__(self) -> Iterator[Tensor]:
        if self.data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self.data.shape[0]))

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return self.data if dtype is None else self.data.astype(dtype, copy=False)

    # --- conversion -------------------------------------------------------------------
    def numpy(self) -> np.ndarray:
        """The underlying NumPy array (shared, not copied)."""
        return self.data

    def item(self) -> Any:
        """The value of a one-element tensor as a Python number."""
        if self.data.size != 1:
            raise ValueError(
                f"item(): only one-element tensors can be converted to a Python number, "
                f"this one has shape {self.shape}"
            )
        return self.data.item()

    def tolist(self) -> Any:
        """The values as (nested) Python lists."""
        return self.data.tolist()

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __bool__(self) -> bool:
        if self.data.size != 1:
            raise RuntimeError(
                f"the truth value of a tensor with {self.data.size} elements is ambiguous; "
                "use .any() or .all()"
            )
        return bool(self.data)

    def __index__(self) -> int:
        if self.data.dtype.kind not in "iub" or self.data.size != 1:
            raise TypeError("only one-element integer tensors can be used as an index")
        return int(self.data.item())

    def detach(self) -> Tensor:
        """The same values, cut from the graph (shares memory)."""
        return Tensor._make(self.data, None, False)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Start (or stop) recording operations on this leaf; returns self."""
        if requires_grad and self.data.dtype.kind != "f":
            raise TypeError(f"only floating-point tensors can require gradients, got {self.dtype}")
        if not requires_grad and self.grad_fn is not None:
            raise RuntimeError("requires_grad_(False) is only for leaves; use .detach() instead")
        self.requires_grad = requires_grad
        return self

    # --- dtype and device -------------------------------------------------------------
    @property
    def device(self) -> Any:
        """Where the data lives: `matgrad.device("cpu")` (the GPU backend is a later addition)."""
        return _device.CPU

    @property
    def is_cuda(self) -> bool:
        """Whether the data lives on an NVIDIA GPU."""
        return self.device.type == "cuda"

    def to(self, *args: Any, **kwargs: Any) -> Tensor:
        """This tensor on another device and/or dtype, as PyTorch's forms.

        to(dtype), to(device), to(device, dtype), to(other) (other's device and dtype), each with
        `non_blocking=` (accepted: copies here are synchronous) and `copy=` (a new array even when
        nothing changes). A dtype change is differentiable between float types.
        """
        dev, dtype, _, copy = _device.parse_to_args(args, kwargs)
        if dev is not None:
            _device.check_available(dev)  # CUDA without a GPU backend: PyTorch's RuntimeError
        out = self
        if dtype is not None and np.dtype(dtype) != self.data.dtype:
            from .ops.shape import astype  # Tensor's methods call up into ops (see the module docstring)

            out = astype(self, dtype)
        elif copy:
            from .ops.arithmetic import mul  # a recorded copy, as PyTorch's to(copy=True)

            out = mul(self, 1) if self.requires_grad else Tensor._make(self.data.copy(), None, False)
        return out

    def astype(self, dtype: Any) -> Tensor:
        """This tensor converted to `dtype` (NumPy's name for to(dtype))."""
        return self.to(dtype)

    def type(self, dtype: Any = None, non_blocking: bool = False) -> Any:
        """With no argument, PyTorch's type string ('torch.FloatTensor'); otherwise to(dtype)."""
        if dtype is None:
            from .dtypes import TYPE_NAMES

            return "torch." + TYPE_NAMES.get(self.data.dtype, f"{self.data.dtype}Tensor")
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
        """This tensor on the CPU (itself: matgrad's tensors live there)."""
        return self

    def cuda(self, device: Any = None, non_blocking: bool = False) -> Tensor:
        """This tensor on an NVIDIA GPU; without a GPU backend, PyTorch's RuntimeError saying what to install."""
        return self.to("cuda" if device is None else _device.cuda_device(device), non_blocking=non_blocking)

    def is_floating_point(self) -> bool:
        """Whether the dtype is a float type."""
        return self.data.dtype.kind == "f"

    # --- new tensors like this one ------------------------------------------------------
    def _like(self, array: np.ndarray, dtype: Any, device: Any, requires_grad: bool) -> Tensor:
        if device is not None:
            _device.check_available(_device.resolve(device))
        if dtype is not None:
            array = array.astype(np.dtype(dtype), copy=False)
        t = Tensor._make(array, None, False)
        return t.requires_grad_(True) if requires_grad else t

    def new_zeros(self, *size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
        """Zeros of `size`, with this tensor's dtype unless `dtype` is given."""
        return self._like(np.zeros(_shape_arg(size), self.data.dtype), dtype, device, requires_grad)

    def new_ones(self, *size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
        """Ones of `size`, with this tensor's dtype unless `dtype` is given."""
        return self._like(np.ones(_shape_arg(size), self.data.dtype), dtype, device, requires_grad)

    def new_empty(self, *size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
        """An uninitialized tensor of `size`, with this tensor's dtype unless `dtype` is given."""
        return self._like(np.empty(_shape_arg(size), self.data.dtype), dtype, device, requires_grad)

    def new_full(self, size: Any, fill_value: Any, *, dtype: Any = None, device: Any = None,
                 requires_grad: bool = False) -> Tensor:
        """`fill_value` everywhere in `size`, with this tensor's dtype unless `dtype` is given."""
        return self._like(np.full(tuple(size), fill_value, self.data.dtype), dtype, device, requires_grad)

    def new_tensor(self, data: Any, *, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
        """A copy of `data` as a tensor, with this tensor's dtype unless `dtype` is given."""
        arr = np.array(data.data if isinstance(data, Tensor) else data, dtype=self.data.dtype)
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
        from .autograd import backward, engine  # Tensor's methods call up (see the module docstring)

        if gradient is None and not create_graph and self.grad_fn is not None and self.data.size == 1:
            # the common case, loss.backward(): seed 1, straight to the reverse pass
            seed = np.ones(self.data.shape, self.data.dtype)
            engine.run_backward((self,), (seed,), bool(retain_graph), False)
            return
        backward([self], None if gradient is None else [gradient], retain_graph, create_graph)

    def zero_grad(self) -> None:
        """Forget the accumulated gradient (`.grad = None`)."""
        self.grad = None

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

    # --- in-place updates (no gradient flows through these) ----------------------------
    def _check_inplace(self, what: str) -> None:
        from .autograd import grad_mode  # Tensor's methods call up (see the module docstring)

        if self.requires_grad and grad_mode._state.enabled:
            raise RuntimeError(
                f"{what}: a tensor that requires grad cannot be changed in place while "
                "operations are being recorded; wrap it in `with matgrad.no_grad():`"
            )

    def __setitem__(self, index: Any, value: Any) -> None:
        self._check_inplace("__setitem__")
        from .ops.indexing import _index_array  # Tensor's methods call up (see the module docstring)

        self.data[_index_array(index)] = value.data if isinstance(value, Tensor) else value

    def copy_(self, src: Any) -> Tensor:
        """Copy values from `src` (broadcast to this shape) into this tensor."""
        self._check_inplace("copy_")
        np.copyto(self.data, src.data if isinstance(src, Tensor) else src, casting="unsafe")
        return self

    def fill_(self, value: numbers.Number) -> Tensor:
        """Set every element to `value`."""
        self._check_inplace("fill_")
        self.data.fill(value)
        return self

    def zero_(self) -> Tensor:
        """Set every element to zero."""
        return self.fill_(0)

    def _inplace(self, ufunc: Any, name: str, other: Any) -> Tensor:
        """x op= y: in place on the data, as PyTorch; recorded out of place for a graph tensor."""
        from .autograd import grad_mode  # Tensor's methods call up (see the module docstring)

        if self.requires_grad and grad_mode._state.enabled:
            if self.grad_fn is None:
                raise RuntimeError(
                    f"{name}: a leaf tensor that requires grad cannot be changed in place while "
                    "operations are being recorded; update weights inside `with matgrad.no_grad():`"
                )
            from . import _methods  # Tensor's methods call up (see the module docstring)

            return _methods.METHODS[name.replace("__i", "__")](self, other)
        ufunc(self.data, other.data if isinstance(other, Tensor) else other, out=self.data, casting="same_kind")
        return self

    def __iadd__(self, other: Any) -> Tensor:
        return self._inplace(np.add, "__iadd__", other)

    def __isub__(self, other: Any) -> Tensor:
        return self._inplace(np.subtract, "__isub__", other)

    def __imul__(self, other: Any) -> Tensor:
        return self._inplace(np.multiply, "__imul__", other)

    def __itruediv__(self, other: Any) -> Tensor:
        return self._inplace(np.true_divide, "__itruediv__", other)

    def add_(self, other: Any, alpha: numbers.Number = 1) -> Tensor:
        """self += alpha * other, in place."""
        self._check_inplace("add_")
        o = other.data if isinstance(other, Tensor) else other
        self.data += o if alpha == 1 else alpha * o
        return self

    def mul_(self, other: Any) -> Tensor:
        """self *= other, in place."""
        self._check_inplace("mul_")
        self.data *= other.data if isinstance(other, Tensor) else other
        return self

    # --- display ----------------------------------------------------------------------
    def __repr__(self) -> str:
        body = np.array2string(
            self.data, separator=", ", precision=4, threshold=200, edgeitems=3, prefix="tensor("
        )
        extras = []
        if self.data.ndim > 1 or self.data.size > 6:
            extras.append(f"shape={self.shape}")
        if self.data.dtype not in (float32, int64, bool_):
            extras.append(f"dtype={self.data.dtype}")
        if self.grad_fn is not None:
            extras.append(f"grad_fn=<{self.grad_fn.name}Backward>")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + body + "".join(", " + e for e in extras) + ")"


    def explain(self, **kwargs: Any) -> Any:
        """Run the reverse pass from this tensor and show, node by node, how each gradient came to be."""
        from .explain import explain  # Tensor's methods call up (see the module docstring)

        return explain(self, **kwargs)


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
        return self.shape if dim is None else self.shape[dim]


def _shape_arg(shape: Sequence[Any]) -> tuple[int, ...]:
    """Accept f(2, 3) and f((2, 3)) alike, as PyTorch does."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return tuple(shape)


def as_tensor(x: Any, like: Tensor | None = None) -> Tensor:
    """`x` as a Tensor; a Python number takes `like`'s float dtype, so it never upcasts."""
    if type(x) is Tensor:
        return x
    if isinstance(x, Tensor):
        return x
    if isinstance(x, (numbers.Number, np.bool_)):  # Python and NumPy scalars alike
        if like is not None:
            kind = like.data.dtype.kind
            integral = isinstance(x, numbers.Integral) and not isinstance(x, (bool, np.bool_))
            if kind == "f" or (kind in "iu" and integral):
                return Tensor._make(np.asarray(x, like.data.dtype), None, False)
        if isinstance(x, (bool, np.bool_)):
            return Tensor._make(np.asarray(x), None, False)
        if isinstance(x, numbers.Integral):
            return Tensor._make(np.asarray(x, int64), None, False)
        return Tensor._make(np.asarray(x, _default_dtype[0]), None, False)
    return Tensor._make(to_array(x), None, False)
