"""Linear algebra: einsum, outer, mv, addmm, baddbmm, trace, diag, diagonal, tril, triu, det,
inverse, cdist, dist.

Most compose matmul, indexing and reductions, whose backwards already hold. The ones with
their own backward: einsum (the gradient of one operand is the einsum of dy with the
others), det (dA = dy·det·A⁻ᵀ), inverse (dA = -Yᵀ·dY·Yᵀ), tril/triu (the mask again) and
the Euclidean cdist (no (P, R, M) intermediate).
"""
from __future__ import annotations

import string
from collections import Counter
from typing import Any

import numpy as np

from .. import _autocast
from ..autograd.op import Op
from ..backend import numpy_ns
from ..devices import backend_of, move, to_host
from ..tensor import ArgumentError, Tensor, as_tensor, get_default_dtype, wrap_dim
from .arithmetic import _promote, add, mul, promote, sub
from .indexing import GetItem, IndexAdd
from .matmul import MatMul, check_same_dtype, matmul
from .reduction import _prod_of_others, norm
from .reduction import sum as _sum
from .shape import reshape


def _float(t: Tensor) -> Tensor:
    return t if t.array.dtype.kind in "fc" else t.to(get_default_dtype())


# --- triangles and diagonals ------------------------------------------------------------------
class Triangle(Op):
    """y = x where the mask (on or below / above a diagonal) holds, 0 elsewhere.  dx = dy · mask."""

    def forward(self, x, mask):
        self.mask = mask
        return np.where(mask, x, x.dtype.type(0))

    def backward(self, dy):
        return self.xp.where(self.mask, dy, 0)


def _triangle(op: str, input: Any, diagonal: int, lower: bool) -> Tensor:
    t = as_tensor(input)
    if t.ndim < 2:
        raise RuntimeError(f"{op}: input tensor must have at least 2 dimensions, got shape {t.shape}")
    n, m = t.shape[-2:]
    mask = np.tri(n, m, diagonal, dtype=bool) if lower else ~np.tri(n, m, diagonal - 1, dtype=bool)
    if type(t.array) is not np.ndarray:  # the mask goes where the data is
        mask = move(mask, t.device)
    return Triangle.apply(t, mask=mask)


def tril(input: Any, diagonal: int = 0) -> Tensor:
    """The lower triangle of the last two dims (on and below `diagonal`), zeros above."""
    return _triangle("tril", input, diagonal, True)


def triu(input: Any, diagonal: int = 0) -> Tensor:
    """The upper triangle of the last two dims (on and above `diagonal`), zeros below."""
    return _triangle("triu", input, diagonal, False)


def _diagonal_index(shape: tuple[int, ...], offset: int, d1: int, d2: int, like: Any) -> tuple[Any, ...]:
    """The advanced index that picks the diagonal, which goes last (as PyTorch and NumPy put it), made on
    the device of the array `like`."""
    xa = backend_of(like).xp
    n1, n2 = shape[d1], shape[d2]
    r0, c0 = (0, offset) if offset >= 0 else (-offset, 0)
    length = max(0, min(n1 - r0, n2 - c0))
    others = [k for k in range(len(shape)) if k not in (d1, d2)]
    m = len(others)
    index: list[Any] = [None] * len(shape)
    for p, k in enumerate(others):
        index[k] = xa.arange(shape[k]).reshape((1,) * p + (-1,) + (1,) * (m - p))
    step = xa.arange(length).reshape((1,) * m + (-1,))
    index[d1], index[d2] = step + r0, step + c0
    return tuple(index)


def diagonal(input: Any, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """The diagonal of dims dim1 and dim2 (`offset` above it, or below if negative), as the last dim."""
    t = as_tensor(input)
    d1, d2 = wrap_dim("diagonal", dim1, t.ndim), wrap_dim("diagonal", dim2, t.ndim)  # IndexError, as PyTorch
    if d1 == d2:  # (a 1-D tensor's dims 0 and -1 name one dim, so it ends here: it needs at least 2 dimensions)
        raise RuntimeError(f"diagonal: diagonal dimensions cannot be identical {dim1}, {dim2} (shape {t.shape})")
    return GetItem.apply(t, index=_diagonal_index(t.shape, int(offset), d1, d2, t.array), basic=False)


def diag(input: Any, diagonal: int = 0) -> Tensor:
    """A 1-D input becomes a square matrix with it on the `diagonal`; a matrix gives its diagonal."""
    t = as_tensor(input)
    if t.ndim == 2:
        return globals()["diagonal"](t, diagonal, 0, 1)
    if t.ndim != 1:
        raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {t.ndim}D (shape {t.shape})")
    n = t.shape[0] + abs(diagonal)
    index = _diagonal_index((n, n), int(diagonal), 0, 1, t.array)
    return IndexAdd.apply(t, shape=(n, n), index=index, basic=False)


def trace(input: Any) -> Tensor:
    """The sum of a matrix's diagonal."""
    t = as_tensor(input)
    if t.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {t.ndim} (shape {t.shape})")
    return _sum(diagonal(t))


# --- products -------------------------------------------------------------------------------------
def outer(input: Any, vec2: Any) -> Tensor:
    """The outer product of two vectors: out[i, j] = input[i] · vec2[j]."""
    a, b = as_tensor(input), as_tensor(vec2)
    for name, v in (("self", a), ("vec2", b)):
        if v.ndim != 1:
            raise RuntimeError(f"outer: Expected 1-D argument {name}, but got {v.ndim}-D (shapes {a.shape} and "
                               f"{b.shape})")
    return mul(reshape(a, (-1, 1)), reshape(b, (1, -1)))


ger = outer


def mv(input: Any, vec: Any) -> Tensor:
    """Matrix times vector."""
    if _autocast.on:  # torch lowers mv under CUDA autocast only
        input, vec = _autocast.cast(_autocast.LOWER_CUDA, input, vec)
    a, v = as_tensor(input), as_tensor(vec)
    if a.ndim != 2 or v.ndim != 1:
        raise RuntimeError(f"mv: vector + matrix @ vector expected: a matrix and a vector, got shapes {a.shape} and "
                           f"{v.shape}")
    if a.shape[1] != v.shape[0]:
        raise RuntimeError(f"mv: size mismatch, got mat ({a.shape[0]}x{a.shape[1]}), vec ({v.shape[0]})")
    check_same_dtype("mv", ("input", a), ("vec", v))
    return MatMul.apply(a, v)  # not matmul(), which CPU autocast would lower


def _scaled_sum(input: Tensor, prod: Tensor, beta: Any, alpha: Any) -> Tensor:
    out = prod if alpha == 1 else mul(prod, alpha)
    if beta == 0:  # PyTorch ignores input then (its nan and inf do not propagate; its gradient is 0)
        from .binary import where

        return add(where(np.zeros_like(input.array, dtype=bool), input, 0), out)
    return add(input if beta == 1 else mul(input, beta), out)


def _check_addable(op: str, input: Tensor, shape: tuple[int, ...]) -> None:
    try:
        ok = np.broadcast_shapes(input.shape, shape) == shape
    except ValueError:
        ok = False
    if not ok:
        raise RuntimeError(f"{op}: input of shape {input.shape} does not broadcast to the product's shape {shape}")


def _check_batches(op: str, a: Tensor, b: Tensor) -> None:
    """batch1 and batch2 must be 3-D; PyTorch reads batch2.size(2) first, so a batch2 of fewer dims is its
    IndexError, a batch2 of more (or a batch1 of other than 3) its RuntimeError."""
    if b.ndim < 3:
        raise IndexError(f"{op}: batch2 must be a 3D tensor, got shape {b.shape} (Dimension out of range: it has "
                         "no dim 2)")
    for name, t in (("batch1", a), ("batch2", b)):
        if t.ndim != 3:
            raise RuntimeError(f"{op}: {name} must be a 3D tensor, got shapes {a.shape} and {b.shape}")


def addmm(input: Any, mat1: Any, mat2: Any, *, beta: Any = 1, alpha: Any = 1) -> Tensor:
    """beta · input + alpha · (mat1 @ mat2)."""
    if _autocast.on:  # mixed precision (matgrad/_autocast.py): torch's autocast op lists
        input, mat1, mat2 = _autocast.cast(_autocast.LOWER, input, mat1, mat2)
    a, b = as_tensor(mat1), as_tensor(mat2)
    i = as_tensor(input, a)  # a Python number takes the matrices' dtype
    for name, m in (("mat1", a), ("mat2", b)):
        if m.ndim != 2:
            raise RuntimeError(f"addmm: {name} must be a matrix, got {m.ndim}-D tensor (shapes {a.shape} and "
                               f"{b.shape})")
    if a.shape[1] != b.shape[0]:
        raise RuntimeError(
            f"addmm: mat1 and mat2 shapes cannot be multiplied ({a.shape[0]}x{a.shape[1]} and "
            f"{b.shape[0]}x{b.shape[1]})"
        )
    _check_addable("addmm", i, (a.shape[0], b.shape[1]))
    check_same_dtype("addmm", ("input", i), ("mat1", a), ("mat2", b))
    return _scaled_sum(i, matmul(a, b), beta, alpha)


def baddbmm(input: Any, batch1: Any, batch2: Any, *, beta: Any = 1, alpha: Any = 1) -> Tensor:
    """beta · input + alpha · (batch1 @ batch2), batch by batch."""
    if _autocast.on:  # mixed precision (matgrad/_autocast.py): torch's autocast op lists
        input, batch1, batch2 = _autocast.cast(_autocast.LOWER, input, batch1, batch2)
    a, b = as_tensor(batch1), as_tensor(batch2)
    i = as_tensor(input, a)  # a Python number takes the batches' dtype
    _check_batches("baddbmm", a, b)
    if a.shape[0] != b.shape[0] or a.shape[2] != b.shape[1]:
        raise RuntimeError(
            f"baddbmm: batch1 of shape {a.shape} and batch2 of shape {b.shape} cannot be multiplied "
            "(expected (b, n, m) and (b, m, p))"
        )
    _check_addable("baddbmm", i, (a.shape[0], a.shape[1], b.shape[2]))
    check_same_dtype("baddbmm", ("input", i), ("batch1", a), ("batch2", b))
    return _scaled_sum(i, matmul(a, b), beta, alpha)


def addmv(input: Any, mat: Any, vec: Any, *, beta: Any = 1, alpha: Any = 1) -> Tensor:
    """beta · input + alpha · (mat @ vec)."""
    if _autocast.on:  # torch lowers addmv under CUDA autocast only
        input, mat, vec = _autocast.cast(_autocast.LOWER_CUDA, input, mat, vec)
    a, v = as_tensor(mat), as_tensor(vec)
    i = as_tensor(input, a)  # a Python number takes the matrix's dtype
    if a.ndim != 2 or v.ndim != 1:
        raise RuntimeError(f"addmv: vector + matrix @ vector expected: a matrix and a vector, got shapes {a.shape} "
                           f"and {v.shape}")
    if a.shape[1] != v.shape[0]:
        raise RuntimeError(f"addmv: size mismatch, mat of shape {a.shape} and vec of shape {v.shape}")
    _check_addable("addmv", i, (a.shape[0],))
    check_same_dtype("addmv", ("input", i), ("mat", a), ("vec", v))
    return _scaled_sum(i, MatMul.apply(a, v), beta, alpha)  # not matmul(), which CPU autocast would lower


def addbmm(input: Any, batch1: Any, batch2: Any, *, beta: Any = 1, alpha: Any = 1) -> Tensor:
    """beta · input + alpha · Σ_b batch1[b] @ batch2[b]: the batch products summed into one matrix."""
    if _autocast.on:  # mixed precision (matgrad/_autocast.py): torch's autocast op lists
        input, batch1, batch2 = _autocast.cast(_autocast.LOWER, input, batch1, batch2)
    a, b = as_tensor(batch1), as_tensor(batch2)
    i = as_tensor(input, a)  # a Python number takes the batches' dtype
    _check_batches("addbmm", a, b)
    if a.shape[0] != b.shape[0] or a.shape[2] != b.shape[1]:
        raise RuntimeError(
            f"addbmm: batch1 of shape {a.shape} and batch2 of shape {b.shape} cannot be multiplied "
            "(expected (b, n, m) and (b, m, p))"
        )
    _check_addable("addbmm", i, (a.shape[1], b.shape[2]))
    check_same_dtype("addbmm", ("input", i), ("batch1", a), ("batch2", b))
    return _scaled_sum(i, _sum(matmul(a, b), dim=0), beta, alpha)


def renorm(input: Any, p: Any, dim: int, maxnorm: Any) -> Tensor:
    """Each slice along `dim` (input.select(dim, i)) whose p-norm exceeds maxnorm, scaled down to maxnorm
    (times maxnorm / (norm + 1e-7), as PyTorch); the others unchanged."""
    from .binary import where

    t = as_tensor(input)
    if t.array.dtype.kind != "f":
        raise RuntimeError(f"renorm: expects a floating-point tensor, got {t.array.dtype}")
    if t.ndim < 2:
        raise RuntimeError(f"renorm: input needs at least 2 dimensions, got {t.ndim} dimensions")
    if p <= 0:
        raise RuntimeError(f"renorm: non-positive-norm not supported (p = {p})")
    if maxnorm < 0:
        raise RuntimeError(f"renorm: expected maxnorm to be >= 0 but got {maxnorm}")
    d = wrap_dim("renorm", dim, t.ndim)
    n = norm(t, p, tuple(k for k in range(t.ndim) if k != d), keepdim=True)
    return mul(t, where(n > maxnorm, maxnorm / (n + 1e-7), 1.0))


# --- einsum ---------------------------------------------------------------------------------------
class Einsum(Op):
    """y = einsum(spec, x₁, …, xₙ), each subscript once per operand.  dxₖ = einsum(dy and the others → xₖ)."""

    def forward(self, *arrays, spec):
        self.spec = spec
        return numpy_ns.einsum(spec, *arrays)

    def backward(self, dy):
        xp = self.xp
        lhs, out = self.spec.split("->")
        ins = lhs.split(",")
        xs = self.inputs
        grads = []
        for k, need in enumerate(self.needs_input_grad):
            if not need:
                grads.append(None)
                continue
            others = [out] + [s for j, s in enumerate(ins) if j != k]
            have = set("".join(others))
            target = "".join(c for c in ins[k] if c in have)
            g = xp.einsum(",".join(others) + "->" + target, dy, *[x for j, x in enumerate(xs) if j != k])
            if target != ins[k]:  # subscripts only this operand has were summed: each element gets dy
                missing = tuple(i for i, c in enumerate(ins[k]) if c not in have)
                g = xp.broadcast_to(xp.expand_dims(g, missing), self.input_arrays[k].shape)
            grads.append(g)
        return tuple(grads)


def einsum_core(spec: str, *operands: Any) -> Tensor:
    """einsum for a spec with explicit output and no repeated subscript within an operand."""
    return Einsum.apply(*promote(*(as_tensor(o) for o in operands)), spec=spec)


_ELL = "..."


def _parse_term(term: str, equation: str) -> list[str]:
    tokens: list[str] = []
    rest = term
    while rest:
        if rest.startswith(_ELL):
            if _ELL in tokens:
                raise RuntimeError(f"einsum(): found more than one ellipsis ('...') in one term of {equation!r}")
            tokens.append(_ELL)
            rest = rest[3:]
        elif rest[0] in string.ascii_letters:
            tokens.append(rest[0])
            rest = rest[1:]
        else:
            raise RuntimeError(
                f"einsum(): invalid subscript given at {rest[0]!r} in {equation!r}: subscripts must be "
                "letters in [a-zA-Z] or an ellipsis"
            )
    return tokens


def einsum(equation: str, *operands: Any) -> Tensor:
    """Sum of products over the subscripts of `equation`, as torch.einsum: repeated subscripts in
    one operand take its diagonal, '...' broadcasts, and without '->' the output is every
    subscript that occurs once, in alphabetical order."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    if not operands:
        raise ValueError("einsum(): must provide at least one operand")  # a Python-level check in PyTorch too
    if _autocast.on:  # mixed precision (matgrad/_autocast.py): torch's autocast op lists
        operands = _autocast.cast(_autocast.LOWER, *operands)
    ts = [as_tensor(o) for o in operands]
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(ts):
        raise RuntimeError(
            f"einsum(): the equation {equation!r} has subscripts for {len(terms)} operand(s) but "
            f"{len(ts)} operand(s) were given"
        )
    parsed = [_parse_term(term, equation) for term in terms]
    counts = []
    for k, (tokens, t) in enumerate(zip(parsed, ts)):
        named = len([x for x in tokens if x != _ELL])
        if (named > t.ndim) if _ELL in tokens else (named != t.ndim):
            raise RuntimeError(
                f"einsum(): the number of subscripts in the equation ({named}) does not match the number "
                f"of dimensions ({t.ndim}) for operand {k}" + ("" if _ELL in tokens else " and no ellipsis was given")
                + f" (subscripts {terms[k]!r}, shape {tuple(t.shape)})"
            )
        counts.append(t.ndim - named if _ELL in tokens else 0)
    n_ell = max(counts)
    ell = [f"...{i}" for i in range(n_ell)]
    labels = []
    for tokens, e in zip(parsed, counts):
        labs: list[str] = []
        for x in tokens:
            labs.extend(ell[n_ell - e:] if x == _ELL else [x])
        labels.append(labs)
    if arrow:
        out: list[str] = []
        seen_in = {x for labs in labels for x in labs}
        for x in _parse_term(rhs, equation):
            if x == _ELL:
                out.extend(ell)
                continue
            if x not in seen_in:
                raise RuntimeError(
                    f"einsum(): output subscript {x} does not appear in the equation for any input operand"
                )
            if x in out:
                raise RuntimeError(f"einsum(): output subscript {x} appears more than once in the output")
            out.append(x)
    else:
        once = Counter(x for labs in labels for x in labs if len(x) == 1)
        out = ell + sorted(x for x, c in once.items() if c == 1)
    # One operand's repeated subscript: its diagonal.
    for k in range(len(ts)):
        labs, t = labels[k], ts[k]
        while len(set(labs)) != len(labs):
            x = next(c for c in labs if labs.count(c) > 1)
            i = labs.index(x)
            j = labs.index(x, i + 1)
            if t.shape[i] != t.shape[j]:
                raise RuntimeError(
                    f"einsum(): subscript {x} is repeated for operand {k} but the sizes don't match, "
                    f"{t.shape[i]} != {t.shape[j]}"
                )
            t = diagonal(t, 0, i, j)
            labs = [c for p, c in enumerate(labs) if p not in (i, j)] + [x]
        labels[k], ts[k] = labs, t
    # Sizes: equal, or 1 (broadcast; that operand then drops the subscript).
    size: dict[str, int] = {}
    for k, (labs, t) in enumerate(zip(labels, ts)):
        for x, n in zip(labs, t.shape):
            old = size.setdefault(x, n)
            if old != n and 1 not in (old, n):
                name = "an ellipsis dimension" if len(x) > 1 else f"subscript {x}"
                raise RuntimeError(
                    f"einsum(): operands do not broadcast: {name} has size {n} for operand {k} which does "
                    f"not broadcast with previously seen size {old} (shapes {[tuple(o.shape) for o in ts]})"
                )
            size[x] = max(old, n)
    dt = _einsum_dtype(equation, labels, out, ts)  # before size-1 dims go: torch squeezes or sums them
    for k, (labs, t) in enumerate(zip(labels, ts)):
        drop = [p for p, x in enumerate(labs) if t.shape[p] == 1 and size[x] != 1]
        if drop:
            ts[k] = reshape(t, tuple(n for p, n in enumerate(t.shape) if p not in drop))
            labels[k] = [x for p, x in enumerate(labs) if p not in drop]
    names = {x for x in size if len(x) == 1}
    spare = iter(c for c in string.ascii_letters if c not in names)
    letter = {x: (x if len(x) == 1 else next(spare)) for x in size}
    for x in out:  # an output subscript only ever seen with size 1 is still there
        letter.setdefault(x, next(spare))
    spec = ",".join("".join(letter[x] for x in labs) for labs in labels) + "->" + "".join(letter[x] for x in out)
    y = Einsum.apply(*(t if t.array.dtype == dt else t.to(dt) for t in ts), spec=spec)
    return y if y.array.dtype == dt else y.to(dt)  # NumPy's sums of small integers are int64 where torch's may not be


def _einsum_dtype(equation: str, labels: list[list[str]], out: list[str], ts: list[Tensor]) -> np.dtype:
    """The result dtype of torch.einsum, or its error. torch multiplies the operands left to right; a step sums out
    the subscripts whose last operand it is (not in the output): where both sides have one (of size > 1) the step
    is a bmm, which does not promote, else an elementwise product, which promotes (as tensors with dims: a 0-d
    operand is unsqueezed). A subscript only one side has is summed on that side first, and a sum of integers or
    bools is int64."""
    def summed(dt: np.dtype) -> np.dtype:
        return np.dtype(np.int64) if dt.kind in "iub" else dt

    if len(ts) == 1:
        return summed(ts[0].array.dtype) if set(labels[0]) - set(out) else ts[0].array.dtype
    last = {x: k for k, labs in enumerate(labels) for x in labs}
    mixed = len({t.array.dtype for t in ts}) > 1
    dt, have = ts[0].array.dtype, set()
    for k, (labs, t) in enumerate(zip(labels, ts)):
        big = {x for x, n in zip(labs, t.shape) if n != 1}
        own = t.array.dtype
        done = [x for x in labs if last[x] == k and x not in out]
        both = [x for x in done if x in big and x in have]
        if k == 0:
            dt, have = (summed(own) if set(done) & big else own), big - set(done)
            continue
        if any(x in big and x not in have for x in done):
            own = summed(own)
        if any(x in have and x not in big for x in done):
            dt = summed(dt)
        if both and own != dt and mixed:  # (all of one dtype, only int64 sums mismatch: torch's quirk, not copied)
            raise ArgumentError(
                f"einsum({equation!r}): operand {k} ({own}) is contracted with the product of the operands before it "
                f"({dt}) over {', '.join(repr(x) for x in both)}, and like PyTorch's, einsum's contractions do not "
                f"promote dtypes: convert the operands to one dtype first, e.g. .to(matgrad.{dt}) or "
                f".to(matgrad.{own}) (.float() / .double())"
            )
        dt, have = (dt if both else _promote(dt, own)), (have | big) - set(done)
    return dt


# --- det and inverse ---------------------------------------------------------------------------------
def _square(op: str, t: Tensor) -> Tensor:
    if t.ndim < 2:
        raise RuntimeError(f"{op}: The input tensor A must have at least 2 dimensions, got shape {t.shape}")
    if t.shape[-1] != t.shape[-2]:
        raise RuntimeError(f"{op}: A must be batches of square matrices, but they are {t.shape[-2]} by {t.shape[-1]} "
                           "matrices")
    return _float(t)


def _cofactor(a: np.ndarray) -> np.ndarray:
    """The cofactor matrix det(A)·A⁻ᵀ, exact for singular A too: by the SVD A = U·S·Vh it is
    det(U)·det(Vh) · U·diag(Π_{j≠i} s_j)·Vh."""
    u, s, vh = np.linalg.svd(a)
    others = _prod_of_others(s, (s.ndim - 1,))
    sign = (np.linalg.det(u) * np.linalg.det(vh))[..., None, None]
    return sign * np.matmul(u * others[..., None, :], vh)


class Det(Op):
    """y = det A.  dA = dy · y · A⁻ᵀ (the cofactor matrix; from the SVD where A is singular)."""

    save_output = True

    def forward(self, a):
        return np.linalg.det(a)

    def backward(self, dy):
        xp = self.xp
        g = xp.expand_dims(dy, (-1, -2))
        if np.all(self.out != 0):
            (a,) = self.inputs
            return g * xp.expand_dims(self.output, (-1, -2)) * xp.swapaxes(xp.inv(a), -1, -2)
        # singular: the cofactor from the SVD (not differentiable again)
        return g * _cofactor(self.input_arrays[0])


class LinAlgError(RuntimeError):
    """A matrix a linear-algebra op cannot factor: singular (inv, solve), not positive-definite (cholesky).
    A RuntimeError, as torch.linalg.LinAlgError."""


def zero_pivot(a: np.ndarray) -> int:
    """The 1-based index of the first zero pivot of one square matrix's LU with partial pivoting (LAPACK's
    getrf info), 0 when there is none."""
    u = np.array(a, dtype=np.float64)
    n = u.shape[-1]
    for k in range(n):
        p = k + int(np.argmax(np.abs(u[k:, k])))
        if u[p, k] == 0:
            return k + 1
        u[[k, p]] = u[[p, k]]
        u[k + 1:, k:] -= np.outer(u[k + 1:, k] / u[k, k], u[k, k:])
    return 0


def singular_error(op: str, a: np.ndarray) -> LinAlgError:
    """torch's error for a singular input, naming the first batch element and zero pivot."""
    a = to_host(a)  # the pivots are found one matrix at a time, on the host (a device array too)
    flat = a.reshape((-1,) + a.shape[-2:])
    for i, m in enumerate(flat):
        k = zero_pivot(m)
        if k:
            where = f" (batch element {i})" if a.ndim > 2 else ""
            return LinAlgError(f"{op}: The diagonal element {k} is zero, the inversion could not be completed "
                               f"because the input matrix is singular{where}.")
    return LinAlgError(f"{op}: the input matrix of shape {a.shape} is singular to working precision, so the "
                       "inversion could not be completed")


class Inverse(Op):
    """Y = A⁻¹.  dA = -Yᵀ · dY · Yᵀ."""

    save_output = True

    def forward(self, a):
        try:  # the array's own namespace: on CuPy, the backend's inv raises on a singular matrix as NumPy's does
            return backend_of(a).xp.linalg.inv(a)
        except np.linalg.LinAlgError:
            raise singular_error("linalg.inv", a) from None

    def backward(self, dy):
        xp = self.xp
        yt = xp.swapaxes(self.output, -1, -2)
        return -xp.matmul(xp.matmul(yt, dy), yt)


def det(input: Any) -> Tensor:
    """Determinant of a square matrix (or a batch of them)."""
    return Det.apply(_square("linalg.det", as_tensor(input)))


def inverse(input: Any) -> Tensor:
    """Inverse of a square matrix (or a batch); RuntimeError if one is singular."""
    return Inverse.apply(_square("linalg.inv", as_tensor(input)))


# --- distances ----------------------------------------------------------------------------------------
#: Below this many (P·R·M) elements the Euclidean cdist takes differences directly (exact near 0); above,
#: it uses |x|² + |y|² − 2x·y through a matrix product.
CDIST_DIRECT_MAX = 1 << 20


class CdistEuclid(Op):
    """d_ij = ‖x1_i − x2_j‖.  dx1_i = Σ_j g_ij (x1_i − x2_j), dx2_j = −Σ_i g_ij (x1_i − x2_j), g = dy/d (0 at d = 0)."""

    save_output = True

    def forward(self, x1, x2):
        p, r, m = x1.shape[-2], x2.shape[-2], x1.shape[-1]
        if p * r * m <= CDIST_DIRECT_MAX:
            diff = x1[..., :, None, :] - x2[..., None, :, :]
            return np.sqrt(np.sum(diff * diff, axis=-1))
        sq = (np.sum(x1 * x1, -1)[..., :, None] + np.sum(x2 * x2, -1)[..., None, :]
              - 2 * np.matmul(x1, np.swapaxes(x2, -1, -2)))
        return np.sqrt(np.maximum(sq, 0))

    def backward(self, dy):
        xp = self.xp
        x1, x2 = self.inputs
        zero = self.out == 0
        if zero.any():
            g = xp.where(zero, 0, dy / xp.where(zero, 1, self.output))
        else:
            g = dy / self.output
        dx1 = x1 * xp.expand_dims(xp.sum(g, axis=-1), -1) - xp.matmul(g, x2)
        dx2 = x2 * xp.expand_dims(xp.sum(g, axis=-2), -1) - xp.matmul(xp.swapaxes(g, -1, -2), x1)
        return dx1, dx2


def _p_norm(diff: Tensor, p: float, dim: Any) -> Tensor:
    if p == 0:
        return Tensor._make((diff.array != 0).sum(axis=dim).astype(diff.array.dtype), None, False)
    return norm(diff, p, dim=dim)


def cdist(x1: Any, x2: Any, p: float = 2.0, compute_mode: Any = None) -> Tensor:
    """p-norm distances between the rows of x1 (…, P, M) and x2 (…, R, M): a (…, P, R) tensor."""
    a, b = promote(_float(as_tensor(x1)), _float(as_tensor(x2)))
    if a.ndim < 2 or b.ndim < 2:
        raise RuntimeError(f"cdist only supports at least 2D tensors, X1 got: {a.ndim}D, X2 got: {b.ndim}D")
    if a.shape[-1] != b.shape[-1]:
        raise RuntimeError(
            f"X1 and X2 must have the same number of columns. X1: {a.shape[-1]} X2: {b.shape[-1]}"
        )
    if p < 0:
        raise RuntimeError(f"cdist only supports non-negative p values, got {p}")
    try:
        np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    except ValueError:
        raise RuntimeError(f"cdist: batch dimensions of {a.shape} and {b.shape} cannot be broadcast together") from None
    if p == 2:
        return CdistEuclid.apply(a, b)
    diff = sub(reshape(a, a.shape[:-1] + (1, a.shape[-1])), reshape(b, b.shape[:-2] + (1,) + b.shape[-2:]))
    return _p_norm(diff, p, -1)


def dist(input: Any, other: Any, p: float = 2) -> Tensor:
    """The p-norm of input − other (broadcast), a 0-d tensor."""
    d = sub(_float(as_tensor(input)), _float(as_tensor(other)))
    return _p_norm(d, p, None)


# --- cross, kron, tensordot, inner, vdot: products composed of indexing, reshape and matmul ------------
def cross(input: Any, other: Any, dim: int | None = None) -> Tensor:
    """The cross product of 3-vectors along `dim` (default: the first dim of size 3, as PyTorch, with
    its deprecation warning); the other dims broadcast."""
    from .indexing import getitem

    a, b = as_tensor(input), as_tensor(other, as_tensor(input))
    if a.ndim != b.ndim:
        raise RuntimeError(f"cross: inputs must have the same number of dimensions, got shapes {a.shape} and {b.shape}")
    if dim is None:
        import warnings

        d = next((i for i, n in enumerate(a.shape) if n == 3), None)
        if d is None:
            raise RuntimeError(f"cross: no dimension of size 3 in input of shape {a.shape}")
        warnings.warn("Using torch.cross without specifying the dim arg is deprecated. Please either pass the "
                      "dim explicitly or simply use torch.linalg.cross.", UserWarning, stacklevel=2)
        ax = d
    else:
        ax = wrap_dim("cross", dim, a.ndim)
    if a.shape[ax] != 3 or b.shape[ax] != 3:
        raise RuntimeError(f"cross: inputs dimension {ax} must have length 3, got {a.shape[ax]} and {b.shape[ax]}")
    try:
        np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise RuntimeError(f"cross: shapes {a.shape} and {b.shape} cannot be broadcast together") from None

    def turn(t: Tensor, order: list[int]) -> Tensor:
        return getitem(t, (slice(None),) * ax + (np.array(order),))

    return sub(mul(turn(a, [1, 2, 0]), turn(b, [2, 0, 1])), mul(turn(a, [2, 0, 1]), turn(b, [1, 2, 0])))


def kron(input: Any, other: Any) -> Tensor:
    """The Kronecker product: every element of input times the whole of other, laid out in blocks."""
    a, b = as_tensor(input), as_tensor(other, as_tensor(input))
    nd = max(a.ndim, b.ndim)
    sa, sb = (1,) * (nd - a.ndim) + a.shape, (1,) * (nd - b.ndim) + b.shape
    wide_a = reshape(a, tuple(v for n in sa for v in (n, 1)))
    wide_b = reshape(b, tuple(v for n in sb for v in (1, n)))
    return reshape(mul(wide_a, wide_b), tuple(m * n for m, n in zip(sa, sb)))


def _dims_pair(dims: Any, a: Tensor, b: Tensor) -> tuple[list[int], list[int]]:
    if isinstance(dims, Tensor):
        dims = dims.array.tolist()
    if isinstance(dims, (int, np.integer)):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        if dims > min(a.ndim, b.ndim):
            raise RuntimeError(f"tensordot: dims={dims} is more than the dimensions of the shapes {a.shape} and "
                             f"{b.shape}")
        return list(range(a.ndim - dims, a.ndim)), list(range(dims))
    if not isinstance(dims, (list, tuple)):
        raise RuntimeError("tensordot expects dims to be int or tuple[list[int], list[int]] or list[list[int]] "
                           f"containing two lists, but got dims={dims!r}")
    if len(dims) != 2:  # PyTorch unpacks the pair in Python: its ValueError
        raise ValueError(f"tensordot: dims must be a pair (dims of a, dims of b), got {len(dims)} entries: {dims!r}")
    da, db = dims
    try:
        da = [da] if isinstance(da, (int, np.integer)) else list(da)
        db = [db] if isinstance(db, (int, np.integer)) else list(db)
    except TypeError:
        raise TypeError(f"tensordot: dims must be an int or a pair of lists of dims, got {dims!r}") from None
    if len(da) != len(db):
        raise RuntimeError(f"tensordot: both dimension lists should have same length, got {da} and {db}")
    return [wrap_dim("tensordot", d, a.ndim) for d in da], [wrap_dim("tensordot", d, b.ndim) for d in db]


def tensordot(a: Any, b: Any, dims: Any = 2) -> Tensor:
    """Sum of products over dims of a paired with dims of b (an int n: a's last n with b's first n);
    the result has a's free dims, then b's."""
    from .shape import permute

    ta, tb = as_tensor(a), as_tensor(b)
    check_same_dtype("tensordot", ("a", ta), ("b", tb))  # dims=0 too, as PyTorch
    da, db = _dims_pair(dims, ta, tb)
    for i, j in zip(da, db):
        if ta.shape[i] != tb.shape[j]:
            raise RuntimeError(f"tensordot: contracted dimensions need to match, but first has size {ta.shape[i]} "
                             f"in dim {i} and second has size {tb.shape[j]} in dim {j}")
    free_a = [i for i in range(ta.ndim) if i not in da]
    free_b = [j for j in range(tb.ndim) if j not in db]
    k = int(np.prod([ta.shape[i] for i in da], dtype=np.int64))
    left = reshape(permute(ta, tuple(free_a + da)), (int(np.prod([ta.shape[i] for i in free_a], dtype=np.int64)), k))
    right = reshape(permute(tb, tuple(db + free_b)), (k, int(np.prod([tb.shape[j] for j in free_b], dtype=np.int64))))
    return reshape(matmul(left, right), tuple(ta.shape[i] for i in free_a) + tuple(tb.shape[j] for j in free_b))


def inner(input: Any, other: Any) -> Tensor:
    """The inner product over the last dims (a product with a 0-d operand is elementwise)."""
    a, b = as_tensor(input), as_tensor(other, as_tensor(input))
    if a.ndim == 0 or b.ndim == 0:
        return mul(a, b)
    if a.shape[-1] != b.shape[-1]:
        raise RuntimeError(f"inner: the last dimensions must match, got shapes {a.shape} and {b.shape}")
    check_same_dtype("inner", ("input", a), ("other", b))
    return tensordot(a, b, ([a.ndim - 1], [b.ndim - 1]))


def vdot(input: Any, other: Any) -> Tensor:
    """The dot product of two 1-D tensors (the first conjugated, which changes nothing for real ones)."""
    from .matmul import dot

    a, b = as_tensor(input), as_tensor(other, as_tensor(input))
    if a.ndim != 1 or b.ndim != 1:
        raise RuntimeError(f"vdot: 1D tensors expected, but got {a.ndim}D and {b.ndim}D tensors")
    if a.shape != b.shape:
        raise RuntimeError(f"vdot: inconsistent tensor size, expected tensors of the same length, got {a.shape[0]} "
                         f"and {b.shape[0]}")
    check_same_dtype("vdot", ("input", a), ("other", b))
    return dot(a, b)


# --- cov, corrcoef ---------------------------------------------------------------------------------
def cov(input: Any, *, correction: int = 1, fweights: Any = None, aweights: Any = None) -> Tensor:
    """The covariance matrix of the variables in the rows of input (observations in its columns);
    fweights (integer repeat counts) and aweights (importance) weigh the observations."""
    import warnings

    from .arithmetic import div
    from .reduction import mean

    x = _float(as_tensor(input))
    if x.ndim > 2:
        raise RuntimeError(f"cov(): expected input to have two or fewer dimensions but got an input with {x.ndim} "
                         "dimensions")
    if x.ndim < 2:
        x = reshape(x, (1, -1))
    n = x.shape[1]
    w = None
    for name, weights in (("fweights", fweights), ("aweights", aweights)):
        if weights is None:
            continue
        wt = as_tensor(weights)
        if wt.ndim > 1:
            raise RuntimeError(f"cov(): expected {name} to have one or fewer dimensions but got {name} with "
                             f"{wt.ndim} dimensions")
        if wt.array.size != n:
            raise RuntimeError(f"cov(): expected {name} to have the same numel as there are observations in the "
                             f"input but got {wt.array.size} != {n}")
        if name == "fweights" and wt.array.dtype.kind not in "iu":
            raise RuntimeError(f"cov(): expected fweights to have integral dtype but got fweights with "
                            f"{wt.array.dtype} dtype")
        if name == "aweights" and wt.array.dtype.kind != "f":
            raise RuntimeError(f"cov(): expected aweights to have floating point dtype but got aweights with "
                            f"{wt.array.dtype} dtype")
        if np.any(wt.array < 0):
            raise RuntimeError(f"cov(): {name} cannot be negative")
        w = wt if w is None else mul(w, wt)
    if w is None:
        avg = mean(x, 1)
        norm = n - correction
    else:
        w_sum = _sum(w)
        avg = div(_sum(mul(x, w), 1), w_sum)
        if aweights is None:
            norm = sub(w_sum, correction)
        else:
            norm = sub(w_sum, div(mul(_sum(mul(w, as_tensor(aweights))), correction), w_sum))
    norm_value = norm.array if isinstance(norm, Tensor) else norm
    if np.all(norm_value <= 0):  # a number, or a 0-d array on the data's device
        warnings.warn("cov(): degrees of freedom is <= 0. Correction should be strictly less than the number of "
                      "observations.", UserWarning, stacklevel=2)
        norm = mul(norm, 0) if isinstance(norm, Tensor) else 0
    centred = sub(x, reshape(avg, (-1, 1)))
    weighted = centred if w is None else mul(centred, w)
    with np.errstate(divide="ignore", invalid="ignore"):
        c = div(matmul(centred, weighted.mT), norm if isinstance(norm, Tensor) else float(norm))
    return reshape(c, ()) if c.shape == (1, 1) else c


def corrcoef(input: Any) -> Tensor:
    """The Pearson correlation matrix of the variables in the rows of input, clipped to [−1, 1]."""
    from .activation import clamp
    from .arithmetic import div
    from .unary import sqrt

    c = cov(input)
    with np.errstate(divide="ignore", invalid="ignore"):
        if c.ndim == 0:
            return div(c, c)
        std = sqrt(diagonal(c))
        c = div(div(c, reshape(std, (-1, 1))), reshape(std, (1, -1)))
    return clamp(c, -1, 1)
