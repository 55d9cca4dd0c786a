"""Transformer layers against PyTorch with shared weights (issue 20): outputs and gradients of inputs and of
every weight, in eval mode (dropout off), float64 tight and float32 with an atol."""
from __future__ import annotations

import numpy as np
import pytest

import matgrad as mg
import matgrad.nn as nn
from tests.nn._compare import compare_modules

torch = pytest.importorskip("torch")
pytestmark = [pytest.mark.filterwarnings("ignore:Support for mismatched key_padding_mask"),
              pytest.mark.filterwarnings("ignore:enable_nested_tensor is True")]

D, H, FF, N, L, S = 8, 2, 16, 2, 5, 4
KPM_SRC = np.array([[False] * L, [False, False, True, False, True]])
KPM_MEM = np.array([[False] * S, [False, True, False, True]])


def _layer_pair(cls, **kw):
    ours = getattr(nn, cls)(D, H, dim_feedforward=FF, **kw)
    theirs = getattr(torch.nn, cls)(D, H, dim_feedforward=FF, **kw)
    assert repr(ours) == repr(theirs)
    return ours, theirs


def _seq(rng, n, batch_first):
    return rng.standard_normal((N, n, D) if batch_first else (n, N, D))


def _causal(n):
    return np.triu(np.ones((n, n), dtype=bool), 1)


ENC_CASES = [
    dict(), dict(batch_first=True), dict(norm_first=True), dict(activation="gelu", batch_first=True),
    dict(norm_first=True, activation="gelu", layer_norm_eps=1e-6), dict(bias=False),
]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("cfg", ENC_CASES, ids=[str(c) for c in ENC_CASES])
@pytest.mark.parametrize("masks", ["none", "kpm", "causal_bool", "causal_float", "both"])
def test_encoder_layer_matches_torch(cfg, masks, dtype):
    ours, theirs = _layer_pair("TransformerEncoderLayer", **cfg)
    rng = np.random.default_rng(0)
    kw = {}
    if masks in ("kpm", "both"):
        kw["src_key_padding_mask"] = KPM_SRC
    if masks in ("causal_bool", "both"):
        kw["src_mask"] = _causal(L)
    if masks == "causal_float":
        kw["src_mask"] = nn.Transformer.generate_square_subsequent_mask(L).array.astype(dtype)
        kw["is_causal"] = True
    compare_modules(ours, theirs, [_seq(rng, L, cfg.get("batch_first", False))], dtype, kwargs=kw)


def test_encoder_layer_callable_activation_and_unbatched():
    ours = nn.TransformerEncoderLayer(D, H, FF, activation=nn.GELU())
    theirs = torch.nn.TransformerEncoderLayer(D, H, FF, activation=torch.nn.GELU())
    assert repr(ours) == repr(theirs)
    compare_modules(ours, theirs, [np.random.default_rng(1).standard_normal((L, D))])
    ours = nn.TransformerEncoderLayer(D, H, FF, activation=lambda x: x * 2)
    theirs = torch.nn.TransformerEncoderLayer(D, H, FF, activation=lambda x: x * 2)
    compare_modules(ours, theirs, [np.random.default_rng(1).standard_normal((L, N, D))])
    with pytest.raises(RuntimeError, match="relu/gelu"):
        nn.TransformerEncoderLayer(D, H, activation="tanh")


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("with_norm", [False, True])
def test_encoder_matches_torch(dtype, batch_first, with_norm):
    layer = nn.TransformerEncoderLayer(D, H, FF, batch_first=batch_first)
    tlayer = torch.nn.TransformerEncoderLayer(D, H, FF, batch_first=batch_first)
    ours = nn.TransformerEncoder(layer, 2, nn.LayerNorm(D) if with_norm else None, enable_nested_tensor=False)
    theirs = torch.nn.TransformerEncoder(tlayer, 2, torch.nn.LayerNorm(D) if with_norm else None,
                                         enable_nested_tensor=False)
    assert repr(ours) == repr(theirs)
    x = _seq(np.random.default_rng(2), L, batch_first)
    compare_modules(ours, theirs, [x], dtype, kwargs={"src_key_padding_mask": KPM_SRC, "mask": _causal(L)})


def test_encoder_is_causal_without_mask_builds_it():
    enc = nn.TransformerEncoder(nn.TransformerEncoderLayer(D, H, FF, dropout=0.0), 2).eval()
    x = mg.randn(L, N, D)
    a = enc(x, is_causal=True)
    b = enc(x, mask=nn.Transformer.generate_square_subsequent_mask(L))
    np.testing.assert_allclose(a.array, b.array)


DEC_CASES = [dict(), dict(batch_first=True), dict(norm_first=True, activation="gelu"), dict(bias=False)]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("cfg", DEC_CASES, ids=[str(c) for c in DEC_CASES])
@pytest.mark.parametrize("masks", ["none", "all"])
def test_decoder_layer_matches_torch(cfg, masks, dtype):
    ours, theirs = _layer_pair("TransformerDecoderLayer", **cfg)
    rng = np.random.default_rng(3)
    bf = cfg.get("batch_first", False)
    kw = {}
    if masks == "all":
        kw = {"tgt_mask": _causal(L), "tgt_key_padding_mask": KPM_SRC, "memory_key_padding_mask": KPM_MEM,
              "memory_mask": np.zeros((L, S), dtype=bool)}
    compare_modules(ours, theirs, [_seq(rng, L, bf), _seq(rng, S, bf)], dtype, kwargs=kw)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_decoder_matches_torch(dtype):
    layer, tlayer = _layer_pair("TransformerDecoderLayer", batch_first=True)
    ours, theirs = nn.TransformerDecoder(layer, 2, nn.LayerNorm(D)), torch.nn.TransformerDecoder(tlayer, 2,
                                                                                                 torch.nn.LayerNorm(D))
    assert repr(ours) == repr(theirs)
    rng = np.random.default_rng(4)
    kw = {"tgt_mask": nn.Transformer.generate_square_subsequent_mask(L).array.astype(dtype), "tgt_is_causal": True,
          "tgt_key_padding_mask": KPM_SRC, "memory_key_padding_mask": KPM_MEM}
    compare_modules(ours, theirs, [_seq(rng, L, True), _seq(rng, S, True)], dtype, kwargs=kw)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("batch_first", [False, True])
def test_transformer_matches_torch(dtype, batch_first):
    kw = dict(d_model=D, nhead=H, num_encoder_layers=2, num_decoder_layers=1, dim_feedforward=FF,
              batch_first=batch_first)
    ours, theirs = nn.Transformer(**kw), torch.nn.Transformer(**kw)
    assert repr(ours) == repr(theirs)
    rng = np.random.default_rng(5)
    src, tgt = _seq(rng, S, batch_first), _seq(rng, L, batch_first)
    masks = {"tgt_mask": nn.Transformer.generate_square_subsequent_mask(L).array.astype(dtype),
             "src_key_padding_mask": KPM_MEM, "memory_key_padding_mask": KPM_MEM, "tgt_key_padding_mask": KPM_SRC}
    compare_modules(ours, theirs, [src, tgt], dtype, kwargs=masks)


def test_generate_square_subsequent_mask_matches_torch():
    np.testing.assert_array_equal(nn.Transformer.generate_square_subsequent_mask(4).array,
                                  torch.nn.Transformer.generate_square_subsequent_mask(4).numpy())
    assert nn.Transformer.generate_square_subsequent_mask(3, dtype=mg.float64).dtype == mg.float64


def test_transformer_init_and_state_dict_names():
    ours, theirs = nn.Transformer(D, H, 1, 1, FF), torch.nn.Transformer(D, H, 1, 1, FF)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    w = ours.encoder.layers[0].linear1.weight.array
    assert np.abs(w).max() <= np.sqrt(6 / (D + FF))  # xavier_uniform_
    with pytest.raises(RuntimeError, match="batch number"):
        ours(mg.zeros(3, 2, D), mg.zeros(3, 4, D))


def test_training_with_dropout_runs_and_backprops():
    m = nn.TransformerEncoderLayer(D, H, FF, dropout=0.3, batch_first=True).train()
    x = mg.randn(N, L, D, requires_grad=True)
    m(x, src_key_padding_mask=mg.tensor(KPM_SRC)).sum().backward()
    assert np.all(np.isfinite(x.grad.array)) and m.self_attn.in_proj_weight.grad is not None
