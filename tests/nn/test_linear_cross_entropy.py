"""F.linear_cross_entropy and nn.LinearCrossEntropyLoss: against torch, finite differences, errors, options."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import matgrad as mg
import matgrad.nn as nn
import matgrad.nn.functional as F
from tests.helpers import assert_close, compare_torch, torch
from tests.nn._compare import compare_modules

N, IN, C = 6, 5, 4
RNG = np.random.default_rng(0)
TARGET = np.array([0, 3, 1, 2, 1, 3])
TARGET_K = RNG.integers(0, C, (N, 3))
PROBS = RNG.dirichlet(np.ones(C), N)
PROBS_K = np.moveaxis(RNG.dirichlet(np.ones(C), (N, 3)), -1, 1)  # (N, C, 3), summing to 1 over C
CLASS_W = RNG.uniform(0.5, 2.0, C)


def _lib(t):
    """(module with linear_cross_entropy, tensor constructor) of the library t belongs to."""
    if isinstance(t, mg.Tensor):
        return F, mg.tensor
    return torch.nn.functional, torch.tensor


def _fn(target, with_bias, **kwargs):
    """fn(input, linear_weight[, linear_bias]) for either library; numpy arrays in kwargs become its tensors."""
    def fn(x, w, b=None):
        lib, tensor = _lib(x)
        kw = {k: tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
        return lib.linear_cross_entropy(x, w, tensor(target), linear_bias=b if with_bias else None, **kw)
    return fn


CASES = [
    ("indices", TARGET, dict()),
    ("indices sum", TARGET, dict(reduction="sum")),
    ("indices none", TARGET, dict(reduction="none")),
    ("weight mean", TARGET, dict(weight=CLASS_W)),
    ("weight none", TARGET, dict(weight=CLASS_W, reduction="none")),
    ("ignore_index", TARGET, dict(ignore_index=3, weight=CLASS_W)),
    ("ignore_index sum", TARGET, dict(ignore_index=1, reduction="sum")),
    ("label_smoothing", TARGET, dict(label_smoothing=0.2, weight=CLASS_W)),
    ("label_smoothing ignore none", TARGET, dict(label_smoothing=0.1, ignore_index=0, reduction="none")),
    ("probabilities", PROBS, dict()),
    ("probabilities weight smoothing", PROBS, dict(weight=CLASS_W, label_smoothing=0.3, reduction="sum")),
]


@pytest.mark.parametrize("with_bias", [False, True])
@pytest.mark.parametrize("name, target, kwargs", CASES, ids=[c[0] for c in CASES])
def test_matches_torch_and_finite_differences(name, target, kwargs, with_bias):
    fn = _fn(target, with_bias, **kwargs)
    shapes = [(N, IN), (C, IN)] + ([(C,)] if with_bias else [])
    arrays = [RNG.standard_normal(s) for s in shapes]
    xs = [mg.tensor(a, requires_grad=True) for a in arrays]
    assert mg.gradcheck(fn, xs)
    if torch is None:
        pytest.skip("PyTorch not installed")
    compare_torch(fn, arrays, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("target, kwargs", [
    (TARGET_K, dict(reduction="none")),
    (TARGET_K, dict(weight=CLASS_W, ignore_index=2, label_smoothing=0.1)),
    (PROBS_K, dict(reduction="sum")),
], ids=["indices none", "indices weighted", "probabilities"])
def test_k_dimensional_matches_torch(target, kwargs):
    # linear_weight (C, d_1, in), linear_bias (C, d_1): logits (N, C, d_1)
    fn = _fn(target, True, **kwargs)
    arrays = [RNG.standard_normal(s) for s in ((N, IN), (C, 3, IN), (C, 3))]
    assert mg.gradcheck(fn, [mg.tensor(a, requires_grad=True) for a in arrays])
    if torch is None:
        pytest.skip("PyTorch not installed")
    compare_torch(fn, arrays, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("target", [np.array(2), PROBS[0]], ids=["index", "probabilities"])
def test_unbatched_input_matches_torch(target):
    fn = _fn(target, True, label_smoothing=0.1)
    arrays = [RNG.standard_normal(s) for s in ((IN,), (C, IN), (C,))]
    out = fn(*[mg.tensor(a) for a in arrays])
    assert out.shape == ()
    assert mg.gradcheck(fn, [mg.tensor(a, requires_grad=True) for a in arrays])
    if torch is None:
        pytest.skip("PyTorch not installed")
    compare_torch(fn, arrays, rtol=1e-10, atol=1e-12)


def test_equals_linear_then_cross_entropy_and_second_order():
    x, w, b = (mg.tensor(RNG.standard_normal(s), requires_grad=True) for s in ((N, IN), (C, IN), (C,)))
    got = F.linear_cross_entropy(x, w, mg.tensor(TARGET), linear_bias=b, ignore_index=2, reduction="none")
    want = F.cross_entropy(F.linear(x, w, b), mg.tensor(TARGET), ignore_index=2, reduction="none")
    np.testing.assert_array_equal(got.array, want.array)
    assert got.array[TARGET == 2].tolist() == [0.0]  # the ignored sample
    assert mg.gradgradcheck(lambda x, w: F.linear_cross_entropy(x, w, mg.tensor(TARGET), label_smoothing=0.1),
                            [x, w])


def test_float32_matches_torch():
    if torch is None:
        pytest.skip("PyTorch not installed")
    arrays = [RNG.standard_normal(s).astype(np.float32) for s in ((N, IN), (C, IN))]
    mine = F.linear_cross_entropy(*[mg.tensor(a) for a in arrays], mg.tensor(TARGET), reduction="none")
    theirs = torch.nn.functional.linear_cross_entropy(*[torch.tensor(a) for a in arrays], torch.tensor(TARGET),
                                                      reduction="none")
    assert mine.dtype == mg.float32
    assert_close(mine.array, theirs.numpy(), rtol=1e-5, atol=1e-6)


def test_options_are_accepted_and_change_nothing():
    x, w = (mg.tensor(RNG.standard_normal(s)) for s in ((N, IN), (C, IN)))
    plain = F.linear_cross_entropy(x, w, mg.tensor(TARGET), reduction="none")
    for options in (nn.LinearCrossEntropyOptions(),
                    nn.LinearCrossEntropyOptions(batch_chunk_size=2, acc_policy="accurate", acc_dtype=mg.float64),
                    nn.LinearCrossEntropyOptions(chunking_method="aspect_ratio:2", allow_retain_graph=True)):
        got = F.linear_cross_entropy(x, w, mg.tensor(TARGET), reduction="none", options=options)
        np.testing.assert_array_equal(got.array, plain.array)


def test_options_fields_and_validation_match_torch():
    names = [f.name for f in dataclasses.fields(nn.LinearCrossEntropyOptions)]
    assert names == ["allow_retain_graph", "batch_chunk_size", "chunking_method", "acc_policy", "acc_dtype"]
    if torch is not None:
        assert names == [f.name for f in dataclasses.fields(torch.nn.LinearCrossEntropyOptions)]
        assert repr(nn.LinearCrossEntropyOptions()) == repr(torch.nn.LinearCrossEntropyOptions())
    opts = nn.LinearCrossEntropyOptions()
    with pytest.raises(dataclasses.FrozenInstanceError):
        opts.batch_chunk_size = 3
    for bad, match in [(dict(acc_policy="fast"), "acc_policy"), (dict(chunking_method="rows"), "chunking_method"),
                       (dict(chunking_method="aspect_ratio:0"), "chunking_method"),
                       (dict(batch_chunk_size=0), "batch_chunk_size"), (dict(batch_chunk_size=2.0), "batch_chunk_size"),
                       (dict(acc_dtype=mg.int32), "acc_dtype"), (dict(acc_dtype="bfloat16"), "bfloat16")]:
        with pytest.raises(ValueError, match=match):
            nn.LinearCrossEntropyOptions(**bad)
    with pytest.raises(TypeError, match="options"):
        F.linear_cross_entropy(mg.ones((2, 3)), mg.ones((4, 3)), mg.tensor([0, 1]), options={"batch_chunk_size": 2})


@pytest.mark.parametrize("args, kwargs, match", [
    (((2, 3, 5), (4, 5), [0, 1]), {}, "dimensionality 1 or 2"),
    (((2, 5), (5,), [0, 1]), {}, "linear_weight with dimensionality at least 2"),
    (((2, 5), (4, 6), [0, 1]), {}, "in_features"),
    (((2, 5), (4, 5), [0, 1]), dict(linear_bias=(3,)), "linear_bias shape"),
    (((5,), (4, 3, 5), [0, 1, 2]), {}, "requires batched input"),
], ids=["input 3-d", "weight 1-d", "in_features", "bias", "k-dim unbatched"])
def test_shape_errors_as_torch(args, kwargs, match):
    (xs, ws, t), kw = args, {k: mg.ones(v) for k, v in kwargs.items()}
    with pytest.raises(RuntimeError, match=match):
        F.linear_cross_entropy(mg.ones(xs), mg.ones(ws), mg.tensor(t), **kw)
    if torch is not None:
        tkw = {k: torch.ones(v) for k, v in kwargs.items()}
        with pytest.raises(RuntimeError, match=match):
            torch.nn.functional.linear_cross_entropy(torch.ones(xs), torch.ones(ws), torch.tensor(t), **tkw)


def test_ignore_index_with_probabilities_and_bad_reduction():
    x, w = mg.ones((N, IN)), mg.ones((C, IN))
    with pytest.raises(RuntimeError, match="ignore_index cannot be specified"):
        F.linear_cross_entropy(x, w, mg.tensor(PROBS), ignore_index=-100)
    with pytest.raises(ValueError, match="reduction"):
        F.linear_cross_entropy(x, w, mg.tensor(TARGET), reduction="avg")


# --- the module ------------------------------------------------------------------------------------------
def test_module_parameters_state_dict_and_repr():
    m = nn.LinearCrossEntropyLoss(IN, C, out_features=(3,), bias=True, weight=mg.tensor(CLASS_W))
    assert [(k, tuple(p.shape)) for k, p in m.named_parameters()] == [("linear.weight", (C * 3, IN)),
                                                                        ("linear.bias", (C * 3,))]
    assert list(m.state_dict()) == ["weight", "linear.weight", "linear.bias"]
    assert list(nn.LinearCrossEntropyLoss(IN, C).state_dict()) == ["linear.weight"]
    bound = 1 / np.sqrt(IN)  # nn.Linear's initialisation
    assert np.abs(m.linear.weight.array).max() <= bound and np.abs(m.linear.bias.array).max() <= bound
    assert np.ptp(m.linear.weight.array) > bound  # drawn, not constant
    if torch is not None:
        t = torch.nn.LinearCrossEntropyLoss(IN, C, out_features=(3,), bias=True, weight=torch.tensor(CLASS_W))
        assert repr(m) == repr(t)
        assert list(m.state_dict()) == list(t.state_dict())


def test_module_dtype_and_no_bias():
    m = nn.LinearCrossEntropyLoss(IN, C, dtype=mg.float64)
    assert m.linear.weight.dtype == mg.float64 and m.linear.bias is None
    out = m(mg.tensor(RNG.standard_normal((N, IN))), mg.tensor(TARGET))
    assert out.dtype == mg.float64 and out.shape == ()


@pytest.mark.parametrize("kwargs, target", [
    (dict(bias=True, reduction="none"), TARGET),
    (dict(weight=CLASS_W, ignore_index=3, label_smoothing=0.1), TARGET),
    (dict(out_features=(3,), bias=True, reduction="sum"), TARGET_K),
    (dict(out_features=(3,), bias=True), PROBS_K),
], ids=["bias none", "weighted", "k-dim", "k-dim probabilities"])
def test_module_matches_torch(kwargs, target):
    if torch is None:
        pytest.skip("PyTorch not installed")
    mk = {k: mg.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    tk = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    compare_modules(nn.LinearCrossEntropyLoss(IN, C, **mk), torch.nn.LinearCrossEntropyLoss(IN, C, **tk),
                    [RNG.standard_normal((N, IN))], kwargs=dict(target=target))


def test_module_errors_as_torch():
    with pytest.raises(RuntimeError, match=r"expected weight shape to be \(4,\)"):
        nn.LinearCrossEntropyLoss(IN, C, weight=mg.ones(3))
    with pytest.raises(RuntimeError, match="label_smoothing"):
        nn.LinearCrossEntropyLoss(IN, C, label_smoothing=1.5)
    with pytest.raises(TypeError, match="options"):
        nn.LinearCrossEntropyLoss(IN, C, options="chunked")
