"""The losses of issue 14, functional and modules, every reduction, against PyTorch and float64
finite differences (first and second order)."""
from __future__ import annotations

import numpy as np
import pytest

import matgrad as mg
import matgrad.nn as nn
import matgrad.nn.functional as F
from tests.helpers import assert_close, check_op

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.filterwarnings("ignore:reduction. 'mean' divides the total loss:UserWarning")
TF = torch.nn.functional
RNG = np.random.default_rng(0)
SIGN = mg.tensor(np.where(RNG.random(5) > 0.5, 1.0, -1.0))
SIGN_T = torch.tensor(SIGN.array)
COUNTS = RNG.poisson(2.0, (4, 3)).astype(np.float64)
PROBS = RNG.dirichlet(np.ones(4), 3)
MULTI = (RNG.random((3, 4)) > 0.5).astype(np.float64)


def _cases(reduction):
    r = dict(reduction=reduction)
    return {
        "kl_div": (lambda x: F.kl_div(x.log_softmax(1), mg.tensor(PROBS), **r),
                   lambda x: TF.kl_div(x.log_softmax(1), torch.tensor(PROBS), **r), [(3, 4)]),
        "kl_div_log_target": (lambda x, t: F.kl_div(x, t, log_target=True, **r),
                              lambda x, t: TF.kl_div(x, t, log_target=True, **r), [(3, 4), (3, 4)]),
        "kl_div_target_grad": (lambda x, t: F.kl_div(x, t, **r), lambda x, t: TF.kl_div(x, t, **r),
                               [(3, 4), np.abs(RNG.standard_normal((3, 4))) + 0.1]),
        "margin_ranking": (lambda a, b: F.margin_ranking_loss(a, b, SIGN, margin=0.2, **r),
                           lambda a, b: TF.margin_ranking_loss(a, b, SIGN_T, margin=0.2, **r), [(5,), (5,)]),
        "cosine_embedding": (lambda a, b: F.cosine_embedding_loss(a, b, SIGN, margin=-0.3, **r),
                             lambda a, b: TF.cosine_embedding_loss(a, b, SIGN_T, margin=-0.3, **r), [(5, 3), (5, 3)]),
        "triplet_margin": (lambda a, p, n: F.triplet_margin_loss(a, p, n, margin=2.0, **r),
                           lambda a, p, n: TF.triplet_margin_loss(a, p, n, margin=2.0, **r), [(4, 3)] * 3),
        "triplet_margin_swap_p1": (lambda a, p, n: F.triplet_margin_loss(a, p, n, p=1, swap=True, margin=3.0, **r),
                                   lambda a, p, n: TF.triplet_margin_loss(a, p, n, p=1, swap=True, margin=3.0, **r),
                                   [(4, 3)] * 3),
        "poisson_nll": (lambda x: F.poisson_nll_loss(x, mg.tensor(COUNTS), **r),
                        lambda x: TF.poisson_nll_loss(x, torch.tensor(COUNTS), **r), [(4, 3)]),
        "poisson_nll_full": (lambda x: F.poisson_nll_loss(x, mg.tensor(COUNTS), full=True, **r),
                             lambda x: TF.poisson_nll_loss(x, torch.tensor(COUNTS), full=True, **r), [(4, 3)]),
        "poisson_nll_rates": (lambda x: F.poisson_nll_loss(x, mg.tensor(COUNTS), log_input=False, **r),
                              lambda x: TF.poisson_nll_loss(x, torch.tensor(COUNTS), log_input=False, **r),
                              [np.abs(RNG.standard_normal((4, 3))) + 0.5]),
        "gaussian_nll": (lambda x, t, v: F.gaussian_nll_loss(x, t, v, **r),
                         lambda x, t, v: TF.gaussian_nll_loss(x, t, v, **r),
                         [(4, 3), (4, 3), np.abs(RNG.standard_normal((4, 3))) + 0.5]),
        "gaussian_nll_homosc_full": (lambda x, t, v: F.gaussian_nll_loss(x, t, v, full=True, **r),
                                     lambda x, t, v: TF.gaussian_nll_loss(x, t, v, full=True, **r),
                                     [(4, 3), (4, 3), np.abs(RNG.standard_normal((4, 1))) + 0.5]),
        "gaussian_nll_dropped_dim": (lambda x, t, v: F.gaussian_nll_loss(x, t, v, **r),
                                     lambda x, t, v: TF.gaussian_nll_loss(x, t, v, **r),
                                     [(4, 3), (4, 3), np.abs(RNG.standard_normal(4)) + 0.5]),
        "multilabel_soft_margin": (lambda x: F.multilabel_soft_margin_loss(x, mg.tensor(MULTI), **r),
                                   lambda x: TF.multilabel_soft_margin_loss(x, torch.tensor(MULTI), **r), [(3, 4)]),
        "multilabel_soft_margin_w": (
            lambda x: F.multilabel_soft_margin_loss(x, mg.tensor(MULTI), weight=mg.tensor([0.5, 1.0, 2.0, 1.5]), **r),
            lambda x: TF.multilabel_soft_margin_loss(x, torch.tensor(MULTI), weight=torch.tensor([0.5, 1.0, 2.0, 1.5]),
                                                     **r), [(3, 4)]),
    }


NAMES = sorted(_cases("mean"))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name", NAMES)
def test_loss_against_finite_differences_and_torch(name, reduction):
    fn, tfn, shapes = _cases(reduction)[name]
    check_op(fn, *shapes, torch_fn=tfn)


@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div_batchmean(log_target):
    x = RNG.standard_normal((5, 3))
    t = np.log(RNG.dirichlet(np.ones(3), 5)) if log_target else RNG.dirichlet(np.ones(3), 5)
    check_op(lambda a: F.kl_div(a.log_softmax(-1), mg.tensor(t), reduction="batchmean", log_target=log_target),
             x, torch_fn=lambda a: TF.kl_div(a.log_softmax(-1), torch.tensor(t), reduction="batchmean",
                                             log_target=log_target))


def test_kl_div_zero_target_is_finite():
    x = mg.tensor([[-1.0, -2.0, -0.5]], dtype=mg.float64, requires_grad=True)
    t = mg.tensor([[0.0, 0.3, 0.7]], dtype=mg.float64)
    loss = F.kl_div(x, t, reduction="sum")
    loss.backward()
    assert np.isfinite(loss.item()) and np.isfinite(x.grad.array).all()
    assert_close(loss.item(), TF.kl_div(torch.tensor(x.array), torch.tensor(t.array), reduction="sum").item(),
                 rtol=1e-12)


def test_gaussian_nll_errors_and_clamp():
    x = mg.zeros(4, 3)
    with pytest.raises(ValueError, match="var is of incorrect size"):
        F.gaussian_nll_loss(x, x, mg.ones(4, 2))
    with pytest.raises(ValueError, match="var has negative entry"):
        F.gaussian_nll_loss(x, x, -mg.ones(4, 3))
    v = np.array([[1e-9, 0.5, 2.0]] * 4)
    check_op(lambda a, b: F.gaussian_nll_loss(a, b, mg.tensor(v)), (4, 3), (4, 3),
             torch_fn=lambda a, b: TF.gaussian_nll_loss(a, b, torch.tensor(v)), second=False)


def test_reduction_errors():
    with pytest.raises(ValueError, match="reduction"):
        F.kl_div(mg.zeros(2), mg.zeros(2), reduction="avg")
    with pytest.raises(ValueError, match="reduction"):
        nn.MarginRankingLoss(reduction="avg")
    with pytest.raises(ValueError, match="margin to be greater than 0"):
        nn.TripletMarginLoss(margin=0)


MODULES = [
    (lambda m: m.KLDivLoss(reduction="batchmean"), 2), (lambda m: m.KLDivLoss(log_target=True), 2),
    (lambda m: m.MarginRankingLoss(0.1), 3), (lambda m: m.CosineEmbeddingLoss(0.2, reduction="sum"), 3),
    (lambda m: m.TripletMarginLoss(1.5, p=3), 3), (lambda m: m.PoissonNLLLoss(full=True), 2),
    (lambda m: m.GaussianNLLLoss(full=True, eps=1e-3), 3),
    (lambda m: m.MultiLabelSoftMarginLoss(weight=(mg if m is nn else torch).tensor([1.0, 2.0, 0.5])), 2),
]


@pytest.mark.parametrize("make, n_in", MODULES)
def test_loss_modules_match_torch(make, n_in):
    ours, theirs = make(nn), make(torch.nn)
    name = type(ours).__name__
    assert name == type(theirs).__name__ and repr(ours) == repr(theirs)
    rng = np.random.default_rng(4)
    if name in ("MarginRankingLoss", "CosineEmbeddingLoss"):
        shapes = [(5, 3), (5, 3)] if name == "CosineEmbeddingLoss" else [(5,), (5,)]
        arrays = [rng.standard_normal(s).astype(np.float32) for s in shapes] + [np.sign(rng.standard_normal(5))
                                                                                .astype(np.float32)]
    elif name == "GaussianNLLLoss":
        arrays = [rng.standard_normal((5, 3)).astype(np.float32) for _ in range(2)] + [
            rng.random((5, 3)).astype(np.float32)]
    elif name == "PoissonNLLLoss":
        arrays = [rng.standard_normal((5, 3)).astype(np.float32), rng.poisson(2, (5, 3)).astype(np.float32)]
    elif name == "MultiLabelSoftMarginLoss":
        arrays = [rng.standard_normal((5, 3)).astype(np.float32), (rng.random((5, 3)) > 0.5).astype(np.float32)]
    elif name == "KLDivLoss":
        arrays = [np.log(rng.dirichlet(np.ones(3), 5)).astype(np.float32),
                  rng.dirichlet(np.ones(3), 5).astype(np.float32)]
    else:
        arrays = [rng.standard_normal((5, 3)).astype(np.float32) for _ in range(n_in)]
    mx = mg.tensor(arrays[0], requires_grad=True)
    tx = torch.tensor(arrays[0], requires_grad=True)
    mine = ours(mx, *[mg.tensor(a) for a in arrays[1:]])
    want = theirs(tx, *[torch.tensor(a) for a in arrays[1:]])
    assert mine.dtype == mg.float32
    assert_close(mine.array, want.detach().numpy(), rtol=1e-5, atol=1e-6)
    mine.sum().backward()
    want.sum().backward()
    assert_close(mx.grad.array, tx.grad.numpy(), rtol=1e-5, atol=1e-6)
