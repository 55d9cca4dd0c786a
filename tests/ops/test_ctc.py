"""matgrad/ops/ctc.py: ctc_loss against PyTorch (values and gradients), finite differences, errors."""
from __future__ import annotations

import numpy as np
import pytest

import matgrad as mg
import matgrad.nn as nn
import matgrad.nn.functional as F

REDUCTIONS = ["none", "sum", "mean"]


def _case(seed=0, t=6, n=3, c=4):
    """Logits (T, N, C), padded targets with a repeat, an empty target and a short input, and the lengths."""
    x = np.random.default_rng(seed).standard_normal((t, n, c))
    targets = np.array([[1, 1, 2], [3, 3, 0], [2, 1, 2]])
    return x, targets, np.array([t, t - 2, t - 1]), np.array([3, 2, 0])


def _log_softmax(x):
    z = x - x.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def _both(lp, targets, il, tl, dtype="float64", seed=1, **kw):
    """(matgrad's loss, grad) and (torch's loss, grad), with the same random upstream gradient."""
    torch = pytest.importorskip("torch")
    a = mg.tensor(lp, dtype=getattr(mg, dtype), requires_grad=True)
    b = torch.tensor(lp, dtype=getattr(torch, dtype), requires_grad=True)
    got = F.ctc_loss(a, mg.tensor(targets), mg.tensor(il), mg.tensor(tl), **kw)
    want = torch.nn.functional.ctc_loss(b, torch.tensor(targets), torch.tensor(il), torch.tensor(tl), **kw)
    g = np.random.default_rng(seed).standard_normal(tuple(want.shape))
    (got * mg.tensor(g, dtype=got.dtype)).sum().backward()
    (want * torch.tensor(g, dtype=want.dtype)).sum().backward()
    return (got.numpy(), a.grad), (want.detach().numpy(), b.grad.numpy())


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("normalised", [True, False], ids=["log_softmax", "raw"])
def test_matches_torch_float64(reduction, normalised):
    x, targets, il, tl = _case()
    lp = _log_softmax(x) if normalised else x  # raw: PyTorch's exp(lp) term in the gradient shows
    (v, g), (tv, tg) = _both(lp, targets, il, tl, reduction=reduction)
    np.testing.assert_allclose(v, tv, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(g, tg, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_matches_torch_float32(reduction):
    x, targets, il, tl = _case(seed=2, t=9, c=5)
    (v, g), (tv, tg) = _both(_log_softmax(x), targets, il, tl, dtype="float32", reduction=reduction)
    assert v.dtype == np.float32 and g.dtype == np.float32
    np.testing.assert_allclose(v, tv, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(g, tg, rtol=1e-5, atol=1e-6)


def test_concatenated_targets_equal_padded_ones():
    x, targets, il, tl = _case(seed=3)
    flat = np.concatenate([row[:k] for row, k in zip(targets, tl)])
    (v, g), (tv, tg) = _both(_log_softmax(x), flat, il, tl, reduction="none")
    np.testing.assert_allclose(v, tv, rtol=1e-10)
    np.testing.assert_allclose(g, tg, rtol=1e-10, atol=1e-12)
    lp = mg.tensor(_log_softmax(x))
    padded = F.ctc_loss(lp, mg.tensor(targets), mg.tensor(il), mg.tensor(tl), reduction="none")
    np.testing.assert_allclose(v, padded.numpy(), rtol=1e-13)


def test_blank_elsewhere_and_tuple_lengths():
    x, targets, il, tl = _case(seed=4, c=5)
    torch = pytest.importorskip("torch")
    lp = _log_softmax(x)
    got = F.ctc_loss(mg.tensor(lp), mg.tensor(targets + 1), tuple(il), tuple(tl), blank=0, reduction="none")
    got4 = F.ctc_loss(mg.tensor(lp), mg.tensor(targets), tuple(il), tuple(tl), blank=4, reduction="none")
    want4 = torch.nn.functional.ctc_loss(torch.tensor(lp), torch.tensor(targets), tuple(il), tuple(tl), blank=4,
                                         reduction="none")
    want = torch.nn.functional.ctc_loss(torch.tensor(lp), torch.tensor(targets + 1), tuple(il), tuple(tl),
                                        reduction="none")
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-10)
    np.testing.assert_allclose(got4.numpy(), want4.numpy(), rtol=1e-10)


@pytest.mark.parametrize("zero_infinity", [False, True])
def test_impossible_alignment(zero_infinity):
    """Two equal labels need a blank between them: 3 frames for (1, 1); 2 give an infinite loss."""
    x = np.random.default_rng(5).standard_normal((4, 2, 3))
    targets, il, tl = np.array([[1, 1], [2, 1]]), np.array([2, 4]), np.array([2, 2])
    (v, g), (tv, tg) = _both(_log_softmax(x), targets, il, tl, reduction="none", zero_infinity=zero_infinity)
    np.testing.assert_array_equal(np.isinf(v), np.isinf(tv))
    np.testing.assert_allclose(v, tv, rtol=1e-10)
    np.testing.assert_array_equal(np.isnan(g), np.isnan(tg))  # without zero_infinity: nan, as PyTorch
    np.testing.assert_allclose(g, tg, rtol=1e-10, atol=1e-12)
    if zero_infinity:
        assert v[0] == 0 and not g[:, 0].any()
    else:
        assert v[0] == np.inf and np.isnan(g[:2, 0]).all()


def test_empty_input_and_empty_target():
    x = np.random.default_rng(6).standard_normal((3, 3, 3))
    targets, il, tl = np.array([[1], [1], [2]]), np.array([0, 0, 3]), np.array([0, 1, 0])
    (v, g), (tv, tg) = _both(_log_softmax(x), targets, il, tl, reduction="none", zero_infinity=True)
    np.testing.assert_allclose(v, tv, rtol=1e-12)
    np.testing.assert_allclose(g, tg, rtol=1e-10, atol=1e-12)
    (v, _), (tv, _) = _both(_log_softmax(x), targets, il, tl, reduction="none")
    np.testing.assert_array_equal(v, [0, np.inf, tv[2]])


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_unbatched(reduction):
    x = np.random.default_rng(7).standard_normal((5, 4))
    (v, g), (tv, tg) = _both(_log_softmax(x), np.array([1, 3, 3]), np.array(5), np.array(3), reduction=reduction)
    assert v.shape == tv.shape == ()
    np.testing.assert_allclose(v, tv, rtol=1e-10)
    np.testing.assert_allclose(g, tg, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_finite_differences_through_log_softmax(reduction):
    x, targets, il, tl = _case(seed=8, t=5, c=3)
    targets = np.minimum(targets, 2)
    fn = lambda a: F.ctc_loss(F.log_softmax(a, 2), mg.tensor(targets), il, tl, reduction=reduction)  # noqa: E731
    assert mg.gradcheck(fn, [mg.tensor(x, requires_grad=True)])


def test_finite_differences_on_free_log_probs():
    """Without a log_softmax, the true derivative is PyTorch's gradient less its exp(lp)·upstream term."""
    x, targets, il, tl = _case(seed=9, t=5, c=3)
    targets = np.minimum(targets, 2)
    a = mg.tensor(x, requires_grad=True)
    loss = F.ctc_loss(a, mg.tensor(targets), il, tl, reduction="sum")
    loss.backward()
    keep = np.arange(5)[:, None, None] < il[None, :, None]
    analytic = a.grad - np.exp(x) * keep
    eps, numeric = 1e-6, np.zeros_like(x)
    for i in np.ndindex(x.shape):
        d = np.zeros_like(x)
        d[i] = eps
        up = F.ctc_loss(mg.tensor(x + d), mg.tensor(targets), il, tl, reduction="sum").item()
        down = F.ctc_loss(mg.tensor(x - d), mg.tensor(targets), il, tl, reduction="sum").item()
        numeric[i] = (up - down) / (2 * eps)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-7)


def test_module_and_mean_reduction_by_hand():
    x, targets, il, tl = _case(seed=10)
    lp = mg.tensor(_log_softmax(x))
    each = F.ctc_loss(lp, mg.tensor(targets), il, tl, reduction="none").numpy()
    mean = nn.CTCLoss()(lp, mg.tensor(targets), mg.tensor(il), mg.tensor(tl))
    np.testing.assert_allclose(mean.item(), np.mean(each / np.maximum(tl, 1)), rtol=1e-13)
    module = nn.CTCLoss(blank=0, reduction="sum", zero_infinity=True)
    np.testing.assert_allclose(module(lp, mg.tensor(targets), il, tl).item(), each.sum(), rtol=1e-13)


def test_double_backward_is_refused_as_torch():
    x, targets, il, tl = _case(seed=11)
    a = mg.tensor(_log_softmax(x), requires_grad=True)
    loss = F.ctc_loss(a, mg.tensor(targets), il, tl)
    with pytest.raises(RuntimeError, match="create_graph"):
        mg.autograd.grad(loss, [a], create_graph=True)


@pytest.mark.parametrize("args, kw, error, match", [
    (((5, 4, 3), (2, 2)), {}, RuntimeError, "input_lengths must be of size batch_size"),
    (((5, 4), (2,)), {}, RuntimeError, "target_lengths must be of size batch_size"),
    (((6, 4), (2, 2)), {}, RuntimeError, "input_lengths to have value at most 5"),
    (((-1, 4), (2, 2)), {}, RuntimeError, "input_lengths to have value at least 0"),
    (((5, 4), (3, 2)), {}, RuntimeError, "size at least 3 at dimension 1"),
    (((5, 4), (-1, 2)), {}, RuntimeError, "target_lengths to have value at least 0"),
    (((5, 4), (2, 2)), {"blank": 4}, RuntimeError, "blank must be in label range"),
    (((5, 4), (2, 2)), {"blank": -1}, RuntimeError, "blank must be in label range"),
    (((5, 4), (2, 2)), {"reduction": "bad"}, ValueError, "not a valid value for reduction"),
])
def test_errors(args, kw, error, match):
    lp = mg.tensor(_log_softmax(np.random.default_rng(0).standard_normal((5, 2, 4))))
    with pytest.raises(error, match=match):
        F.ctc_loss(lp, mg.tensor([[1, 2], [3, 3]]), *args, **kw)


def test_more_errors():
    lp = mg.tensor(np.zeros((5, 2, 4)))
    tg = mg.tensor([[1, 2], [3, 3]])
    with pytest.raises(RuntimeError, match="3-dimensional"):
        F.ctc_loss(lp.unsqueeze(0), tg, (5, 4), (2, 2))
    with pytest.raises(RuntimeError, match="1 to 2 dimensions"):
        F.ctc_loss(lp, tg.unsqueeze(0), (5, 4), (2, 2))
    with pytest.raises(RuntimeError, match="size 4 at dimension 0"):
        F.ctc_loss(lp, mg.tensor([1, 2, 3]), (5, 4), (2, 2))
    with pytest.raises(RuntimeError, match="input_lengths must be integral"):
        F.ctc_loss(lp, tg, mg.tensor([5.0, 4.0]), (2, 2))
    with pytest.raises(NotImplementedError, match="floating"):
        F.ctc_loss(mg.tensor(np.zeros((5, 2, 4), np.int64)), tg, (5, 4), (2, 2))
    with pytest.raises(RuntimeError, match="out of range for 4 classes"):
        F.ctc_loss(lp, tg + 1, (5, 4), (2, 2))
