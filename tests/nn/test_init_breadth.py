"""orthogonal_, dirac_, sparse_ and torch's deprecated underscore-less names: properties, not values
(the random draws differ from torch's by design)."""
from __future__ import annotations

import numpy as np
import pytest

import matgrad as mg
from matgrad import nn
from matgrad.nn import init


@pytest.mark.parametrize("shape, gain", [((6, 6), 1.0), ((4, 10), 2.0), ((10, 4), 0.5), ((8, 3, 2, 2), 1.0)])
def test_orthogonal_rows_or_columns_are_orthonormal_times_gain(shape, gain):
    w = mg.tensor(np.zeros(shape, dtype=np.float32))
    out = init.orthogonal_(w, gain=gain)
    assert out is w and w.array.dtype == np.float32
    m = w.array.reshape(shape[0], -1).astype(np.float64)
    small = m @ m.T if m.shape[0] <= m.shape[1] else m.T @ m
    np.testing.assert_allclose(small, gain**2 * np.eye(min(m.shape)), atol=1e-5 * max(1.0, gain**2))


def test_orthogonal_applies_the_sign_fix_and_is_seeded():
    # Q·sign(diag R) makes the draw's QR have a positive diagonal: R' = sign(diag R)·R
    mg.manual_seed(0)
    a = init.orthogonal_(mg.tensor(np.zeros((5, 5)))).array.copy()
    mg.manual_seed(0)
    b = init.orthogonal_(mg.tensor(np.zeros((5, 5)))).array
    np.testing.assert_array_equal(a, b)
    g = np.random.default_rng(3)
    draw = g.normal(0.0, 1.0, (5, 5))
    q = init.orthogonal_(mg.tensor(np.zeros((5, 5))), generator=np.random.default_rng(3)).array
    r = q.T @ draw  # the draw = Q·R' with R' upper triangular and positive on the diagonal
    assert np.all(np.diag(r) > 0)
    np.testing.assert_allclose(np.tril(r, -1), 0, atol=1e-10)
    with pytest.raises(ValueError, match="2 or more dimensions"):
        init.orthogonal_(mg.tensor(np.zeros(3)))


@pytest.mark.parametrize("groups", [1, 2])
def test_dirac_is_the_identity_convolution(groups):
    w = mg.tensor(np.full((4, 4 // groups, 3, 3), 7.0, dtype=np.float32))
    init.dirac_(w, groups=groups)
    conv = nn.Conv2d(4, 4, 3, padding=1, bias=False, groups=groups)
    conv.weight.array[...] = w.array
    x = mg.tensor(np.random.default_rng(0).standard_normal((2, 4, 5, 5)).astype(np.float32))
    np.testing.assert_allclose(conv(x).array, x.array, rtol=1e-6, atol=1e-7)
    assert np.count_nonzero(w.array) == 4


def test_dirac_with_more_out_than_in_channels_and_bad_shapes():
    w = mg.tensor(np.zeros((5, 3, 3)))
    init.dirac_(w)
    assert w.array[:, :, 1].tolist() == np.eye(5, 3).tolist() and np.count_nonzero(w.array) == 3
    with pytest.raises(ValueError, match="3, 4, or 5"):
        init.dirac_(mg.tensor(np.zeros((3, 3))))
    with pytest.raises(ValueError, match="divisible"):
        init.dirac_(mg.tensor(np.zeros((3, 3, 3))), groups=2)


def test_sparse_zero_count_per_column_and_std():
    w = mg.tensor(np.zeros((200, 50)))
    init.sparse_(w, sparsity=0.3, std=0.05, generator=np.random.default_rng(1))
    assert ((w.array == 0).sum(axis=0) == 60).all()  # ceil(0.3·200) in every column
    nonzero = w.array[w.array != 0]
    assert abs(nonzero.std() - 0.05) < 0.003 and abs(nonzero.mean()) < 0.003
    with pytest.raises(ValueError, match="2 dimensions"):
        init.sparse_(mg.tensor(np.zeros((2, 2, 2))), 0.5)


@pytest.mark.parametrize("old, args", [
    ("uniform", ()), ("normal", ()), ("constant", (0.5,)), ("eye", ()), ("xavier_uniform", ()),
    ("xavier_normal", ()), ("kaiming_uniform", ()), ("kaiming_normal", ()), ("orthogonal", ()),
    ("sparse", (0.5,)), ("dirac", ()),
])
def test_deprecated_names_warn_and_initialise(old, args):
    w = mg.tensor(np.zeros((4, 4, 3) if old == "dirac" else (4, 4)))
    with pytest.warns(FutureWarning, match=rf"`nn.init.{old}` is now deprecated in favor of `nn.init.{old}_`"):
        assert getattr(init, old)(w, *args) is w
    assert np.count_nonzero(w.array) > 0
