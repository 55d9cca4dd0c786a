"""The torch.nn layers of breadth 2 (RMSNorm, the shrinks, RReLU, the margin losses, channel dropout, LP pooling,
1-d unpooling and transposed convolution ...): each module against PyTorch's with the same weights, state_dict
round trips, the in-place functional variants, the random layers by their statistics, error messages, and
explicit values that hold without PyTorch."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import matgrad as mg
import matgrad.nn as nn
import matgrad.nn.functional as F
from tests.helpers import assert_close, torch

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is not installed")

# (constructor, input shapes, extra arguments as numpy arrays: integer targets, ±1 labels)
_RNG = np.random.default_rng(11)
PM = np.where(_RNG.random((3, 4)) < 0.5, -1.0, 1.0).astype(np.float32)
MODULES = [
    ("RMSNorm(4)", [(2, 3, 4)], []), ("RMSNorm((3, 4), eps=1e-06)", [(2, 3, 4)], []),
    ("RMSNorm([4], elementwise_affine=False)", [(5, 4)], []), ("RMSNorm(6)", [(6,)], []),
    ("Hardshrink()", [(3, 4)], []), ("Hardshrink(1.2)", [(3, 4)], []), ("Softshrink()", [(3, 4)], []),
    ("Softshrink(0.1)", [(3, 4)], []), ("Tanhshrink()", [(3, 4)], []), ("RReLU(0.1, 0.4)", [(3, 4)], []),
    ("Softmax2d()", [(2, 3, 4, 5)], []), ("Softmax2d()", [(3, 4, 5)], []),
    ("ChannelShuffle(2)", [(2, 4, 3)], []), ("ChannelShuffle(3)", [(1, 6, 2, 2)], []),
    ("LocalResponseNorm(3)", [(2, 5, 4)], []), ("LocalResponseNorm(2, 0.5, 0.5, 2.0)", [(2, 4, 3, 3)], []),
    ("LPPool1d(2, 3)", [(2, 3, 7)], []), ("LPPool1d(2, 2, 1)", [(3, 7)], []),
    ("LPPool2d(2, (2, 3))", [(2, 3, 4, 6)], []), ("LPPool2d(1, 2)", [(3, 4, 4)], []),
    ("ConvTranspose1d(3, 2, 3)", [(2, 3, 5)], []),
    ("ConvTranspose1d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2, dilation=2)", [(2, 4, 5)], []),
    ("ConvTranspose1d(3, 2, 2, bias=False)", [(3, 5)], []),
    ("Dropout1d(0.3)", [(2, 3, 4)], []), ("Dropout3d(0.3)", [(2, 3, 2, 2, 2)], []),
    ("SoftMarginLoss()", [(3, 4)], [PM]), ("SoftMarginLoss(reduction='none')", [(3, 4)], [PM]),
    ("HingeEmbeddingLoss(0.5)", [(3, 4)], [PM]), ("HingeEmbeddingLoss(reduction='sum')", [(3, 4)], [PM]),
    ("MultiMarginLoss()", [(5, 4)], [np.array([0, 3, 1, 3, 2])]),
    ("MultiMarginLoss(p=2, margin=0.5, reduction='none')", [(5, 4)], [np.array([0, 3, 1, 3, 2])]),
    ("MultiMarginLoss(weight=torch.tensor([0.5, 1.0, 2.0, 0.25]))", [(5, 4)], [np.array([0, 3, 1, 3, 2])]),
    ("MultiLabelMarginLoss()", [(3, 4)], [np.array([[3, 0, -1, 1], [1, 2, 3, 0], [2, -1, 0, 0]])]),
    ("MultiLabelMarginLoss(reduction='none')", [(4,)], [np.array([1, 1, -1, 2])]),
    ("TripletMarginWithDistanceLoss()", [(5, 3), (5, 3), (5, 3)], []),
    ("TripletMarginWithDistanceLoss(margin=0.3, swap=True, reduction='sum')", [(5, 3), (5, 3), (5, 3)], []),
]


def _build(expr, ns):
    names = {k: getattr(ns, k) for k in dir(ns) if k[0].isupper()}
    names["torch"] = mg if ns is nn else torch  # a weight written torch.tensor(...) becomes ours for ours
    return eval(expr, {}, names)


@needs_torch
@pytest.mark.parametrize("expr, shapes, extra", MODULES, ids=[m[0] for m in MODULES])
@pytest.mark.parametrize("train", [True, False])
def test_module_matches_torch(expr, shapes, extra, train):
    ours, theirs = _build(expr, nn), _build(expr, torch.nn)
    assert repr(ours) == repr(theirs)
    with torch.no_grad():  # weights away from their ones/zeros start, so they matter
        for p in theirs.parameters():
            p.add_(torch.randn(p.shape, generator=torch.Generator().manual_seed(3)) * 0.3)
    tsd = theirs.state_dict()
    assert list(ours.state_dict()) == list(tsd)
    for k, v in ours.state_dict().items():
        assert tuple(v.shape) == tuple(tsd[k].shape), k
    ours.load_state_dict({k: v.numpy() for k, v in tsd.items()})
    ours.train(train)
    theirs.train(train)
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    mx = [mg.tensor(a, requires_grad=True) for a in arrays]
    tx = [torch.tensor(a, requires_grad=True) for a in arrays]
    if train and ("Dropout" in expr or "RReLU" in expr):  # random: by their statistics below
        assert ours(*mx).shape == tuple(shapes[0])
        return
    y = ours(*mx, *[mg.tensor(e) for e in extra])
    ty = theirs(*tx, *[torch.tensor(e) for e in extra])
    assert y.dtype == mg.float32 and tuple(y.shape) == tuple(ty.shape)
    assert_close(y.array, ty.detach().numpy(), rtol=1e-5, atol=1e-6)
    seed = rng.standard_normal(y.shape).astype(np.float32)
    (y * mg.tensor(seed)).sum().backward()
    (ty * torch.tensor(seed)).sum().backward()
    for a, b in zip(mx, tx):
        assert_close(a.grad.array, b.grad.numpy(), rtol=1e-5, atol=1e-5)
    tp = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        assert_close(p.grad.array, tp[name].grad.numpy(), rtol=1e-5, atol=1e-5, err_msg=name)


@needs_torch
@pytest.mark.parametrize("expr", ["RMSNorm((3, 4))", "ConvTranspose1d(4, 6, 3, groups=2)",
                                  "MultiMarginLoss(weight=torch.tensor([1.0, 2.0, 3.0]))"])
def test_state_dict_round_trip_with_torch(expr):
    ours, theirs = _build(expr, nn), _build(expr, torch.nn)
    with torch.no_grad():
        for p in ours.parameters():
            p.array[...] = np.random.default_rng(1).standard_normal(p.shape)
    theirs.load_state_dict({k: torch.tensor(np.asarray(v.array)) for k, v in ours.state_dict().items()})
    back = _build(expr, nn)
    back.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    for k, v in ours.state_dict().items():
        np.testing.assert_array_equal(back.state_dict()[k].array, v.array, err_msg=k)


def test_rms_norm_values_without_torch():
    x = mg.tensor([[3.0, 4.0], [1.0, -1.0]], dtype=mg.float64)
    y = F.rms_norm(x, (2,), eps=0.0)
    rms = np.sqrt([12.5, 1.0])[:, None]
    np.testing.assert_allclose(y.array, x.array / rms)
    w = mg.tensor([2.0, 0.5], dtype=mg.float64)
    np.testing.assert_allclose(F.rms_norm(x, 2, w, eps=0.0).array, x.array / rms * [2.0, 0.5])
    # eps=None: float32's machine epsilon for float32 (and float16), float64's for float64, added inside the root
    z = np.zeros((1, 3))
    assert F.rms_norm(mg.tensor(z, requires_grad=True), 3).sum().item() == 0.0
    one = np.full((1, 1), 1e-4)
    for dt, eps in ((np.float32, np.finfo(np.float32).eps), (np.float64, np.finfo(np.float64).eps)):
        got = F.rms_norm(mg.tensor(one.astype(dt)), 1).array
        assert got.dtype == dt
        np.testing.assert_allclose(got, 1e-4 / np.sqrt(1e-8 + eps), rtol=1e-6)
    m = nn.RMSNorm((2, 3))
    assert m.weight.shape == (2, 3) and np.all(m.weight.array == 1) and m.eps is None
    m.weight.array[...] = 5
    m.reset_parameters()
    assert np.all(m.weight.array == 1)
    assert nn.RMSNorm(3, elementwise_affine=False).weight is None
    assert list(nn.RMSNorm(3, elementwise_affine=False).state_dict()) == []


def test_shrinks_and_small_functions_values_without_torch():
    x = mg.tensor([-2.0, -0.5, -0.2, 0.0, 0.3, 0.5, 1.5], requires_grad=True)
    np.testing.assert_allclose(F.hardshrink(x).array, [-2.0, 0, 0, 0, 0, 0, 1.5])
    np.testing.assert_allclose(F.softshrink(x).array, [-1.5, 0, 0, 0, 0, 0, 1.0])
    np.testing.assert_allclose(F.tanhshrink(x).array, x.array - np.tanh(x.array), rtol=1e-6)
    F.softshrink(x).sum().backward()
    np.testing.assert_array_equal(x.grad.array, [1, 0, 0, 0, 0, 0, 1])
    np.testing.assert_allclose(F.rrelu(x, 0.1, 0.3).array, np.where(x.array > 0, x.array, 0.2 * x.array), rtol=1e-6)
    np.testing.assert_allclose(F.pdist(mg.tensor([[0.0, 0.0], [3.0, 4.0], [6.0, 8.0]])).array, [5, 10, 5])
    np.testing.assert_allclose(F.pdist(mg.tensor([[0.0, 0.0], [3.0, 4.0]]), p=1).array, [7])
    assert F.pdist(mg.tensor(np.zeros((1, 3)))).shape == (0,)
    c = F.channel_shuffle(mg.tensor(np.arange(6.0).reshape(1, 6, 1)), 2)
    np.testing.assert_array_equal(c.array.ravel(), [0, 3, 1, 4, 2, 5])
    s = nn.Softmax2d()(mg.tensor(np.random.default_rng(0).standard_normal((2, 3, 4, 5))))
    np.testing.assert_allclose(s.array.sum(axis=1), 1.0, rtol=1e-6)
    lp = F.lp_pool1d(mg.tensor([[[3.0, 4.0, 1.0, 0.0]]]), 2, 2)
    np.testing.assert_allclose(lp.array.ravel(), [5.0, 1.0], rtol=1e-6)
    lrn = F.local_response_norm(mg.tensor(np.ones((1, 3, 1))), 3, alpha=3.0, beta=1.0, k=0.0)
    np.testing.assert_allclose(lrn.array.ravel(), [1 / 2, 1 / 3, 1 / 2], rtol=1e-6)  # zero-padded channel windows


@pytest.mark.parametrize("p", [2, 3, 1.5])
def test_zero_windows_and_equal_rows_give_zero_gradient(p):
    """lp_pool over an all-zero window and pdist between equal rows: gradient 0 (PyTorch's), never nan."""
    x = mg.tensor([[[0.0, 0.0, 1.0, 2.0]]], requires_grad=True)
    y = F.lp_pool1d(x, p, 2)
    np.testing.assert_allclose(y.array.ravel(), [0.0, (1 + 2.0 ** p) ** (1 / p)], rtol=1e-6)
    y.sum().backward()
    assert np.all(x.grad.array[..., :2] == 0) and np.all(np.isfinite(x.grad.array))
    r = mg.tensor([[1.0, 2.0], [1.0, 2.0], [0.0, 1.0]], requires_grad=True)
    d = F.pdist(r, p)
    np.testing.assert_allclose(d.array, [0.0, 2 ** (1 / p), 2 ** (1 / p)], rtol=1e-6)
    d.sum().backward()
    assert np.all(np.isfinite(r.grad.array))
    np.testing.assert_allclose(r.grad.array[0], r.grad.array[1])


def test_margin_losses_values_without_torch():
    x = mg.tensor([[0.1, 0.2, 0.4, 0.8]], requires_grad=True)
    # PyTorch's documented example: 0.25 · ((1-(0.1-0.2)) + (1-(0.1-0.4)) + (1-(0.8-0.2)) + (1-(0.8-0.4)))
    loss = F.multilabel_margin_loss(x, mg.tensor([[3, 0, -1, 1]]))
    np.testing.assert_allclose(loss.item(), 0.85, rtol=1e-6)
    # multi_margin: Σ_{i≠y} max(0, 1 - x[y] + x[i]) / C, y = 3: (0.3 + 0.4 + 0.6) / 4
    np.testing.assert_allclose(F.multi_margin_loss(x, mg.tensor([3])).item(), 1.3 / 4, rtol=1e-6)
    np.testing.assert_allclose(F.multi_margin_loss(x, mg.tensor([3]), p=2).item(), (0.09 + 0.16 + 0.36) / 4,
                               rtol=1e-5)
    np.testing.assert_allclose(F.multi_margin_loss(x, mg.tensor([3]), weight=mg.tensor([1.0, 1, 1, 2.0])).item(),
                               2 * 1.3 / 4, rtol=1e-6)
    y = mg.tensor([[1.0, -1.0, 1.0, -1.0]])
    np.testing.assert_allclose(F.hinge_embedding_loss(x, y, reduction="none").array, [[0.1, 0.8, 0.4, 0.2]],
                               rtol=1e-6)
    # a target neither 1 nor -1 gets both terms, as PyTorch's
    np.testing.assert_allclose(F.hinge_embedding_loss(x, mg.tensor([[0.0, 1.0, 0.0, 0.0]]), 2.0,
                                                      reduction="none").array, [[2.0, 0.2, 2.0, 2.0]], rtol=1e-6)
    np.testing.assert_allclose(F.soft_margin_loss(x, y, reduction="sum").item(),
                               np.log1p(np.exp(-np.array([0.1, -0.2, 0.4, -0.8]))).sum(), rtol=1e-6)
    a, p, n = mg.tensor([[0.0, 0.0]]), mg.tensor([[3.0, 4.0]]), mg.tensor([[1.0, 0.0]])
    got = F.triplet_margin_with_distance_loss(a, p, n, distance_function=lambda u, v: ((u - v) ** 2).sum(1))
    np.testing.assert_allclose(got.item(), 25 - 1 + 1.0)


def test_conv_transpose1d_and_unpool1d_values_without_torch():
    x = mg.tensor([[[1.0, 2.0]]])
    w = mg.tensor([[[1.0, 10.0, 100.0]]])
    np.testing.assert_allclose(F.conv_transpose1d(x, w, stride=2).array.ravel(), [1, 10, 102, 20, 200])
    m = nn.ConvTranspose1d(1, 1, 3, stride=2)
    assert m.weight.shape == (1, 1, 3) and m.bias.shape == (1,)
    assert m(x, output_size=[6]).shape == (1, 1, 6)
    v, i = F.max_pool1d_with_indices(mg.tensor([[[1.0, 5.0, 3.0, 2.0]]]), 2)
    np.testing.assert_array_equal(i.array.ravel(), [1, 2])
    np.testing.assert_array_equal(F.max_unpool1d(v, i, 2).array.ravel(), [0, 5, 3, 0])
    np.testing.assert_array_equal(nn.MaxUnpool1d(2)(v, i, output_size=(5,)).array.ravel(), [0, 5, 3, 0, 0])
    y, idx = nn.MaxPool1d(2, return_indices=True)(mg.tensor([[[1.0, 5.0, 3.0, 2.0]]]))
    np.testing.assert_array_equal(idx.array, i.array)


# --- in place -------------------------------------------------------------------------------------
INPLACE = [
    ("relu_", (), lambda x: F.relu(x)), ("elu_", (0.5,), lambda x: F.elu(x, 0.5)),
    ("leaky_relu_", (0.2,), lambda x: F.leaky_relu(x, 0.2)),
    ("hardtanh_", (-0.5, 0.5), lambda x: F.hardtanh(x, -0.5, 0.5)),
    ("selu_", (), F.selu), ("celu_", (0.7,), lambda x: F.celu(x, 0.7)),
    ("threshold_", (0.1, 9.0), lambda x: F.threshold(x, 0.1, 9.0)),
    ("rrelu_", (0.1, 0.3), lambda x: F.rrelu(x, 0.1, 0.3)),
]


@pytest.mark.parametrize("name, args, ref", INPLACE, ids=[i[0] for i in INPLACE])
def test_inplace_variants(name, args, ref):
    a = np.random.default_rng(2).standard_normal((3, 4))
    fn = getattr(F, name)
    t = mg.tensor(a)
    v = t._version
    out = fn(t, *args)
    assert out is t and t._version == v + 1
    np.testing.assert_allclose(t.array, ref(mg.tensor(a)).array)
    # through a graph: the gradient is the out-of-place function's
    leaf = mg.tensor(a, requires_grad=True)
    h = leaf * 1.0
    assert fn(h, *args) is h
    h.sum().backward()
    ref_leaf = mg.tensor(a, requires_grad=True)
    ref(ref_leaf).sum().backward()
    np.testing.assert_allclose(leaf.grad.array, ref_leaf.grad.array)
    with pytest.raises(RuntimeError, match="leaf"):
        fn(mg.tensor(a, requires_grad=True), *args)
    with pytest.raises(TypeError, match="must be Tensor"):
        fn(a, *args)


@needs_torch
@pytest.mark.parametrize("name, args, ref", INPLACE, ids=[i[0] for i in INPLACE])
def test_inplace_variants_match_torch(name, args, ref):
    a = np.random.default_rng(4).standard_normal((3, 4))
    t, tt = mg.tensor(a), torch.tensor(a)
    getattr(F, name)(t, *args)
    getattr(torch.nn.functional, name)(tt, *args)
    np.testing.assert_allclose(t.array, tt.numpy(), rtol=1e-12)
    assert t._version == tt._version
    with pytest.raises(RuntimeError):
        getattr(torch.nn.functional, name)(torch.tensor(a, requires_grad=True), *args)


def test_inplace_keyword_on_new_functions():
    x = mg.tensor([-1.0, 2.0])
    assert F.rrelu(x, 0.2, 0.2, inplace=True) is x
    np.testing.assert_allclose(x.array, [-0.2, 2.0], rtol=1e-6)
    x = mg.tensor(np.ones((2, 3, 4)))
    assert F.dropout1d(x, 0.5, training=True, inplace=True) is x


# --- random layers ----------------------------------------------------------------------------------
def test_rrelu_training_slopes_are_uniform_per_element():
    mg.manual_seed(0)
    x = mg.tensor(-np.ones((200, 100)), requires_grad=True)
    y = F.rrelu(x, 0.1, 0.3, training=True)
    slopes = -y.array
    assert slopes.min() >= 0.1 and slopes.max() <= 0.3
    assert abs(slopes.mean() - 0.2) < 0.005 and abs(slopes.std() - 0.2 / np.sqrt(12)) < 0.005
    y.sum().backward()
    np.testing.assert_allclose(x.grad.array, slopes)  # dx = the drawn slope
    pos = mg.tensor(np.linspace(0.1, 2, 50))
    np.testing.assert_array_equal(F.rrelu(pos, training=True).array, pos.array)
    mg.manual_seed(0)
    np.testing.assert_array_equal(F.rrelu(x, 0.1, 0.3, training=True).array, y.array)  # manual_seed replays it
    m = nn.RReLU(0.1, 0.3).eval()
    np.testing.assert_array_equal(m(x).array, m(x).array)
    np.testing.assert_allclose(m(x).array, -0.2 * np.ones((200, 100)), rtol=1e-6)


@pytest.mark.parametrize("cls, shape", [(nn.Dropout1d, (400, 50, 3)), (nn.Dropout1d, (400, 3)),
                                        (nn.Dropout3d, (40, 50, 2, 2, 2)), (nn.Dropout3d, (400, 2, 2, 2))])
def test_channel_dropout_statistics(cls, shape):
    mg.manual_seed(1)
    m = cls(0.3)
    x = mg.tensor(np.ones(shape), requires_grad=True)
    y = m(x)
    lead = 2 if len(shape) in (3, 5) else 1
    per_channel = y.array.reshape(shape[:lead] + (-1,))
    assert np.all(per_channel.min(-1) == per_channel.max(-1))  # whole channels kept or dropped
    assert set(np.unique(per_channel).round(6)) <= {0.0, round(1 / 0.7, 6)}
    assert abs((per_channel[..., 0] == 0).mean() - 0.3) < 0.03
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.array, y.array)  # dx = the mask
    m.eval()
    assert m(x) is x or np.array_equal(m(x).array, x.array)
    assert np.array_equal(F.dropout1d(mg.tensor(np.ones((2, 3))), 1.0).array, np.zeros((2, 3)))


# --- errors ---------------------------------------------------------------------------------------------
ERRORS = [
    (lambda: F.rms_norm(mg.tensor(np.ones((3, 4))), (3,)), RuntimeError, "normalized_shape"),
    (lambda: F.rms_norm(mg.tensor(np.ones((3, 4))), (4,), mg.tensor(np.ones(3))), RuntimeError, "weight"),
    (lambda: F.rms_norm(mg.tensor(np.ones((3, 4), dtype=np.int64)), (4,)), TypeError, "floating"),
    (lambda: F.softshrink(mg.tensor([1.0]), -1.0), RuntimeError, "lambda"),
    (lambda: F.rrelu(mg.tensor([1.0]), 0.5, 0.1, True), RuntimeError, "Lower bound"),
    (lambda: F.multi_margin_loss(mg.tensor(np.ones((3, 4))), mg.tensor([0, 1, 3]), p=3), ValueError, "p == 1"),
    (lambda: F.multi_margin_loss(mg.tensor(np.ones((3, 4))), mg.tensor([0, 1, 4])), RuntimeError, "out of range"),
    (lambda: F.multi_margin_loss(mg.tensor(np.ones((3, 4))), mg.tensor([0, 1])), RuntimeError, "target tensor"),
    (lambda: F.multi_margin_loss(mg.tensor(np.ones((3, 4))), mg.tensor([0.0, 1, 2])), RuntimeError, "integer"),
    (lambda: F.multi_margin_loss(mg.tensor(np.ones((3, 4))), mg.tensor([0, 1, 2]), weight=mg.tensor([1.0, 2.0])),
     RuntimeError, "weight size"),
    (lambda: F.multilabel_margin_loss(mg.tensor(np.ones((2, 4))), mg.tensor([[0, 4, -1, 0], [0, 0, 0, 0]])),
     RuntimeError, "out of range"),
    (lambda: F.multilabel_margin_loss(mg.tensor(np.ones((2, 4))), mg.tensor([0, 1, -1])), RuntimeError, "target size"),
    (lambda: F.soft_margin_loss(mg.tensor([1.0]), mg.tensor([1.0]), reduction="avg"), ValueError, "reduction"),
    (lambda: F.triplet_margin_with_distance_loss(mg.tensor([1.0]), mg.tensor([1.0]), mg.tensor([1.0]), margin=0),
     ValueError, "margin"),
    (lambda: F.triplet_margin_with_distance_loss(mg.tensor([1.0]), mg.tensor([[1.0]]), mg.tensor([1.0])),
     RuntimeError, "same number of dimensions"),
    (lambda: F.dropout1d(mg.tensor(np.ones((2, 3, 4, 5)))), RuntimeError, "2D or 3D"),
    (lambda: F.dropout1d(mg.tensor(np.ones((2, 3))), 1.5), ValueError, "between 0 and 1"),
    (lambda: F.channel_shuffle(mg.tensor(np.ones((2, 6, 3))), 4), RuntimeError, "divisible by groups"),
    (lambda: F.channel_shuffle(mg.tensor(np.ones((2, 6))), 2), RuntimeError, "> 2 dims"),
    (lambda: F.pdist(mg.tensor(np.ones((2, 3, 4)))), RuntimeError, "2D"),
    (lambda: F.pdist(mg.tensor(np.ones((2, 3))), -1), RuntimeError, "non-negative"),
    (lambda: F.local_response_norm(mg.tensor(np.ones((2, 3))), 2), ValueError, "3D or higher"),
    (lambda: nn.Softmax2d()(mg.tensor(np.ones((2, 3)))), ValueError, "3D or 4D"),
    (lambda: nn.ConvTranspose1d(2, 3, 3, padding_mode="reflect"), ValueError, "zeros"),
    (lambda: nn.ConvTranspose1d(2, 3, 3, groups=2), ValueError, "divisible by groups"),
    (lambda: F.conv_transpose1d(mg.tensor(np.ones((2, 3, 4, 5))), mg.tensor(np.ones((3, 2, 2)))), ValueError,
     "input of shape"),
    (lambda: F.max_unpool1d(mg.tensor(np.ones((1, 2, 3))), mg.tensor(np.zeros((1, 2, 2), dtype=np.int64)), 2),
     ValueError, "shape of indices"),
    (lambda: nn.MultiMarginLoss(p=3), ValueError, "p == 1"),
    (lambda: F.relu_(np.ones(3)), TypeError, "must be Tensor"),
]


@pytest.mark.parametrize("call, exc, match", ERRORS, ids=range(len(ERRORS)))
def test_errors_name_what_was_wrong(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_dropout3d_warns_on_other_dims_as_torch():
    with warnings.catch_warnings(record=True) as got:
        warnings.simplefilter("always")
        F.dropout3d(mg.tensor(np.ones((2, 3, 4))), 0.5)
    assert any("dropout3d" in str(w.message) for w in got)
