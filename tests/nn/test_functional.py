"""matgrad.nn.functional against PyTorch, finite differences and hand-computed values."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import matgrad as mg
import matgrad.nn.functional as F
from tests.helpers import assert_close, check_op

torch = pytest.importorskip("torch")
TF = torch.nn.functional

REDUCTIONS = ["mean", "sum", "none"]


def _pair(x: np.ndarray, requires_grad: bool = True):
    return (mg.tensor(x, dtype=x.dtype, requires_grad=requires_grad),
            torch.tensor(x, requires_grad=requires_grad))


def _assert_same(mine, theirs, mx=None, tx=None, rtol=1e-6, atol=1e-9):
    """Values and gradients agree with PyTorch's, each to rtol of its array's scale (assert_close)."""
    assert_close(mine.array, theirs.detach().numpy(), rtol=rtol, atol=atol)
    if mx is not None:
        seed = np.random.default_rng(5).standard_normal(mine.shape)
        (mine * mg.tensor(seed, dtype=mine.dtype)).sum().backward()
        (theirs * torch.tensor(seed, dtype=theirs.dtype)).sum().backward()
        assert_close(mx.grad, tx.grad.numpy(), rtol=rtol, atol=atol)


# --- cross-entropy: every target form, weight, ignore_index and smoothing ----------------------
CE_CASES = [
    dict(shape=(6, 5)),
    dict(shape=(5,)),
    dict(shape=(4, 3, 2, 3)),
    dict(shape=(6, 5), weight=True),
    dict(shape=(6, 5), ignore=2),
    dict(shape=(6, 5), weight=True, ignore=-100),
    dict(shape=(6, 5), weight=True, ignore=1, smoothing=0.2),
    dict(shape=(4, 3, 5), weight=True, ignore=0, smoothing=0.1),
    dict(shape=(6, 5), smoothing=0.3),
    dict(shape=(6, 5), smoothing=0.3, ignore=4),
]


@pytest.mark.parametrize("case", CE_CASES, ids=str)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_class_indices_match_torch(case, reduction):
    rng = np.random.default_rng(0)
    shape = case["shape"]
    c = shape[0] if len(shape) == 1 else shape[1]
    tshape = () if len(shape) == 1 else shape[:1] + shape[2:]
    x = rng.standard_normal(shape)
    t = rng.integers(0, c, tshape)
    if "ignore" in case and case["ignore"] >= 0:
        t.flat[::3] = case["ignore"]
    elif "ignore" in case:
        t.flat[1] = -100
    w = rng.uniform(0.2, 2.0, c) if case.get("weight") else None
    kw = dict(reduction=reduction, label_smoothing=case.get("smoothing", 0.0),
              ignore_index=case.get("ignore", -100))
    mx, tx = _pair(x)
    mw = None if w is None else mg.tensor(w, dtype=mg.float64)
    mine = F.cross_entropy(mx, mg.tensor(t), weight=mw, **kw)
    theirs = TF.cross_entropy(tx, torch.tensor(t), weight=None if w is None else torch.tensor(w), **kw)
    _assert_same(mine, theirs, mx, tx)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("smoothing", [0.0, 0.25])
@pytest.mark.parametrize("weighted", [False, True])
def test_cross_entropy_class_probabilities_match_torch(reduction, smoothing, weighted):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((5, 4, 3))
    q = rng.dirichlet(np.ones(4), (5, 3)).transpose(0, 2, 1).copy()
    w = rng.uniform(0.5, 2, 4) if weighted else None
    mx, tx = _pair(x)
    mine = F.cross_entropy(mx, mg.tensor(q, dtype=mg.float64), weight=None if w is None else mg.tensor(w),
                           reduction=reduction, label_smoothing=smoothing)
    theirs = TF.cross_entropy(tx, torch.tensor(q), weight=None if w is None else torch.tensor(w),
                              reduction=reduction, label_smoothing=smoothing)
    _assert_same(mine, theirs, mx, tx)


def test_cross_entropy_by_hand():
    # logits (0, ln 3): softmax (1/4, 3/4); target 1 → -ln(3/4)
    x = mg.tensor([[0.0, np.log(3.0)]], dtype=mg.float64, requires_grad=True)
    loss = F.cross_entropy(x, mg.tensor([1]))
    assert loss.item() == pytest.approx(-np.log(0.75))
    loss.backward()
    np.testing.assert_allclose(x.grad, [[0.25, -0.25]])


def test_cross_entropy_all_ignored_is_nan_like_torch():
    x = mg.zeros(2, 3, requires_grad=True)
    mine = F.cross_entropy(x, mg.tensor([-100, -100]), label_smoothing=0.2)
    theirs = TF.cross_entropy(torch.zeros(2, 3), torch.tensor([-100, -100]), label_smoothing=0.2)
    assert np.isnan(mine.item()) and torch.isnan(theirs)
    mine.backward()
    np.testing.assert_array_equal(x.grad, np.zeros((2, 3)))  # torch's gradient is 0 here too


def test_cross_entropy_huge_logits_are_finite():
    x = mg.tensor([[1000.0, -1000.0, 0.0]], requires_grad=True)
    loss = F.cross_entropy(x, mg.tensor([1]))
    loss.backward()
    assert loss.item() == pytest.approx(2000.0)
    assert np.isfinite(x.grad).all()


def test_cross_entropy_float32_stays_float32():
    x = mg.randn(4, 3, requires_grad=True)
    loss = F.cross_entropy(x, mg.tensor([0, 1, 2, 0]))
    loss.backward()
    assert loss.dtype == np.float32 and x.grad.dtype == np.float32


def test_cross_entropy_bad_targets_are_named():
    x = mg.randn(4, 3)
    with pytest.raises(IndexError, match="target 3 is out of bounds for 3 classes"):
        F.cross_entropy(x, mg.tensor([0, 1, 3, 0]))
    with pytest.raises(ValueError, match=r"integer class indices of shape \(4,\)"):
        F.cross_entropy(x, mg.tensor([0, 1]))
    with pytest.raises(RuntimeError, match="weight must have shape"):
        F.cross_entropy(x, mg.tensor([0, 1, 2, 0]), weight=mg.ones(4))
    with pytest.raises(ValueError, match="reduction"):
        F.cross_entropy(x, mg.tensor([0, 1, 2, 0]), reduction="avg")


def test_cross_entropy_gradcheck():
    t = mg.tensor([0, 2, 1, 2])
    w = mg.tensor([0.5, 1.0, 2.0], dtype=mg.float64)
    check_op(lambda x: F.cross_entropy(x, t, weight=w, label_smoothing=0.1, ignore_index=1), (4, 3),
             torch_fn=lambda x: TF.cross_entropy(x, torch.tensor(t.array), weight=torch.tensor(w.array),
                                                 label_smoothing=0.1, ignore_index=1))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_nll_loss_matches_torch(reduction):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((6, 4))
    t = np.array([0, 3, 1, 2, 2, 1])
    w = rng.uniform(0.5, 2, 4)
    mx, tx = _pair(x)
    mine = F.nll_loss(mx, mg.tensor(t), weight=mg.tensor(w), ignore_index=2, reduction=reduction)
    theirs = TF.nll_loss(tx, torch.tensor(t), weight=torch.tensor(w), ignore_index=2, reduction=reduction)
    _assert_same(mine, theirs, mx, tx)


def test_nll_loss_gradcheck():
    t = mg.tensor([[0, 2], [1, 1]])
    check_op(lambda x: F.nll_loss(x, t, reduction="sum"), (2, 3, 2),
             torch_fn=lambda x: TF.nll_loss(x, torch.tensor(t.array), reduction="sum"))


# --- binary cross-entropy ----------------------------------------------------------------------
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
def test_binary_cross_entropy_matches_torch(reduction, weighted):
    rng = np.random.default_rng(3)
    p = rng.uniform(0.02, 0.98, (5, 4))
    y = rng.uniform(0, 1, (5, 4))
    w = rng.uniform(0.5, 2, (4,)) if weighted else None
    mp, tp = _pair(p)
    my, ty = _pair(y)
    mine = F.binary_cross_entropy(mp, my, weight=None if w is None else mg.tensor(w), reduction=reduction)
    tw = None if w is None else torch.tensor(w)
    theirs = TF.binary_cross_entropy(tp, ty, weight=tw, reduction=reduction)
    _assert_same(mine, theirs, mp, tp)
    np.testing.assert_allclose(my.grad, ty.grad.numpy(), rtol=1e-6)


def test_binary_cross_entropy_saturated_sigmoid_is_finite_like_torch():
    x = np.array([[-1000.0, 1000.0, 0.0, 40.0]], dtype=np.float32)
    y = np.array([[1.0, 0.0, 1.0, 0.0]], dtype=np.float32)
    mx, tx = _pair(x)
    mine = F.binary_cross_entropy(mg.sigmoid(mx), mg.tensor(y))
    theirs = TF.binary_cross_entropy(torch.sigmoid(tx), torch.tensor(y))
    assert set(mg.sigmoid(mx).array[0, :2].tolist()) == {0.0, 1.0}  # truly saturated
    mine.backward()
    theirs.backward()
    assert np.isfinite(mine.item())
    np.testing.assert_allclose(mine.item(), theirs.item(), rtol=1e-6)
    np.testing.assert_allclose(mx.grad, tx.grad.numpy(), rtol=1e-5, atol=1e-7)


def test_binary_cross_entropy_by_hand_and_gradcheck():
    loss = F.binary_cross_entropy(mg.tensor([0.8, 0.4]), mg.tensor([1.0, 0.0]))
    assert loss.item() == pytest.approx(-(np.log(0.8) + np.log(0.6)) / 2, rel=1e-6)
    y = mg.tensor([0.3, 1.0, 0.0], dtype=mg.float64)
    check_op(lambda p: F.binary_cross_entropy(mg.sigmoid(p), y), (3,),
             torch_fn=lambda p: TF.binary_cross_entropy(torch.sigmoid(p), torch.tensor(y.array)))


def test_binary_cross_entropy_rejects_non_probabilities():
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.binary_cross_entropy(mg.tensor([1.5]), mg.tensor([1.0]))
    with pytest.raises(ValueError, match="target should be between 0 and 1"):
        F.binary_cross_entropy(mg.tensor([0.5]), mg.tensor([1.5]))
    with pytest.raises(ValueError, match=r"weight of shape \(2, 1\) does not broadcast"):
        F.binary_cross_entropy(mg.tensor([0.5]), mg.tensor([1.0]), weight=mg.ones(2, 1))
    with pytest.raises(ValueError, match="pos_weight of shape"):
        F.binary_cross_entropy_with_logits(mg.zeros(2, 3), mg.zeros(2, 3), pos_weight=mg.ones(2))
    with pytest.raises(ValueError, match="target size"):
        F.binary_cross_entropy(mg.tensor([0.5, 0.5]), mg.tensor([1.0]))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("bad", [-0.25, 1.25, float("nan")])
def test_binary_cross_entropy_input_outside_0_1_or_nan_is_refused_for_every_reduction(reduction, bad):
    p = mg.tensor([[0.5, bad], [0.0, 1.0]])
    with pytest.raises(ValueError, match="input should be between 0 and 1"):
        F.binary_cross_entropy(p, mg.zeros(2, 2), reduction=reduction)


def test_binary_cross_entropy_on_0d_and_empty_inputs_like_torch():
    torch = pytest.importorskip("torch")
    TF = torch.nn.functional
    for reduction in REDUCTIONS:
        mine = F.binary_cross_entropy(mg.tensor(0.25, dtype=mg.float64), mg.tensor(1.0, dtype=mg.float64),
                                      reduction=reduction)
        theirs = TF.binary_cross_entropy(torch.tensor(0.25, dtype=torch.float64),
                                         torch.tensor(1.0, dtype=torch.float64), reduction=reduction)
        assert mine.shape == tuple(theirs.shape)
        np.testing.assert_allclose(mine.array, theirs.numpy(), rtol=1e-15)
    empty = F.binary_cross_entropy(mg.zeros(0), mg.zeros(0), reduction="sum")
    assert empty.item() == 0.0


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weights", [(False, False), (True, False), (False, True), (True, True)])
def test_bce_with_logits_matches_torch(reduction, weights):
    rng = np.random.default_rng(4)
    x = rng.standard_normal((5, 3)) * 3
    y = rng.uniform(0, 1, (5, 3))
    w = rng.uniform(0.5, 2, (5, 1)) if weights[0] else None
    pw = rng.uniform(0.5, 3, (3,)) if weights[1] else None
    mx, tx = _pair(x)
    my, ty = _pair(y)
    mine = F.binary_cross_entropy_with_logits(mx, my, weight=None if w is None else mg.tensor(w),
                                              reduction=reduction,
                                              pos_weight=None if pw is None else mg.tensor(pw))
    theirs = TF.binary_cross_entropy_with_logits(tx, ty, weight=None if w is None else torch.tensor(w),
                                                 reduction=reduction,
                                                 pos_weight=None if pw is None else torch.tensor(pw))
    _assert_same(mine, theirs, mx, tx)
    np.testing.assert_allclose(my.grad, ty.grad.numpy(), rtol=1e-6, atol=1e-9)


def test_bce_with_logits_extreme_logits_are_finite():
    x = np.array([1000.0, -1000.0, 1000.0, -1000.0], dtype=np.float32)
    y = np.array([1.0, 0.0, 0.0, 1.0], dtype=np.float32)
    mx, tx = _pair(x)
    mine = F.binary_cross_entropy_with_logits(mx, mg.tensor(y), reduction="none")
    theirs = TF.binary_cross_entropy_with_logits(tx, torch.tensor(y), reduction="none")
    np.testing.assert_allclose(mine.array, [0.0, 0.0, 1000.0, 1000.0])
    _assert_same(mine, theirs, mx, tx)


# --- regression losses ---------------------------------------------------------------------------
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name,kw", [("mse_loss", {}), ("l1_loss", {}), ("smooth_l1_loss", {"beta": 0.5}),
                                     ("smooth_l1_loss", {"beta": 0.0}), ("huber_loss", {"delta": 0.7})])
def test_regression_losses_match_torch(name, kw, reduction):
    check_op(lambda a, b: getattr(F, name)(a, b, reduction=reduction, **kw), (4, 3), (4, 3), second=False,
             torch_fn=lambda a, b: getattr(TF, name)(a, b, reduction=reduction, **kw))


def test_mse_by_hand():
    assert F.mse_loss(mg.tensor([1.0, 2.0]), mg.tensor([0.0, 0.0])).item() == pytest.approx(2.5)
    assert F.l1_loss(mg.tensor([1.0, -2.0]), mg.tensor([0.0, 0.0]), reduction="sum").item() == 3.0
    loss = F.smooth_l1_loss(mg.tensor([0.5, 3.0]), mg.tensor([0.0, 0.0]), reduction="sum")
    assert loss.item() == 0.125 + 2.5


# PyTorch 2.13's elementwise weight on mse_loss, l1_loss and huber_loss: the input's size, multiplied into the
# unreduced loss (broadcast with it), differentiable; 'mean' is Σw·l/Σw for mse and l1 but mean(w·l) for huber
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name,kw", [("mse_loss", {}), ("l1_loss", {}), ("huber_loss", {"delta": 0.7})])
@pytest.mark.parametrize("shapes", [((4, 3), (4, 3), (4, 3)), ((4, 1), (4, 3), (4, 1)), ((3,), (2, 3), (3,))],
                         ids=["same", "broadcast-target", "batch-target"])
def test_weighted_regression_losses_match_torch(name, kw, reduction, shapes):
    """float64 finite differences for input, target and weight; values and gradients as PyTorch's."""
    check_op(lambda a, b, w: getattr(F, name)(a, b, reduction=reduction, weight=w, **kw), *shapes, positive=True,
             second=False, torch_fn=lambda a, b, w: getattr(TF, name)(a, b, reduction=reduction, weight=w, **kw))


def test_weighted_regression_losses_by_hand():
    x, zero, w = mg.tensor([1.0, 2.0]), mg.tensor([0.0, 0.0]), mg.tensor([1.0, 3.0])
    assert F.mse_loss(x, zero, weight=w).item() == (1 * 1 + 3 * 4) / 4  # Σ w·d² / Σ w
    assert F.l1_loss(x, zero, weight=w, reduction="sum").item() == 7.0
    assert F.l1_loss(x, zero, weight=w, reduction="none").tolist() == [1.0, 6.0]
    h = F.huber_loss(mg.tensor([0.5, 3.0]), zero, weight=mg.tensor([2.0, 1.0]))
    assert h.item() == (2 * 0.125 + 1 * 2.5) / 2  # the mean over the elements, not ÷ Σ w
    with pytest.warns(UserWarning, match="reduction='none'"):  # the legacy arguments pick the reduction here too
        assert F.mse_loss(x, zero, reduce=False, weight=w).tolist() == [1.0, 12.0]
    f32 = F.mse_loss(x.float(), zero.float(), weight=mg.tensor([1.0, 3.0], dtype=mg.float32))
    assert f32.dtype == mg.float32
    w64 = mg.tensor([1.0, 3.0], dtype=mg.float64)
    assert F.mse_loss(x.float(), zero.float(), weight=w64).dtype == mg.float64  # promoted, as PyTorch's


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "huber_loss"])
def test_weight_must_be_the_input_size_as_torch(name):
    x, y = mg.ones(2, 3), mg.zeros(2, 3)
    for bad in (mg.ones(3), mg.ones(1, 3), mg.ones(2, 3, 1)):
        with pytest.raises(ValueError, match="Weights and input must have the same size"):
            getattr(F, name)(x, y, weight=bad)
        with pytest.raises(ValueError, match="Weights and input must have the same size"):
            getattr(TF, name)(torch.ones(2, 3), torch.zeros(2, 3), weight=torch.from_numpy(bad.numpy()))
    with pytest.raises(ValueError, match="Invalid reduction mode"):
        getattr(F, name)(x, y, weight=mg.ones(2, 3), reduction="bogus")


# --- the rest of F -------------------------------------------------------------------------------
def test_linear_matches_torch():
    check_op(lambda x, w, b: F.linear(x, w, b), (2, 3, 4), (5, 4), (5,),
             torch_fn=lambda x, w, b: TF.linear(x, w, b))
    check_op(lambda x, w: F.linear(x, w), (4,), (5, 4), torch_fn=lambda x, w: TF.linear(x, w))


def test_linear_shape_errors_are_clear():
    with pytest.raises(RuntimeError, match="in_features=4"):
        F.linear(mg.randn(2, 3), mg.randn(5, 4))
    with pytest.raises(RuntimeError, match=r"bias must have shape \(5,\)"):
        F.linear(mg.randn(2, 4), mg.randn(5, 4), mg.randn(4))


@pytest.mark.parametrize("name", ["relu", "leaky_relu", "elu", "gelu", "sigmoid", "tanh", "softplus", "silu"])
def test_activations_match_torch(name):
    check_op(getattr(F, name), (3, 4), torch_fn=getattr(TF, name), second=False)


def test_softmax_family_matches_torch():
    check_op(lambda x: F.softmax(x, dim=0), (3, 4), torch_fn=lambda x: TF.softmax(x, dim=0))
    check_op(lambda x: F.log_softmax(x, dim=-1), (3, 4), torch_fn=lambda x: TF.log_softmax(x, dim=-1))


@pytest.mark.parametrize("name", ["softmax", "log_softmax", "softmin"])
def test_softmax_family_takes_stacklevel_and_warns_for_an_implicit_dim_as_torch(name):
    x = np.random.default_rng(0).standard_normal((2, 3, 4))
    mine, theirs = getattr(F, name), getattr(TF, name)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an explicit dim: no warning, whatever _stacklevel says
        np.testing.assert_allclose(mine(mg.tensor(x), 1, 5).array, theirs(torch.tensor(x), 1, 5).numpy(),
                                   rtol=1e-12)
        assert mine(mg.tensor(x), 1, _stacklevel=5, dtype=mg.float32).dtype == mg.float32
    with pytest.warns(UserWarning, match=f"Implicit dimension choice for {name} has been deprecated") as record:
        got = mine(mg.tensor(x))  # 3-d: PyTorch's legacy choice is dim 0
    assert record[0].filename == __file__  # _stacklevel=3: the caller's line, as PyTorch
    with pytest.warns(UserWarning, match="Implicit dimension"):
        want = theirs(torch.tensor(x))
    np.testing.assert_allclose(got.array, want.numpy(), rtol=1e-12)

    def wrapper(t):  # one more frame: _stacklevel=4 points past it, as PyTorch's nn.Softmax does with 5
        return mine(t, None, 4)

    with pytest.warns(UserWarning, match="Implicit dimension") as record:
        wrapper(mg.tensor(x))
    assert record[0].filename == __file__ and record[0].lineno != wrapper.__code__.co_firstlineno + 1


def test_normalize_out_writes_the_result_as_torch():
    x = np.random.default_rng(0).standard_normal((3, 4))
    out, tout = mg.empty(3, 4, dtype=mg.float64), torch.empty(3, 4, dtype=torch.float64)
    got = F.normalize(mg.tensor(x), p=1.5, dim=0, out=out)
    TF.normalize(torch.tensor(x), p=1.5, dim=0, out=tout)
    assert got is out
    np.testing.assert_allclose(out.array, tout.numpy(), rtol=1e-12)
    np.testing.assert_allclose(out.array, F.normalize(mg.tensor(x), p=1.5, dim=0).array, rtol=0)
    resized = mg.empty(0, dtype=mg.float64)  # a wrong-shaped out is resized, as PyTorch's
    F.normalize(mg.tensor(x), out=resized)
    assert resized.shape == (3, 4)
    # not differentiable: an input that requires grad is refused while grad mode is on, as PyTorch's div(out=)
    with pytest.raises(RuntimeError, match="don't support automatic differentiation"):
        F.normalize(mg.tensor(x, requires_grad=True), out=mg.empty(3, 4, dtype=mg.float64))
    with pytest.raises(RuntimeError, match="don't support automatic differentiation"):
        TF.normalize(torch.tensor(x, requires_grad=True), out=torch.empty(3, 4, dtype=torch.float64))
    with mg.no_grad():
        F.normalize(mg.tensor(x, requires_grad=True), out=out)


@pytest.mark.parametrize("return_indices", [False, True])
def test_max_pool2d_with_indices_returns_both_whatever_return_indices_says(return_indices):
    x = np.random.default_rng(0).standard_normal((1, 2, 5, 6))
    y, i = F.max_pool2d_with_indices(mg.tensor(x), 2, 2, 0, 1, False, return_indices)
    ty, ti = TF.max_pool2d_with_indices(torch.tensor(x), 2, 2, 0, 1, False, return_indices)
    np.testing.assert_array_equal(y.array, ty.numpy())
    np.testing.assert_array_equal(i.array, ti.numpy())


def test_dropout_scales_and_is_reproducible():
    x = mg.ones(1000, 100)
    mg.manual_seed(3)
    a = F.dropout(x, 0.3)
    mg.manual_seed(3)
    b = F.dropout(x, 0.3)
    np.testing.assert_array_equal(a.array, b.array)
    assert set(np.unique(a.array).tolist()) == {0.0, np.float32(1 / 0.7)}
    assert (a.array == 0).mean() == pytest.approx(0.3, abs=0.01)
    assert F.dropout(x, 0.3, training=False) is x
    assert (F.dropout(x, 1.0).array == 0).all()
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.dropout(x, 1.5)


def test_dropout_gradient_uses_the_same_mask():
    x = mg.randn(50, requires_grad=True)
    y = F.dropout(x, 0.5)
    y.sum().backward()
    np.testing.assert_allclose(x.grad, (y.array != 0) * 2.0)


def test_one_hot_matches_torch():
    t = np.array([[0, 2], [1, 3]])
    np.testing.assert_array_equal(F.one_hot(mg.tensor(t)).array, TF.one_hot(torch.tensor(t)).numpy())
    out = F.one_hot(mg.tensor([1, 0]), num_classes=4)
    assert out.dtype == np.int64 and out.tolist() == [[0, 1, 0, 0], [1, 0, 0, 0]]
    with pytest.raises(RuntimeError, match="too large"):
        F.one_hot(mg.tensor([5]), 3)
    with pytest.raises(RuntimeError, match="integer"):
        F.one_hot(mg.tensor([0.5]), 3)


def test_pad_matches_torch():
    check_op(lambda x: F.pad(x, (1, 2, 0, 1), value=0.5), (2, 3),
             torch_fn=lambda x: TF.pad(x, (1, 2, 0, 1), value=0.5))


# --- property tests: random shapes, weights, ignore_index, smoothing, dtypes against torch ------
@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**31 - 1), st.integers(1, 3), st.integers(1, 5), st.sampled_from(REDUCTIONS),
           st.booleans(), st.sampled_from([None, -100, 0]), st.sampled_from([0.0, 0.3, 1.0]),
           st.sampled_from(["float32", "float64"]), st.booleans())
def test_cross_entropy_property_matches_torch(seed, nd, c, reduction, weighted, ignore, smoothing, dt, probs):
    rng = np.random.default_rng(seed)
    shape = (c,) if nd == 1 else (int(rng.integers(0, 4)), c) + tuple(rng.integers(1, 3, nd - 2))
    x = (rng.standard_normal(shape) * rng.choice([1, 100])).astype(dt)
    tshape = () if nd == 1 else shape[:1] + shape[2:]
    kw = dict(reduction=reduction, label_smoothing=smoothing)
    if probs:
        t = np.moveaxis(rng.dirichlet(np.ones(c), tshape), -1, 0 if nd == 1 else 1).astype(dt)
    else:
        t = rng.integers(0, c, tshape)
        if ignore is not None:
            kw["ignore_index"] = ignore
            t = np.where(rng.uniform(size=tshape) < 0.3, ignore, t)
    w = rng.uniform(0.1, 3, c).astype(dt) if weighted else None
    mx, tx = _pair(x)
    mine = F.cross_entropy(mx, mg.tensor(t, dtype=t.dtype), weight=None if w is None else mg.tensor(w), **kw)
    theirs = TF.cross_entropy(tx, torch.tensor(t), weight=None if w is None else torch.tensor(w), **kw)
    tol = 1e-4 if dt == "float32" else 1e-10
    assert mine.dtype == theirs.detach().numpy().dtype
    if mine.array.size and np.isfinite(mine.array).all():
        _assert_same(mine, theirs, mx, tx, rtol=tol, atol=tol)
    else:
        np.testing.assert_allclose(mine.array, theirs.detach().numpy(), rtol=tol, atol=tol)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**31 - 1), st.sampled_from(REDUCTIONS), st.booleans(), st.booleans(),
           st.sampled_from([1, 1000]))
def test_binary_cross_entropy_property_matches_torch(seed, reduction, weighted, pos_weighted, scale):
    rng = np.random.default_rng(seed)
    shape = tuple(rng.integers(1, 4, rng.integers(1, 4)))
    x = (rng.standard_normal(shape) * scale).astype(np.float32)
    y = rng.integers(0, 2, shape).astype(np.float32)
    w = rng.uniform(0.1, 3, shape[-1:]).astype(np.float32) if weighted else None
    pw = rng.uniform(0.1, 3, shape[-1:]).astype(np.float32) if pos_weighted else None
    mw, tw = (None, None) if w is None else (mg.tensor(w), torch.tensor(w))
    mpw, tpw = (None, None) if pw is None else (mg.tensor(pw), torch.tensor(pw))
    mx, tx = _pair(x)
    mine = F.binary_cross_entropy_with_logits(mx, mg.tensor(y), weight=mw, pos_weight=mpw,
                                              reduction=reduction)
    theirs = TF.binary_cross_entropy_with_logits(tx, torch.tensor(y), weight=tw, pos_weight=tpw,
                                                 reduction=reduction)
    _assert_same(mine, theirs, mx, tx, rtol=1e-5, atol=1e-5)
    mx, tx = _pair(x)
    mine = F.binary_cross_entropy(mg.sigmoid(mx), mg.tensor(y), weight=mw, reduction=reduction)
    theirs = TF.binary_cross_entropy(torch.sigmoid(tx), torch.tensor(y), weight=tw, reduction=reduction)
    _assert_same(mine, theirs, mx, tx, rtol=1e-5, atol=1e-5)
    assert np.isfinite(mx.grad).all()
