"""BatchNorm1d, BatchNorm2d and LayerNorm as modules: running statistics, state_dict, against torch.nn."""
from __future__ import annotations

import numpy as np
import pytest

import matgrad as mg
from matgrad import nn
from tests.helpers import torch


def _same(ours, theirs):
    np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=1e-9)


def _needs_torch():
    if torch is None:
        pytest.skip("PyTorch is not installed")


def test_batchnorm_train_and_eval_match_torch_over_steps():
    _needs_torch()
    rng = np.random.default_rng(1)
    for momentum in (0.1, None):
        ours = nn.BatchNorm2d(3, momentum=momentum).double()
        theirs = torch.nn.BatchNorm2d(3, momentum=momentum).double()
        for _ in range(3):
            x = rng.standard_normal((4, 3, 2, 3)) * 3 + 1
            _same(ours(mg.tensor(x)), theirs(torch.tensor(x)))
        np.testing.assert_allclose(ours.running_mean.numpy(), theirs.running_mean.numpy(), rtol=1e-12)
        np.testing.assert_allclose(ours.running_var.numpy(), theirs.running_var.numpy(), rtol=1e-12)
        assert int(ours.num_batches_tracked.item()) == 3
        ours.eval()
        theirs.eval()
        x = rng.standard_normal((2, 3, 2, 2))
        _same(ours(mg.tensor(x)), theirs(torch.tensor(x)))


def test_batchnorm_eval_leaves_running_stats_alone_and_is_per_sample():
    bn = nn.BatchNorm1d(4)
    bn(mg.randn(8, 4) * 2 + 5)
    before = bn.running_mean.numpy().copy()
    bn.eval()
    x = mg.randn(3, 4)
    full = bn(x).numpy()
    np.testing.assert_array_equal(bn.running_mean.numpy(), before)
    np.testing.assert_allclose(bn(x[:1]).numpy(), full[:1], rtol=1e-6)  # no batch statistics in eval


def test_batchnorm_without_tracking_uses_batch_stats_in_eval():
    bn = nn.BatchNorm1d(2, track_running_stats=False, affine=False).eval()
    assert bn.running_mean is None and list(bn.state_dict()) == []
    y = bn(mg.randn(16, 2) * 4 + 1).numpy()
    np.testing.assert_allclose(y.mean(axis=0), 0, atol=1e-5)


def test_batchnorm_state_dict_round_trip():
    bn = nn.BatchNorm2d(3)
    for _ in range(2):
        bn(mg.randn(4, 3, 2, 2) * 2 + 1)
    state = bn.state_dict()
    assert set(state) == {"weight", "bias", "running_mean", "running_var", "num_batches_tracked"}
    fresh = nn.BatchNorm2d(3)
    fresh.load_state_dict(state)
    bn.eval()
    fresh.eval()
    x = mg.randn(2, 3, 2, 2)
    np.testing.assert_array_equal(fresh(x).numpy(), bn(x).numpy())
    assert int(fresh.num_batches_tracked.item()) == 2


def test_batchnorm_gradients_reach_weight_and_bias():
    bn = nn.BatchNorm2d(2).double()
    x = mg.randn(3, 2, 2, 2, dtype=mg.float64, requires_grad=True)
    (bn(x) ** 3).sum().backward()
    assert bn.weight.grad.shape == (2,) and bn.bias.grad.shape == (2,) and x.grad.shape == x.shape


def test_batchnorm_shape_errors():
    with pytest.raises(RuntimeError, match="expected 3 channels"):
        nn.BatchNorm2d(3)(mg.zeros(2, 4, 2, 2))
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        nn.BatchNorm2d(3)(mg.zeros(2, 3))


def test_layernorm_module_matches_torch():
    _needs_torch()
    ours, theirs = nn.LayerNorm((3, 4)).double(), torch.nn.LayerNorm((3, 4)).double()
    with torch.no_grad():
        theirs.weight.uniform_()
    ours.weight.array[...] = theirs.weight.detach().numpy()
    x = np.random.default_rng(2).standard_normal((2, 3, 4))
    _same(ours(mg.tensor(x)), theirs(torch.tensor(x)))


class _TwinRanks:
    """A stand-in communicator: two ranks holding the same batch, so every allreduce doubles its buffer."""

    def Get_size(self):
        return 2

    def Allreduce(self, _in_place, buf):
        buf *= 2


@pytest.mark.parametrize("affine", [True, False])
def test_sync_batchnorm_without_bias_across_ranks(monkeypatch, affine):
    """bias=False (PyTorch 2.13): the synchronized path scales without shifting; with two identical ranks the
    global statistics are the local ones, so output and gradients are plain BatchNorm's without bias."""
    import matgrad.distributed as dist

    monkeypatch.setitem(dist._state, "comm", _TwinRanks())
    monkeypatch.setattr(dist, "_mpi", lambda: type("MPI", (), {"IN_PLACE": None}))
    sync, plain = nn.SyncBatchNorm(3, affine=affine, bias=False), nn.BatchNorm1d(3, affine=affine, bias=False)
    assert sync.bias is None and [n for n, _ in sync.named_parameters()] == (["weight"] if affine else [])
    if affine:
        w = np.array([0.5, 2.0, -1.0], dtype=np.float32)
        sync.weight.array[...] = w
        plain.weight.array[...] = w
    x = np.random.default_rng(0).standard_normal((4, 3, 5)).astype(np.float32)
    xs, xp = mg.tensor(x, requires_grad=True), mg.tensor(x, requires_grad=True)
    ys, yp = sync(xs), plain(xp)
    np.testing.assert_allclose(ys.array, yp.array, rtol=1e-5, atol=1e-6)
    seed = mg.tensor(np.random.default_rng(1).standard_normal(x.shape).astype(np.float32))
    (ys * seed).sum().backward()
    (yp * seed).sum().backward()
    np.testing.assert_allclose(xs.grad.array, xp.grad.array, rtol=1e-4, atol=1e-5)
    if affine:
        np.testing.assert_allclose(sync.weight.grad.array, plain.weight.grad.array, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(sync.running_mean.array, plain.running_mean.array, rtol=1e-5, atol=1e-6)
