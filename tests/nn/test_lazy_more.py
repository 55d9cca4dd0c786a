"""Lazy 3-d convolutions and lazy norms (uninitialized buffers), nn.Buffer and nn.UninitializedBuffer."""
from __future__ import annotations

import pickle

import numpy as np
import pytest

import matgrad as mg
from matgrad import nn
from matgrad.nn.lazy import is_lazy
from tests.nn._compare import compare_modules

# (ours, torch's name and arguments, input shape, train): each lazy module, its regular twin after one forward
CASES = [
    (lambda: nn.LazyConv3d(4, 2, padding=1), ("LazyConv3d", (4, 2), {"padding": 1}), (2, 3, 4, 4, 3), False),
    (lambda: nn.LazyConv3d(4, 3, groups=2, bias=False), ("LazyConv3d", (4, 3), {"groups": 2, "bias": False}),
     (6, 5, 4, 3), False),  # unbatched
    (lambda: nn.LazyConvTranspose3d(2, 2, stride=2), ("LazyConvTranspose3d", (2, 2), {"stride": 2}),
     (1, 3, 3, 2, 2), False),
    (lambda: nn.LazyBatchNorm1d(), ("LazyBatchNorm1d", (), {}), (5, 3), True),
    (lambda: nn.LazyBatchNorm1d(momentum=None, bias=False), ("LazyBatchNorm1d", (), {"momentum": None, "bias": False}),
     (4, 3, 6), True),
    (lambda: nn.LazyBatchNorm2d(affine=False), ("LazyBatchNorm2d", (), {"affine": False}), (3, 4, 3, 3), True),
    (lambda: nn.LazyBatchNorm3d(), ("LazyBatchNorm3d", (), {}), (2, 3, 2, 3, 2), True),
    (lambda: nn.LazyBatchNorm2d(track_running_stats=False), ("LazyBatchNorm2d", (), {"track_running_stats": False}),
     (3, 2, 3, 3), False),
    (lambda: nn.LazyInstanceNorm1d(), ("LazyInstanceNorm1d", (), {}), (2, 3, 7), True),
    (lambda: nn.LazyInstanceNorm2d(affine=False), ("LazyInstanceNorm2d", (), {"affine": False}), (2, 3, 4, 5), True),
    (lambda: nn.LazyInstanceNorm3d(track_running_stats=False),
     ("LazyInstanceNorm3d", (), {"track_running_stats": False}), (2, 2, 3, 3, 2), True),
    (lambda: nn.LazyInstanceNorm1d(bias=False), ("LazyInstanceNorm1d", (), {"bias": False}), (2, 3, 7), True),
    (lambda: nn.LazyInstanceNorm2d(affine=False, bias=False), ("LazyInstanceNorm2d", (), {"affine": False,
                                                                                          "bias": False}),
     (2, 3, 4, 5), True),
    (lambda: nn.LazyBatchNorm2d(bias=False), ("LazyBatchNorm2d", (), {"bias": False}), (3, 4, 3, 3), True),
]
IDS = [f"{c[1][0]}-{i}" for i, c in enumerate(CASES)]


def _torch_module(spec):
    torch = pytest.importorskip("torch")
    name, args, kwargs = spec
    return getattr(torch.nn, name)(*args, **kwargs)


@pytest.mark.parametrize("lazy, spec, shape, train", CASES, ids=IDS)
def test_shapes_keys_and_outputs_match_torch(lazy, spec, shape, train):
    torch = pytest.importorskip("torch")
    m, t = lazy(), _torch_module(spec)
    assert repr(m) == repr(t)
    sd, tsd = m.state_dict(), t.state_dict()
    assert list(sd) == list(tsd)
    assert [repr(v) for v in sd.values()] == [repr(v) for v in tsd.values()]  # placeholders and the count
    assert m.has_uninitialized_params() == t.has_uninitialized_params()
    x = np.random.default_rng(0).standard_normal(shape)
    m(mg.tensor(x.astype(np.float32)))
    t(torch.tensor(x, dtype=torch.float32))
    assert type(m).__name__ == type(t).__name__ and repr(m) == repr(t)
    assert not any(is_lazy(v) for v in (*m.parameters(), *m.buffers())) and not m._forward_pre_hooks
    sd, tsd = m.state_dict(), t.state_dict()
    assert list(sd) == list(tsd)
    for k in tsd:
        assert tuple(sd[k].shape) == tuple(tsd[k].shape), k
        assert sd[k].array.dtype == np.dtype(str(tsd[k].dtype).replace("torch.", "")), k
        if k != "weight" and k != "bias" or "Norm" in spec[0]:  # norms' init is deterministic: 1, 0
            np.testing.assert_allclose(sd[k].numpy(), tsd[k].numpy(), rtol=1e-5, atol=1e-6, err_msg=k)
    compare_modules(m, t, [x], train=train)
    for k, v in t.state_dict().items():  # the running statistics moved alike
        np.testing.assert_allclose(m.state_dict()[k].numpy(), v.numpy(), rtol=1e-9, atol=1e-12, err_msg=k)


@pytest.mark.parametrize("lazy, regular, shape", [
    (lambda: nn.LazyConv3d(2, 2, stride=2), lambda: nn.Conv3d(3, 2, 2, stride=2), (1, 3, 4, 4, 4)),
    (lambda: nn.LazyConvTranspose3d(4, 2, groups=2), lambda: nn.ConvTranspose3d(2, 4, 2, groups=2), (1, 2, 2, 2, 2)),
    (lambda: nn.LazyBatchNorm2d(), lambda: nn.BatchNorm2d(3), (2, 3, 2, 2)),
    (lambda: nn.LazyInstanceNorm1d(), lambda: nn.InstanceNorm1d(3, affine=True, track_running_stats=True), (2, 3, 4)),
])
def test_first_forward_initialises_as_the_regular_module(lazy, regular, shape):
    x = mg.randn(*shape)
    mg.manual_seed(3)
    m = lazy()
    y = m(x)
    mg.manual_seed(3)
    r = regular()
    assert type(m) is type(r) and repr(m) == repr(r)
    for (k, p), (k2, q) in zip(m.named_parameters(), r.named_parameters()):  # the same draws
        assert k == k2
        np.testing.assert_array_equal(p.numpy(), q.numpy(), err_msg=k)
    assert [k for k, _ in m.named_buffers()] == [k for k, _ in r.named_buffers()]
    assert y.shape == regular()(x).shape


def test_uninitialized_state_dict_round_trip_and_loading_into_a_lazy_module():
    torch = pytest.importorskip("torch")
    a, b = nn.LazyBatchNorm2d(), nn.LazyBatchNorm2d()
    assert b.load_state_dict(a.state_dict()) == ([], [])  # uninitialized into uninitialized: nothing to do
    assert b.has_uninitialized_params()
    t = torch.nn.BatchNorm2d(3)
    t(torch.randn(4, 3, 2, 2))  # running statistics and a count that are not the defaults
    with torch.no_grad():
        t.weight.uniform_(), t.bias.uniform_()
    tsd = {k: mg.tensor(v.numpy()) for k, v in t.state_dict().items()}
    b.load_state_dict(tsd)
    assert type(b) is nn.LazyBatchNorm2d and not b.has_uninitialized_params()  # lazy until its first forward
    assert isinstance(b.running_mean, nn.Buffer) and b.running_mean.shape == (3,)
    for k, v in t.state_dict().items():
        np.testing.assert_array_equal(b.state_dict()[k].numpy(), v.numpy(), err_msg=k)
    x = np.random.default_rng(1).standard_normal((2, 3, 2, 2)).astype(np.float32)
    b.eval(), t.eval()
    y = b(mg.tensor(x))
    assert type(b) is nn.BatchNorm2d and b.num_features == 3  # (PyTorch leaves num_features at 0 here)
    np.testing.assert_allclose(y.numpy(), t(torch.tensor(x)).detach().numpy(), rtol=1e-5, atol=1e-6)
    dst = nn.Sequential(nn.LazyConv3d(2, 2), nn.LazyInstanceNorm3d())
    src = torch.nn.Sequential(torch.nn.Conv3d(1, 2, 2), torch.nn.InstanceNorm3d(2, affine=True,
                                                                                   track_running_stats=True))
    dst.load_state_dict({k: mg.tensor(v.numpy()) for k, v in src.state_dict().items()})
    assert dst[0].weight.shape == (2, 1, 2, 2, 2) and dst[1].running_var.shape == (2,)


def test_pickle_and_to_dtype_keep_placeholders():
    m = nn.LazyBatchNorm1d()
    m2 = pickle.loads(pickle.dumps(m))
    assert isinstance(m2.running_mean, nn.UninitializedBuffer) and m2.has_uninitialized_params()
    m.double()
    m(mg.randn(3, 2))
    assert m.weight.dtype == mg.float64 and m.running_var.dtype == mg.float64
    assert m.num_batches_tracked.dtype == mg.int64


def test_uninitialized_buffer():
    torch = pytest.importorskip("torch")
    u, tu = nn.UninitializedBuffer(), torch.nn.UninitializedBuffer()
    assert repr(u) == repr(tu) == "<UninitializedBuffer>"
    assert u.requires_grad is tu.requires_grad is False and u.persistent is tu.persistent is True
    assert isinstance(u, nn.Buffer) and is_lazy(u)
    with pytest.raises(RuntimeError, match="Can't access the shape of an uninitialized parameter or buffer"):
        _ = u.shape
    with pytest.raises(ValueError, match="uninitialized buffer in numel"):
        u.numel()
    u.materialize((2, 3), dtype=np.float64)
    assert type(u) is nn.Buffer and u.shape == (2, 3) and u.dtype == mg.float64 and u.persistent
    assert not nn.UninitializedBuffer(persistent=False).persistent


def test_buffer_assignment_registers_as_torch():
    torch = pytest.importorskip("torch")
    results = []
    for lib, make in ((nn, mg.ones), (torch.nn, torch.ones)):
        m = lib.Module()
        m.x = lib.Buffer(make(2), persistent=False)
        m.y = lib.Buffer(make(2))
        first = (list(m.state_dict()), [k for k, _ in m.named_buffers()], len(list(m.parameters())))
        m.y = make(3)  # a plain tensor into a buffer's slot: stays a (persistent) buffer
        m.x = lib.Buffer(make(1))  # now persistent
        results.append((first, list(m.state_dict()), sorted(m._non_persistent_buffers_set),
                        tuple(m.y.shape), isinstance(m.x, lib.Buffer)))
    assert results[0] == results[1]
    assert results[0][0] == (["y"], ["x", "y"], 0)
    src = mg.ones(2, requires_grad=True)
    b = nn.Buffer(src)
    assert b.requires_grad and b.array is src.array  # shares memory, keeps requires_grad
    assert nn.Buffer().shape == (0,)
    m = nn.Module()
    m.z = 1
    with pytest.raises(KeyError, match="attribute 'z' already exists"):
        m.z = nn.Buffer(mg.ones(1))
    with pytest.raises(TypeError, match="nn.Buffer: expected a Tensor"):
        nn.Buffer([1.0])
    m.b = nn.Buffer(mg.zeros(2), persistent=False)
    m2 = pickle.loads(pickle.dumps(m))
    assert isinstance(m2.b, nn.Buffer) and "b" in m2._non_persistent_buffers_set


def test_lazy_norm_errors_and_gradients():
    with pytest.raises(ValueError, match="LazyBatchNorm1d: expected an input with at least 2 dimensions"):
        nn.LazyBatchNorm1d()(mg.randn(3))
    with pytest.raises(RuntimeError, match=r"Expected 4D \(unbatched\) or 5D \(batched\) input to LazyConv3d"):
        nn.LazyConv3d(2, 2)(mg.randn(3, 4, 4))
    with pytest.raises(ValueError, match="out_channels .* divisible by groups"):
        nn.LazyConvTranspose3d(3, 2, groups=2)
    with pytest.raises(ValueError, match="expected input's size at dim=1 to match num_features"):
        nn.LazyInstanceNorm1d()(mg.randn(3, 5))  # unbatched: dim 1 is taken for the channels, as PyTorch
    m = nn.LazyBatchNorm2d().double()
    m(mg.randn(2, 3, 2, 2, dtype=mg.float64))
    x = mg.randn(3, 3, 2, 2, dtype=mg.float64, requires_grad=True)
    assert type(m) is nn.BatchNorm2d
    assert mg.gradcheck(lambda a: m(a), [x])  # batch statistics: the running ones do not enter the output


def test_lazy_norm_on_the_test_device():
    from matgrad import devices
    from tests.devices.conftest import fake_backend
    from tests.devices.fake_cupy import ndarray

    before = devices.set_cuda_backend(fake_backend())
    try:
        dev = devices.device("cuda", 0)
        m = nn.LazyBatchNorm1d(device=dev)
        assert isinstance(m.running_mean.array, ndarray) and isinstance(m.num_batches_tracked.array, ndarray)
        x = np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)
        y = m(mg.tensor(x).to(dev))
        ref = nn.BatchNorm1d(3)
        np.testing.assert_allclose(y.array.get(), ref(mg.tensor(x)).numpy(), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(m.running_var.array.get(), ref.running_var.numpy(), rtol=1e-6, atol=1e-7)
        assert isinstance(m.weight.array, ndarray) and int(m.num_batches_tracked.array.get()) == 1
    finally:
        devices.restore_cuda_backend(before)
