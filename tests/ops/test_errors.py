"""Bad input gets an error naming the shapes (or the value) and what to do."""
from __future__ import annotations

import numpy as np
import pytest

import matgrad as mg

CASES = [
    ("matmul", lambda: mg.zeros(3, 4) @ mg.zeros(5, 2), RuntimeError,
     r"matmul: \(3, 4\) @ \(5, 2\): inner dimensions 4 and 5 differ"),
    ("matmul_vec", lambda: mg.zeros(3) @ mg.zeros(4), RuntimeError, "inner dimensions 3 and 4"),
    ("matmul_batch", lambda: mg.zeros(2, 3, 4) @ mg.zeros(3, 4, 5), RuntimeError,
     r"batch dimensions \(2,\) and \(3,\)"),
    ("matmul_0d", lambda: mg.tensor(1.0) @ mg.zeros(3), RuntimeError, "at least 1D"),
    ("add", lambda: mg.zeros(2, 3) + mg.zeros(4), ValueError,
     r"add: shapes \(2, 3\) and \(4,\) cannot be broadcast"),
    ("mul", lambda: mg.zeros(2, 3) * mg.zeros(2), ValueError, r"mul: shapes \(2, 3\) and \(2,\)"),
    ("maximum", lambda: mg.maximum(mg.zeros(2), mg.zeros(3)), ValueError,
     r"maximum: shapes \(2,\) and \(3,\)"),
    ("where", lambda: mg.where(mg.zeros(2) > 0, mg.zeros(3), 0.0), ValueError, r"where: condition \(2,\)"),
    ("compare", lambda: mg.zeros(2) < mg.zeros(3), ValueError, r"lt: shapes \(2,\) and \(3,\)"),
    ("reshape", lambda: mg.zeros(2, 3).reshape(4, 2), RuntimeError, r"cannot reshape \(2, 3\) \(6 elements\)"),
    ("reshape_two_minus", lambda: mg.zeros(6).reshape(-1, -1), RuntimeError, r"only one dimension can be inferred"),
    ("broadcast_to", lambda: mg.zeros(3).broadcast_to((2, 4)), RuntimeError,
     r"shape \(3,\) cannot be broadcast to \(2, 4\)"),
    ("permute", lambda: mg.zeros(2, 3).permute(0, 0), RuntimeError, "not a permutation"),
    ("cat", lambda: mg.cat([mg.zeros(2, 3), mg.zeros(3, 2)]), RuntimeError, r"tensor 1 has shape \(3, 2\)"),
    ("stack", lambda: mg.stack([mg.zeros(2), mg.zeros(3)]), RuntimeError, r"tensor 1 has shape \(3,\)"),
    ("split", lambda: mg.zeros(3).split([1, 1]), RuntimeError, "add up to 2"),
    ("getitem", lambda: mg.zeros(2, 3)[5], IndexError, r"shape \(2, 3\)"),
    ("sum_dim", lambda: mg.zeros(2, 3).sum(3), IndexError, r"sum: Dimension out of range .*\[-2, 1\], but got 3"),
    ("tensor_str", lambda: mg.tensor("abc"), TypeError, "str"),
    ("tensor_none", lambda: mg.tensor(None), TypeError, "NoneType"),
    ("tensor_ragged", lambda: mg.tensor([[1, 2], [3]]), TypeError, "list"),
    ("tensor_dict", lambda: mg.tensor({"a": 1}), TypeError, "dict"),
    ("int_requires_grad", lambda: mg.tensor([1, 2], requires_grad=True), TypeError, "floating"),
    ("item", lambda: mg.zeros(2).item(), RuntimeError, r"shape \(2,\)"),
    ("bool", lambda: bool(mg.zeros(2)), RuntimeError, "ambiguous"),
    ("int_neg_pow", lambda: mg.tensor([2]) ** -1, RuntimeError, "negative integer powers"),
    ("gelu", lambda: mg.gelu(mg.zeros(2), approximate="bad"), RuntimeError, "approximate"),
    ("clamp", lambda: mg.zeros(2).clamp(), RuntimeError, "At least one"),
]


@pytest.mark.parametrize("fn, exc, pattern", [pytest.param(f, e, p, id=i) for i, f, e, p in CASES])
def test_clear_error(fn, exc, pattern):
    with pytest.raises(exc, match=pattern):
        fn()


def test_error_is_not_a_raw_numpy_traceback():
    with pytest.raises(ValueError) as info:
        mg.zeros(2, 3) - mg.zeros(4, 1, 2)
    assert "compare them from the right" in str(info.value)
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_backward_through_non_float_is_refused():
    x = mg.tensor(np.array([1.0, 2.0]), requires_grad=True)
    n = x.long()
    assert n.grad_fn is None
    with pytest.raises(RuntimeError, match="does not require grad"):
        (n * 2).sum().backward()
