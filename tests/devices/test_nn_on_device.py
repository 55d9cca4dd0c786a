"""Every nn module on the CuPy-like test device: built on the CPU with a fixed seed, moved with
`.to("cuda")`, its outputs, input gradients, parameter gradients and buffers (BatchNorm's running
statistics) equal the CPU's, and everything it makes stays on the device."""
from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pytest

import matgrad as mg
from matgrad import nn

F, I = "f", "i"  # noqa: E741 - an input's kind: float (differentiated) or integer (indices, class labels)


def _float(*shape: int, low: float | None = None, high: float | None = None) -> Callable[[np.random.Generator], Any]:
    def make(rng: np.random.Generator) -> np.ndarray:
        if low is None:
            return rng.standard_normal(shape)
        return rng.uniform(low, high, shape)
    make.kind = F
    return make


def _int(high: int, *shape: int) -> Callable[[np.random.Generator], Any]:
    def make(rng: np.random.Generator) -> np.ndarray:
        return rng.integers(0, high, shape)
    make.kind = I
    return make


def _sign(*shape: int) -> Callable[[np.random.Generator], Any]:
    def make(rng: np.random.Generator) -> np.ndarray:
        return np.where(rng.random(shape) < 0.5, -1.0, 1.0)
    make.kind = I  # a constant target: no gradient
    return make


def _const(*shape: int, low: float = 0.1, high: float = 0.9) -> Callable[[np.random.Generator], Any]:
    def make(rng: np.random.Generator) -> np.ndarray:
        return rng.uniform(low, high, shape)
    make.kind = I
    return make


x24, x234, x2455, x2355 = _float(2, 4), _float(2, 3, 4), _float(2, 4, 5, 5), _float(2, 3, 5, 5)


def _enc(n: int) -> nn.Module:
    return nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0), n, norm=nn.LayerNorm(8))


def _dec(n: int) -> nn.Module:
    return nn.TransformerDecoder(nn.TransformerDecoderLayer(8, 2, 16, dropout=0.0), n, norm=nn.LayerNorm(8))


class _Unpool(nn.Module):
    """MaxPool2d's indices fed to MaxUnpool2d (integer index arrays that must stay on the device)."""

    def __init__(self) -> None:
        super().__init__()
        self.pool, self.unpool = nn.MaxPool2d(2, return_indices=True), nn.MaxUnpool2d(2)

    def forward(self, x: mg.Tensor) -> mg.Tensor:
        return self.unpool(*self.pool(x), output_size=x.shape)



# (id, module factory, inputs, train mode)
CASES: list[tuple[str, Callable[[], nn.Module], list[Any], bool]] = [
    ("Linear", lambda: nn.Linear(4, 3), [x24], True),
    ("Bilinear", lambda: nn.Bilinear(3, 4, 2), [_float(2, 3), x24], True),
    ("Identity", lambda: nn.Identity(), [x24], True),
    ("Conv1d", lambda: nn.Conv1d(3, 2, 3, padding=1), [_float(2, 3, 7)], True),
    ("Conv2d", lambda: nn.Conv2d(4, 3, 3, padding=1, stride=2), [x2455], True),
    ("ConvTranspose2d", lambda: nn.ConvTranspose2d(4, 2, 3, stride=2), [_float(2, 4, 3, 3)], True),
    ("Sequential", lambda: nn.Sequential(nn.Linear(4, 5), nn.ReLU(), nn.Linear(5, 2)), [x24], True),
    ("Flatten", lambda: nn.Flatten(), [x234], True),
    ("Unflatten", lambda: nn.Unflatten(1, (2, 2)), [x24], True),
    # activations
    *[(name, cls, [x234], True) for name, cls in [
        ("ReLU", nn.ReLU), ("ELU", nn.ELU), ("GELU", nn.GELU), ("LeakyReLU", nn.LeakyReLU),
        ("Sigmoid", nn.Sigmoid), ("SiLU", nn.SiLU), ("Softplus", nn.Softplus), ("Tanh", nn.Tanh), ("CELU", nn.CELU),
        ("SELU", nn.SELU), ("Hardsigmoid", nn.Hardsigmoid), ("Hardswish", nn.Hardswish), ("Hardtanh", nn.Hardtanh),
        ("LogSigmoid", nn.LogSigmoid), ("Mish", nn.Mish), ("PReLU", nn.PReLU), ("ReLU6", nn.ReLU6),
        ("Softsign", nn.Softsign), ("GLU", nn.GLU),
        ("Softmax", lambda: nn.Softmax(dim=1)), ("LogSoftmax", lambda: nn.LogSoftmax(dim=1)),
        ("Softmin", lambda: nn.Softmin(dim=1)), ("Threshold", lambda: nn.Threshold(0.1, 20.0))]],
    # dropout (train mode: the mask comes from the seeded host generator on both devices)
    ("Dropout", lambda: nn.Dropout(0.4), [x234], True),
    ("AlphaDropout", lambda: nn.AlphaDropout(0.4), [x234], True),
    ("Dropout2d", lambda: nn.Dropout2d(0.5), [x2455], True),
    # embeddings
    ("Embedding", lambda: nn.Embedding(10, 4, padding_idx=1), [_int(10, 2, 5)], True),
    ("EmbeddingBag", lambda: nn.EmbeddingBag(10, 4, mode="mean"), [_int(10, 2, 5)], True),
    # normalization (train mode: running statistics are compared too)
    ("BatchNorm1d", lambda: nn.BatchNorm1d(4), [_float(5, 4)], True),
    ("BatchNorm1d-eval", lambda: nn.BatchNorm1d(4), [_float(5, 4)], False),
    ("BatchNorm2d", lambda: nn.BatchNorm2d(4), [x2455], True),
    ("SyncBatchNorm", lambda: nn.SyncBatchNorm(4), [x2455], True),
    ("LayerNorm", lambda: nn.LayerNorm(4), [x234], True),
    ("GroupNorm", lambda: nn.GroupNorm(2, 4), [x2455], True),
    ("InstanceNorm1d", lambda: nn.InstanceNorm1d(3, affine=True, track_running_stats=True), [_float(2, 3, 6)], True),
    ("InstanceNorm2d", lambda: nn.InstanceNorm2d(3, affine=True), [x2355], True),
    ("InstanceNorm3d", lambda: nn.InstanceNorm3d(2), [_float(2, 2, 3, 3, 3)], True),
    # pooling
    ("AvgPool2d", lambda: nn.AvgPool2d(2), [x2455], True),
    ("MaxPool2d", lambda: nn.MaxPool2d(2), [x2455], True),
    ("AdaptiveAvgPool2d", lambda: nn.AdaptiveAvgPool2d((2, 3)), [x2455], True),
    ("AdaptiveMaxPool2d", lambda: nn.AdaptiveMaxPool2d(2), [x2455], True),
    ("AvgPool1d", lambda: nn.AvgPool1d(2), [_float(2, 3, 6)], True),
    ("MaxPool1d", lambda: nn.MaxPool1d(2), [_float(2, 3, 6)], True),
    ("AdaptiveAvgPool1d", lambda: nn.AdaptiveAvgPool1d(4), [_float(2, 3, 7)], True),
    ("AdaptiveMaxPool1d", lambda: nn.AdaptiveMaxPool1d(4), [_float(2, 3, 7)], True),
    # distances
    ("CosineSimilarity", lambda: nn.CosineSimilarity(dim=1), [x234, x234], True),
    ("PairwiseDistance", lambda: nn.PairwiseDistance(), [x24, x24], True),
    # padding
    *[(f"{kind}Pad{d}d", (lambda kind=kind, d=d: getattr(nn, f"{kind}Pad{d}d")(*((1,) if kind != "Constant"
                                                                                  else (1, 0.5)))),
       [_float(*(2, 2) + (4,) * d)], True)
      for kind in ("Constant", "Reflection", "Replication", "Circular", "Zero") for d in (1, 2, 3)
      if not (kind == "Zero" and d == 3)],
    # upsampling
    ("Upsample-nearest", lambda: nn.Upsample(scale_factor=2, mode="nearest"), [x2355], True),
    ("Upsample-bilinear", lambda: nn.Upsample(scale_factor=2, mode="bilinear"), [x2355], True),
    ("UpsamplingBilinear2d", lambda: nn.UpsamplingBilinear2d(scale_factor=2), [x2355], True),
    ("UpsamplingNearest2d", lambda: nn.UpsamplingNearest2d(scale_factor=2), [x2355], True),
    ("PixelShuffle", lambda: nn.PixelShuffle(2), [_float(2, 8, 3, 3)], True),
    ("PixelUnshuffle", lambda: nn.PixelUnshuffle(2), [_float(2, 2, 4, 4)], True),
    ("Fold", lambda: nn.Fold(output_size=(4, 4), kernel_size=2), [_float(2, 8, 9)], True),
    ("Unfold", lambda: nn.Unfold(kernel_size=2), [_float(2, 2, 4, 4)], True),
    # losses
    ("MaxPool2d-MaxUnpool2d", lambda: _Unpool(), [x2455], True),
    ("MSELoss", lambda: nn.MSELoss(), [x24, x24], True),
    ("CrossEntropyLoss-weight", lambda: nn.CrossEntropyLoss(weight=mg.tensor([1.0, 2.0, 0.5, 1.0, 3.0]),
                                                            ignore_index=2), [_float(4, 5), _int(5, 4)], True),
    ("NLLLoss-weight", lambda: nn.NLLLoss(weight=mg.tensor([1.0, 2.0, 0.5, 1.0, 3.0]), reduction="sum"),
     [_float(4, 5), _int(5, 4)], True),
    ("BCEWithLogitsLoss-pos_weight", lambda: nn.BCEWithLogitsLoss(pos_weight=mg.tensor([1.0, 2.0, 0.5, 3.0])),
     [x24, _const(2, 4)], True),
    ("L1Loss", lambda: nn.L1Loss(), [x24, x24], True),
    ("HuberLoss", lambda: nn.HuberLoss(delta=0.5), [x24, x24], True),
    ("SmoothL1Loss", lambda: nn.SmoothL1Loss(), [x24, x24], True),
    ("BCELoss", lambda: nn.BCELoss(), [_float(2, 4, low=0.1, high=0.9), _const(2, 4)], True),
    ("BCEWithLogitsLoss", lambda: nn.BCEWithLogitsLoss(pos_weight=None), [x24, _const(2, 4)], True),
    ("CrossEntropyLoss", lambda: nn.CrossEntropyLoss(label_smoothing=0.1), [_float(4, 5), _int(5, 4)], True),
    ("CrossEntropyLoss-probs", lambda: nn.CrossEntropyLoss(), [_float(4, 5), _const(4, 5)], True),
    ("NLLLoss", lambda: nn.NLLLoss(), [_float(4, 5), _int(5, 4)], True),
    ("KLDivLoss", lambda: nn.KLDivLoss(reduction="batchmean"), [x24, _const(2, 4)], True),
    ("CosineEmbeddingLoss", lambda: nn.CosineEmbeddingLoss(), [x24, x24, _sign(2)], True),
    ("MarginRankingLoss", lambda: nn.MarginRankingLoss(0.1), [_float(4), _float(4), _sign(4)], True),
    ("GaussianNLLLoss", lambda: nn.GaussianNLLLoss(), [x24, x24, _float(2, 4, low=0.5, high=1.5)], True),
    ("MultiLabelSoftMarginLoss", lambda: nn.MultiLabelSoftMarginLoss(), [x24, _int(2, 2, 4)], True),
    ("PoissonNLLLoss", lambda: nn.PoissonNLLLoss(), [x24, _const(2, 4, low=0.0, high=3.0)], True),
    ("TripletMarginLoss", lambda: nn.TripletMarginLoss(), [x24, x24, x24], True),
    # recurrent layers
    ("RNN", lambda: nn.RNN(3, 4, num_layers=2), [_float(5, 2, 3)], True),
    ("LSTM", lambda: nn.LSTM(3, 4, batch_first=True), [_float(2, 5, 3)], True),
    ("LSTM-proj", lambda: nn.LSTM(3, 4, proj_size=2), [_float(5, 2, 3)], True),
    ("GRU", lambda: nn.GRU(3, 4, bidirectional=True), [_float(5, 2, 3)], True),
    ("RNNCell", lambda: nn.RNNCell(3, 4), [_float(2, 3), _float(2, 4)], True),
    ("LSTMCell", lambda: nn.LSTMCell(3, 4), [_float(2, 3)], True),
    ("GRUCell", lambda: nn.GRUCell(3, 4), [_float(2, 3)], True),
    # attention and transformers
    ("MultiheadAttention", lambda: nn.MultiheadAttention(8, 2), [_float(3, 2, 8)] * 3, True),
    ("MultiheadAttention-kdim", lambda: nn.MultiheadAttention(8, 2, kdim=5, vdim=6, batch_first=True),
     [_float(2, 3, 8), _float(2, 4, 5), _float(2, 4, 6)], True),
    ("TransformerEncoderLayer", lambda: nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0), [_float(3, 2, 8)], True),
    ("TransformerDecoderLayer", lambda: nn.TransformerDecoderLayer(8, 2, 16, dropout=0.0, norm_first=True),
     [_float(3, 2, 8), _float(4, 2, 8)], True),
    ("TransformerEncoder", lambda: _enc(2), [_float(3, 2, 8)], True),
    ("TransformerDecoder", lambda: _dec(2), [_float(3, 2, 8), _float(4, 2, 8)], True),
    ("Transformer", lambda: nn.Transformer(8, 2, 1, 1, 16, dropout=0.0), [_float(4, 2, 8), _float(3, 2, 8)], True),
]


def _flat(out: Any) -> list[mg.Tensor]:
    if isinstance(out, mg.Tensor):
        return [out]
    if isinstance(out, (tuple, list)):
        return [t for o in out for t in _flat(o)]
    return []


def _run(make: Callable[[], nn.Module], inputs: list[Any], train: bool, dev: Any) -> dict[str, Any]:
    """Outputs, gradients (inputs and parameters) and buffers as host arrays, for `dev`."""
    mg.manual_seed(0)
    module = make().double().train(train)
    if dev is not None:
        module.to(dev)
    rng = np.random.default_rng(3)
    xs = []
    for gen in inputs:
        a = gen(rng)
        t = mg.tensor(a, dtype=mg.float64 if a.dtype.kind == "f" else mg.int64, requires_grad=gen.kind == F)
        xs.append(t if dev is None else t.to(dev).detach().requires_grad_(gen.kind == F))
    mg.manual_seed(1)  # dropout masks: the same draws on both devices
    outs = _flat(module(*xs))
    where = "cpu" if dev is None else "cuda"
    for o in outs:
        assert o.device.type == where, f"an output is on {o.device}, not on {where}"
    w = np.random.default_rng(4)
    diff = [o for o in outs if o.requires_grad]
    if diff:
        loss = sum((o * mg.tensor(w.standard_normal(o.shape)).to(o.device)).sum() for o in diff)
        loss.backward()
    result = {f"out{i}": o.detach().cpu().numpy() for i, o in enumerate(outs)}
    for i, x in enumerate(xs):
        if x.grad is not None:
            assert x.grad.device.type == where
            result[f"input{i}.grad"] = x.grad.cpu().numpy()
    for name, p in module.named_parameters():
        assert p.device.type == where, f"parameter {name} is on {p.device}"
        if p.grad is not None:
            assert p.grad.device.type == where, f"{name}.grad is on {p.grad.device}"
            result[f"{name}.grad"] = p.grad.cpu().numpy()
    for name, b in module.named_buffers():
        assert b.device.type == where, f"buffer {name} is on {b.device}"
        result[name] = b.cpu().numpy()
    return result


@pytest.mark.parametrize("make, inputs, train", [
    pytest.param(*c[1:], id=c[0]) for c in CASES])
def test_module_on_the_test_device(make, inputs, train, cuda):
    cpu = _run(make, inputs, train, None)
    dev = _run(make, inputs, train, cuda)
    assert sorted(dev) == sorted(cpu)
    for key, x in cpu.items():
        np.testing.assert_allclose(dev[key], x, rtol=1e-10, atol=1e-12, err_msg=f"{key} differs on the device")


def test_module_moves_back_and_forth(cuda):
    m = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
    params = list(m.parameters())
    m.cuda()
    assert all(p.device == cuda for p in m.parameters())
    assert all(b.device == cuda for b in m.buffers())
    assert [id(p) for p in m.parameters()] == [id(p) for p in params]  # the same Parameter objects
    m(mg.randn(4, 3, device="cuda")).sum().backward()
    assert all(p.grad.device == cuda for p in m.parameters())
    m.cpu()
    assert all(type(p.array) is np.ndarray and type(p.grad.array) is np.ndarray for p in m.parameters())
    assert all(type(b.array) is np.ndarray for b in m.buffers())


def test_init_and_parameter_on_the_device(cuda):
    w = nn.Parameter(mg.zeros(3, 4, device="cuda"))
    assert w.device == cuda and w.requires_grad
    mg.manual_seed(5)
    nn.init.normal_(w)
    mg.manual_seed(5)
    host = nn.init.normal_(nn.Parameter(mg.zeros(3, 4)))
    np.testing.assert_array_equal(w.cpu().numpy(), host.numpy())
    for fill in (nn.init.eye_, nn.init.ones_, nn.init.xavier_uniform_, nn.init.kaiming_normal_,
                 nn.init.trunc_normal_, nn.init.orthogonal_ if hasattr(nn.init, "orthogonal_") else nn.init.zeros_):
        fill(w)
        assert w.device == cuda


def test_device_argument_and_default_device(cuda):
    """`device=` and `with matgrad.device("cuda"):` build modules on the device, with the CPU's values for a seed."""
    mg.manual_seed(3)
    host = nn.Linear(4, 3)
    mg.manual_seed(3)
    made = nn.Linear(4, 3, device="cuda")
    assert made.weight.device == cuda and made.bias.device == cuda
    np.testing.assert_array_equal(made.weight.cpu().numpy(), host.weight.numpy())
    with mg.device("cuda"):
        for m in (nn.LSTM(3, 4), nn.BatchNorm2d(3), nn.Transformer(8, 2, 1, 1, 16), nn.Embedding(5, 2),
                  nn.MultiheadAttention(8, 2), nn.PReLU(), nn.LayerNorm(3), nn.GRUCell(2, 3)):
            assert all(t.device == cuda for t in [*m.parameters(), *m.buffers()]), type(m).__name__
        mask = nn.Transformer.generate_square_subsequent_mask(3)
        assert mask.device == cuda
    assert nn.Linear(2, 2).weight.device == mg.device("cpu")
    assert nn.Transformer.generate_square_subsequent_mask(3, device="cuda").device == cuda
