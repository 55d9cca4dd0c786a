"""matgrad.onnx.export of pad (F.pad's four modes, padding_mode convolutions, ceil_mode pooling), run by ONNX
Runtime and by onnx's reference evaluator against matgrad's own forward."""
from __future__ import annotations

import io

import numpy as np
import pytest

import matgrad as mg
import matgrad.nn.functional as F
from matgrad import nn

from .runners import run_ort as _ort

onnx = pytest.importorskip("onnx")


def check(run, model, shape, opset=None, batches=(2, 3), shift=0.0):
    """Export with a dynamic batch, then run the ONNX model on each batch size against matgrad's forward."""
    model.eval()

    def make(n):
        return np.random.default_rng(n).standard_normal((n, *shape)).astype(np.float32) + np.float32(shift)

    buf = io.BytesIO()
    proto = mg.onnx.export(model, (mg.from_numpy(make(batches[0])),), buf, input_names=["x"], output_names=["y"],
                           dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}}, opset_version=opset)
    onnx.checker.check_model(proto)
    for n in batches:
        x = make(n)
        want = model(mg.from_numpy(x)).detach().numpy()
        got = run(buf.getvalue(), {"x": x})
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    return [node.op_type for node in proto.graph.node]


class Pad(nn.Module):
    def __init__(self, pad, mode="constant", value=None):
        super().__init__()
        self.pad, self.mode, self.value = pad, mode, value

    def forward(self, x):
        if self.value is None:
            return F.pad(x, self.pad, mode=self.mode)
        return F.pad(x, self.pad, mode=self.mode, value=self.value)


# --- padding_mode convolutions ------------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["zeros", "reflect", "replicate", "circular"])
def test_conv2d_padding_modes_export(run, mode):
    mg.manual_seed(0)
    conv = nn.Conv2d(2, 3, 3, padding=(1, 2), padding_mode=mode)
    ops = check(run, conv, (2, 5, 6), opset=19 if mode == "circular" else None)
    assert ops.count("Pad") == (mode != "zeros")


def test_conv2d_circular_with_stride_and_dilation_exports():
    """Circular padding's wrap over 2 dims, uneven, into a strided dilated convolution (ONNX Runtime)."""
    mg.manual_seed(1)
    conv = nn.Conv2d(2, 4, (3, 2), stride=2, padding=(2, 1), dilation=(2, 1), padding_mode="circular")
    check(_ort, conv, (2, 7, 6), opset=19)


def test_conv1d_reflect_exports(run):
    mg.manual_seed(0)
    check(run, nn.Conv1d(2, 3, 3, padding=2, padding_mode="reflect"), (2, 7))


def test_circular_padding_below_opset_19_says_which_opset_it_needs():
    conv = nn.Conv2d(2, 3, 3, padding=1, padding_mode="circular")
    with pytest.raises(mg.onnx.ExportError, match=r"circular padding \(used by module 'Conv2d'\).*opset 19.*"
                                                  r"opset 17.*opset_version=19"):
        mg.onnx.export(conv, (mg.randn(1, 2, 5, 5),), io.BytesIO())


# --- ceil_mode pooling ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("padding", [0, 1])
def test_maxpool_ceil_mode_pads_with_minus_inf(run, padding):
    """All inputs negative: a last window padded with 0 instead of -inf would output 0."""
    ops = check(run, nn.MaxPool2d(3, 2, padding=padding, ceil_mode=True), (2, 6, 7), shift=-10.0)
    assert ops[:2] == ["Pad", "MaxPool"]


@pytest.mark.parametrize("count_include_pad", [False, True])
@pytest.mark.parametrize("padding", [0, 1])
def test_avgpool_ceil_mode_keeps_matgrads_divisor(run, padding, count_include_pad):
    """ceil_mode's last windows divide by the pixels they hold (not k·k, nor the Pad's zeros as pixels)."""
    pool = nn.AvgPool2d(3, 2, padding=padding, ceil_mode=True, count_include_pad=count_include_pad)
    x = mg.randn(1, 2, 6, 7)
    y = pool(x).numpy()
    assert y.shape[-2:] == ((4, 4) if padding else (3, 3))  # ceil_mode added a row of windows
    check(run, pool, (2, 6, 7), shift=5.0)  # positive data: a wrong divisor shows in the last windows


def test_avgpool_without_ceil_mode_still_uses_count_include_pad():
    """The divisor that ONNX's own count_include_pad=0 gives is still written as that, with no rescaling."""
    ops = check(_ort, nn.AvgPool2d(3, 2, padding=1, count_include_pad=False), (2, 6, 7))
    assert "Mul" not in ops


# --- F.pad directly ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("pad, value, shape", [
    ((1, 2), None, (2, 5)),
    ((1, 2, 3, 0), 1.5, (2, 4, 5)),
    ((0, 1, 2, 1, 1, 0), -2.0, (2, 3, 4, 5)),
    ((2, 1, 0, 0, 0, 0, 1, 1), 0.25, (2, 3, 4)),  # the batch dim too: all 4 dims padded
    ((1, 1), float("-inf"), (2, 5)),
])
def test_pad_constant_exports(run, pad, value, shape):
    if len(pad) // 2 > len(shape):  # pads the batch dim: a fixed batch size
        model = Pad(pad, value=value).eval()
        x = np.random.default_rng(0).standard_normal((2, *shape)).astype(np.float32)
        buf = io.BytesIO()
        mg.onnx.export(model, (mg.from_numpy(x),), buf, input_names=["x"])
        np.testing.assert_array_equal(run(buf.getvalue(), {"x": x}), model(mg.from_numpy(x)).numpy())
        return
    check(run, Pad(pad, value=value), shape)


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
@pytest.mark.parametrize("pad, shape", [
    ((2, 1), (3, 5)),
    ((1, 2, 2, 0), (3, 4, 5)),
    ((1, 0, 2, 1, 0, 2), (2, 3, 4, 5)),
    ((3, 0, 0, 4), (2, 4, 5)),  # the largest each mode takes on the shorter side
])
def test_pad_modes_export(run, mode, pad, shape):
    if mode == "reflect":  # reflect takes pads below the size
        pad = tuple(min(p, 3) for p in pad)
    ops = check(run, Pad(pad, mode), shape, opset=19 if mode == "circular" else None)
    assert ops == ["Pad", "Identity"]


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
@pytest.mark.parametrize("pad", [(-1, 2), (2, -1), (-1, -2), (-3, 4), (1, -2, -1, 3), (0, 0, -2, 0)])
def test_negative_padding_crops(run, mode, pad):
    """Negative widths crop: reflect and replicate at the uncropped input's edges, circular within what is left."""
    check(run, Pad(pad, mode), (2, 6) if len(pad) == 2 else (2, 5, 6), opset=19 if mode == "circular" else None)


def test_padded_model_matches_torch_through_onnx():
    """The exported graph of a reflect conv and a ceil_mode max pool gives torch's numbers too."""
    from tests.helpers import torch

    if torch is None:
        pytest.skip("torch is not installed")
    mg.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(2, 3, 3, padding=1, padding_mode="reflect"),
                          nn.MaxPool2d(3, 2, ceil_mode=True)).eval()
    ref = torch.nn.Sequential(torch.nn.Conv2d(2, 3, 3, padding=1, padding_mode="reflect"),
                              torch.nn.MaxPool2d(3, 2, ceil_mode=True)).eval()
    with torch.no_grad():
        ref[0].weight.copy_(torch.from_numpy(model[0].weight.detach().numpy()))
        ref[0].bias.copy_(torch.from_numpy(model[0].bias.detach().numpy()))
    x = np.random.default_rng(0).standard_normal((2, 2, 6, 7)).astype(np.float32)
    buf = io.BytesIO()
    mg.onnx.export(model, (mg.from_numpy(x),), buf, input_names=["x"])
    with torch.no_grad():
        want = ref(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(_ort(buf.getvalue(), {"x": x}), want, rtol=1e-5, atol=1e-5)


# --- what stays unmapped ----------------------------------------------------------------------------------------
def test_slicing_that_is_not_a_pad_crop_is_still_an_unmapped_op():
    class Slice(nn.Module):
        def forward(self, x):
            return x[:, 1:] * 2.0

    with pytest.raises(mg.onnx.ExportError, match=r"GetItem \(used by module 'Slice'\) has no ONNX mapping"):
        mg.onnx.export(Slice(), (mg.randn(2, 4),), io.BytesIO())


def test_interpolate_is_still_an_unmapped_op():
    class Up(nn.Module):
        def forward(self, x):
            return F.interpolate(x, scale_factor=2, mode="nearest")

    with pytest.raises(mg.onnx.ExportError, match=r"UpsampleNearest2d \(AxisMap, used by module 'Up'\) has no ONNX"):
        mg.onnx.export(Up(), (mg.randn(1, 2, 3, 3),), io.BytesIO())
