"""Shape ops: reshape, transpose, permute, movedim, squeeze, unsqueeze, expand, flatten, ravel, atleast_nd,
astype.

They move values without changing them, so each backward moves the gradient back the
same way. expand's backward is the engine's own "a copy sums".
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd.op import Op
from ..devices import backend_of
from ..memory_format import check as _check_format
from ..memory_format import contiguous_format, preserve_format, relayout, to_format
from ..tensor import Tensor, _shape_arg, as_tensor, mark_view, share_version, wrap_dim


class Reshape(Op):
    """y = x viewed with another shape (with the given strides, in elements: a view PyTorch's way).
    dx = dy reshaped back."""

    def forward(self, x, shape, strides=None):
        self.in_shape = x.shape  # kept, so a later in-place change of x does not stop this backward (PyTorch's)
        if strides is None:
            return np.reshape(x, shape)
        if x.flags.c_contiguous:  # NumPy's view, where its strides are the ones asked for (faster to make)
            y = np.reshape(x, shape)
            if y.strides == tuple(s * x.itemsize for s in strides):
                return y
        return _strided(x, shape, strides)

    def backward(self, dy):
        return self.xp.reshape(dy, self.in_shape)


def _strided(x: Any, shape: tuple[int, ...], strides: tuple[int, ...]) -> Any:
    """A view of x's memory with the given shape and strides (in elements), from x's first element."""
    xp = np if type(x) is np.ndarray else backend_of(x).xp
    return xp.lib.stride_tricks.as_strided(x, shape, tuple(s * x.itemsize for s in strides))


def compute_stride(oldshape: tuple[int, ...], oldstride: tuple[int, ...],
                   newshape: tuple[int, ...]) -> tuple[int, ...] | None:
    """The strides a view of newshape has on a tensor of oldshape and oldstride, or None where no view can
    have it (PyTorch's at::detail::computeStride): each run of dims merged or split must be contiguous
    within itself, while dims of size 1 may have any stride."""
    if not oldshape:
        return (1,) * len(newshape)
    numel = int(np.prod(oldshape, dtype=np.int64))
    if numel == 0:
        if tuple(oldshape) == tuple(newshape):
            return tuple(oldstride)
        out, step = [], 1
        for n in reversed(newshape):
            out.append(step)
            step *= max(n, 1)
        return tuple(reversed(out))
    newstride = [0] * len(newshape)
    view_d = len(newshape) - 1
    chunk_base_stride = oldstride[-1]
    tensor_numel = view_numel = 1
    for tensor_d in range(len(oldshape) - 1, -1, -1):
        tensor_numel *= oldshape[tensor_d]
        if tensor_d == 0 or (oldshape[tensor_d - 1] != 1
                             and oldstride[tensor_d - 1] != tensor_numel * chunk_base_stride):
            while view_d >= 0 and (view_numel < tensor_numel or newshape[view_d] == 1):
                newstride[view_d] = view_numel * chunk_base_stride
                view_numel *= newshape[view_d]
                view_d -= 1
            if view_numel != tensor_numel:
                return None
            if tensor_d > 0:
                chunk_base_stride = oldstride[tensor_d - 1]
                tensor_numel = view_numel = 1
    if view_d != -1:
        return None
    return tuple(newstride)


def _as_view(op: str, t: Tensor, new: tuple[int, ...]) -> Tensor | None:
    """t viewed with shape `new` (a view of its memory, PyTorch's strides), or None where its strides allow none."""
    a = t.array
    if a.flags.c_contiguous and a.size and 1 not in a.shape:  # row-major strides: NumPy's are PyTorch's here
        out = Reshape.apply(t, shape=new)
    else:
        strides = compute_stride(a.shape, t.stride(), new)
        if strides is None:
            return None
        out = Reshape.apply(t, shape=new, strides=strides)
    return mark_view(out, t)


class Permute(Op):
    """y = x with its axes reordered.  dx = dy with the inverse order."""

    def forward(self, x, axes):
        self.axes = axes
        return np.transpose(x, axes)

    def backward(self, dy):
        return self.xp.transpose(dy, tuple(np.argsort(self.axes)))


class Expand(Op):
    """y = x broadcast to a larger shape.  dx = dy summed over the copies (by the engine)."""

    def forward(self, x, shape):
        lead = len(shape) - x.ndim
        if shape != x.shape and 1 not in shape and 0 not in shape and type(x) is np.ndarray:
            return np.broadcast_to(x, shape)  # some elements repeat: read-only is right, and NumPy's strides are
        # PyTorch's (inferExpandGeometry) here; otherwise computed, and writable, as PyTorch refuses an in-place
        # change only where two elements share memory
        item, strides = x.itemsize, [0] * len(shape)
        for i in range(len(shape) - 1, -1, -1):
            size, stride = (x.shape[i - lead], x.strides[i - lead] // item) if i >= lead else (
                1, shape[i + 1] * strides[i + 1] if i + 1 < len(shape) else 1)
            strides[i] = 0 if size != shape[i] else stride
        overlap = any(s == 0 and n > 1 for s, n in zip(strides, shape))
        if type(x) is not np.ndarray:
            return _strided(x, shape, strides)
        return np.lib.stride_tricks.as_strided(x, shape, tuple(s * item for s in strides), writeable=not overlap)

    def backward(self, dy):
        return dy


class AsType(Op):
    """y = x converted to another dtype.  dx = dy converted back."""

    def forward(self, x, dtype):
        return x.astype(dtype)

    def backward(self, dy):
        return dy


def _resolve_shape(op: str, size: int, shape: tuple[int, ...], old: tuple[int, ...]) -> tuple[int, ...]:
    """The target shape with its -1 filled in; PyTorch's RuntimeError for one that cannot hold `size` elements."""
    shape = tuple(int(s) for s in shape)
    if shape.count(-1) > 1:
        raise RuntimeError(f"{op}: only one dimension can be inferred (-1), got {shape}")
    if shape and min(shape) < -1:
        i = next(i for i, s in enumerate(shape) if s < -1)
        raise RuntimeError(f"{op}: invalid shape dimension {shape[i]} at index {i} of shape {list(shape)}")
    known = int(np.prod([s for s in shape if s != -1], dtype=np.int64))
    if -1 in shape:
        if known == 0 or size % known:
            raise RuntimeError(f"{op}: cannot reshape {old} ({size} elements) to {shape}: shape {list(shape)} is "
                               f"invalid for input of size {size}")
        shape = tuple(size // known if s == -1 else s for s in shape)
    elif known != size:
        raise RuntimeError(f"{op}: cannot reshape {old} ({size} elements) to {shape} ({known} elements): shape "
                           f"{list(shape)} is invalid for input of size {size}")
    return shape


def reshape(input: Any, *shape: Any) -> Tensor:
    """The same elements in a new shape; one dimension may be -1 (inferred). A view of input's memory where
    its strides allow one (as PyTorch: even for the same shape), else a copy."""
    t = as_tensor(input)
    new = _resolve_shape("reshape", t.array.size, _shape_arg(shape), t.array.shape)
    out = _as_view("reshape", t, new)
    return Reshape.apply(t, shape=new) if out is None else out


def view(input: Any, *shape: Any) -> Tensor:
    """input's memory seen with another shape (one dimension may be -1): a view wherever input's strides allow
    one (PyTorch's rule), else a copy, as reshape.

    PyTorch raises there instead. matgrad does not, because its conv and pooling outputs lie channel-major,
    (C, N, H, W) or (C, H, N, W) in memory, where PyTorch's are contiguous: `pool(conv(x)).view(n, -1)`, which
    PyTorch runs, would be refused. So an in-place change through such a "view" does not reach input (README,
    where matgrad differs)."""
    t = as_tensor(input)
    new = _resolve_shape("view", t.array.size, _shape_arg(shape), t.array.shape)
    out = _as_view("view", t, new)
    return Reshape.apply(t, shape=new) if out is None else out


#: PyTorch's names of the dtypes, as its errors print them (view(dtype)).
_SCALAR_NAMES = {"float16": "Half", "float32": "Float", "float64": "Double", "int8": "Char", "int16": "Short",
                 "int32": "Int", "int64": "Long", "uint8": "Byte", "bool": "Bool", "uint16": "UInt16",
                 "uint32": "UInt32", "uint64": "UInt64"}


def view_dtype(input: Any, dtype: Any) -> Tensor:
    """input's bytes read as `dtype` (PyTorch's Tensor.view(dtype)): the same shape for an element of the same
    size, else the last dim scaled by the ratio of sizes (which needs it contiguous). It shares input's memory
    and version counter but is not differentiable: no history, requires_grad False, as PyTorch's."""
    t = as_tensor(input)
    a = t.array
    dt = np.dtype(dtype)
    if dt.kind not in "biuf":
        raise TypeError(f"view(): matgrad has no dtype {dt} (its dtypes are bool, integers and floats)")
    old, new = a.itemsize, dt.itemsize
    what = f"to view {_SCALAR_NAMES.get(a.dtype.name, a.dtype.name)} as {_SCALAR_NAMES.get(dt.name, dt.name)} " \
           "(different element sizes)"
    if old != new:
        if a.ndim == 0:
            raise RuntimeError(f"self.dim() cannot be 0 {what}")
        stride = t.stride()
        if old > new:
            if stride[-1] != 1:
                raise RuntimeError(f"self.stride(-1) must be 1 {what}, but got {stride[-1]}")
        else:
            ratio = new // old
            if a.shape[-1] % ratio:
                raise RuntimeError(f"self.size(-1) must be divisible by {ratio} {what}, but got {a.shape[-1]}")
            if t.storage_offset() % ratio:
                raise RuntimeError(f"self.storage_offset() must be divisible by {ratio} {what}, but got "
                                   f"{t.storage_offset()}")
            if stride[-1] != 1:
                raise RuntimeError(f"self.stride(-1) must be 1 {what}, but got {stride[-1]}")
            for d, s in enumerate(stride[:-1]):
                if s % ratio:
                    raise RuntimeError(f"self.stride({d}) must be divisible by {ratio} {what}, but got {s}")
    out = a.view(dt)  # NumPy's rule for the shape and strides is PyTorch's, once PyTorch's checks pass
    return share_version(Tensor._make(out, None, False), t)


def permute(input: Any, *dims: Any) -> Tensor:
    """Reorder the dimensions: permute(x, (2, 0, 1))."""
    t = as_tensor(input)
    dims = _shape_arg(dims)
    if len(dims) != t.ndim:
        raise RuntimeError(f"permute: {tuple(dims)} is not a permutation of the {t.ndim} dims (the number of "
                           f"dimensions in the tensor input does not match the length of the desired ordering)")
    axes = tuple(wrap_dim("permute", d, t.ndim) for d in dims)
    if len(set(axes)) != len(axes):
        raise RuntimeError(f"permute: {tuple(dims)} is not a permutation of the {t.ndim} dims (duplicate dims are "
                           "not allowed)")
    return mark_view(Permute.apply(t, axes=axes), t)


def transpose(input: Any, dim0: int, dim1: int) -> Tensor:
    """Swap two dimensions."""
    t = as_tensor(input)
    a, b = wrap_dim("transpose", dim0, t.ndim), wrap_dim("transpose", dim1, t.ndim)
    axes = list(range(t.ndim))
    if t.ndim >= 2:  # a 0-d or 1-D tensor is its own transpose (once the dims are valid): still a view, as PyTorch's
        axes[a], axes[b] = axes[b], axes[a]
    return mark_view(Permute.apply(t, axes=tuple(axes)), t)


swapaxes = swapdims = transpose


def t(input: Any) -> Tensor:
    """Transpose of a matrix (a 0-d or 1-D tensor is returned as is)."""
    x = as_tensor(input)
    if x.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {x.ndim}D (shape {x.shape}); "
                           "use transpose or permute")
    return transpose(x, 0, min(x.ndim, 2) - 1)  # 0-d and 1-D: a view of the tensor as it is, as PyTorch's


def squeeze(input: Any, dim: Any = None) -> Tensor:
    """Remove dimensions of size 1 (only `dim`, if given)."""
    x = as_tensor(input)
    if dim is None:
        new = tuple(s for s in x.shape if s != 1)
    else:
        dims = [wrap_dim("squeeze", d, x.ndim) for d in ((dim,) if isinstance(dim, (int, np.integer)) else dim)]
        if len(set(dims)) != len(dims):
            twice = next(d for d in dims if dims.count(d) > 1)
            raise RuntimeError(f"squeeze: dim {twice} appears multiple times in the list of dims")
        new = tuple(s for i, s in enumerate(x.shape) if not (i in dims and s == 1))
    gone = [i for i, s in enumerate(x.shape) if s == 1 and (dim is None or i in dims)]
    stride = x.stride()  # the others keep their strides, as PyTorch's
    return mark_view(Reshape.apply(x, shape=new, strides=tuple(s for i, s in enumerate(stride) if i not in gone)), x)


def unsqueeze(input: Any, dim: int) -> Tensor:
    """Insert a dimension of size 1 at `dim`."""
    x = as_tensor(input)
    d = wrap_dim("unsqueeze", dim, x.ndim + 1)
    stride = x.stride()  # the new dim's stride as PyTorch's: what a step along the next dim would be
    step = 1 if d >= x.ndim else x.shape[d] * stride[d]
    return mark_view(Reshape.apply(x, shape=x.shape[:d] + (1,) + x.shape[d:],
                                   strides=stride[:d] + (step,) + stride[d:]), x)


def flatten(input: Any, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dimensions start_dim..end_dim into one."""
    x = as_tensor(input)
    s, e = wrap_dim("flatten", start_dim, x.ndim), wrap_dim("flatten", end_dim, x.ndim)
    if x.ndim == 0:
        return reshape(x, (1,))
    if s > e:
        raise RuntimeError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim} (flatten() has invalid "
                           "args: start_dim cannot come after end_dim)")
    if s == e:  # nothing to merge: the tensor itself, as PyTorch's
        return x
    merged = int(np.prod(x.shape[s:e + 1], dtype=np.int64))  # not -1: that is ambiguous for 0 elements
    return reshape(x, x.shape[:s] + (merged,) + x.shape[e + 1:])


def expand(input: Any, *sizes: Any) -> Tensor:
    """Broadcast to a larger shape without copying; -1 keeps a dimension's size."""
    x = as_tensor(input)
    return mark_view(_expand("expand", x, tuple(int(s) for s in _shape_arg(sizes))), x)


def _expand(op: str, x: Tensor, sizes: tuple[int, ...]) -> Tensor:
    """x expanded to `sizes` (-1 keeps a size), with PyTorch's RuntimeError for a size it cannot take."""
    lead = len(sizes) - x.ndim
    if lead < 0:
        raise RuntimeError(f"{op}: the target {sizes} has fewer dimensions than the tensor {x.shape} (the number "
                           f"of sizes provided ({len(sizes)}) must be greater or equal to the number of dimensions "
                           f"in the tensor ({x.ndim}))")
    shape = []
    for i, s in enumerate(sizes):
        old = x.shape[i - lead] if i >= lead else None
        if s == -1 and old is None:
            raise RuntimeError(f"{op}: the expanded size of the tensor (-1) isn't allowed in a leading, "
                               f"non-existing dimension {i} (target {sizes}, tensor {x.shape})")
        if s == -1 or s == old:
            shape.append(old)
        elif old in (None, 1) and s >= 0:
            shape.append(s)
        else:
            raise RuntimeError(f"{op}: shape {x.shape} cannot be broadcast to {sizes} (each size must match or be "
                               "1, counting from the right): the expanded size of the tensor "
                               f"({s}) must match the existing size ({old}) at non-singleton dimension {i}")
    return Expand.apply(x, shape=tuple(shape))  # a view, even of the same shape (as PyTorch's)


def broadcast_to(input: Any, shape: Any) -> Tensor:
    """Broadcast to `shape` as PyTorch's expand: -1 keeps a size."""
    x = as_tensor(input)
    return mark_view(_expand("broadcast_to", x, tuple(int(s) for s in shape)), x)


def expand_as(input: Any, other: Tensor) -> Tensor:
    """Broadcast to `other`'s shape."""
    return broadcast_to(input, other.shape)


def astype(input: Any, dtype: Any) -> Tensor:
    """Convert to `dtype`; differentiable between float types."""
    x = as_tensor(input)
    dt = np.dtype(dtype)
    if dt == x.dtype:
        return x
    if dt.kind != "f" and x.requires_grad:
        return Tensor._make(x.array.astype(dt), None, False)
    return AsType.apply(x, dtype=dt)


class Contiguous(Op):
    """y = x laid out in row-major order (a copy).  dx = dy."""

    def forward(self, x):
        return np.ascontiguousarray(x) if type(x) is np.ndarray else x.copy()  # a copy is row-major on a device

    def backward(self, dy):
        return dy


class Clone(Op):
    """y = a copy of x: row-major, or laid out in memory_format, or with the given strides (in elements).  dx = dy."""

    def forward(self, x, memory_format=None, strides=None):
        if strides is not None:
            return relayout(x, strides)
        return x.copy() if memory_format is None else to_format(x, memory_format)

    def backward(self, dy):
        return dy


def clone(input: Any, *, memory_format: Any = preserve_format) -> Tensor:
    """A copy that shares no memory with input; the gradient flows through it unchanged. preserve_format
    keeps input's layout (a dense input's strides), as PyTorch's; matgrad.channels_last ... lays it out so."""
    return Clone.apply(as_tensor(input), memory_format=_check_format(memory_format, "clone"))


def contiguous(input: Any, memory_format: Any = contiguous_format) -> Tensor:
    """The tensor itself if its elements lie in row-major order (or memory_format's), else a copy laid out
    so (as PyTorch)."""
    t = as_tensor(input)
    if memory_format is contiguous_format:
        return t if t.array.flags.c_contiguous else Contiguous.apply(t)
    fmt = _check_format(memory_format, "contiguous", optional=False)
    if t.is_contiguous(memory_format=fmt):
        return t
    if fmt is preserve_format:
        raise RuntimeError("preserve memory format is unsupported by the contiguous operator")
    return Clone.apply(t, memory_format=fmt)


def movedim(input: Any, source: Any, destination: Any) -> Tensor:
    """The dims at `source` moved to `destination` (ints or sequences), the others keeping their order:
    a view (permute)."""
    t = as_tensor(input)
    src = [source] if isinstance(source, (int, np.integer)) else list(source)
    dst = [destination] if isinstance(destination, (int, np.integer)) else list(destination)
    if len(src) != len(dst):
        raise RuntimeError(f"movedim: Invalid source or destination dims: source ({src} dims) should contain the "
                           f"same number of dims as destination ({dst} dims)")
    src = [wrap_dim("movedim", d, t.ndim) for d in src]
    dst = [wrap_dim("movedim", d, t.ndim) for d in dst]
    for name, dims in (("source", src), ("destination", dst)):
        if len(set(dims)) != len(dims):
            raise RuntimeError(f"movedim: repeated dim in `{name}` ({dims})")
    if t.ndim == 0:
        return t
    rest = iter(d for d in range(t.ndim) if d not in src)
    placed = dict(zip(dst, src))
    order = tuple(placed[i] if i in placed else next(rest) for i in range(t.ndim))
    return mark_view(Permute.apply(t, axes=order), t)  # a view even when nothing moves, as PyTorch's


moveaxis = movedim


def ravel(input: Any) -> Tensor:
    """The elements as a 1-D tensor: a view when they lie in row-major order, else a copy (as PyTorch)."""
    return reshape(contiguous(input), (-1,))  # not reshape alone: that views some non-contiguous tensors too


def _atleast(op: str, nd: int, tensors: tuple[Any, ...]) -> Any:
    single = len(tensors) == 1 and not isinstance(tensors[0], (list, tuple))
    items = tensors[0] if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)) else tensors
    out = []
    for x in items:
        t = as_tensor(x)
        if t.ndim >= nd:
            out.append(t)
        elif nd == 3 and t.ndim == 2:
            out.append(reshape(t, t.shape + (1,)))
        elif nd == 3 and t.ndim == 1:
            out.append(reshape(t, (1,) + t.shape + (1,)))
        else:
            out.append(reshape(t, (1,) * (nd - t.ndim) + t.shape))
    return out[0] if single else tuple(out)


def atleast_1d(*tensors: Any) -> Any:
    """Each tensor with at least one dim (a 0-d one becomes shape (1,)); several give a tuple."""
    return _atleast("atleast_1d", 1, tensors)


def atleast_2d(*tensors: Any) -> Any:
    """Each tensor with at least two dims (shape (n,) becomes (1, n)); several give a tuple."""
    return _atleast("atleast_2d", 2, tensors)


def atleast_3d(*tensors: Any) -> Any:
    """Each tensor with at least three dims ((n,) becomes (1, n, 1), (m, n) becomes (m, n, 1)), as NumPy."""
    return _atleast("atleast_3d", 3, tensors)
