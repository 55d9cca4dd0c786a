"""clamp/clip with tensor bounds: PyTorch's clamp.Tensor, its values and the gradients of input, min and max.

At a tie (x == min or x == max) the input takes the whole gradient; where x < min < max min takes it; where
x > max, or max < min (then y = max everywhere), max takes it; a nan in x or a bound gives every input 0.
The expected arrays are PyTorch 2.13's (CPU), written out so the tests mean the same without torch.
"""
from __future__ import annotations

import io
import warnings

import numpy as np
import pytest

import matgrad as mg
from tests.helpers import check_op, torch

nan, inf = np.nan, np.inf
DY = [1.0, 2.0, 3.0, 4.0, 5.0]


def _clamp_grads(x, lo, hi, dy=None):
    """(y, dx, dlo, dhi) of mg.clamp(x, lo, hi) in float64, lo/hi None or lists; dy defaults to 1, 2, 3, ..."""
    xt = mg.tensor(x, dtype=mg.float64, requires_grad=True)
    bounds = [None if b is None else mg.tensor(b, dtype=mg.float64, requires_grad=True) for b in (lo, hi)]
    y = mg.clamp(xt, *bounds)
    seed = np.arange(1.0, y.numel() + 1).reshape(y.shape) if dy is None else np.asarray(dy, dtype=np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # a selected gradient: no inf·0
        y.backward(mg.tensor(seed, dtype=mg.float64))
    return [y.detach().numpy()] + [None if t is None else t.grad.numpy() for t in [xt, *bounds]]


# (x, min, max) -> PyTorch 2.13's (y, dx, dmin, dmax) for dy = 1, 2, 3, ...
CASES = {
    "ties and a nan input": (
        ([0.0, 1.0, 2.0, nan, 5.0], [1.0] * 5, [2.0] * 5),
        ([1.0, 1.0, 2.0, nan, 2.0], [0.0, 2.0, 3.0, 0.0, 0.0], [1.0, 0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0, 5.0])),
    "nan bounds": (
        ([0.0, 1.0, 2.0, 3.0], [nan, 1.0, nan, 1.0], [2.0, nan, nan, 2.0]),
        ([nan, nan, nan, 2.0], [0.0] * 4, [0.0] * 4, [0.0, 0.0, 0.0, 4.0])),
    "min above max": (
        ([0.0, 1.5, 3.0, 2.0, 1.0], [2.0] * 5, [1.0] * 5),
        ([1.0] * 5, [0.0] * 5, [0.0] * 5, [1.0, 2.0, 3.0, 4.0, 5.0])),
    "min equal to max": (
        ([1.0, 0.0, 2.0], [1.0] * 3, [1.0] * 3),
        ([1.0] * 3, [1.0, 0.0, 0.0], [0.0] * 3, [0.0, 0.0, 3.0])),  # below: nobody's (min < max fails)
    "min only": (
        ([0.0, 1.0, 2.0, nan], [1.0] * 4, None),
        ([1.0, 1.0, 2.0, nan], [0.0, 2.0, 3.0, 0.0], [1.0, 0.0, 0.0, 0.0], None)),
    "max only": (
        ([0.0, 1.0, 2.0, nan], None, [1.0] * 4),
        ([0.0, 1.0, 1.0, nan], [1.0, 2.0, 0.0, 0.0], None, [0.0, 0.0, 3.0, 0.0])),
    "nan min only": (
        ([0.0, 1.0, 2.0, nan], [nan] * 4, None),
        ([nan] * 4, [0.0] * 4, [0.0] * 4, None)),
    "broadcast bounds, reduced to their shapes": (
        ([[0.0, 1.0, 2.0], [3.0, -1.0, 1.5]], [1.0], [[2.0], [1.0]]),
        ([[1.0, 1.0, 2.0], [1.0, 1.0, 1.0]], [[0.0, 2.0, 3.0], [0.0, 0.0, 0.0]], [1.0], [[0.0], [10.0]])),
    "bounds wider than the input": (
        ([1.0, 2.0], [[0.0], [1.5], [3.0]], None),
        ([[1.0, 2.0], [1.5, 2.0], [3.0, 3.0]], [1.0, 6.0], [[0.0], [3.0], [11.0]], None)),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_values_and_gradients_are_pytorchs(case):
    (x, lo, hi), want = CASES[case]
    got = _clamp_grads(x, lo, hi)
    for what, g, w in zip(("y", "dx", "dmin", "dmax"), got, want):
        if w is None:
            assert g is None, what
        else:
            np.testing.assert_array_equal(g, w, err_msg=what)


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_cases_agree_with_torch(case):
    if torch is None:
        pytest.skip("compares with PyTorch")
    (x, lo, hi), _ = CASES[case]
    xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    bounds = [None if b is None else torch.tensor(b, dtype=torch.float64, requires_grad=True) for b in (lo, hi)]
    y = torch.clamp(xt, *bounds)
    y.backward(torch.arange(1.0, y.numel() + 1, dtype=torch.float64).reshape(y.shape))
    want = [y.detach().numpy()] + [None if t is None else t.grad.numpy() for t in [xt, *bounds]]
    for what, g, w in zip(("y", "dx", "dmin", "dmax"), _clamp_grads(x, lo, hi), want):
        if w is None:
            assert g is None, what
        else:
            np.testing.assert_array_equal(g, w, err_msg=what)


def test_an_inf_or_nan_gradient_is_selected():
    # PyTorch's where(mask, dy, 0): where the local derivative is 0 the input gets 0, not inf·0 = nan
    y, dx, dlo, dhi = _clamp_grads([0.0, 1.5, 3.0], [1.0] * 3, [2.0] * 3, dy=[inf, nan, -inf])
    np.testing.assert_array_equal(dx, [0.0, nan, 0.0])
    np.testing.assert_array_equal(dlo, [inf, 0.0, 0.0])
    np.testing.assert_array_equal(dhi, [0.0, 0.0, -inf])


def test_a_tie_is_not_split_any_more():
    # before clamp.Tensor had its own op: maximum/minimum gave a tie ½ to the input and ½ to the bound
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    lo, hi = mg.tensor([1.0, 0.0], requires_grad=True), mg.tensor([3.0, 2.0], requires_grad=True)
    x.clamp(lo, hi).sum().backward()
    assert x.grad.tolist() == [1.0, 1.0] and lo.grad.tolist() == [0.0, 0.0] and hi.grad.tolist() == [0.0, 0.0]


def test_clip_clamp_min_max_and_the_method_take_tensor_bounds():
    x = mg.tensor([0.0, 1.0, 2.0, 3.0], requires_grad=True)
    lo, hi = mg.tensor(1.0, requires_grad=True), mg.tensor([2.0, 2.0, 2.0, 2.0], requires_grad=True)
    for y in (mg.clip(x, lo, hi), x.clamp(min=lo, max=hi), x.clip(lo, hi), mg.clamp_max(mg.clamp_min(x, lo), hi)):
        assert y.tolist() == [1.0, 1.0, 2.0, 2.0]
    mg.clamp_min(x, lo).sum().backward()
    assert x.grad.tolist() == [0.0, 1.0, 1.0, 1.0] and lo.grad.item() == 1.0  # the 0-d bound: summed
    assert hi.grad is None


def test_a_number_with_a_tensor_bound_and_the_dtypes():
    x = mg.tensor([0.0, 1.0, 2.0])
    assert mg.clamp(x, mg.tensor(0.5), 1.5).tolist() == [0.5, 1.0, 1.5]
    assert mg.clamp(x, 0.5, mg.tensor([1.5, 1.5, 0.25])).tolist() == [0.5, 1.0, 0.25]
    assert mg.clamp(mg.tensor([1, 5]), mg.tensor([2.5, 2.5])).dtype == mg.float32  # promoted, as PyTorch
    assert mg.clamp(mg.tensor([1.0, 5.0]), mg.tensor([2, 2])).dtype == mg.float32
    assert mg.clamp(mg.tensor([1.0, 5.0]), mg.tensor([2.0, 2.0], dtype=mg.float64)).dtype == mg.float64
    assert mg.clamp(mg.tensor([1, 5]), mg.tensor([2, 2]), mg.tensor([4, 4])).tolist() == [2, 4]


def test_bounds_that_do_not_broadcast_say_so():
    with pytest.raises(ValueError, match=r"clamp: input \(2,\) and bounds \(3,\) cannot be broadcast"):
        mg.clamp(mg.zeros(2), mg.zeros(3))


@pytest.mark.parametrize("which", ["both", "min", "max"])
def test_gradcheck_first_and_second_order_and_torch(which):
    # random float64 data: no ties, so finite differences hold; the bounds broadcast
    fns = {"both": lambda x, lo, hi: x.clamp(lo, hi * hi + 0.5),
           "min": lambda x, lo, hi: (x * x).clamp(min=lo) * hi,
           "max": lambda x, lo, hi: x.clamp(max=lo * hi)}
    check_op(fns[which], (3, 4), (4,), (3, 1))


def test_second_order_goes_through_dy_as_torch():
    # the masks are constants: d²/dx² of clamp(x², lo², hi²) is 2 inside the bounds, 0 outside
    x = mg.tensor([0.0, 1.0, 2.0, 3.0], dtype=mg.float64, requires_grad=True)
    lo = mg.tensor([1.0, 1.0, 1.0, 1.0], dtype=mg.float64, requires_grad=True)
    hi = mg.tensor(2.0, dtype=mg.float64, requires_grad=True)
    grads = mg.autograd.grad(mg.clamp(x * x, lo * lo, hi * hi).sum(), (x, lo, hi), create_graph=True)
    assert [g.tolist() for g in grads] == [[0.0, 2.0, 4.0, 0.0], [2.0, 0.0, 0.0, 0.0], 4.0]  # PyTorch 2.13's
    second = mg.autograd.grad(sum(g.sum() for g in grads), (x, lo, hi))
    assert [g.tolist() for g in second] == [[0.0, 2.0, 2.0, 0.0], [2.0, 0.0, 0.0, 0.0], 2.0]


def test_the_scalar_path_is_unchanged():
    from matgrad.ops.activation import Clamp, ClampTensor

    assert type(mg.tensor([1.0], requires_grad=True).clamp(0, 1).grad_fn) is Clamp
    assert type(mg.tensor([1.0], requires_grad=True).clamp(mg.tensor(0.0), 1).grad_fn) is ClampTensor


def test_on_the_test_device_equals_the_cpu():
    from matgrad import devices
    from tests.devices.conftest import fake_backend

    rng = np.random.default_rng(0)
    a, lo, hi = rng.standard_normal((3, 4)), rng.standard_normal(4) - 0.5, rng.standard_normal((3, 1)) + 0.5

    def run():
        ts = [mg.tensor(v, dtype=mg.float64, requires_grad=True) for v in (a, lo, hi)]
        y = ts[0].clamp(ts[1], ts[2])
        assert y.device == ts[0].device
        grads = mg.autograd.grad((y * y).sum(), ts, create_graph=True)
        second = mg.autograd.grad(sum(g.sum() for g in grads), ts, allow_unused=True)
        return [y.detach().cpu().numpy()] + [g.cpu().numpy() for g in grads] + [
            None if g is None else g.cpu().numpy() for g in second]

    host = run()
    before = devices.set_cuda_backend(fake_backend())
    try:
        with mg.device("cuda"):
            dev = run()
    finally:
        devices.restore_cuda_backend(before)
    for h, d in zip(host, dev):
        assert (h is None) == (d is None)
        if h is not None:
            np.testing.assert_array_equal(d, h)


def test_onnx_export_of_tensor_bounds():
    onnx = pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")

    class Clamped(mg.nn.Module):
        def __init__(self):
            super().__init__()
            self.lo = mg.nn.Parameter(mg.tensor([-0.5, 0.0, 0.2]))
            self.hi = mg.nn.Parameter(mg.tensor([0.5, 1.0, 0.1]))  # the last: min > max

        def forward(self, x):
            return x.clamp(self.lo, self.hi) + x.clamp(min=self.lo) + x.clamp(max=self.hi)

    model = Clamped()
    x = np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)
    buf = io.BytesIO()
    proto = mg.onnx.export(model, (mg.from_numpy(x),), buf, input_names=["x"], output_names=["y"])
    onnx.checker.check_model(proto)
    got = ort.InferenceSession(buf.getvalue(), providers=["CPUExecutionProvider"]).run(None, {"x": x})[0]
    np.testing.assert_allclose(got, model(mg.from_numpy(x)).detach().numpy(), rtol=1e-6, atol=1e-6)
