"""nn.Conv1d, F.conv1d and the 1-d pooling layers against PyTorch (issue 20)."""
from __future__ import annotations

import numpy as np
import pytest

import matgrad as mg
import matgrad.nn as nn
import matgrad.nn.functional as F
from tests.helpers import check_op
from tests.nn._compare import compare_modules

torch = pytest.importorskip("torch")

CONV = [
    "Conv1d(3, 4, 3)", "Conv1d(3, 4, 3, stride=2, padding=1)", "Conv1d(4, 6, 2, dilation=2, groups=2)",
    "Conv1d(3, 4, (3,), padding='same', bias=False)", "Conv1d(3, 4, 4, padding='same', dilation=2)",
    "Conv1d(3, 4, 3, padding='valid')", "Conv1d(3, 5, 3, padding=2, padding_mode='reflect')",
    "Conv1d(3, 5, 3, padding=1, padding_mode='circular')", "Conv1d(3, 5, 4, padding='same', padding_mode='replicate')",
]
POOL = [
    "MaxPool1d(2)", "MaxPool1d(3, 2, 1)", "MaxPool1d(3, stride=1, dilation=2)", "AvgPool1d(2)",
    "AvgPool1d(3, 2, 1)", "AvgPool1d(3, 2, 1, count_include_pad=False)", "AdaptiveAvgPool1d(3)",
    "AdaptiveAvgPool1d(1)", "AdaptiveMaxPool1d(4)",
]


def _build(expr, ns):
    return eval(expr, {}, {k: getattr(ns, k) for k in dir(ns) if k[0].isupper()})


@pytest.mark.parametrize("expr", CONV + POOL)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("shape", [(2, 4, 9), (4, 9)])
def test_module_matches_torch(expr, dtype, shape):
    ours, theirs = _build(expr, nn), _build(expr, torch.nn)
    assert repr(ours) == repr(theirs)
    if expr.startswith("Conv1d(3"):
        shape = shape[:-2] + (3, shape[-1])
    x = np.random.default_rng(0).standard_normal(shape)
    compare_modules(ours, theirs, [x], dtype)


def test_conv1d_weight_shape_and_init():
    m = nn.Conv1d(6, 4, 5, groups=2)
    assert m.weight.shape == (4, 3, 5) and m.bias.shape == (4,)
    bound = 1 / np.sqrt(3 * 5)
    assert np.abs(m.weight.array).max() <= bound and np.abs(m.bias.array).max() <= bound


def test_conv1d_gradcheck_first_and_second_order():
    check_op(lambda x, w, b: F.conv1d(x, w, b, stride=2, padding=1), (2, 2, 7), (3, 2, 3), (3,),
             torch_fn=lambda x, w, b: torch.nn.functional.conv1d(x, w, b, stride=2, padding=1))
    check_op(lambda x, w: F.conv1d(x, w, dilation=2, groups=2), (1, 4, 8), (2, 2, 2),
             torch_fn=lambda x, w: torch.nn.functional.conv1d(x, w, dilation=2, groups=2))


def test_pool1d_gradcheck():
    check_op(lambda x: F.avg_pool1d(x, 3, 2, 1), (2, 3, 8),
             torch_fn=lambda x: torch.nn.functional.avg_pool1d(x, 3, 2, 1))
    check_op(lambda x: F.max_pool1d(x, 2), (2, 3, 8), torch_fn=lambda x: torch.nn.functional.max_pool1d(x, 2))
    check_op(lambda x: F.adaptive_avg_pool1d(x, 3), (2, 3, 7),
             torch_fn=lambda x: torch.nn.functional.adaptive_avg_pool1d(x, 3))


def test_max_pool1d_indices_match_torch():
    x = np.random.default_rng(2).standard_normal((2, 3, 10))
    y, i = F.max_pool1d(mg.tensor(x), 3, 2, 1, return_indices=True)
    ty, ti = torch.nn.functional.max_pool1d(torch.tensor(x), 3, 2, 1, return_indices=True)
    np.testing.assert_array_equal(i.array, ti.numpy())
    np.testing.assert_allclose(y.array, ty.numpy())


def test_bad_input_names_shapes():
    with pytest.raises(ValueError, match=r"conv1d.*\(2, 3, 4, 5\)"):
        F.conv1d(mg.zeros(2, 3, 4, 5), mg.zeros(4, 3, 3))
    with pytest.raises(ValueError, match="weight"):
        F.conv1d(mg.zeros(2, 3, 5), mg.zeros(4, 3))
    with pytest.raises(ValueError, match=r"\(2, 3, 4, 5\)"):
        F.max_pool1d(mg.zeros(2, 3, 4, 5), 2)
    with pytest.raises(ValueError, match="groups"):
        nn.Conv1d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="input channels"):
        nn.Conv1d(3, 4, 3)(mg.zeros(2, 5, 8))
