"""The deprecated size_average and reduce arguments of the losses: mapped to a reduction as PyTorch maps them
(torch.nn._reduction.legacy_get_string), overriding `reduction`, with PyTorch's UserWarning; in every
functional loss and loss class that takes them in PyTorch."""
from __future__ import annotations

import inspect
import warnings

import numpy as np
import pytest

import matgrad as mg
import matgrad.nn as nn
import matgrad.nn.functional as F

try:
    import torch
except ImportError:
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch not installed")

# (size_average, reduce) -> what PyTorch makes of them: None counts as True; reduce=False wins
LEGACY = {
    (None, False): "none", (True, False): "none", (False, False): "none",
    (False, None): "sum", (False, True): "sum",
    (True, None): "mean", (None, True): "mean", (True, True): "mean",
}
MESSAGE = "size_average and reduce args will be deprecated, please use reduction='{}' instead."


def _inputs(lib, name):
    """Positional arguments of loss `name` for lib (matgrad or torch), the same numbers for both."""
    rng = np.random.default_rng(0)
    t = (lambda a: lib.tensor(a)) if lib is mg else (lambda a: torch.tensor(a))
    x, y = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    prob = rng.uniform(0.05, 0.95, (4, 3))
    sign = np.where(rng.standard_normal(4) > 0, 1.0, -1.0)
    cls = np.array([0, 2, 1, 2])
    multilabel = np.array([[2, 0, -1], [1, -1, 0], [0, 1, 2], [-1, 0, 0]])
    return {
        "binary_cross_entropy": (t(prob), t(rng.uniform(0, 1, (4, 3)))),
        "binary_cross_entropy_with_logits": (t(x), t(rng.uniform(0, 1, (4, 3)))),
        "cosine_embedding_loss": (t(x), t(y), t(sign)),
        "cross_entropy": (t(x), t(cls)),
        "hinge_embedding_loss": (t(x), t(np.where(y > 0, 1.0, -1.0))),
        "kl_div": (t(np.log(prob)), t(rng.uniform(0.05, 0.95, (4, 3)))),
        "l1_loss": (t(x), t(y)),
        "margin_ranking_loss": (t(x[:, 0]), t(y[:, 0]), t(sign)),
        "mse_loss": (t(x), t(y)),
        "multi_margin_loss": (t(x), t(cls)),
        "multilabel_margin_loss": (t(x), t(multilabel)),
        "multilabel_soft_margin_loss": (t(x), t(np.where(y > 0, 1.0, 0.0))),
        "nll_loss": (t(x), t(cls)),
        "poisson_nll_loss": (t(x), t(np.abs(y))),
        "smooth_l1_loss": (t(x), t(y)),
        "soft_margin_loss": (t(x), t(np.where(y > 0, 1.0, -1.0))),
        "triplet_margin_loss": (t(x), t(y), t(rng.standard_normal((4, 3)))),
    }[name]


FUNCTIONAL = ["binary_cross_entropy", "binary_cross_entropy_with_logits", "cosine_embedding_loss", "cross_entropy",
              "hinge_embedding_loss", "kl_div", "l1_loss", "margin_ranking_loss", "mse_loss", "multi_margin_loss",
              "multilabel_margin_loss", "multilabel_soft_margin_loss", "nll_loss", "poisson_nll_loss",
              "smooth_l1_loss", "soft_margin_loss", "triplet_margin_loss"]
# the loss classes, with the functional loss each calls (a legacy pair goes to _Loss in PyTorch)
CLASSES = {"BCELoss": "binary_cross_entropy", "BCEWithLogitsLoss": "binary_cross_entropy_with_logits",
           "CosineEmbeddingLoss": "cosine_embedding_loss", "CrossEntropyLoss": "cross_entropy",
           "HingeEmbeddingLoss": "hinge_embedding_loss", "KLDivLoss": "kl_div", "L1Loss": "l1_loss",
           "MarginRankingLoss": "margin_ranking_loss", "MSELoss": "mse_loss", "MultiMarginLoss": "multi_margin_loss",
           "MultiLabelMarginLoss": "multilabel_margin_loss", "MultiLabelSoftMarginLoss": "multilabel_soft_margin_loss",
           "NLLLoss": "nll_loss", "NLLLoss2d": "nll_loss", "PoissonNLLLoss": "poisson_nll_loss",
           "SmoothL1Loss": "smooth_l1_loss", "SoftMarginLoss": "soft_margin_loss",
           "TripletMarginLoss": "triplet_margin_loss"}


def _legacy_warnings(record):
    return [str(w.message) for w in record if issubclass(w.category, UserWarning)
            and "size_average and reduce" in str(w.message)]


@needs_torch
def test_the_lists_cover_every_loss_pytorch_gives_the_legacy_arguments():
    def takes(f):
        try:
            return "size_average" in inspect.signature(f).parameters
        except (TypeError, ValueError):
            return False

    tf = torch.nn.functional
    assert {n for n in dir(tf) if not n.startswith("_") and takes(getattr(tf, n))} == set(FUNCTIONAL)
    losses = {n for n in dir(torch.nn) if n.endswith("Loss") or n == "NLLLoss2d"}
    assert {n for n in losses if takes(getattr(torch.nn, n).__init__)} == set(CLASSES)


@pytest.mark.parametrize("name", FUNCTIONAL)
@pytest.mark.parametrize("legacy", list(LEGACY), ids=[f"{a}-{b}" for a, b in LEGACY])
def test_functional_legacy_arguments_pick_the_reduction_and_warn(name, legacy):
    size_average, reduce = legacy
    want = LEGACY[legacy]
    args = _inputs(mg, name)
    fn = getattr(F, name)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        got = fn(*args, size_average=size_average, reduce=reduce, reduction="mean" if want != "mean" else "none")
    assert _legacy_warnings(record) == [MESSAGE.format(want)]
    assert record[0].filename == __file__  # the warning points at the caller's line
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # reduction= alone: no warning
        expected = fn(*args, reduction=want)
    np.testing.assert_array_equal(got.array, expected.array)
    if torch is not None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            theirs = getattr(torch.nn.functional, name)(*_inputs(torch, name), size_average=size_average,
                                                       reduce=reduce)
        np.testing.assert_allclose(got.array, theirs.numpy(), rtol=1e-10, atol=1e-12)


def test_positional_legacy_arguments_land_where_pytorch_puts_them():
    x, y = mg.tensor([1.0, 2.0, 4.0]), mg.tensor([0.0, 0.0, 0.0])
    with pytest.warns(UserWarning, match="reduction='none'"):
        assert F.mse_loss(x, y, None, False).tolist() == [1.0, 4.0, 16.0]
    with pytest.warns(UserWarning, match="reduction='sum'"):
        assert F.l1_loss(x, y, False).item() == 7.0
    p, t = mg.tensor([0.5, 0.5]), mg.tensor([1.0, 0.0])
    with pytest.warns(UserWarning, match="reduction='sum'"):
        assert F.binary_cross_entropy(p, t, None, False).item() == pytest.approx(2 * np.log(2))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert F.mse_loss(x, y, reduction="sum").item() == 21.0


def test_legacy_arguments_override_an_invalid_reduction_as_pytorch():
    x, y = mg.tensor([1.0, 3.0]), mg.tensor([0.0, 0.0])
    with pytest.warns(UserWarning):
        assert F.mse_loss(x, y, reduce=True, reduction="bogus").item() == 5.0
    with pytest.raises(ValueError, match="reduction"):
        F.mse_loss(x, y, reduction="bogus")


@pytest.mark.parametrize("legacy", [(False, None), (None, False), (True, True)])
def test_kl_div_still_divides_by_the_batch_for_batchmean_as_pytorch(legacy):
    """PyTorch's kl_div reduces as the legacy pair says, then divides by N if reduction='batchmean' too."""
    args = _inputs(mg, "kl_div")
    with pytest.warns(UserWarning):
        got = F.kl_div(*args, size_average=legacy[0], reduce=legacy[1], reduction="batchmean")
    plain = F.kl_div(*args, reduction=LEGACY[legacy])
    np.testing.assert_allclose(got.array, plain.array / 4, rtol=1e-15)
    if torch is not None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            theirs = torch.nn.functional.kl_div(*_inputs(torch, "kl_div"), size_average=legacy[0],
                                                reduce=legacy[1], reduction="batchmean")
        np.testing.assert_allclose(got.array, theirs.numpy(), rtol=1e-12)


def _construct(lib, name, **kw):
    cls = getattr(lib, name)
    if name == "NLLLoss2d":  # deprecated class: its FutureWarning is not the one under test
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            return cls(**kw)
    return cls(**kw)


@pytest.mark.parametrize("name", sorted(CLASSES))
@pytest.mark.parametrize("legacy", [(None, False), (False, None), (True, True)], ids=["none", "sum", "mean"])
def test_loss_classes_map_the_legacy_arguments_when_made(name, legacy):
    want = LEGACY[legacy]
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        loss = _construct(nn, name, size_average=legacy[0], reduce=legacy[1])
    assert _legacy_warnings(record) == [MESSAGE.format(want)]
    assert loss.reduction == want
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the forward uses the stored reduction: no warning there
        got = loss(*_inputs(mg, CLASSES[name]))
    np.testing.assert_array_equal(got.array, getattr(F, CLASSES[name])(*_inputs(mg, CLASSES[name]),
                                                                       reduction=want).array)
    if torch is not None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            theirs = _construct(torch.nn, name, size_average=legacy[0], reduce=legacy[1])
            out = theirs(*_inputs(torch, CLASSES[name]))  # (KLDivLoss's 'mean' warns in PyTorch)
        assert theirs.reduction == want
        np.testing.assert_allclose(got.array, out.numpy(), rtol=1e-10, atol=1e-12)


@needs_torch
def test_loss_classes_take_the_legacy_arguments_in_pytorchs_positions():
    for name in CLASSES:
        mine = [p for p in inspect.signature(getattr(nn, name).__init__).parameters if p != "self"]
        theirs = [p for p in inspect.signature(getattr(torch.nn, name).__init__).parameters if p != "self"]
        assert mine[:len(theirs)] == theirs, name
    with pytest.warns(UserWarning, match="reduction='sum'"):
        ce = nn.CrossEntropyLoss(None, False, -1, True)  # weight, size_average, ignore_index, reduce
    assert ce.reduction == "sum" and ce.ignore_index == -1
    with pytest.warns(UserWarning, match="reduction='none'"):
        assert nn.MSELoss(None, False).reduction == "none"


def test_without_legacy_arguments_nothing_warns():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for name in CLASSES:
            assert _construct(nn, name, reduction="sum").reduction == "sum"
