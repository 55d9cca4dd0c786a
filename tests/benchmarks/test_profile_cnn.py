"""benchmarks/profile_cnn.py: the op groups it sums each library's profiler rows into."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

import matgrad as mg

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"
spec = importlib.util.spec_from_file_location("_profile_cnn", BENCH / "profile_cnn.py")
bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)


@pytest.mark.parametrize("name, expected", [
    # PyTorch 2.13's rows for the cnn step (torch.profiler, CPU)
    ("aten::mkldnn_convolution", "conv fwd"),
    ("aten::convolution", "conv fwd"),
    ("aten::convolution_backward", "conv bwd"),
    ("autograd::engine::evaluate_function: ConvolutionBackward0", "conv bwd"),
    ("aten::native_batch_norm", "batch norm fwd"),
    ("aten::native_batch_norm_backward", "batch norm bwd"),
    ("aten::clamp_min", "relu fwd"),
    ("aten::relu", "relu fwd"),
    ("aten::threshold_backward", "relu bwd"),
    ("aten::max_pool2d_with_indices", "max pool fwd"),
    ("aten::max_pool2d_with_indices_backward", "max pool bwd"),
    ("Optimizer.step#AdamW.step", "rest"),
    ("aten::addmm", "rest"),
    # matgrad's
    ("Conv2d", "conv fwd"),
    ("Conv2dBackward", "conv bwd"),
    ("Normalize", "batch norm fwd"),
    ("NormalizeBackward", "batch norm bwd"),
    ("ReLU", "relu fwd"),
    ("ReLUBackward", "relu bwd"),
    ("MaxPool2d", "max pool fwd"),
    ("MaxPool2dBackward", "max pool bwd"),
    ("CrossEntropy", "rest"),
])
def test_groups(name, expected):
    assert bench.group(name) == expected


def test_matgrad_profiles_every_group_of_a_conv_block():
    # the names grouped above are the ones matgrad's profiler really records for conv-BN-ReLU-pool
    model = mg.nn.Sequential(mg.nn.Conv2d(1, 4, 3, padding=1), mg.nn.BatchNorm2d(4), mg.nn.ReLU(), mg.nn.MaxPool2d(2))
    x = mg.randn(2, 1, 8, 8)
    with mg.profiler.profile(activities=[mg.profiler.ProfilerActivity.CPU]) as prof:
        model(x).sum().backward()
    seen = {bench.group(row.key) for row in prof.key_averages()}
    assert set(bench.GROUPS) - {"rest"} <= seen
