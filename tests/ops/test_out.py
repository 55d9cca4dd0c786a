"""out= on the top-level functions: the result lands in the given tensor, resized as PyTorch resizes it."""
from __future__ import annotations

import numpy as np
import pytest

import matgrad as mg


def test_out_receives_the_result_and_is_returned():
    a = mg.tensor([[1.0, 2.0], [3.0, 4.0]])
    y = mg.zeros(2, 2)
    assert mg.matmul(a, a.T, out=y) is y
    np.testing.assert_allclose(y.array, a.array @ a.array.T)
    z = mg.empty(0)  # the wrong shape: resized, as PyTorch does
    mg.mul(a, a, out=z)
    assert z.shape == (2, 2) and z.tolist() == [[1.0, 4.0], [9.0, 16.0]]
    c = mg.empty(4, 2)
    mg.cat([a, a], out=c)
    assert c.tolist() == [[1.0, 2.0], [3.0, 4.0]] * 2
    assert mg.add(a, 1, out=mg.empty(2, 2)).tolist() == [[2.0, 3.0], [4.0, 5.0]]


def test_out_refuses_what_pytorch_refuses():
    w = mg.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="don't support automatic differentiation"):
        mg.mul(w, 2, out=mg.empty(2))
    with pytest.raises(RuntimeError, match="can't be cast"):
        mg.div(mg.ones(2), 3, out=mg.zeros(2, dtype=mg.int64))
    with pytest.raises(TypeError, match="out= must be a Tensor"):
        mg.add(mg.ones(2), 1, out=np.zeros(2))
