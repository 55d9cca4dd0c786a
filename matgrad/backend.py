"""The seam where an op learns what it runs on: plain arrays, or a recorded graph.

The engine hands every node one `ArrayNamespace` as `self.xp`, and an op's backward is
written once against it, with NumPy's names and signatures (`xp.exp`, `xp.sum(x, axis=...)`,
`xp.where`); operators (`+ * @ .T x[idx]`) work on what it holds either way.

- `numpy_ns` is plain NumPy arrays on the CPU: a first-order backward. `xp.plain` is True,
  so an op may take a fast path that works on raw arrays (in-place updates, reuse of what
  its forward kept). That is the one spelling of a fast path: `if xp.plain:`.
- The graph namespace (`matgrad.ops.graph_namespace`) is the same names over matgrad's
  own differentiable ops, so under `create_graph=True` the backward is recorded too and
  its result can be differentiated again. `xp.plain` is False there.

Device-specific tricks never appear in an op: they sit behind a namespace's functions
(`where`, `erf`, `erfc`, `softplus`, `index_add`, `sum_to` come from `matgrad.kernels` here). A
second device is a second plain namespace with its own array module and kernels.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from . import kernels


class ArrayNamespace:
    """The array functions an op's backward calls, for one kind of array.

    `name` says which ("numpy", "graph"); `plain` whether these are plain arrays (no graph
    is recorded, fast in-place paths are allowed); `device` where the arrays live.
    """

    def __init__(self, name: str, *, plain: bool, device: str, **functions: Any) -> None:
        self.name = name
        self.plain = plain
        self.device = device
        self.__dict__.update(functions)

    def __repr__(self) -> str:
        return f"<ArrayNamespace {self.name} on {self.device}>"


def _sum(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    return np.add.reduce(x, axis=axis, keepdims=keepdims)


def _mean(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    return np.mean(x, axis=axis, keepdims=keepdims)


def _astype(x: Any, dtype: Any) -> Any:
    return x.astype(dtype, copy=False)


def _einsum2(a: Any, la: str, b: Any, lb: str, out: str) -> Any:
    """A two-operand einsum (each subscript once per operand) as one batched matmul, so BLAS runs it."""
    gone = tuple(i for i, c in enumerate(la) if c not in lb and c not in out)
    if gone:  # a subscript only one operand has, and not kept: sum it first
        a, la = np.sum(a, axis=gone), "".join(c for i, c in enumerate(la) if i not in gone)
    gone = tuple(i for i, c in enumerate(lb) if c not in la and c not in out)
    if gone:
        b, lb = np.sum(b, axis=gone), "".join(c for i, c in enumerate(lb) if i not in gone)
    size = dict(zip(la, a.shape)) | dict(zip(lb, b.shape))
    batch = [c for c in la if c in lb and c in out]
    inner = [c for c in la if c in lb and c not in out]
    left = [c for c in la if c not in lb]
    right = [c for c in lb if c not in la]
    n = [int(np.prod([size[c] for c in g], dtype=np.int64)) for g in (batch, left, inner, right)]
    am = np.transpose(a, [la.index(c) for c in batch + left + inner]).reshape(n[0], n[1], n[2])
    bm = np.transpose(b, [lb.index(c) for c in batch + inner + right]).reshape(n[0], n[2], n[3])
    got = batch + left + right
    y = np.matmul(am, bm).reshape([size[c] for c in got])
    return np.transpose(y, [got.index(c) for c in out])


def _einsum(spec: str, *ops: Any) -> Any:
    """numpy.einsum for specs with an explicit output and no subscript twice in one operand, with
    every pairwise contraction done by matmul (numpy.einsum runs batched ones without BLAS)."""
    lhs, out = spec.split("->")
    ins = lhs.split(",")
    if len(ops) == 1:
        return np.einsum(spec, *ops)
    if len(ops) == 2:
        return _einsum2(ops[0], ins[0], ops[1], ins[1], out)
    terms = list(zip(ops, ins))
    if any(type(x) is not np.ndarray for x in ops):  # the path needs only shapes (CuPy has no einsum_path)
        ops = [np.broadcast_to(np.empty((), x.dtype), x.shape) for x in ops]
    for step in np.einsum_path(spec, *ops, optimize="greedy")[0][1:]:
        picked = [terms[i] for i in step]
        terms = [t for i, t in enumerate(terms) if i not in step]
        needed = out + "".join(lx for _, lx in terms)
        keep = "".join(dict.fromkeys(c for _, lx in picked for c in lx if c in needed))
        if len(picked) == 2:
            y = _einsum2(picked[0][0], picked[0][1], picked[1][0], picked[1][1], keep)
        else:
            y = np.einsum(",".join(lx for _, lx in picked) + "->" + keep, *[x for x, _ in picked])
        terms.append((y, keep))
    (y, ly), = terms
    return y if ly == out else np.einsum(f"{ly}->{out}", y)


#: The names every namespace offers (the graph namespace is checked against this list).
NAMES = (
    "exp", "log", "sqrt", "sign", "tanh", "abs", "sin", "cos", "erf", "where", "maximum", "minimum",
    "sum", "mean", "sum_to", "broadcast_to", "reshape", "swapaxes", "transpose", "expand_dims",
    "squeeze", "matmul", "zeros_like", "index_add", "astype", "softplus",
    "cumsum", "cumprod", "einsum", "inv",
)
#: What NumPy lacks, so every plain namespace brings its own (cupyx.scipy.special's on a GPU): forward
#: kernels that ops call as `backend_of(x).namespace.erfc(x)` (erf is in NAMES too: backwards use it).
DEVICE_KERNELS = ("erf", "erfc")

numpy_ns = ArrayNamespace(
    "numpy", plain=True, device="cpu",
    exp=np.exp, log=np.log, sqrt=np.sqrt, sign=np.sign, tanh=np.tanh, abs=np.abs,
    sin=np.sin, cos=np.cos, erf=kernels.erf, erfc=kernels.erfc, where=kernels.where, maximum=np.maximum,
    minimum=np.minimum, sum=_sum, mean=_mean, sum_to=kernels.sum_to,
    broadcast_to=np.broadcast_to, reshape=np.reshape, swapaxes=np.swapaxes,
    transpose=np.transpose, expand_dims=np.expand_dims, squeeze=np.squeeze,
    matmul=np.matmul, zeros_like=np.zeros_like, index_add=kernels.index_add, astype=_astype,
    softplus=kernels.softplus,
    cumsum=np.cumsum, cumprod=np.cumprod, inv=np.linalg.inv,
    einsum=_einsum,
)


# --- devices: one ArrayBackend per kind of array ---------------------------------------------------

class ArrayBackend:
    """One device kind's arrays: the array module (`xp`), the array type it makes, how an array
    moves to and from the host, and the plain namespace its backward passes run on.

    Ops never ask for it: NumPy's functions dispatch on their arguments (`np.exp(x)` runs CuPy's
    exp on a CuPy array, NEP 13/18), and the engine hands each node `namespace` for the arrays
    its gradient is on. It is asked where arrays are made from nothing (`xp.zeros`), moved, or
    counted: the Tensor's device API, the factories, the optimizers' fused updates.
    """

    def __init__(self, kind: str, xp: Any, array_type: type, namespace: ArrayNamespace, *,
                 to_host: Any, from_host: Any, index_of: Any, device_count: int, seed: Any = None,
                 synchronize: Any = None, name: Any = None, fused: dict[str, Any] | None = None) -> None:
        self.kind = kind
        self.xp = xp
        self.array_type = array_type
        self.namespace = namespace
        self.to_host = to_host  # array -> np.ndarray (a copy)
        self.from_host = from_host  # (np.ndarray, device index or None) -> array on that device
        self.index_of = index_of  # array -> its device index (None on the CPU)
        self.device_count = device_count
        self.seed = seed or (lambda s: None)  # seed this device's generator
        self.synchronize = synchronize or (lambda index=None: None)
        self.name = name or (lambda index=None: kind)
        self.fused = fused or {}  # one-kernel updates by name ("sgd", "adam"): the optimizers ask

    def __repr__(self) -> str:
        return f"<ArrayBackend {self.kind}: {getattr(self.xp, '__name__', self.xp)}>"


def plain_namespace(name: str, xp: Any, device: str, **overrides: Any) -> ArrayNamespace:
    """The backward's plain namespace over any NumPy-like array module `xp` (CuPy's, or the test device's)."""
    def _sum_any(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
        return x.sum(axis=axis, keepdims=keepdims)

    def _mean_any(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
        return x.mean(axis=axis, keepdims=keepdims)

    def _sum_to_any(x: Any, shape: tuple[int, ...]) -> Any:
        return x.sum(axis=kernels.broadcast_axes(x.shape, shape), keepdims=True).reshape(shape)

    def _index_add_any(shape: tuple[int, ...], index: Any, values: Any, basic: bool) -> Any:
        out = xp.zeros(shape, dtype=values.dtype)
        if basic:  # no index repeats an element: a plain in-place add is exact
            out[index] += values
        else:
            xp.add.at(out, index, values)
        return out

    def _softplus_any(z: Any) -> Any:
        return xp.maximum(z, 0) + xp.log1p(xp.exp(-xp.abs(z)))

    functions = {n: getattr(xp, n) for n in (
        "exp", "log", "sqrt", "sign", "tanh", "abs", "sin", "cos", "where", "maximum", "minimum", "broadcast_to",
        "reshape", "swapaxes", "transpose", "expand_dims", "squeeze", "matmul", "zeros_like", "cumsum", "cumprod",
        "einsum")}
    functions.update(sum=_sum_any, mean=_mean_any, sum_to=_sum_to_any, index_add=_index_add_any, astype=_astype,
                     softplus=_softplus_any, inv=xp.linalg.inv)
    functions.update(overrides)
    missing = (set(NAMES) | set(DEVICE_KERNELS)) - set(functions)
    if missing:  # erf and erfc come as overrides: NumPy's module has none to look up
        raise TypeError(f"plain_namespace({name!r}): no function for {sorted(missing)}")
    return ArrayNamespace(name, plain=True, device=device, **functions)


CPU = ArrayBackend(
    "cpu", np, np.ndarray, numpy_ns, to_host=lambda a: np.array(a), from_host=lambda a, index=None: a,
    index_of=lambda a: None, device_count=1,
)
