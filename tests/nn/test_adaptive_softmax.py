"""matgrad/nn/adaptive.py: AdaptiveLogSoftmaxWithLoss against PyTorch's with the same weights."""
from __future__ import annotations

import numpy as np
import pytest

import matgrad as mg
import matgrad.nn as nn


def _pair(in_features=8, n_classes=12, cutoffs=(3, 7), div_value=2.0, head_bias=True, seed=0):
    """(matgrad's module, torch's module) with torch's weights copied into matgrad's (float64)."""
    torch = pytest.importorskip("torch")
    torch.manual_seed(seed)
    tm = torch.nn.AdaptiveLogSoftmaxWithLoss(in_features, n_classes, list(cutoffs), div_value, head_bias).double()
    m = nn.AdaptiveLogSoftmaxWithLoss(in_features, n_classes, list(cutoffs), div_value, head_bias, dtype=mg.float64)
    state = {k: v.detach().numpy() for k, v in tm.state_dict().items()}
    assert set(state) == set(m.state_dict())
    m.load_state_dict({k: mg.tensor(v) for k, v in state.items()})
    return m, tm, torch


@pytest.mark.parametrize("head_bias", [False, True])
def test_forward_and_gradients_equal_torch(head_bias):
    m, tm, torch = _pair(head_bias=head_bias)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((10, 8))
    target = np.array([0, 5, 11, 2, 7, 3, 9, 6, 1, 10])  # every cluster, both edges of each
    a, b = mg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out = m(a, mg.tensor(target))
    tout = tm(b, torch.tensor(target))
    assert type(out).__name__ == "_ASMoutput" and out._fields == ("output", "loss")
    np.testing.assert_allclose(out.output.numpy(), tout.output.detach().numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(out.loss.item(), tout.loss.item(), rtol=1e-12)
    g = rng.standard_normal(10)
    (out.loss + (out.output * mg.tensor(g)).sum()).backward()
    (tout.loss + (tout.output * torch.tensor(g)).sum()).backward()
    np.testing.assert_allclose(a.grad, b.grad.numpy(), rtol=1e-10, atol=1e-12)
    tparams = dict(tm.named_parameters())
    for name, p in m.named_parameters():
        np.testing.assert_allclose(p.grad, tparams[name].grad.numpy(), rtol=1e-10, atol=1e-12, err_msg=name)


def test_shortlist_only_and_unbatched():
    m, tm, torch = _pair(cutoffs=(4,), n_classes=6, head_bias=False, seed=2)
    x = np.random.default_rng(3).standard_normal((4, 8))
    out = m(mg.tensor(x), mg.tensor([0, 1, 3, 2]))
    tout = tm(torch.tensor(x), torch.tensor([0, 1, 3, 2]))
    np.testing.assert_allclose(out.output.numpy(), tout.output.detach().numpy(), rtol=1e-12)
    one = m(mg.tensor(x[0]), mg.tensor(5))
    tone = tm(torch.tensor(x[0]), torch.tensor(5))
    assert one.output.shape == () and one.loss.shape == ()
    np.testing.assert_allclose(one.output.item(), tone.output.item(), rtol=1e-12)


def test_log_prob_and_predict_equal_torch():
    m, tm, torch = _pair(seed=4)
    x = np.random.default_rng(5).standard_normal((30, 8)) * 3  # large enough that some rows prefer a tail
    lp = m.log_prob(mg.tensor(x))
    np.testing.assert_allclose(lp.numpy(), tm.log_prob(torch.tensor(x)).detach().numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(np.exp(lp.numpy()).sum(axis=1), 1.0, rtol=1e-12)
    pred = m.predict(mg.tensor(x))
    np.testing.assert_array_equal(pred.numpy(), tm.predict(torch.tensor(x)).numpy())
    np.testing.assert_array_equal(pred.numpy(), lp.numpy().argmax(axis=1))
    assert (pred.numpy() >= m.shortlist_size).any() and (pred.numpy() < m.shortlist_size).any()


def test_finite_differences():
    m = nn.AdaptiveLogSoftmaxWithLoss(6, 9, [2, 5], div_value=2.0, head_bias=True, dtype=mg.float64)
    target = mg.tensor([0, 4, 8, 3, 1])
    x = mg.tensor(np.random.default_rng(6).standard_normal((5, 6)), requires_grad=True)
    assert mg.gradcheck(lambda a: m(a, target).output, [x])
    assert mg.gradcheck(lambda a: m.log_prob(a), [x])


def test_errors():
    with pytest.raises(ValueError, match="length larger than 0"):
        nn.AdaptiveLogSoftmaxWithLoss(4, 10, [])
    for cutoffs in ([5, 3], [0, 3], [3, 10], [3, 3], [2.5]):
        with pytest.raises(ValueError, match="unique, positive integers"):
            nn.AdaptiveLogSoftmaxWithLoss(4, 10, cutoffs)
    m = nn.AdaptiveLogSoftmaxWithLoss(4, 10, [3])
    x = mg.tensor(np.zeros((2, 4), np.float32))
    with pytest.raises(RuntimeError, match="same size in the batch dimension"):
        m(x, mg.tensor([1, 2, 3]))
    with pytest.raises(RuntimeError, match="1D target tensor expects 2D input"):
        m(mg.tensor(np.zeros((2, 1, 4), np.float32)), mg.tensor([1, 2]))
    with pytest.raises(RuntimeError, match="0D target tensor expects 1D input"):
        m(x, mg.tensor(1))
    with pytest.raises(RuntimeError, match="multi-target not supported"):
        m(x, mg.tensor([[1], [2]]))
    with pytest.raises(RuntimeError, match="Target values should be in \\[0, 9\\]"):
        m(x, mg.tensor([1, 10]))


def test_on_the_test_device_equals_cpu():
    """Everything stays on a CuPy-like device (tests/devices) and gives the CPU's values and gradients."""
    from matgrad import devices
    from tests.devices.conftest import fake_backend

    m = nn.AdaptiveLogSoftmaxWithLoss(6, 9, [2, 5], div_value=2.0, head_bias=True, dtype=mg.float64)
    x = np.random.default_rng(7).standard_normal((6, 6)) * 3
    target = np.array([0, 4, 8, 3, 1, 6])
    out = m(mg.tensor(x), mg.tensor(target))
    out.loss.backward()
    cpu = [out.output.numpy(), m.log_prob(mg.tensor(x)).detach().numpy(), m.predict(mg.tensor(x)).numpy(),
           m.head.weight.grad.numpy().copy()]
    before = devices.set_cuda_backend(fake_backend())
    try:
        m.zero_grad()
        m.to("cuda")
        xd, td = mg.tensor(x).to("cuda"), mg.tensor(target).to("cuda")
        out = m(xd, td)
        out.loss.backward()
        dev = [out.output, m.log_prob(xd).detach(), m.predict(xd), m.head.weight.grad]
        assert all(t.device.type == "cuda" for t in dev)
        for got, want in zip(dev, cpu):
            np.testing.assert_allclose(got.cpu().numpy(), want, rtol=1e-12, atol=1e-14)
    finally:
        devices.restore_cuda_backend(before)


def test_nll_loss_2d_is_nll_loss_with_torchs_warning():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(8).standard_normal((2, 3, 4, 5))
    t = np.random.default_rng(9).integers(0, 3, (2, 4, 5))
    w = np.array([0.5, 1.0, 2.0])
    with pytest.warns(FutureWarning, match="NLLLoss2d` has been deprecated"):
        m = nn.NLLLoss2d(mg.tensor(w), ignore_index=1, reduction="sum")
    assert isinstance(m, nn.NLLLoss)
    with pytest.warns(FutureWarning):
        tm = torch.nn.NLLLoss2d(torch.tensor(w), ignore_index=1, reduction="sum")
    np.testing.assert_allclose(m(mg.tensor(x), mg.tensor(t)).item(), tm(torch.tensor(x), torch.tensor(t)).item(),
                               rtol=1e-12)
