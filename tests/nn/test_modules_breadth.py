"""The nn modules of issue 14 against PyTorch's: repr, state_dict names and shapes, and, with
torch's weights loaded, the same outputs and gradients (float32, with an atol)."""
from __future__ import annotations

import numpy as np
import pytest

import matgrad as mg
import matgrad.nn as nn
from tests.helpers import assert_close

torch = pytest.importorskip("torch")

# (constructor on a namespace, input shapes, extra integer/Tensor args)
MODULES = [
    ("PReLU()", [(2, 3, 4)]), ("PReLU(3, 0.1)", [(2, 3, 4)]), ("ReLU6()", [(3, 4)]),
    ("Hardtanh(-2.0, 2.0)", [(3, 4)]), ("Hardswish()", [(3, 4)]), ("Hardsigmoid()", [(3, 4)]), ("Mish()", [(3, 4)]),
    ("Softsign()", [(3, 4)]), ("Softmin(1)", [(3, 4)]), ("LogSigmoid()", [(3, 4)]), ("Threshold(0.1, 20.0)", [(3, 4)]),
    ("SELU()", [(3, 4)]), ("CELU(0.5)", [(3, 4)]), ("GLU()", [(3, 4)]), ("GLU(0)", [(4, 3)]),
    ("AlphaDropout(0.2)", [(3, 4)]),
    ("Hardtanh(min_value=-2.0, max_value=0.5)", [(3, 4)]),  # the deprecated spellings, with PyTorch's warning
    ("GroupNorm(2, 4)", [(2, 4, 3, 3)]), ("GroupNorm(3, 6, affine=False)", [(2, 6, 5)]),
    ("GroupNorm(1, 4, eps=1e-3, bias=False)", [(2, 4, 3)]),
    ("InstanceNorm2d(3)", [(2, 3, 4, 5)]), ("InstanceNorm2d(3, affine=True)", [(2, 3, 4, 5)]),
    ("InstanceNorm2d(3, affine=True, track_running_stats=True)", [(2, 3, 4, 5)]),
    ("InstanceNorm1d(3, track_running_stats=True, momentum=0.3)", [(2, 3, 6)]),
    ("InstanceNorm2d(3)", [(3, 4, 5)]),
    # PyTorch 2.13's bias keyword: with affine, the scale without the shift
    ("InstanceNorm2d(3, affine=True, bias=False)", [(2, 3, 4, 5)]),
    ("InstanceNorm1d(3, affine=True, bias=False, track_running_stats=True)", [(2, 3, 6)]),
    ("InstanceNorm3d(2, bias=False)", [(2, 2, 3, 3, 2)]),
    ("SyncBatchNorm(3, bias=False)", [(4, 3, 5)]), ("SyncBatchNorm(3, affine=False, bias=False)", [(4, 3, 5)]),
    ("GroupNorm(2, 4, 1e-5, True, None, None, bias=False)", [(2, 4, 3)]),  # device, dtype in PyTorch's places
    ("AdaptiveMaxPool2d((2, 3))", [(2, 3, 5, 7)]), ("AdaptiveMaxPool2d(1)", [(2, 3, 5, 7)]),
    ("Upsample(scale_factor=2)", [(1, 2, 3, 4)]),
    ("Upsample(size=(5, 7), mode='bilinear', align_corners=True)", [(1, 2, 3, 4)]),
    ("Upsample(scale_factor=1.5, mode='bilinear')", [(1, 2, 3, 4)]),
    ("UpsamplingNearest2d(scale_factor=2)", [(1, 2, 3, 4)]), ("UpsamplingBilinear2d(size=(4, 6))", [(1, 2, 3, 4)]),
    ("PixelShuffle(2)", [(1, 8, 3, 4)]), ("PixelUnshuffle(2)", [(1, 2, 4, 6)]),
    ("ZeroPad2d(1)", [(1, 2, 3, 4)]), ("ZeroPad2d((1, 2, 3, 0))", [(1, 2, 3, 4)]),
    ("ConstantPad2d(2, 3.5)", [(1, 2, 3, 4)]), ("ConstantPad1d((1, 2), -1.0)", [(2, 3, 4)]),
    ("ReflectionPad2d(1)", [(1, 2, 3, 4)]), ("ReflectionPad2d((2, 1, 0, 2))", [(1, 2, 3, 4)]),
    ("ReflectionPad1d(2)", [(2, 3, 4)]), ("ReplicationPad2d((1, 0, 1, 0))", [(1, 2, 3, 4)]),
    ("ReplicationPad1d(3)", [(2, 3, 4)]), ("ReplicationPad3d(1)", [(1, 2, 2, 3, 4)]),
    ("CircularPad2d(1)", [(1, 2, 3, 4)]), ("CircularPad1d((2, 1))", [(2, 3, 4)]),
    ("ZeroPad1d(2)", [(2, 3, 4)]), ("ZeroPad3d(1)", [(1, 2, 2, 3, 4)]), ("ConstantPad3d(1, 2.0)", [(1, 2, 2, 3, 4)]),
    ("ReflectionPad3d(1)", [(1, 2, 2, 3, 4)]),
    ("Fold((4, 5), 2)", [(2, 12, 12)]), ("Unfold(2, stride=2)", [(2, 3, 4, 6)]),
    ("Unfold((2, 3), dilation=1, padding=1)", [(2, 3, 4, 6)]),
    ("Bilinear(3, 4, 5)", [(6, 3), (6, 4)]), ("Bilinear(3, 4, 5, bias=False)", [(2, 6, 3), (2, 6, 4)]),
    ("CosineSimilarity()", [(4, 5), (4, 5)]), ("CosineSimilarity(dim=0, eps=1e-6)", [(4, 5), (4, 5)]),
    ("PairwiseDistance()", [(4, 5), (4, 5)]), ("PairwiseDistance(p=1.0, keepdim=True)", [(4, 5), (4, 5)]),
]


def _build(expr, ns):
    return eval(expr, {}, {k: getattr(ns, k) for k in dir(ns) if k[0].isupper()})


@pytest.mark.parametrize("expr, shapes", MODULES, ids=[m[0] for m in MODULES])
@pytest.mark.parametrize("train", [True, False])
@pytest.mark.filterwarnings("ignore:keyword argument `m:FutureWarning")  # Hardtanh(min_value=...), both libraries
def test_module_matches_torch(expr, shapes, train):
    ours, theirs = _build(expr, nn), _build(expr, torch.nn)
    assert repr(ours) == repr(theirs)
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
    if "Dropout" in expr and train:
        y = ours(*mx)
        assert y.shape == tuple(shapes[0])
        return
    y, ty = ours(*mx), theirs(*tx)
    assert y.dtype == mg.float32
    assert_close(y.array, ty.detach().numpy(), rtol=1e-5, atol=1e-6)
    seed = rng.standard_normal(y.shape).astype(np.float32)
    (y * mg.tensor(seed)).sum().backward()
    (ty * torch.tensor(seed)).sum().backward()
    for a, b in zip(mx, tx):
        assert_close(a.grad.array, b.grad.numpy(), rtol=1e-4, atol=1e-5)
    for (name, p), (_, tp) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert_close(p.grad.array, tp.grad.numpy(), rtol=1e-4, atol=1e-5, err_msg=name)
    for (name, b), (_, tb) in zip(ours.named_buffers(), theirs.named_buffers()):
        assert_close(b.array, tb.numpy(), rtol=1e-5, atol=1e-6, err_msg=name)


def test_inplace_activation_module_reprs():
    for expr in ("ReLU6(True)", "Hardswish(True)", "SELU(inplace=True)", "CELU(2.0, True)", "Threshold(1, 2, True)",
                 "Hardtanh(inplace=True)", "Mish(True)"):
        assert repr(_build(expr, nn)) == repr(_build(expr, torch.nn))
    x = mg.tensor([-1.0, 3.0, 9.0])
    assert nn.ReLU6(True)(x) is x and x.tolist() == [0.0, 3.0, 6.0]


def test_max_unpool2d_module():
    pool, unpool = nn.MaxPool2d(2, return_indices=True), nn.MaxUnpool2d(2)
    assert repr(unpool) == repr(torch.nn.MaxUnpool2d(2))
    x = np.random.default_rng(1).standard_normal((1, 2, 4, 6)).astype(np.float32)
    y = unpool(*pool(mg.tensor(x)))
    ty = torch.nn.MaxUnpool2d(2)(*torch.nn.MaxPool2d(2, return_indices=True)(torch.tensor(x)))
    assert np.array_equal(y.array, ty.numpy())
    y = unpool(*pool(mg.tensor(x)), output_size=(1, 2, 5, 7))
    assert y.shape == (1, 2, 5, 7)


def test_embedding_bag_module_matches_torch():
    for kw in (dict(), dict(mode="sum"), dict(mode="max", padding_idx=0), dict(include_last_offset=True)):
        ours, theirs = nn.EmbeddingBag(10, 3, **kw), torch.nn.EmbeddingBag(10, 3, **kw)
        assert repr(ours) == repr(theirs) and list(ours.state_dict()) == list(theirs.state_dict())
        ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
        idx, off = [1, 2, 4, 5, 4, 3, 2, 9], [0, 4, 4, 6]
        if kw.get("include_last_offset"):  # the last offset ends the input (PyTorch's mean counts to the end)
            off = [0, 4, 4, 8]
        y = ours(mg.tensor(idx), mg.tensor(off))
        ty = theirs(torch.tensor(idx), torch.tensor(off))
        assert_close(y.array, ty.detach().numpy(), rtol=1e-6, atol=1e-7)
        y.sum().backward()
        ty.sum().backward()
        assert_close(ours.weight.grad.array, theirs.weight.grad.numpy(), rtol=1e-6, atol=1e-7)
    w = mg.randn(4, 2)
    bag = nn.EmbeddingBag.from_pretrained(w, mode="sum")
    assert not bag.weight.requires_grad
    assert_close(bag(mg.tensor([[0, 1], [2, 3]])).array, w.array.reshape(2, 2, 2).sum(1), rtol=1e-6)


def test_embedding_bag_weight_init_is_standard_normal():
    mg.manual_seed(0)
    w = nn.EmbeddingBag(2000, 50).weight.array
    assert abs(w.mean()) < 0.01 and abs(w.std() - 1) < 0.01


def test_bilinear_init_bound():
    m = nn.Bilinear(16, 3, 200)
    assert np.abs(m.weight.array).max() <= 0.25 and np.abs(m.weight.array).max() > 0.2
    assert np.abs(m.bias.array).max() <= 0.25


def test_instance_norm_eval_uses_running_stats():
    m = nn.InstanceNorm2d(3, track_running_stats=True)
    t = torch.nn.InstanceNorm2d(3, track_running_stats=True)
    x = np.random.default_rng(2).standard_normal((4, 3, 5, 5)).astype(np.float32) * 3 + 1
    m(mg.tensor(x))
    t(torch.tensor(x))
    assert_close(m.running_mean.array, t.running_mean.numpy(), rtol=1e-5, atol=1e-6)
    assert int(m.num_batches_tracked.array) == int(t.num_batches_tracked)
    m.eval()
    t.eval()
    assert_close(m(mg.tensor(x)).array, t(torch.tensor(x)).numpy(), rtol=1e-5, atol=1e-5)


def test_parameter_list():
    pl = nn.ParameterList([nn.Parameter(mg.zeros(2, 3)), mg.ones(3)])
    assert len(pl) == 2 and isinstance(pl[1], nn.Parameter) and pl[1].requires_grad
    pl.append(mg.zeros(4))
    pl += [mg.ones(1)]
    assert [tuple(p.shape) for p in pl] == [(2, 3), (3,), (4,), (1,)]
    assert list(pl.state_dict()) == ["0", "1", "2", "3"]
    assert repr(pl).splitlines()[1].strip() == "(0): Parameter containing: [matgrad.float32 of size 2x3]"
    pl[0] = mg.ones(5)
    assert tuple(pl[0].shape) == (5,) and tuple(pl[-1].shape) == (1,)
    assert len(pl[1:3]) == 2

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.ws = nn.ParameterList([nn.Parameter(mg.randn(3, 3)) for _ in range(2)])

    net = Net()
    assert [n for n, _ in net.named_parameters()] == ["ws.0", "ws.1"]
    tn = torch.nn.Module()
    tn.ws = torch.nn.ParameterList([torch.nn.Parameter(torch.randn(3, 3)) for _ in range(2)])
    net.load_state_dict({k: v.numpy() for k, v in tn.state_dict().items()})
    assert_close(net.ws[1].array, tn.ws[1].detach().numpy(), rtol=0)
    with pytest.raises(IndexError):
        pl[7]


def test_parameter_dict():
    pd = nn.ParameterDict({"b": mg.zeros(2), "a": nn.Parameter(mg.ones(3))})
    assert list(pd) == ["a", "b"]  # a plain dict's keys are sorted, as PyTorch
    tpd = torch.nn.ParameterDict({"b": torch.zeros(2), "a": torch.nn.Parameter(torch.ones(3))})
    assert list(pd.state_dict()) == list(tpd.state_dict())
    pd["c"] = mg.zeros(1)
    assert "c" in pd and len(pd) == 3 and isinstance(pd["c"], nn.Parameter)
    assert [k for k, _ in pd.items()] == ["a", "b", "c"]
    assert tuple(pd.pop("b").shape) == (2,) and list(pd.keys()) == ["a", "c"]
    assert pd.get("zz") is None
    pd.update([("z", mg.ones(2)), ("y", mg.ones(2))])
    assert list(pd) == ["a", "c", "z", "y"]
    assert [n for n, _ in pd.named_parameters()] == ["a", "c", "z", "y"]
    del pd["a"]
    assert "a" not in pd and len(pd) == 3
    with pytest.raises(KeyError):
        pd["a"]
    pd.clear()
    assert len(pd) == 0 and list(pd.parameters()) == []
