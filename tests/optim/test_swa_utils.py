"""optim.swa_utils: AveragedModel (SWA, EMA, buffers), SWALR and update_bn, step for step against PyTorch's."""
from __future__ import annotations

import numpy as np
import pytest

import matgrad as mg
from matgrad import nn, optim
from matgrad.optim import swa_utils

torch = pytest.importorskip("torch")
tswa = torch.optim.swa_utils


def _pair(dtype: str):
    """The same small model (Linear → BatchNorm1d → Linear) in both libraries, same weights."""
    tm = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    tm = tm.to(getattr(torch, dtype))
    m = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2)).to(getattr(mg, dtype))
    m.load_state_dict({k: mg.tensor(v.numpy()) for k, v in tm.state_dict().items()})
    return m, tm


def _train_step(m, tm, opt, topt, k, dtype):
    x = np.random.default_rng(k).standard_normal((6, 3)).astype(dtype)
    opt.zero_grad()
    topt.zero_grad()
    (m(mg.tensor(x)) ** 2).mean().backward()
    (tm(torch.tensor(x)) ** 2).mean().backward()
    opt.step()
    topt.step()


def _assert_same(sd, tsd, dtype):
    assert list(sd) == list(tsd)
    rtol, atol = (1e-12, 1e-13) if dtype == "float64" else (1e-5, 1e-6)
    for k, v in tsd.items():
        np.testing.assert_allclose(sd[k].numpy(), v.numpy(), rtol=rtol, atol=atol, err_msg=k)


AVERAGES = [
    ("swa", {}, {}),
    ("ema_multi", {"multi_avg_fn": swa_utils.get_ema_multi_avg_fn(0.9)},
     {"multi_avg_fn": tswa.get_ema_multi_avg_fn(0.9)}),
    ("swa_multi", {"multi_avg_fn": swa_utils.get_swa_multi_avg_fn()}, {"multi_avg_fn": tswa.get_swa_multi_avg_fn()}),
    ("ema", {"avg_fn": swa_utils.get_ema_avg_fn(0.8)}, {"avg_fn": tswa.get_ema_avg_fn(0.8)}),
    ("swa_fn", {"avg_fn": swa_utils.get_swa_avg_fn()}, {"avg_fn": tswa.get_swa_avg_fn()}),
]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("use_buffers", [False, True])
@pytest.mark.parametrize("name, ours, theirs", AVERAGES, ids=[a[0] for a in AVERAGES])
def test_averaged_model_step_for_step(name, ours, theirs, use_buffers, dtype):
    m, tm = _pair(dtype)
    avg = swa_utils.AveragedModel(m, use_buffers=use_buffers, **ours)
    tavg = tswa.AveragedModel(tm, use_buffers=use_buffers, **theirs)
    opt, topt = optim.SGD(m.parameters(), lr=0.1), torch.optim.SGD(tm.parameters(), lr=0.1)
    if name == "swa_multi" and use_buffers:  # num_batches_tracked is an integer: both refuse
        avg.update_parameters(m), tavg.update_parameters(tm)  # the first update only copies
        with pytest.raises(RuntimeError, match="Integer division with addcdiv"):
            tavg.update_parameters(tm)
        with pytest.raises(RuntimeError, match="integer tensors .* can't be averaged in place"):
            avg.update_parameters(m)
        return
    for k in range(5):
        _train_step(m, tm, opt, topt, k, dtype)
        avg.update_parameters(m)
        tavg.update_parameters(tm)
        _assert_same(avg.state_dict(), tavg.state_dict(), dtype)
    assert int(avg.n_averaged.array) == 5
    x = np.random.default_rng(9).standard_normal((4, 3)).astype(dtype)
    avg.eval(), tavg.eval()
    np.testing.assert_allclose(avg(mg.tensor(x)).numpy(), tavg(torch.tensor(x)).detach().numpy(),
                               rtol=1e-5, atol=1e-6)
    assert avg.module is not m and avg.module[0].weight is not m[0].weight  # a copy


def test_averaged_model_is_the_mean_and_the_ema():
    p = nn.Linear(2, 1, bias=False)
    swa = swa_utils.AveragedModel(p)
    ema = swa_utils.AveragedModel(p, multi_avg_fn=swa_utils.get_ema_multi_avg_fn(0.5))
    values = [np.array([[1.0, 2.0]]), np.array([[3.0, 0.0]]), np.array([[-1.0, 4.0]])]
    for v in values:
        p.weight.array[...] = v
        swa.update_parameters(p)
        ema.update_parameters(p)
    np.testing.assert_allclose(swa.module.weight.numpy(), np.mean(values, axis=0), rtol=1e-6)
    np.testing.assert_allclose(ema.module.weight.numpy(), 0.5 * (0.5 * values[0] + 0.5 * values[1]) + 0.5 * values[2],
                               rtol=1e-6)
    with pytest.raises(AssertionError, match="Only one of avg_fn and multi_avg_fn"):
        swa_utils.AveragedModel(p, avg_fn=swa_utils.get_swa_avg_fn(), multi_avg_fn=swa_utils.get_swa_multi_avg_fn())
    with pytest.raises(ValueError, match=r"Invalid decay value 1.5 provided. Please provide a value in \[0,1\]"):
        swa_utils.get_ema_multi_avg_fn(1.5)
    with pytest.raises(ValueError, match="Invalid decay value -0.1"):
        swa_utils.get_ema_avg_fn(-0.1)


@pytest.mark.parametrize("strategy", ["cos", "linear"])
@pytest.mark.parametrize("anneal_epochs", [0, 1, 4])
def test_swalr_matches_torch(strategy, anneal_epochs):
    w, tw = mg.zeros(2, requires_grad=True), torch.zeros(2, requires_grad=True)
    opt = optim.SGD([{"params": [w]}, {"params": [mg.zeros(1, requires_grad=True)], "lr": 0.3}], lr=1.0)
    topt = torch.optim.SGD([{"params": [tw]}, {"params": [torch.zeros(1, requires_grad=True)], "lr": 0.3}], lr=1.0)
    s = swa_utils.SWALR(opt, swa_lr=[0.05, 0.1], anneal_epochs=anneal_epochs, anneal_strategy=strategy)
    ts = tswa.SWALR(topt, swa_lr=[0.05, 0.1], anneal_epochs=anneal_epochs, anneal_strategy=strategy)
    lrs, tlrs = [s.get_last_lr()], [ts.get_last_lr()]
    for _ in range(7):
        opt.step(), topt.step()
        s.step(), ts.step()
        lrs.append(s.get_last_lr())
        tlrs.append(ts.get_last_lr())
    np.testing.assert_allclose(lrs, tlrs, rtol=1e-15, atol=0)
    np.testing.assert_allclose(lrs[-1], [0.05, 0.1], rtol=1e-12)
    sd = s.state_dict()
    assert "anneal_func" not in sd and "optimizer" not in sd and sd["_anneal_strategy"] == strategy
    assert set(sd) == set(ts.state_dict()) - {"_get_lr_called_within_step"}  # (a flag matgrad's base lacks)
    s2 = swa_utils.SWALR(opt, swa_lr=0.5, anneal_strategy="linear" if strategy == "cos" else "cos")
    s2.load_state_dict(sd)
    assert s2.anneal_func is (s2._cosine_anneal if strategy == "cos" else s2._linear_anneal)


def test_swalr_errors():
    opt = optim.SGD([mg.zeros(1, requires_grad=True)], lr=1.0)
    with pytest.raises(ValueError, match="anneal_strategy must be one of 'cos' or 'linear', instead got exp"):
        swa_utils.SWALR(opt, 0.1, anneal_strategy="exp")
    with pytest.raises(ValueError, match="anneal_epochs must be equal or greater than 0, got -1"):
        swa_utils.SWALR(opt, 0.1, anneal_epochs=-1)
    with pytest.raises(ValueError, match="swa_lr must have the same length as optimizer.param_groups"):
        swa_utils.SWALR(opt, [0.1, 0.2])


def test_update_bn_matches_torch():
    m, tm = _pair("float64")
    m[1].momentum = tm[1].momentum = 0.3
    m.eval(), tm.eval()
    xs = [np.random.default_rng(k).standard_normal((5, 3)) for k in range(4)]
    swa_utils.update_bn([(mg.tensor(x), 0) for x in xs], m)  # (input, label) batches: the input is taken
    tswa.update_bn([(torch.tensor(x), 0) for x in xs], tm)
    _assert_same(m.state_dict(), tm.state_dict(), "float64")
    hidden = [x @ m[0].weight.numpy().T + m[0].bias.numpy() for x in xs]
    np.testing.assert_allclose(m[1].running_mean.numpy(), np.mean(hidden, axis=(0, 1)), rtol=1e-12)  # the plain mean
    assert not m.training and m[1].momentum == 0.3  # restored
    assert int(m[1].num_batches_tracked.array) == 4


def test_update_bn_leaves_instance_norm_alone():
    m = nn.Sequential(nn.InstanceNorm1d(2, track_running_stats=True))  # not a BatchNorm, as in PyTorch
    swa_utils.update_bn([mg.randn(3, 2, 4)], m)
    np.testing.assert_array_equal(m[0].running_mean.numpy(), np.zeros(2))
    assert m.training


def test_averaged_model_on_the_test_device():
    from matgrad import devices
    from tests.devices.conftest import fake_backend
    from tests.devices.fake_cupy import ndarray

    before = devices.set_cuda_backend(fake_backend())
    try:
        dev = devices.device("cuda", 0)
        host = nn.Linear(3, 2).double()
        ondev = nn.Linear(3, 2).double()
        ondev.load_state_dict(host.state_dict())
        ondev.to(dev)
        averaged = [swa_utils.AveragedModel(host), swa_utils.AveragedModel(ondev)]  # the device one: lerp, as torch
        for k in range(3):
            for m in (host, ondev):
                with mg.no_grad():
                    m.weight.array[...] += 0.5 * (k + 1)
            for a, m in zip(averaged, (host, ondev)):
                a.update_parameters(m)
        w = averaged[1].module.weight.array
        assert isinstance(w, ndarray)
        # off the CPU PyTorch lerps with weight 1/(n + 1) made a float32 tensor: equal to float32 rounding
        np.testing.assert_allclose(w.get(), averaged[0].module.weight.numpy(), rtol=1e-7, atol=1e-9)
        want = averaged[0].module.weight.numpy().copy()
        swa_utils.get_swa_multi_avg_fn()([averaged[0].module.weight.detach()], [host.weight.detach()], 3)
        swa_utils.get_swa_multi_avg_fn()([averaged[1].module.weight.detach()], [ondev.weight.detach()], 3)
        np.testing.assert_allclose(w.get(), averaged[0].module.weight.numpy(), rtol=1e-7, atol=1e-9)
        assert not np.allclose(want, averaged[0].module.weight.numpy())
    finally:
        devices.restore_cuda_backend(before)
