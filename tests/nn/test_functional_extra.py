"""logsigmoid, relu6, hardtanh, softsign, normalize: composed from tested ops, checked anyway."""
from __future__ import annotations

import numpy as np
import pytest

import matgrad as mg
import matgrad.nn.functional as F
from tests.helpers import check_op, torch

TF = None if torch is None else torch.nn.functional

CASES = {
    "logsigmoid": (lambda x: F.logsigmoid(x), lambda x: TF.logsigmoid(x)),
    "relu6": (lambda x: F.relu6(x * 4), lambda x: TF.relu6(x * 4)),
    "hardtanh": (lambda x: F.hardtanh(x, -0.5, 0.7), lambda x: TF.hardtanh(x, -0.5, 0.7)),
    "softsign": (lambda x: F.softsign(x), lambda x: TF.softsign(x)),
    "normalize": (lambda x: F.normalize(x, dim=1), lambda x: TF.normalize(x, dim=1)),
    "normalize_p1": (lambda x: F.normalize(x, p=1, dim=0), lambda x: TF.normalize(x, p=1, dim=0)),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_against_finite_differences_and_torch(name):
    fn, tfn = CASES[name]
    check_op(fn, (3, 5), torch_fn=tfn if torch is not None else None,
             second=name not in ("relu6", "hardtanh", "normalize_p1"))


def test_logsigmoid_is_finite_for_huge_inputs():
    x = mg.tensor([-1000.0, 0.0, 1000.0], requires_grad=True)
    y = F.logsigmoid(x)
    y.sum().backward()
    np.testing.assert_allclose(y.array, [-1000.0, -np.log(2), 0.0], rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(x.grad, [1.0, 0.5, 0.0], atol=1e-6)
