"""norm (a Function for p = 2, composed for the rest), numel, is_tensor."""
from __future__ import annotations

import numpy as np
import pytest

import matgrad as mg
from tests.helpers import check_op, torch


@pytest.mark.parametrize("p", ["fro", 2, 1, 3, float("inf")])
@pytest.mark.parametrize("dim,keepdim", [(None, False), (1, False), (0, True), ((0, 1), False)])
def test_norm_against_finite_differences_and_torch(p, dim, keepdim):
    second = p not in (1, float("inf"))  # |x| and max have no useful second derivative to check
    check_op(lambda x: mg.norm(x, p, dim, keepdim), (3, 4), second=second,
             torch_fn=None if torch is None else (lambda x: torch.norm(x, p, dim, keepdim)))


def test_norm_gradient_at_zero_is_zero_as_pytorch():
    x = mg.zeros(3, requires_grad=True)
    x.norm().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.0, 0.0])


def test_norm_method_matches_numpy():
    a = np.arange(12, dtype=np.float32).reshape(3, 4)
    np.testing.assert_allclose(mg.tensor(a).norm(dim=1).data, np.linalg.norm(a, axis=1), rtol=1e-6)


def test_numel_and_is_tensor():
    t = mg.zeros(2, 3)
    assert mg.numel(t) == 6 and mg.is_tensor(t) and not mg.is_tensor(np.zeros(2))


def test_bad_p_is_a_clear_error():
    with pytest.raises(ValueError, match="norm: p must be"):
        mg.norm(mg.ones(2), p=-1)
