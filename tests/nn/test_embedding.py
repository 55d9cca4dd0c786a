"""Embedding: gradients sum over repeated indices, padding_idx gets none; second order; errors."""
from __future__ import annotations

import numpy as np
import pytest

import matgrad as mg
from matgrad import nn
from tests.helpers import torch


def test_embedding_gradient_sums_repeats_and_skips_padding():
    emb = nn.Embedding(5, 3, padding_idx=1).double()
    assert np.all(emb.weight.numpy()[1] == 0)
    idx = mg.tensor(np.array([[0, 2, 0], [1, 4, 0]]))
    out = emb(idx)
    assert out.shape == (2, 3, 3)
    g = np.random.default_rng(3).standard_normal(out.shape)
    (out * mg.tensor(g)).sum().backward()
    expected = np.zeros((5, 3))
    expected[0] = g[0, 0] + g[0, 2] + g[1, 2]
    expected[2], expected[4] = g[0, 1], g[1, 1]
    np.testing.assert_allclose(emb.weight.grad, expected, rtol=1e-12)
    if torch is not None:
        te = torch.nn.Embedding(5, 3, padding_idx=1).double()
        with torch.no_grad():
            te.weight.copy_(torch.tensor(emb.weight.numpy()))
        (te(torch.tensor(idx.numpy())) * torch.tensor(g)).sum().backward()
        np.testing.assert_allclose(emb.weight.grad, te.weight.grad.numpy(), rtol=1e-12)


def test_embedding_second_order_and_errors():
    w = mg.randn(4, 2, dtype=mg.float64, requires_grad=True)
    idx = np.array([0, 3, 3])
    assert mg.gradgradcheck(lambda w: (nn.functional.embedding(idx, w, padding_idx=0) ** 2), [w])
    with pytest.raises(IndexError, match="out of range"):
        nn.functional.embedding(np.array([4]), w)
    with pytest.raises(RuntimeError, match="Long, Int"):
        nn.functional.embedding(np.array([0.5]), w)
