"""Reduction semantics PyTorch users rely on: return types, ties, defaults, edge cases."""
from __future__ import annotations

import numpy as np
import pytest

import matgrad as mg
from tests.helpers import check_op, torch


def f64(data, grad=True):
    return mg.tensor(np.asarray(data, dtype=np.float64), requires_grad=grad)


def test_max_with_dim_returns_values_and_indices():
    x = mg.tensor([[1.0, 5.0, 5.0], [7.0, 2.0, 7.0]])
    out = x.max(dim=1)
    values, indices = out  # unpacks like torch's namedtuple
    assert out.values is values and out.indices is indices
    np.testing.assert_array_equal(values.array, [5.0, 7.0])
    np.testing.assert_array_equal(indices.array, [1, 0])  # the first of tied maxima
    assert indices.dtype == np.int64 and not indices.requires_grad
    v, i = mg.min(x, 0, keepdim=True)
    assert v.shape == (1, 3) and i.shape == (1, 3)
    np.testing.assert_array_equal(i.array, [[0, 1, 0]])


def test_max_with_dim_routes_grad_to_the_chosen_index_only():
    x = f64([[1.0, 5.0, 5.0]])
    x.max(1).values.sum().backward()
    np.testing.assert_array_equal(x.grad, [[0.0, 1.0, 0.0]])


def test_full_max_and_amax_share_grad_among_ties():
    x = f64([1.0, 5.0, 5.0])
    x.max().backward()
    np.testing.assert_allclose(x.grad, [0.0, 0.5, 0.5])
    y = f64([[3.0, 3.0], [1.0, 3.0]])
    y.amax(dim=1).sum().backward()
    np.testing.assert_allclose(y.grad, [[0.5, 0.5], [0.0, 1.0]])


def test_max_of_two_tensors_is_elementwise():
    np.testing.assert_array_equal(mg.max(mg.tensor([1.0, 5.0]), mg.tensor([3.0, 2.0])).array, [3.0, 5.0])


def test_argmax_flattens_without_dim_and_breaks_ties_first():
    x = mg.tensor([[1.0, 9.0], [9.0, 0.0]])
    assert x.argmax().item() == 1
    assert x.argmin().item() == 3
    np.testing.assert_array_equal(x.argmax(dim=0).array, [1, 0])
    assert x.argmax(dim=-1, keepdim=True).shape == (2, 1)


def test_var_std_unbiased_by_default_and_correction():
    data = [1.0, 2.0, 4.0, 7.0]
    x = mg.tensor(data, dtype=mg.float64)
    assert x.var().item() == pytest.approx(np.var(data, ddof=1))
    assert x.var(unbiased=False).item() == pytest.approx(np.var(data))
    assert x.var(correction=0).item() == pytest.approx(np.var(data))
    assert x.std(correction=2).item() == pytest.approx(np.std(data, ddof=2))
    m = mg.tensor([data, data[::-1]], dtype=mg.float64)
    np.testing.assert_allclose(m.var(1).array, np.var([data, data[::-1]], axis=1, ddof=1))  # var(x, dim)
    np.testing.assert_allclose(mg.var(m, 1, False).array, np.var([data, data[::-1]], axis=1))


def test_std_of_constant_has_zero_grad_not_nan():
    x = f64([2.0, 2.0, 2.0])
    x.std().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.0, 0.0])


def test_numpy_and_torch_keyword_spellings_agree():
    x = mg.tensor(np.arange(24.0).reshape(2, 3, 4))
    for name in ("sum", "mean", "var", "std", "logsumexp", "amax", "amin"):
        a = getattr(x, name)(dim=(0, 2), keepdim=True)
        b = getattr(x, name)(axis=(0, 2), keepdims=True)
        assert a.shape == (1, 3, 1)
        np.testing.assert_allclose(a.array, b.array)
    np.testing.assert_array_equal(x.argmax(axis=1, keepdims=True).array, x.argmax(dim=1, keepdim=True).array)
    assert x.mean(dtype=mg.float32).dtype == mg.float32


def test_negative_and_empty_dims():
    x = mg.tensor(np.arange(6.0).reshape(2, 3))
    np.testing.assert_allclose(x.sum(-1).array, [3.0, 12.0])
    assert x.sum(()).item() == 15.0  # an empty dim list reduces everything, as PyTorch
    assert x.sum(dim=-2, keepdim=True).shape == (1, 3)


def test_zero_dim_reductions():
    s = mg.tensor(3.0)
    assert s.sum().shape == () and s.sum(0).item() == 3.0 and s.sum(-1, keepdim=True).shape == ()
    v, i = s.max(0)
    assert v.item() == 3.0 and i.item() == 0
    assert s.softmax(0).item() == 1.0 and s.logsumexp(0).item() == pytest.approx(3.0)


@pytest.mark.filterwarnings("ignore:Mean of empty slice", "ignore:invalid value")
def test_empty_tensor_reductions():
    e = mg.zeros(0, 3)
    np.testing.assert_array_equal(e.sum(0).array, [0.0, 0.0, 0.0])
    assert np.isnan(e.mean().item())
    np.testing.assert_array_equal(e.logsumexp(0).array, [-np.inf] * 3)
    with pytest.raises(ValueError, match="empty"):
        e.max()


def test_dim_out_of_range_is_clear():
    x = mg.zeros(2, 3)
    for fn in (lambda: x.sum(2), lambda: x.mean(-3), lambda: x.max(5), lambda: x.argmax(2),
               lambda: x.softmax(2)):
        with pytest.raises(IndexError, match="out of range"):
            fn()


@pytest.mark.parametrize("big", [100.0, 500.0, 1e4])
def test_softmax_family_is_stable_for_huge_logits(big):
    x = mg.tensor([[big, 0.0, -big], [big, big, big]], dtype=mg.float64)
    p = x.softmax(-1).array
    lp = x.log_softmax(-1).array
    lse = x.logsumexp(-1).array
    assert np.isfinite(p).all() and np.isfinite(lp[:, :2]).all()
    np.testing.assert_allclose(p.sum(-1), 1.0)
    np.testing.assert_allclose(lp[1], np.log(1 / 3))
    np.testing.assert_allclose(lse, [big, big + np.log(3)])
    np.testing.assert_allclose(x.float().softmax(-1).array, p, atol=1e-6)


def test_softmax_default_dim_is_pytorchs_legacy_choice():
    x = mg.tensor(np.arange(6.0).reshape(2, 3))
    np.testing.assert_allclose(mg.softmax(x).array, mg.softmax(x, 1).array)
    v = mg.tensor([1.0, 2.0])
    np.testing.assert_allclose(mg.softmax(v).array, mg.softmax(v, 0).array)


def test_prod_grad_with_zeros_matches_products_of_others():
    x = f64([2.0, 0.0, 3.0])
    x.prod().backward()
    np.testing.assert_allclose(x.grad, [0.0, 6.0, 0.0])
    y = f64([0.0, 0.0, 3.0])
    y.prod().backward()
    np.testing.assert_allclose(y.grad, [0.0, 0.0, 0.0])


def test_all_any():
    x = mg.tensor([[1, 0], [1, 1]])
    assert not x.all().item() and x.any().item()
    np.testing.assert_array_equal(x.all(1).array, [False, True])


# --- norm (an Op for p = 2, composed for the rest) ---
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
    np.testing.assert_allclose(mg.tensor(a).norm(dim=1).array, np.linalg.norm(a, axis=1), rtol=1e-6)


def test_bad_p_is_a_clear_error():
    with pytest.raises(ValueError, match="norm: p must be"):
        mg.norm(mg.ones(2), p=-1)
