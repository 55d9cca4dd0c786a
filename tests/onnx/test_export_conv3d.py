"""matgrad.onnx.export of Conv3d, MaxPool3d and AvgPool3d (each one ONNX node with 3-D attributes), run by ONNX
Runtime and by onnx's reference evaluator against matgrad's own forward."""
from __future__ import annotations

import io

import numpy as np
import pytest

import matgrad as mg
from matgrad import nn

onnx = pytest.importorskip("onnx")


def _input(shape, n=None):
    full = shape if n is None else (n, *shape)
    return np.random.default_rng(0 if n is None else n).standard_normal(full).astype(np.float32)


def check(run, model, shape, batches=(2, 3)):
    """Export with a dynamic batch, check the model, run it on each batch size against matgrad's forward; the op
    types of its nodes."""
    model.eval()
    buf = io.BytesIO()
    proto = mg.onnx.export(model, (mg.from_numpy(_input(shape, batches[0])),), buf, input_names=["x"],
                           output_names=["y"], dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}})
    onnx.checker.check_model(proto)
    for n in batches:
        x = _input(shape, n)
        want = model(mg.from_numpy(x)).detach().numpy()
        got = run(buf.getvalue(), {"x": x})
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    return [node.op_type for node in proto.graph.node]


def _no_depth_taps(ops):
    """Exported as one node: none of the slices, stacks and 2-D ops matgrad computes it with."""
    assert not {"Slice", "Concat", "Gather", "ReduceSum", "ReduceMax"} & set(ops), ops


# --- Conv3d -----------------------------------------------------------------------------------------------------
CONVS = {
    "plain": (lambda: nn.Conv3d(2, 4, 3), (2, 5, 6, 7)),
    "stride-padding-no-bias": (lambda: nn.Conv3d(2, 4, (2, 3, 1), stride=(2, 1, 2), padding=(1, 0, 1), bias=False),
                               (2, 5, 6, 7)),
    "dilation-groups": (lambda: nn.Conv3d(4, 6, 3, dilation=(2, 1, 1), groups=2, padding=(2, 1, 0)), (4, 6, 5, 4)),
    "depthwise-strided": (lambda: nn.Conv3d(3, 3, 3, stride=2, padding=1, groups=3), (3, 5, 6, 7)),
    "groups-no-bias": (lambda: nn.Conv3d(4, 8, (1, 2, 3), groups=4, stride=(1, 2, 1), bias=False), (4, 3, 6, 5)),
    "same-even-kernel": (lambda: nn.Conv3d(2, 3, (2, 3, 4), padding="same"), (2, 4, 5, 6)),
    "same-dilated": (lambda: nn.Conv3d(2, 3, 3, padding="same", dilation=(1, 2, 1)), (2, 4, 5, 6)),
    "valid-dilated": (lambda: nn.Conv3d(2, 3, 2, padding="valid", dilation=2), (2, 5, 5, 6)),
}


@pytest.mark.parametrize("case", sorted(CONVS))
def test_conv3d_exports(run, case):
    mg.manual_seed(0)
    build, shape = CONVS[case]
    ops = check(run, build(), shape)
    assert ops.count("Conv") == 1 and "Pad" not in ops
    _no_depth_taps(ops)


def test_conv3d_padding_mode_exports_as_pad_then_conv(run):
    mg.manual_seed(1)
    ops = check(run, nn.Conv3d(2, 3, 3, padding=(1, 2, 1), padding_mode="replicate"), (2, 4, 5, 4))
    assert ops.count("Pad") == 1 and ops.count("Conv") == 1


def test_unbatched_conv3d_exports(run):
    mg.manual_seed(2)
    model = nn.Conv3d(2, 3, 3, padding=1, stride=(1, 2, 2)).eval()
    x = _input((2, 4, 5, 6))
    buf = io.BytesIO()
    onnx.checker.check_model(mg.onnx.export(model, (mg.from_numpy(x),), buf, input_names=["x"]))
    want = model(mg.from_numpy(x)).detach().numpy()
    assert want.shape == (3, 4, 3, 3)
    np.testing.assert_allclose(run(buf.getvalue(), {"x": x}), want, rtol=1e-5, atol=1e-5)


# --- pooling ----------------------------------------------------------------------------------------------------
POOLS = {
    "max-2": (lambda: nn.MaxPool3d(2), (2, 6, 5, 7)),
    "max-3-stride-2-padding-1": (lambda: nn.MaxPool3d(3, stride=2, padding=1), (2, 6, 5, 7)),
    "max-dilated": (lambda: nn.MaxPool3d((2, 2, 3), stride=1, dilation=(2, 1, 1)), (2, 6, 5, 7)),
    "max-depth-1": (lambda: nn.MaxPool3d((1, 2, 2), stride=(2, 2, 1)), (2, 5, 4, 5)),
    "max-ceil": (lambda: nn.MaxPool3d(2, ceil_mode=True), (2, 5, 5, 7)),
    "max-ceil-padding": (lambda: nn.MaxPool3d(3, stride=2, padding=1, ceil_mode=True), (2, 6, 5, 8)),
    "avg-2": (lambda: nn.AvgPool3d(2), (2, 6, 5, 7)),
    "avg-padding": (lambda: nn.AvgPool3d(3, stride=2, padding=1), (2, 6, 5, 7)),
    "avg-padding-exclude": (lambda: nn.AvgPool3d(3, stride=2, padding=1, count_include_pad=False), (2, 6, 5, 7)),
    "avg-ceil": (lambda: nn.AvgPool3d(2, ceil_mode=True), (2, 5, 5, 7)),
    "avg-ceil-padding-exclude": (lambda: nn.AvgPool3d(3, stride=2, padding=1, ceil_mode=True,
                                                      count_include_pad=False), (2, 6, 5, 8)),
    "avg-ceil-padding-include": (lambda: nn.AvgPool3d((3, 2, 3), stride=2, padding=1, ceil_mode=True), (2, 6, 5, 8)),
    "avg-divisor-override": (lambda: nn.AvgPool3d(2, stride=1, divisor_override=5), (2, 4, 5, 3)),
}


@pytest.mark.parametrize("case", sorted(POOLS))
def test_pool3d_exports(run, case):
    build, shape = POOLS[case]
    ops = check(run, build(), shape)
    kind = "MaxPool" if case.startswith("max") else "AveragePool"
    assert ops.count(kind) == 1
    _no_depth_taps(ops)


class Net(nn.Module):
    """Conv3d, pooling both ways, conv without bias, flattened into a linear layer."""

    def __init__(self):
        super().__init__()
        self.a = nn.Conv3d(1, 4, 3, padding=1)
        self.pool = nn.MaxPool3d(2)
        self.b = nn.Conv3d(4, 6, (1, 3, 3), groups=2, bias=False)
        self.avg = nn.AvgPool3d((2, 1, 1))
        self.fc = nn.Linear(6 * 1 * 1 * 2, 3)

    def forward(self, x):
        y = self.avg(self.b(self.pool(self.a(x).relu())))
        return self.fc(y.reshape(y.shape[0], -1))


def test_a_small_3d_network_exports(run):
    mg.manual_seed(3)
    ops = check(run, Net(), (1, 4, 6, 8))
    assert ops.count("Conv") == 2 and "MaxPool" in ops and "AveragePool" in ops


def test_max_pool3d_with_indices_is_still_unmapped():
    """return_indices=True computes the indices outside the recorded function: the export says what stops it."""
    with pytest.raises(mg.onnx.ExportError, match="has no ONNX mapping"):
        mg.onnx.export(nn.MaxPool3d(2, return_indices=True), (mg.randn(1, 2, 4, 4, 4),), io.BytesIO())
