"""Views by position and shape helpers: narrow, select, unflatten, unfold (sliding windows),
split_with_sizes, meshgrid, broadcast_tensors; and built from them, diag_embed, diagflat,
cartesian_prod, combinations, vander.

All compose from indexing, reshape and expand, so their gradients are those ops': a slice
puts dy back where it was cut, a window adds dy back to every element it covered.
"""
from __future__ import annotations

import warnings
from typing import Any, Sequence

import numpy as np

from ..autograd.op import Op
from ..devices import backend_of
from ..tensor import Tensor, as_tensor, mark_view, wrap_dim
from .indexing import getitem
from .join import split
from .shape import _strided, broadcast_to, reshape


def _int(x: Any) -> int:
    return int(x.item()) if isinstance(x, Tensor) else int(x)


def _shape_source(t: Tensor) -> Tensor:
    """What a slice of t is recorded as taken from: t made by an op is stood for by a fresh alias, so a slice's
    backward, which needs only t's shape, still runs after t is changed in place (PyTorch's SliceBackward keeps
    no values). A leaf stays itself: its gradient is accumulated there."""
    return t if t.grad_fn is None else Tensor._make(t.array, t.grad_fn, t.requires_grad)


def narrow(input: Any, dim: int, start: Any, length: int) -> Tensor:
    """input[..., start:start + length, ...] along dim (start may be negative)."""
    t = as_tensor(input)
    if t.ndim == 0:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    d = wrap_dim("narrow", dim, t.ndim)
    n, start, length = t.shape[d], _int(start), _int(length)
    if not -n <= start <= n:
        raise IndexError(f"narrow(): start ({start}) is out of range for dimension {d} of size {n} "
                         f"(expected to be in range of [{-n}, {n}])")
    if start < 0:
        start += n
    if length < 0 or start + length > n:
        raise RuntimeError(f"narrow(): start ({start}) + length ({length}) exceeds dimension size ({n}).")
    return mark_view(getitem(_shape_source(t), (slice(None),) * d + (slice(start, start + length),)), t)


def narrow_copy(input: Any, dim: int, start: Any, length: int) -> Tensor:
    """narrow, as a copy."""
    return narrow(input, dim, start, length) * 1


def view_index(input: Any, index: Any) -> Tensor:
    """input[index] (Tensor.__getitem__), marked as a view of input where PyTorch's is one: an index of ints,
    slices, None and ... (an int for every dim included: a 0-d view, where NumPy would copy out a number)."""
    t = as_tensor(input)
    parts = index if type(index) is tuple else (index,)
    ellipsis = new_dims = ints = False
    for p in parts:
        kind = type(p)
        if kind is slice or kind is int:
            continue
        if p is None:
            new_dims = True
        elif p is Ellipsis:
            ellipsis = True
        elif isinstance(p, Tensor) and p.array.ndim == 0 and p.array.dtype.kind in "iu":
            ints = True  # a 0-d integer tensor indexes as its number, as in PyTorch
        elif not isinstance(p, (int, np.integer)) or isinstance(p, (bool, np.bool_)):
            return getitem(t, index)  # an advanced index: a copy, as PyTorch's
    if ints:
        parts = tuple(int(p.item()) if isinstance(p, Tensor) else p for p in parts)
    if not ellipsis:  # NumPy gives a view (a 0-d one too) where an Ellipsis is in the index
        parts = parts + (Ellipsis,)
    try:
        out = getitem(_shape_source(t), parts)
    except IndexError:
        return getitem(t, index)  # its error names the index as the caller wrote it
    if out.array.base is None:
        return out
    if new_dims:  # a new dim's stride as PyTorch's unsqueeze gives it (NumPy's is 0)
        dims, k = [], 0
        for p in parts:
            if p is None:
                dims.append(k)
            if p is Ellipsis:
                k += t.ndim - sum(1 for q in parts if q is not None and q is not Ellipsis)
            elif p is None or type(p) is slice:
                k += 1
        stride = list(out.stride())
        for d in reversed(dims):
            stride[d] = out.shape[d + 1] * stride[d + 1] if d + 1 < out.ndim else 1
        out.array = _strided(out.array, out.array.shape, tuple(stride))
    return mark_view(out, t)


def select(input: Any, dim: int, index: Any) -> Tensor:
    """input[..., index, ...] along dim: that dim is removed."""
    t = as_tensor(input)
    if t.ndim == 0:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    d = wrap_dim("select", dim, t.ndim)
    n, i = t.shape[d], _int(index)
    if not -n <= i < n:
        raise IndexError(f"select(): index {i} out of range for tensor of size {tuple(t.shape)} at dimension {d}")
    return mark_view(getitem(_shape_source(t), (slice(None),) * d + (i, Ellipsis)), t)  # Ellipsis: a 0-d view


def unflatten(input: Any, dim: int, sizes: Sequence[int]) -> Tensor:
    """Split dim into `sizes` (one of them may be -1)."""
    t = as_tensor(input)
    d = wrap_dim("unflatten", dim, t.ndim)
    sizes = tuple(int(s) for s in sizes)
    if not sizes:
        raise RuntimeError("unflatten: sizes must be non-empty")
    n = t.shape[d] if t.ndim else 1
    if sizes.count(-1) > 1:
        raise RuntimeError(f"unflatten: only one dimension can be inferred, got sizes {list(sizes)}")
    known = int(np.prod([s for s in sizes if s != -1], dtype=np.int64))
    if (-1 in sizes and (known == 0 or n % known)) or (-1 not in sizes and known != n):
        raise RuntimeError(f"unflatten: Provided sizes {list(sizes)} don't multiply up to the size of dim {d} "
                           f"({n}) in the input tensor")
    return reshape(t, t.shape[:d] + sizes + t.shape[d + 1:])


def unfold(input: Any, dimension: int, size: int, step: int) -> Tensor:
    """Every window of `size` elements along dimension, `step` apart, in a new last dim (Tensor.unfold)."""
    t = as_tensor(input)
    d = wrap_dim("unfold", dimension, t.ndim)
    n = t.shape[d] if t.ndim else 1
    if size < 0 or size > n:
        raise RuntimeError(f"unfold(): maximum size for tensor at dimension {d} is {n} but size is {size}")
    if step <= 0:
        raise RuntimeError(f"unfold(): step is {step} but must be > 0")
    if t.ndim == 0:
        return reshape(t, (1,))
    return mark_view(Unfold.apply(t, dim=d, size=size, step=step), t)


class Unfold(Op):
    """y = the windows of x along dim, as a view of x's memory (PyTorch's strides).  dx = zeros like x, with
    each window's dy added back where it was cut."""

    def forward(self, x, dim, size, step):
        self.in_shape, self.dim, self.size, self.step = x.shape, dim, size, step
        count = (x.shape[dim] - size) // step + 1
        stride = [s // x.itemsize for s in x.strides]
        shape = x.shape[:dim] + (count,) + x.shape[dim + 1:] + (size,)
        return _strided(x, shape, tuple(stride[:dim] + [stride[dim] * step] + stride[dim + 1:] + [stride[dim]]))

    def backward(self, dy):
        dim, size, step = self.dim, self.size, self.step
        count = dy.shape[dim]
        xp = np if type(dy) is np.ndarray or self.xp.name == "graph" else backend_of(dy).xp
        windows = xp.arange(count)[:, None] * step + xp.arange(size)[None, :]  # (count, size)
        order = list(range(dy.ndim))  # the window dim back beside the count dim: as x[..., windows, ...] has them
        order.insert(dim + 1, order.pop())
        return self.xp.index_add(self.in_shape, (slice(None),) * dim + (windows,), self.xp.transpose(dy, order),
                                 False)


class Diagonal(Op):
    """y = the diagonal of dims d1 and d2 of x (offset above it), as a view of x's memory.  dx = zeros like x,
    with dy on that diagonal."""

    def forward(self, x, offset, d1, d2):
        from .linalg import _diagonal_index

        self.in_shape = x.shape
        self.index = _diagonal_index(x.shape, offset, d1, d2, x)
        n = max(0, min(x.shape[d1] - max(-offset, 0), x.shape[d2] - max(offset, 0)))
        stride = [s // x.itemsize for s in x.strides]
        if n:  # the first element: `offset` along d2 (or -offset along d1), PyTorch's storage offset
            x = x[(slice(None),) * d2 + (slice(offset, None),)] if offset >= 0 else \
                x[(slice(None),) * d1 + (slice(-offset, None),)]
        keep = [k for k in range(x.ndim) if k not in (d1, d2)]
        return _strided(x, tuple(x.shape[k] for k in keep) + (n,),
                        tuple(stride[k] for k in keep) + (stride[d1] + stride[d2],))

    def backward(self, dy):
        return self.xp.index_add(self.in_shape, self.index, dy, False)


def diagonal(input: Any, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """The diagonal of dims dim1 and dim2 (`offset` above it, or below if negative), as the last dim: a view of
    input's memory, as PyTorch's (an in-place change of it changes input)."""
    t = as_tensor(input)
    d1, d2 = wrap_dim("diagonal", dim1, t.ndim), wrap_dim("diagonal", dim2, t.ndim)  # IndexError, as PyTorch
    if d1 == d2:
        raise RuntimeError(f"diagonal: diagonal dimensions cannot be identical {dim1}, {dim2} (shape {t.shape})")
    return mark_view(Diagonal.apply(t, offset=int(offset), d1=d1, d2=d2), t)


def unbind(input: Any, dim: int = 0) -> tuple[Tensor, ...]:
    """The slices along `dim`, that dimension removed: views of input (0-d ones too), as PyTorch's."""
    t = as_tensor(input)
    d = wrap_dim("unbind", dim, t.ndim)
    if t.ndim == 0:  # dim 0 and -1 pass wrap_dim (a 0-d tensor counts as 1-D) but name nothing here
        raise IndexError("unbind: Dimension specified as 0 but tensor has no dimensions")
    source = _shape_source(t)
    return multi_views([getitem(source, (slice(None),) * d + (i, Ellipsis)) for i in range(t.shape[d])], t)


def multi_views(pieces: Any, input: Any, multi: bool = True) -> tuple[Tensor, ...]:
    """The pieces an op cut from input (split, chunk, unbind ...) marked as views of it, as PyTorch's: with
    `multi`, ones that an in-place change on a graph may not go through (tensor_split's pieces are plain
    slices in PyTorch, which it may)."""
    t = as_tensor(input)
    return tuple(mark_view(p, t, multi=multi) if p.array.base is not None else p for p in pieces)


def split_with_sizes(input: Any, split_sizes: Sequence[int], dim: int = 0) -> tuple[Tensor, ...]:
    """Pieces of the given sizes along dim; they must add up to the dim's size."""
    t = as_tensor(input)
    d = wrap_dim("split_with_sizes", dim, t.ndim)
    sizes = [int(s) for s in split_sizes]
    n = t.shape[d] if t.ndim else 1
    if sum(sizes) != n or any(s < 0 for s in sizes):
        raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {n} (input tensor's size at "
                           f"dimension {d}), but got split_sizes={sizes}")
    return multi_views(split(t, sizes, d), t)


def _tensor_args(op: str, tensors: tuple[Any, ...]) -> list[Tensor]:
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    return [as_tensor(x) for x in tensors]


def meshgrid(*tensors: Any, indexing: str | None = None) -> tuple[Tensor, ...]:
    """Coordinate grids from 1-d tensors: 'ij' (matrix, the default) or 'xy' (Cartesian) indexing."""
    ts = _tensor_args("meshgrid", tensors)
    if indexing is None:
        warnings.warn("torch.meshgrid: in an upcoming release, it will be required to pass the indexing argument.",
                      UserWarning, stacklevel=2)
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f"meshgrid: indexing must be one of 'xy' or 'ij', but received: {indexing}")
    for i, x in enumerate(ts):
        if x.ndim > 1:
            raise RuntimeError(f"meshgrid: Expected 0D or 1D tensor in the tensor list but got: {x.ndim}-d "
                               f"(tensor {i}, shape {tuple(x.shape)})")
    if not ts:
        return ()
    flat = [reshape(x, (-1,)) for x in ts]
    swap = indexing == "xy" and len(flat) >= 2
    if swap:
        flat[0], flat[1] = flat[1], flat[0]
    shape = tuple(x.shape[0] for x in flat)
    k = len(flat)
    grids = [broadcast_to(reshape(x, (1,) * i + (-1,) + (1,) * (k - i - 1)), shape) for i, x in enumerate(flat)]
    if swap:
        grids[0], grids[1] = grids[1], grids[0]
    return tuple(grids)


def broadcast_tensors(*tensors: Any) -> tuple[Tensor, ...]:
    """Each tensor expanded to their common broadcast shape."""
    ts = _tensor_args("broadcast_tensors", tensors)
    try:
        shape = np.broadcast_shapes(*(x.shape for x in ts))
    except ValueError:
        raise RuntimeError("broadcast_tensors: shapes " + ", ".join(str(tuple(x.shape)) for x in ts)
                           + " do not broadcast together") from None
    return tuple(x if x.shape == shape else broadcast_to(x, shape) for x in ts)


def broadcast_shapes(*shapes: Any) -> tuple[int, ...]:
    """The broadcast shape of the given shapes (ints count as 1-d shapes)."""
    try:
        return tuple(np.broadcast_shapes(*((s,) if isinstance(s, int) else tuple(s) for s in shapes)))
    except ValueError:
        raise RuntimeError(f"broadcast_shapes: shapes {list(shapes)} do not broadcast together") from None


def diag_embed(input: Any, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """A tensor with input's last dim on the diagonal (`offset` above the main one) of the planes of dims
    dim1 and dim2 of the output, which has one dim more; zeros elsewhere."""
    from .indexing import IndexPut
    from .shape import movedim

    t = as_tensor(input)
    nd = t.ndim + 1
    d1, d2 = wrap_dim("diag_embed", dim1, nd), wrap_dim("diag_embed", dim2, nd)
    if d1 == d2:
        raise RuntimeError(f"diag_embed: diagonal dimensions cannot be identical {dim1}, {dim2}")
    if t.ndim == 0:
        t = reshape(t, (1,))
    n, k = t.shape[-1], int(offset)
    m = n + abs(k)
    rows = np.arange(n) + max(-k, 0)  # a host index: IndexPut moves it to t's device
    xp = np if type(t.array) is np.ndarray else backend_of(t.array).xp  # the zeros made on t's device
    zeros = Tensor._make(xp.zeros(t.shape[:-1] + (m, m), t.array.dtype), None, False)
    out = IndexPut.apply(zeros, t, index=(Ellipsis, rows, rows + k))
    return movedim(out, (nd - 2, nd - 1), (d1, d2))


def diagflat(input: Any, offset: int = 0) -> Tensor:
    """A square matrix with the flattened input on its diagonal (`offset` above the main one)."""
    return diag_embed(reshape(as_tensor(input), (-1,)), offset)


def _vectors(op: str, tensors: tuple[Any, ...]) -> list[Tensor]:
    ts = _tensor_args(op, tensors)
    for x in ts:
        if x.ndim != 1:
            raise RuntimeError(f"{op}: Expect a 1D vector, but got shape {list(x.shape)}")
    return ts


def cartesian_prod(*tensors: Any) -> Tensor:
    """Every combination of one element from each 1-D tensor, as rows (itertools.product's order)."""
    from .join import stack

    ts = _vectors("cartesian_prod", tensors)
    if len(ts) == 1:
        return ts[0]
    return stack([reshape(g, (-1,)) for g in meshgrid(*ts, indexing="ij")], 1)


def combinations(input: Any, r: int = 2, with_replacement: bool = False) -> Tensor:
    """The length-r combinations of a 1-D tensor's elements, as rows (itertools.combinations' order;
    with_replacement: combinations_with_replacement)."""
    import itertools

    (t,) = _vectors("combinations", (input,))
    if r < 0:
        raise RuntimeError(f"combinations: Expect a non-negative number, but got {r}")
    if r == 0:
        return getitem(t, slice(0, 0))
    pick = itertools.combinations_with_replacement if with_replacement else itertools.combinations
    idx = np.array(list(pick(range(t.shape[0]), r)), dtype=np.int64).reshape(-1, r)
    return getitem(t, idx)


def vander(x: Any, N: int | None = None, increasing: bool = False) -> Tensor:  # noqa: N803 - PyTorch's name
    """The Vandermonde matrix of a 1-D x: column j is x ** (N - 1 - j) (x ** j with increasing), made as
    PyTorch makes it, a running product, so the gradient at x = 0 is finite."""
    from .cumulative import cumprod
    from .indexing import flip
    from .join import cat

    t = as_tensor(x)
    if t.ndim != 1:
        raise RuntimeError("vander: x must be a one-dimensional tensor.")
    n = t.shape[0] if N is None else int(N)
    if n < 0:
        raise RuntimeError("vander: N must be non-negative.")
    if t.array.dtype.kind in "biu":
        t = t.to(np.int64)
    xp = np if type(t.array) is np.ndarray else backend_of(t.array).xp  # the ones made on t's device
    ones = Tensor._make(xp.ones((t.shape[0], min(n, 1)), t.array.dtype), None, False)
    if n <= 1:
        return ones
    powers = cumprod(broadcast_to(reshape(t, (-1, 1)), (t.shape[0], n - 1)), 1)
    out = cat([ones, powers], 1)
    return out if increasing else flip(out, (1,))
