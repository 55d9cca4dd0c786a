"""matgrad.onnx.export: the three recipes and op-level cases, checked by onnx.checker and ONNX Runtime."""
from __future__ import annotations

import io

import numpy as np
import pytest

import matgrad as mg
from matgrad import models, nn

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")


def check(model, make_input, batches=(2, 5), atol=1e-5):
    model.eval()
    x = make_input(batches[0])
    buf = io.BytesIO()
    proto = mg.onnx.export(model, (mg.from_numpy(x),), buf, input_names=["x"], output_names=["y"],
                           dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}})
    onnx.checker.check_model(proto)
    session = ort.InferenceSession(buf.getvalue(), providers=["CPUExecutionProvider"])
    for n in batches:
        xx = make_input(n)
        want = model(mg.from_numpy(xx)).detach().numpy()
        np.testing.assert_allclose(session.run(None, {"x": xx})[0], want, atol=atol, rtol=1e-5)


def floats(*shape):
    return lambda n: np.random.default_rng(n).standard_normal((n, *shape)).astype(np.float32)


@pytest.mark.parametrize("name", ["mlp", "mlp-best", "cnn"])
def test_the_recipes_export(name):
    recipe = models.get(name)
    mg.manual_seed(0)
    model = recipe.build((1, 28, 28), 10)
    check(model, floats(784) if recipe.flatten_input else floats(1, 28, 28))


@pytest.mark.parametrize("name, module", [("lstm", "lstm"), ("vit", "encoder.layers.0.self_attn")])
def test_the_sequence_recipes_say_which_op_and_module_stop_the_export(name, module, tmp_path):
    """Slicing (GetItem) has no ONNX mapping yet: the error names the op and the module that used it."""
    from matgrad.onnx import ExportError

    recipe = models.get(name)
    mg.manual_seed(0)
    model = recipe.build((1, 28, 28), 10).eval()
    with pytest.raises(ExportError, match=rf"GetItem.*{module}|{module}.*GetItem"):
        mg.onnx.export(model, (mg.randn(2, 1, 28, 28),), str(tmp_path / "m.onnx"))


class Arith(nn.Module):
    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(mg.randn(3))

    def forward(self, x):
        y = (x + self.w) * 2.0 - x / 3.0
        y = -y + x ** 2
        z = mg.cat([y, x.permute(0, 2, 1).reshape(x.shape[0], 4, 3)], dim=1)
        return z.clone().softmax(-1)


class Embed(nn.Module):
    def __init__(self):
        super().__init__()
        self.e = nn.Embedding(10, 6)
        self.n = nn.LayerNorm(6)

    def forward(self, i):
        return self.n(self.e(i))


class FusedLinear(nn.Module):
    """linear_activation, the node Sequential makes on a GPU, with each activation, 2-D and 3-D inputs."""

    def __init__(self):
        super().__init__()
        self.a, self.b, self.c = nn.Linear(5, 4), nn.Linear(4, 4, bias=False), nn.Linear(4, 3)

    def forward(self, x):
        from matgrad.ops.linear import linear_activation as fused

        y = fused(x, self.a.weight, self.a.bias, "relu")
        y = fused(y, self.b.weight, None, "tanh")
        y = fused(y, self.c.weight, self.c.bias, "sigmoid")
        return y + fused(x.reshape(x.shape[0], 1, 5), self.a.weight, self.a.bias, "tanh").sum(2)


CASES = {
    "linear-activation-fused": (FusedLinear, floats(5)),
    "linear-3d": (lambda: nn.Linear(5, 3), floats(4, 5)),
    "conv-stride-pad": (lambda: nn.Conv2d(2, 3, 3, stride=2, padding=1), floats(2, 7, 7)),
    "conv-groups-bn": (lambda: nn.Sequential(nn.Conv2d(4, 4, 3, groups=2), nn.BatchNorm2d(4)), floats(4, 6, 6)),
    "maxpool-avgpool": (lambda: nn.Sequential(nn.MaxPool2d(2), nn.AvgPool2d(2, padding=1)), floats(2, 8, 8)),
    "global-avgpool": (lambda: nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten()), floats(3, 5, 5)),
    "layernorm": (lambda: nn.LayerNorm(6), floats(3, 6)),
    "activations": (lambda: nn.Sequential(nn.LeakyReLU(0.2), nn.ELU(), nn.Tanh(), nn.Sigmoid(), nn.GELU(),
                                          nn.Softplus()), floats(7)),
    "hard-activations": (lambda: nn.Sequential(nn.Hardswish(), nn.Hardsigmoid(), nn.ReLU6(), nn.Hardtanh(0.1, 0.6)),
                         lambda n: 4 * floats(7)(n)),
    "gelu-tanh-softplus-beta": (lambda: nn.Sequential(nn.GELU(approximate="tanh"), nn.Softplus(beta=2.0)),
                                floats(7)),
    "logsoftmax-dropout": (lambda: nn.Sequential(nn.Dropout(0.5), nn.Linear(6, 4), nn.LogSoftmax(dim=1)),
                           floats(6)),
    "softmax": (lambda: nn.Softmax(dim=-1), floats(3, 4)),
    "arith-cat-transpose": (Arith, floats(4, 3)),
    "embedding-layernorm": (Embed, lambda n: np.random.default_rng(n).integers(0, 10, (n, 5))),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_op_level_cases(case):
    mg.manual_seed(1)
    build, make = CASES[case]
    model = build()
    if case == "conv-groups-bn":  # non-trivial running stats
        model.train()
        for _ in range(2):
            model(mg.randn(8, 4, 6, 6))
    check(model, make)


class Unsupported(nn.Module):
    def __init__(self):
        super().__init__()
        self.inner = nn.Linear(3, 3)

    def forward(self, x):
        return self.inner(x).cumsum(1)


def test_an_op_without_a_mapping_is_named_with_its_module():
    with pytest.raises(mg.onnx.ExportError, match=r"(?s)Cum\w* \(used by module 'Unsupported'\).*traced"):
        mg.onnx.export(Unsupported(), (mg.randn(2, 3),), io.BytesIO())


class Branchy(nn.Module):
    def forward(self, x):
        if x.sum() > 0:
            return x * 2
        return x - 1


def test_a_data_dependent_branch_warns_that_the_graph_was_traced_with_the_input():
    with pytest.warns(UserWarning, match="traced with the given input"):
        mg.onnx.export(Branchy(), (mg.ones(2, 3),), io.BytesIO())
