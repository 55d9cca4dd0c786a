"""Matrix product, the heart of a layer: Y = X·W."""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import _autocast
from ..autograd.op import Op
from ..tensor import ArgumentError, Tensor, as_tensor


def _rows(a: Any) -> Any:
    """A (*, k) host array as the (rows, k) matrix of its rows: a view where its layout allows, else a copy.

    np.matmul treats the leading dimensions of a (*, k) @ (k, m) product as a batch and runs one small GEMM
    per leading index (per sequence of a Transformer's (N, L, E) tokens), each too small for BLAS to run
    well. The rows as one (N·L, k) operand make one GEMM of the same numbers. Forward and backward of
    nn.Linear(64, 192) at (128, 16, 64), 2 threads, medians in one process (2-core AMD EPYC Zen 5, OpenBLAS
    0.3.31 on its Haswell kernel): X·Wᵀ 0.76 ms batched, 0.25 as rows; dY·W 0.59 and 0.30.
    """
    return a.reshape(_count(a.shape[:-1]), a.shape[-1])


def _count(lead: Any) -> int:
    """How many rows leading dimensions make (an explicit count: -1 cannot be solved for with k = 0)."""
    return math.prod(lead)


class MatMul(Op):
    """Y = A @ B (1-D, 2-D and batched, as numpy.matmul).  dA = dY·Bᵀ, dB = Aᵀ·dY.

    Shapes for the 2-D case: A (n×k), B (k×m), Y and dY (n×m), dA (n×k), dB (k×m).
    A 1-D operand is a row (left) or column (right) vector for the product, then
    dropped again, so its gradient is taken in the same matrix view. Batch dimensions
    broadcast; the engine sums dA and dB back over them. A (*, k) @ (k, m) product takes A's rows as one
    matrix (_rows), so dB = Aᵀ·dY is one product over them.
    """

    def forward(self, a, b):
        if b.ndim == 2 and a.ndim > 2 and type(a) is np.ndarray:  # (*, k) @ (k, m): one product over the rows
            return np.matmul(_rows(a), b).reshape(a.shape[:-1] + (b.shape[1],))
        return np.matmul(a, b)

    def backward(self, dy):
        xp = self.xp
        a, b = self.inputs
        need_a, need_b = self.needs_input_grad
        if a.ndim == 1 and b.ndim == 1:  # dot product: y is a scalar
            return (dy * b if need_a else None), (dy * a if need_b else None)
        if a.ndim == 1:  # a is a row vector (1×k)
            dy2 = xp.expand_dims(dy, -2)
            da = xp.matmul(dy2, xp.swapaxes(b, -1, -2)) if need_a else None
            db = xp.matmul(xp.expand_dims(a, -1), dy2) if need_b else None
            return da, db
        if b.ndim == 1:  # b is a column vector (k×1)
            dy2 = xp.expand_dims(dy, -1)
            da = xp.matmul(dy2, xp.expand_dims(b, -2)) if need_a else None
            db = xp.squeeze(xp.matmul(xp.swapaxes(a, -1, -2), dy2), -1) if need_b else None
            return da, db
        if b.ndim == 2 and a.ndim > 2:  # A's rows as one matrix (as forward): dA = dY·Bᵀ, dB = Aᵀ·dY, each one product
            rows = _count(a.shape[:-1])
            dy2 = xp.reshape(dy, (rows, dy.shape[-1]))
            da = xp.reshape(xp.matmul(dy2, xp.swapaxes(b, 0, 1)), tuple(a.shape)) if need_a else None
            db = xp.matmul(xp.swapaxes(xp.reshape(a, (rows, a.shape[-1])), 0, 1), dy2) if need_b else None
            return da, db
        da = xp.matmul(dy, xp.swapaxes(b, -1, -2)) if need_a else None
        db = xp.matmul(xp.swapaxes(a, -1, -2), dy) if need_b else None
        return da, db


_CAST = {"float32": ".float()", "float64": ".double()", "float16": ".half()", "int64": ".long()", "int32": ".int()"}


def _cast_hint(name: str, dtype: np.dtype) -> str:
    """How to convert `name` to `dtype`, for an error message."""
    method = _CAST.get(dtype.name)
    return f"{name}.to(matgrad.{dtype.name})" + (f" or {name}{method}" if method else "")


def check_same_dtype(op: str, *operands: tuple[str, Tensor]) -> None:
    """Raise ArgumentError (TypeError and RuntimeError) unless a product's (name, tensor) operands share a dtype."""
    first = operands[0][1].array.dtype
    if all(t.array.dtype == first for _, t in operands[1:]):
        return
    # PyTorch's BLAS products do not promote (torch.mm(float32, float64) is its RuntimeError); matgrad says so too
    # rather than silently computing in the wider dtype
    na, (nb, b) = operands[0][0], next((n, t) for n, t in operands[1:] if t.array.dtype != first)
    got = ", ".join(f"{n} {t.array.dtype}" for n, t in operands)
    names = ", ".join(n for n, _ in operands[:-1]) + f" and {operands[-1][0]}" if len(operands) <= 4 else "all tensors"
    fix = _cast_hint(nb, first) + (f", or {_cast_hint(na, b.array.dtype)}" if len(operands) == 2 else "")
    raise ArgumentError(
        f"{op}: expected {names} to have the same dtype, but got {got}; matrix products do not promote dtypes "
        f"(as PyTorch): convert first, e.g. {fix}"
    )


def _check(a: np.ndarray, b: np.ndarray) -> None:
    # RuntimeError, as PyTorch: code written for torch catches that for shapes that cannot be multiplied
    if a.ndim == 0 or b.ndim == 0:
        raise RuntimeError(
            f"matmul: both arguments need to be at least 1D, got shapes {a.shape} @ {b.shape}; "
            "use * to multiply by a scalar"
        )
    k_a = a.shape[-1]
    k_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if k_a != k_b:
        raise RuntimeError(
            f"matmul: {a.shape} @ {b.shape}: inner dimensions {k_a} and {k_b} differ "
            f"(the last dimension of the left operand must equal the "
            f"{'only' if b.ndim == 1 else 'second-to-last'} dimension of the right one)"
        )
    if a.ndim > 2 and b.ndim > 2:
        try:
            np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
        except ValueError:
            raise RuntimeError(
                f"matmul: {a.shape} @ {b.shape}: batch dimensions {a.shape[:-2]} and "
                f"{b.shape[:-2]} cannot be broadcast together"
            ) from None


def matmul(input: Any, other: Any) -> Tensor:
    """Matrix product with numpy.matmul's rules for 1-D, 2-D and batched operands."""
    return _matmul(input, other, promote=False)


def matmul_promoting(input: Any, other: Any) -> Tensor:
    """matmul that promotes operands of different dtypes (NumPy's rule): for backward formulas under create_graph,
    which must compute what the same formula does on plain arrays."""
    return _matmul(input, other, promote=True)


def _matmul(input: Any, other: Any, promote: bool) -> Tensor:
    if _autocast.on:  # mixed precision (matgrad/_autocast.py): torch's autocast op lists
        input, other = _autocast.cast(_autocast.LOWER, input, other)
    a = as_tensor(input)
    b = as_tensor(other, a)
    _check(a.array, b.array)
    if not promote:
        check_same_dtype("matmul", ("input", a), ("other", b))
    return MatMul.apply(a, b)


def mm(input: Any, mat2: Any) -> Tensor:
    """Product of two matrices (2-D only)."""
    if _autocast.on:  # cast before the dtype check, as torch's autocast does
        input, mat2 = _autocast.cast(_autocast.LOWER, input, mat2)
    a, b = as_tensor(input), as_tensor(mat2)
    for name, t in (("self", a), ("mat2", b)):
        if t.ndim != 2:
            raise RuntimeError(f"mm: {name} must be a matrix, got shapes {a.shape} and {b.shape} (use matmul for "
                               "vectors and batches)")
    check_same_dtype("mm", ("input", a), ("mat2", b))
    return matmul(a, b)


def bmm(input: Any, mat2: Any) -> Tensor:
    """Batched product of matrices: (b, n, m) @ (b, m, p) is (b, n, p); no broadcasting, as PyTorch."""
    if _autocast.on:  # cast before the dtype check, as torch's autocast does
        input, mat2 = _autocast.cast(_autocast.LOWER, input, mat2)
    a, b = as_tensor(input), as_tensor(mat2)
    for name, t in (("batch1", a), ("batch2", b)):
        if t.ndim != 3:
            raise RuntimeError(f"bmm: {name} must be a 3D tensor, got shapes {a.shape} and {b.shape} (use matmul "
                               "to broadcast batch dims)")
    if b.shape[:2] != (a.shape[0], a.shape[2]):
        raise RuntimeError(
            f"bmm: Expected size for first two dimensions of batch2 tensor to be: [{a.shape[0]}, {a.shape[2]}] "
            f"but got: [{b.shape[0]}, {b.shape[1]}] (batch1 {a.shape}, batch2 {b.shape}: the batch sizes must be "
            "equal and batch1's last dim equal to batch2's dim 1)"
        )
    check_same_dtype("bmm", ("input", a), ("mat2", b))
    return matmul(a, b)


def dot(input: Any, other: Any) -> Tensor:
    """Inner product of two vectors."""
    a, b = as_tensor(input), as_tensor(other)
    if a.ndim != 1 or b.ndim != 1:
        raise RuntimeError(f"dot: 1D tensors expected, but got {a.ndim}D and {b.ndim}D tensors (shapes {a.shape} and "
                           f"{b.shape})")
    if a.shape != b.shape:
        raise RuntimeError(f"dot: inconsistent tensor size, expected tensors of the same length, got {a.shape[0]} "
                           f"and {b.shape[0]}")
    check_same_dtype("dot", ("input", a), ("other", b))
    return MatMul.apply(a, b)  # not matmul(): autocast leaves dot in its inputs' dtype, as torch's lists do
