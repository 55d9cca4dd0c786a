"""conv_tbc (matgrad.conv_tbc and F.conv_tbc): against torch.conv_tbc, finite differences, by hand, errors."""
from __future__ import annotations

import numpy as np
import pytest

import matgrad as mg
import matgrad.nn.functional as F
from tests.helpers import assert_close, check_op, torch

T, B, CI, CO = 7, 2, 3, 4


def _tbc(pad):
    """fn(x, w, b) = conv_tbc(x, w, b, pad) in whichever library x belongs to."""
    def fn(x, w, b):
        return (mg if isinstance(x, mg.Tensor) else torch).conv_tbc(x, w, b, pad)
    return fn


@pytest.mark.parametrize("kernel, pad", [(3, 0), (3, 1), (3, 2), (1, 0), (2, 3), (3, -1), (7, 0), (9, 1)],
                         ids=lambda v: str(v))
def test_matches_torch_and_finite_differences(kernel, pad):
    # values and gradients (first and second order) against torch; (9, 1): a single output step
    check_op(_tbc(pad), (T, B, CI), (kernel, CI, CO), (CO,))


def test_by_hand():
    # out[t] = bias + Σ_k x[t + k − pad] @ w[k], steps outside x counting as 0
    rng = np.random.default_rng(1)
    x, w, b = rng.standard_normal((T, B, CI)), rng.standard_normal((3, CI, CO)), rng.standard_normal(CO)
    pad = 2
    want = np.tile(b, (T + 2 * pad - 3 + 1, B, 1))
    for t in range(want.shape[0]):
        for k in range(3):
            if 0 <= t + k - pad < T:
                want[t] += x[t + k - pad] @ w[k]
    got = mg.conv_tbc(mg.tensor(x), mg.tensor(w), mg.tensor(b), pad)
    np.testing.assert_allclose(got.array, want, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(F.conv_tbc(mg.tensor(x), mg.tensor(w), mg.tensor(b), pad=pad).array, got.array)


def test_float32_matches_torch():
    if torch is None:
        pytest.skip("PyTorch not installed")
    rng = np.random.default_rng(2)
    arrays = [rng.standard_normal(s).astype(np.float32) for s in ((T, B, CI), (3, CI, CO), (CO,))]
    got = mg.conv_tbc(*[mg.tensor(a) for a in arrays], 1)
    want = torch.conv_tbc(*[torch.tensor(a) for a in arrays], 1)
    assert got.dtype == mg.float32
    assert_close(got.array, want.numpy(), rtol=1e-5, atol=1e-6, scale=float(np.sqrt(3 * CI)))


@pytest.mark.parametrize("dtype", ["int64", "int32"])
def test_integers_match_torch(dtype):
    rng = np.random.default_rng(3)
    arrays = [rng.integers(-5, 5, s).astype(dtype) for s in ((T, B, CI), (3, CI, CO), (CO,))]
    got = mg.conv_tbc(*[mg.tensor(a) for a in arrays], 1)
    assert got.dtype == getattr(mg, dtype)
    if torch is not None:
        np.testing.assert_array_equal(got.array, torch.conv_tbc(*[torch.tensor(a) for a in arrays], 1).numpy())


@pytest.mark.parametrize("kernel, pad", [(0, 1), (7, 0), (8, 0), (10, 1)], ids=str)
def test_edge_lengths_match_torch(kernel, pad):
    # kernel 0: every step is the bias; output length T + 2·pad − kernel + 1 may be 0
    rng = np.random.default_rng(4)
    arrays = [rng.standard_normal(s) for s in ((T, B, CI), (kernel, CI, CO), (CO,))]
    got = mg.conv_tbc(*[mg.tensor(a) for a in arrays], pad)
    assert got.shape == (T + 2 * pad - kernel + 1, B, CO)
    if torch is not None:
        np.testing.assert_allclose(got.array, torch.conv_tbc(*[torch.tensor(a) for a in arrays], pad).numpy(),
                                   rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("shapes, pad, exc, match", [
    (((T, B), (3, CI, CO), (CO,)), 0, RuntimeError, "input must have 3 dims"),
    (((T, B, CI), (3, CI), (CO,)), 0, RuntimeError, "weight tensor must have 3 dims"),
    (((T, B, CI), (3, CI, CO), (1, CO)), 0, RuntimeError, "bias must be 1-D"),
    (((T, B, CI), (3, 5, CO), (CO,)), 0, RuntimeError, "input channels"),
    (((T, B, CI), (3, CI, CO), (5,)), 0, RuntimeError, "bias size"),
    (((T, B, CI), (9, CI, CO), (CO,)), 0, RuntimeError, "negative length"),
    (((0, B, CI), (3, CI, CO), (CO,)), 0, RuntimeError, "negative length"),
    (((T, B, CI), (3, CI, CO), (CO,)), 1.5, TypeError, "pad"),
    (((T, B, CI), (3, CI, CO), (CO,)), True, TypeError, "pad"),
], ids=["input 2-d", "weight 2-d", "bias 2-d", "channels", "bias size", "kernel too long", "empty time",
        "float pad", "bool pad"])
def test_errors_as_torch(shapes, pad, exc, match):
    xs, ws, bs = shapes
    with pytest.raises(exc, match=match):
        mg.conv_tbc(mg.ones(xs), mg.ones(ws), mg.ones(bs), pad)
    if torch is not None:
        with pytest.raises(exc):
            torch.conv_tbc(torch.ones(xs), torch.ones(ws), torch.ones(bs), pad)


def test_bias_is_required_and_dtypes_must_agree():
    x, w = mg.ones((T, B, CI)), mg.ones((3, CI, CO))
    with pytest.raises(TypeError, match="bias"):
        mg.conv_tbc(x, w, None)
    with pytest.raises(TypeError):
        mg.conv_tbc(x, w)  # bias has no default, as in torch
    with pytest.raises(RuntimeError, match="same dtype"):
        mg.conv_tbc(x.float(), w.double(), mg.ones(CO).double())
