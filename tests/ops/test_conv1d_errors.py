"""conv1d and conv_transpose1d run as the 2-D ops on an (N, C, 1, L) view: their errors still name the function
the user called, the user's own (3-D) shapes and 1-D parameters, with torch's exception types."""
from __future__ import annotations

import numpy as np
import pytest

import matgrad as mg
import matgrad.nn.functional as F
from matgrad import nn
from tests.helpers import torch

# name: (function, input shape, weight shape, bias shape or None, kwargs, exception type, fragments of the message)
CASES = {
    "channels": ("conv1d", (2, 3, 5), (4, 2, 3), None, {}, RuntimeError,
                 ["weight (4, 2, 3)", "expects 2 input channels", "input (2, 3, 5) has 3"]),
    "channels-unbatched": ("conv1d", (3, 5), (4, 2, 3), None, {}, RuntimeError,
                           ["weight (4, 2, 3)", "input (3, 5) has 3"]),
    "groups-output": ("conv1d", (2, 4, 5), (3, 2, 3), None, {"groups": 2}, RuntimeError,
                      ["groups=2", "input (2, 4, 5)", "weight (3, 2, 3)"]),
    "groups-input": ("conv1d", (2, 3, 5), (4, 1, 3), None, {"groups": 2}, RuntimeError,
                     ["groups=2", "input (2, 3, 5)", "weight (4, 1, 3)"]),
    "groups-zero": ("conv1d", (2, 3, 5), (4, 3, 3), None, {"groups": 0}, RuntimeError,
                    ["groups=0", "input (2, 3, 5)", "weight (4, 3, 3)"]),
    "stride-zero": ("conv1d", (2, 3, 5), (4, 3, 3), None, {"stride": 0}, RuntimeError, ["stride (0,)"]),
    "dilation-zero": ("conv1d", (2, 3, 5), (4, 3, 3), None, {"dilation": 0}, RuntimeError, ["dilation (0,)"]),
    "padding-negative": ("conv1d", (2, 3, 5), (4, 3, 3), None, {"padding": -1}, RuntimeError, ["padding (-1,)"]),
    "too-small": ("conv1d", (2, 3, 2), (4, 3, 3), None, {}, RuntimeError,
                  ["input (2,)", "kernel (3,)", "dilation (1,)"]),
    "too-small-dilated": ("conv1d", (3, 5), (4, 3, 3), None, {"dilation": 4, "padding": 1}, RuntimeError,
                          ["input (5,) padded by (1,)", "kernel (3,) at dilation (4,)"]),
    "input-ndim": ("conv1d", (5,), (4, 3, 3), None, {}, RuntimeError, ["(5,)"]),
    "input-ndim-4d": ("conv1d", (2, 3, 1, 5), (4, 3, 3), None, {}, RuntimeError, ["(2, 3, 1, 5)"]),
    "weight-ndim": ("conv1d", (2, 3, 5), (4, 3), None, {}, RuntimeError, ["(4, 3)"]),
    "bias-shape": ("conv1d", (2, 3, 5), (4, 3, 3), (3,), {}, RuntimeError, ["(4,)", "(3,)"]),
    "same-strided": ("conv1d", (2, 3, 5), (4, 3, 3), None, {"padding": "same", "stride": 2}, RuntimeError,
                     ["padding='same'", "stride (2,)"]),
    "padding-string": ("conv1d", (2, 3, 5), (4, 3, 3), None, {"padding": "full"}, RuntimeError, ["'full'"]),
    "t-channels": ("conv_transpose1d", (2, 3, 5), (4, 2, 3), None, {}, RuntimeError,
                   ["weight (4, 2, 3)", "expects 4 input channels", "input (2, 3, 5) has 3"]),
    "t-groups": ("conv_transpose1d", (2, 3, 5), (3, 2, 3), None, {"groups": 2}, RuntimeError,
                 ["groups=2", "weight (3, 2, 3)", "input (2, 3, 5)"]),
    "t-stride-zero": ("conv_transpose1d", (2, 3, 5), (3, 2, 3), None, {"stride": 0}, RuntimeError, ["stride (0,)"]),
    "t-dilation-zero": ("conv_transpose1d", (2, 3, 5), (3, 2, 3), None, {"dilation": 0}, RuntimeError,
                        ["dilation (0,)"]),
    "t-padding-negative": ("conv_transpose1d", (2, 3, 5), (3, 2, 3), None, {"padding": -1}, RuntimeError,
                           ["padding (-1,)"]),
    "t-no-output": ("conv_transpose1d", (3, 1), (3, 2, 1), None, {"padding": 1}, RuntimeError,
                    ["padding (1,)", "input (1,)"]),
    "t-output-padding": ("conv_transpose1d", (2, 3, 5), (3, 2, 3), None, {"output_padding": 1}, RuntimeError,
                         ["output_padding (1,)", "stride (1,)", "dilation (1,)"]),
    "t-output-padding-negative": ("conv_transpose1d", (2, 3, 5), (3, 2, 3), None,
                                  {"output_padding": -1, "stride": 2}, RuntimeError,
                                  ["output_padding (-1,)", "stride (2,)"]),
    "t-bias-shape": ("conv_transpose1d", (2, 3, 5), (3, 2, 3), (3,), {}, RuntimeError, ["(2,)", "(3,)"]),
    "t-input-ndim": ("conv_transpose1d", (5,), (3, 2, 3), None, {}, RuntimeError, ["(5,)"]),
}

# errors PyTorch raises as RuntimeError when the op runs, where matgrad before raised TypeError: both types now
TYPE_CASES = {
    "dtype": ("conv1d", (2, 3, 5), (4, 3, 3), {}, ["float32", "float64"]),
    "stride-pair": ("conv1d", (2, 3, 5), (4, 3, 3), {"stride": (1, 2)}, ["(1, 2)"]),
    "t-dtype": ("conv_transpose1d", (2, 3, 5), (3, 2, 3), {}, ["float32", "float64"]),
}


def _arrays(xs, ws, bs, wdtype=np.float32):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(xs).astype(np.float32)
    w = rng.standard_normal(ws).astype(wdtype)
    return x, w, None if bs is None else rng.standard_normal(bs).astype(np.float32)


def _lifted_shapes(xs, ws):
    """The 4-D shapes the 2-D op sees, which an error must not show instead of the user's."""
    shown = []
    if len(xs) in (2, 3):
        shown.append(str((1,) * (3 - len(xs)) + xs[:-1] + (1, xs[-1])))
    if len(ws) == 3:
        shown.append(str(ws[:2] + (1, ws[2])))
    return shown


def _names_the_call(message, op, fragments, lifted):
    assert message.startswith(f"{op}: "), message
    assert "2d" not in message, message
    for frag in fragments:
        assert frag in message, (frag, message)
    for shape in lifted:
        assert shape not in message, (shape, message)


@pytest.mark.parametrize("case", sorted(CASES))
def test_error_names_the_1d_call_and_its_shapes(case):
    op, xs, ws, bs, kw, kind, fragments = CASES[case]
    x, w, b = _arrays(xs, ws, bs)
    args = [mg.from_numpy(x), mg.from_numpy(w)] + ([] if b is None else [mg.from_numpy(b)])
    with pytest.raises(kind) as err:
        getattr(F, op)(*args, **kw)
    _names_the_call(str(err.value), op, fragments, _lifted_shapes(xs, ws))


@pytest.mark.skipif(torch is None, reason="needs torch")
@pytest.mark.parametrize("case", sorted(CASES))
def test_torch_raises_the_same_type(case):
    op, xs, ws, bs, kw, kind, _ = CASES[case]
    x, w, b = _arrays(xs, ws, bs)
    args = [torch.from_numpy(x), torch.from_numpy(w)] + ([] if b is None else [torch.from_numpy(b)])
    with pytest.raises(kind):
        getattr(torch.nn.functional, op)(*args, **kw)


@pytest.mark.parametrize("case", sorted(TYPE_CASES))
def test_type_errors_name_the_1d_call(case):
    op, xs, ws, kw, fragments = TYPE_CASES[case]
    x, w, _ = _arrays(xs, ws, None, np.float64 if "dtype" in case else np.float32)
    with pytest.raises(TypeError) as err:
        getattr(F, op)(mg.from_numpy(x), mg.from_numpy(w), **kw)
    assert isinstance(err.value, RuntimeError)  # PyTorch's type too
    _names_the_call(str(err.value), op, fragments, _lifted_shapes(xs, ws))


@pytest.mark.skipif(torch is None, reason="needs torch")
@pytest.mark.parametrize("case", sorted(TYPE_CASES))
def test_torch_raises_runtime_error_for_the_type_cases(case):
    op, xs, ws, kw, _ = TYPE_CASES[case]
    x, w, _ = _arrays(xs, ws, None, np.float64 if "dtype" in case else np.float32)
    with pytest.raises(RuntimeError):
        getattr(torch.nn.functional, op)(torch.from_numpy(x), torch.from_numpy(w), **kw)


@pytest.mark.parametrize("call", [
    lambda L, F_: F_.conv2d(L.randn(2, 3, 5, 5, dtype=L.float64), L.randn(4, 3, 3, 3)),
    lambda L, F_: F_.conv2d(L.randn(2, 3, 5, 5), L.randn(4, 3, 3, 3), stride=(1, 2, 3)),
    lambda L, F_: F_.conv3d(L.randn(1, 3, 4, 4, 4, dtype=L.float64), L.randn(2, 3, 1, 1, 1)),
    lambda L, F_: F_.conv3d(L.randn(1, 3, 4, 4, 4), L.randn(2, 3, 1, 1, 1), padding=(1, 1)),
])
def test_conv_dtype_and_count_errors_are_runtime_errors_as_torch(call):
    with pytest.raises(RuntimeError) as err:
        call(mg, F)
    assert isinstance(err.value, TypeError)  # as matgrad raised before
    if torch is not None:
        with pytest.raises(RuntimeError):
            call(torch, torch.nn.functional)


@pytest.mark.parametrize("bad", [1.5, (1.5, 2), "2", (True,)])
def test_a_non_int_stride_stays_a_type_error_as_torch(bad):
    with pytest.raises(TypeError) as err:
        F.conv1d(mg.randn(2, 3, 5), mg.randn(4, 3, 3), stride=bad)
    assert not isinstance(err.value, RuntimeError)
    if torch is not None:
        with pytest.raises(TypeError):  # its argument parser's
            torch.nn.functional.conv1d(torch.randn(2, 3, 5), torch.randn(4, 3, 3), stride=bad)


def test_the_2d_ops_still_name_themselves():
    with pytest.raises(RuntimeError, match=r"^conv2d: weight \(4, 2, 3, 3\) .* input \(2, 3, 5, 5\) has 3"):
        F.conv2d(mg.randn(2, 3, 5, 5), mg.randn(4, 2, 3, 3))
    with pytest.raises(RuntimeError, match=r"^conv2d: stride \(1, 0\)"):
        F.conv2d(mg.randn(2, 3, 5, 5), mg.randn(4, 3, 3, 3), stride=(1, 0))
    with pytest.raises(RuntimeError, match=r"^conv_transpose2d: padding \(0, -1\) must not be negative"):
        F.conv_transpose2d(mg.randn(2, 3, 5, 5), mg.randn(3, 2, 3, 3), padding=(0, -1))


# the layers' forward passes reach the same checks; `build` takes the nn namespace (matgrad's or torch's)
LAYER_CASES = {
    "Conv1d-channels": (lambda m: m.Conv1d(2, 4, 3), (2, 3, 5), "conv1d", ["weight (4, 2, 3)", "input (2, 3, 5)"]),
    "Conv1d-too-small": (lambda m: m.Conv1d(3, 4, 5, dilation=2), (3, 6), "conv1d",
                         ["input (6,)", "kernel (5,) at dilation (2,)"]),
    "Conv1d-same-too-few-channels": (lambda m: m.Conv1d(4, 4, 3, padding="same", groups=2), (2, 2, 5), "conv1d",
                                     ["weight (4, 2, 3)", "input (2, 2, 5)"]),
    "Conv1d-ndim": (lambda m: m.Conv1d(3, 4, 3), (1, 2, 3, 5), "conv1d", ["(1, 2, 3, 5)"]),
    "ConvTranspose1d-channels": (lambda m: m.ConvTranspose1d(4, 2, 3), (2, 3, 5), "conv_transpose1d",
                                 ["weight (4, 2, 3)", "input (2, 3, 5)"]),
    "ConvTranspose1d-no-output": (lambda m: m.ConvTranspose1d(3, 2, 1, padding=1), (3, 1), "conv_transpose1d",
                                  ["padding (1,)", "input (1,)"]),
}


@pytest.mark.parametrize("case", sorted(LAYER_CASES))
def test_layer_errors_name_the_1d_call(case):
    build, xs, op, fragments = LAYER_CASES[case]
    mg.manual_seed(0)
    layer = build(nn)
    x = np.random.default_rng(1).standard_normal(xs).astype(np.float32)
    with pytest.raises(RuntimeError) as err:
        layer(mg.from_numpy(x))
    _names_the_call(str(err.value), op, fragments, _lifted_shapes(xs, tuple(layer.weight.shape)))


@pytest.mark.skipif(torch is None, reason="needs torch")
@pytest.mark.parametrize("case", sorted(LAYER_CASES))
def test_torch_layers_raise_the_same_type(case):
    build, xs, _, _ = LAYER_CASES[case]
    x = np.random.default_rng(1).standard_normal(xs).astype(np.float32)
    with pytest.raises(RuntimeError):
        build(torch.nn)(torch.from_numpy(x))
