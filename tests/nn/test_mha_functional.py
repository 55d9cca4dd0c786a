"""F.multi_head_attention_forward against PyTorch (values and gradients, float64, no dropout), by finite
differences, and nn.MultiheadAttention (which calls it) with add_bias_kv / add_zero_attn."""
from __future__ import annotations

import numpy as np
import pytest

import matgrad as mg
import matgrad.nn as nn
import matgrad.nn.functional as F
from tests.helpers import assert_close
from tests.nn._compare import compare_modules

torch = pytest.importorskip("torch")
TF = torch.nn.functional
# torch warns when key_padding_mask and attn_mask differ in type (bool and float): both are tested here
pytestmark = pytest.mark.filterwarnings("ignore:Support for mismatched key_padding_mask")

E, H, N, L, S = 6, 2, 2, 3, 4
DH = E // H
RNG = np.random.default_rng(11)
KPM = np.array([[False, False, True, False], [False, True, False, True]])  # True = padding; key 0 always kept
ATTN = RNG.random((L, S)) > 0.6
ATTN[:, 0] = False  # MHA's bool masks: True = may NOT attend; every query keeps key 0
ATTN3 = RNG.random((N * H, L, S)) > 0.6
ATTN3[..., 0] = False
CAUSAL = np.triu(np.ones((L, S), dtype=bool), 1)


def _masks(kind: str, name: str, batched: bool) -> np.ndarray | None:
    """A mask of the given kind; float masks are the bool ones as -inf plus small finite noise."""
    if kind == "none":
        return None
    if name == "key_padding_mask":
        m = KPM if batched else KPM[1]
    else:
        m = {"2d": ATTN, "3d": ATTN3 if batched else ATTN3[:H], "causal": CAUSAL}[kind.split("_")[0]]
    if kind.endswith("float"):
        return np.where(m, -np.inf, np.random.default_rng(3).standard_normal(m.shape) * 0.1)
    return m


def _arrays(batched: bool, kdim: int = E, vdim: int = E, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    b = (N,) if batched else ()
    return {
        "query": rng.standard_normal((L, *b, E)), "key": rng.standard_normal((S, *b, kdim)),
        "value": rng.standard_normal((S, *b, vdim)),
        "in_proj_weight": rng.standard_normal((3 * E, E)) * 0.4, "in_proj_bias": rng.standard_normal(3 * E) * 0.1,
        "q_proj_weight": rng.standard_normal((E, E)) * 0.4, "k_proj_weight": rng.standard_normal((E, kdim)) * 0.4,
        "v_proj_weight": rng.standard_normal((E, vdim)) * 0.4,
        "out_proj_weight": rng.standard_normal((E, E)) * 0.4, "out_proj_bias": rng.standard_normal(E) * 0.1,
        "bias_k": rng.standard_normal((1, 1, E)), "bias_v": rng.standard_normal((1, 1, E)),
        "static_k": rng.standard_normal((N * H if batched else H, S, DH)),
        "static_v": rng.standard_normal((N * H if batched else H, S, DH)),
    }


def _call(lib, arrays: dict[str, np.ndarray], *, attention: str = "cross", separate: bool = False,
          bias: bool = True, bias_kv: bool = False, zero_attn: bool = False, static: str = "", kpm=None,
          attn_mask=None, **kw):
    """Both libraries' F.multi_head_attention_forward on the same arrays; returns (out, weights, leaves)."""
    make = (lambda a: mg.tensor(a, requires_grad=True)) if lib is mg else (
        lambda a: torch.tensor(a, requires_grad=True))
    const = mg.tensor if lib is mg else torch.tensor
    leaves = {k: make(v) for k, v in arrays.items()}
    q = leaves["query"]
    k = q if attention == "self" else leaves["key"]
    v = k if attention in ("self", "kv") else leaves["value"]
    fn = F.multi_head_attention_forward if lib is mg else TF.multi_head_attention_forward
    out, weights = fn(
        q, k, v, E, H, None if separate else leaves["in_proj_weight"], leaves["in_proj_bias"] if bias else None,
        leaves["bias_k"] if bias_kv else None, leaves["bias_v"] if bias_kv else None, zero_attn, 0.0,
        leaves["out_proj_weight"], leaves["out_proj_bias"] if bias else None,
        key_padding_mask=None if kpm is None else const(kpm), attn_mask=None if attn_mask is None else const(attn_mask),
        use_separate_proj_weight=separate,
        q_proj_weight=leaves["q_proj_weight"] if separate else None,
        k_proj_weight=leaves["k_proj_weight"] if separate else None,
        v_proj_weight=leaves["v_proj_weight"] if separate else None,
        static_k=leaves["static_k"] if "k" in static else None, static_v=leaves["static_v"] if "v" in static else None,
        **kw)
    return out, weights, leaves


def _compare(arrays: dict[str, np.ndarray], **kw) -> None:
    """Values, weights and the gradients of every leaf agree with torch's to float64 rounding."""
    out, w, leaves = _call(mg, arrays, **kw)
    tout, tw, tleaves = _call(torch, arrays, **kw)
    assert out.shape == tuple(tout.shape)
    assert_close(out.array, tout.detach().numpy(), rtol=1e-10)
    if tw is None:
        assert w is None
    else:
        assert w.shape == tuple(tw.shape)
        assert_close(w.array, tw.detach().numpy(), rtol=1e-10)
    rng = np.random.default_rng(5)
    seeds = [rng.standard_normal(out.shape)] + ([rng.standard_normal(w.shape)] if tw is not None else [])
    loss = (out * mg.tensor(seeds[0])).sum() + ((w * mg.tensor(seeds[1])).sum() if tw is not None else 0)
    tloss = (tout * torch.tensor(seeds[0])).sum() + ((tw * torch.tensor(seeds[1])).sum() if tw is not None else 0)
    loss.backward()
    tloss.backward()
    for name, t in tleaves.items():
        g = leaves[name].grad
        if t.grad is None:
            assert g is None or not np.any(g.array), f"{name}: torch has no gradient, matgrad does"
            continue
        assert g is not None, f"{name}: matgrad has no gradient, torch does"
        assert_close(g.array, t.grad.numpy(), rtol=1e-9, err_msg=name)


@pytest.mark.parametrize("batched", [True, False], ids=["batched", "unbatched"])
@pytest.mark.parametrize("attention", ["self", "kv", "cross", "separate"])
@pytest.mark.parametrize("need_weights, average", [(True, True), (True, False), (False, True)],
                         ids=["avg_weights", "head_weights", "no_weights"])
def test_projections_match_torch(batched, attention, need_weights, average):
    separate = attention == "separate"
    arrays = _arrays(batched, kdim=4 if separate else E, vdim=5 if separate else E)
    _compare(arrays, attention="cross" if separate else attention, separate=separate,
             need_weights=need_weights, average_attn_weights=average)


@pytest.mark.parametrize("batched", [True, False], ids=["batched", "unbatched"])
@pytest.mark.parametrize("kpm", ["none", "bool", "float"])
@pytest.mark.parametrize("attn", ["none", "2d_bool", "2d_float", "3d_bool", "3d_float"])
@pytest.mark.parametrize("need_weights", [True, False])
def test_masks_match_torch(batched, kpm, attn, need_weights):
    _compare(_arrays(batched), kpm=_masks(kpm, "key_padding_mask", batched),
             attn_mask=_masks(attn, "attn_mask", batched), need_weights=need_weights)


@pytest.mark.parametrize("bias_kv, zero_attn", [(True, False), (False, True), (True, True)])
@pytest.mark.parametrize("masks", [False, True])
@pytest.mark.parametrize("need_weights", [True, False])
@pytest.mark.parametrize("batched", [True, False], ids=["batched", "unbatched"])
def test_bias_kv_and_zero_attn_match_torch(bias_kv, zero_attn, masks, need_weights, batched):
    _compare(_arrays(batched), bias_kv=bias_kv, zero_attn=zero_attn, need_weights=need_weights,
             kpm=_masks("bool" if masks else "none", "key_padding_mask", batched),
             attn_mask=_masks("2d_float" if masks else "none", "attn_mask", batched))


@pytest.mark.parametrize("static", ["k", "v", "kv"])
@pytest.mark.parametrize("zero_attn", [False, True])
@pytest.mark.parametrize("need_weights", [True, False])
def test_static_k_v_match_torch(static, zero_attn, need_weights):
    _compare(_arrays(True), static=static, zero_attn=zero_attn, need_weights=need_weights,
             kpm=_masks("bool", "key_padding_mask", True))


@pytest.mark.parametrize("need_weights", [True, False])
@pytest.mark.parametrize("kpm", [False, True])
def test_is_causal_hint_as_torch(need_weights, kpm):
    # with need_weights=False and no key_padding_mask, torch takes the hint and does not read attn_mask: a
    # mask that is not causal shows it (the outputs differ from the mask's); otherwise the mask is used
    arrays = _arrays(True)
    for mask in (CAUSAL, ATTN):
        _compare(arrays, attn_mask=mask, is_causal=True, need_weights=need_weights,
                 kpm=_masks("bool" if kpm else "none", "key_padding_mask", True))
    hinted, _, _ = _call(mg, arrays, attn_mask=ATTN, is_causal=True, need_weights=need_weights,
                         kpm=_masks("bool" if kpm else "none", "key_padding_mask", True))
    causal, _, _ = _call(mg, arrays, attn_mask=CAUSAL, need_weights=need_weights,
                         kpm=_masks("bool" if kpm else "none", "key_padding_mask", True))
    assert np.allclose(hinted.array, causal.array) == (not need_weights and not kpm)


def test_finite_differences_first_and_second_order():
    rng = np.random.default_rng(2)
    kpm = mg.tensor(np.array([[False, True, False], [False, False, True]]))
    mask = mg.tensor(np.where(np.array([[False, True, False], [False, False, False]]), -np.inf, 0.3))

    def f(q, k, v, w, b, bk, bv, ow):
        out, weights = F.multi_head_attention_forward(
            q, k, v, 4, 2, w, b, bk, bv, True, 0.0, ow, None, key_padding_mask=kpm, attn_mask=mask,
            average_attn_weights=False)
        out2, _ = F.multi_head_attention_forward(q, k, k, 4, 2, w, b, None, None, False, 0.0, ow, None,
                                                 need_weights=False, attn_mask=mask)
        return out, weights, out2

    shapes = [(2, 2, 4), (3, 2, 4), (3, 2, 4), (12, 4), (12,), (1, 1, 4), (1, 1, 4), (4, 4)]
    xs = [mg.tensor(rng.standard_normal(s) * 0.5, requires_grad=True) for s in shapes]
    assert mg.gradcheck(f, xs)
    assert mg.gradgradcheck(f, xs)


def test_float32_matches_torch():
    arrays = {k: v.astype(np.float32) for k, v in _arrays(True).items()}
    mk = {k: mg.tensor(v) for k, v in arrays.items()}
    tk = {k: torch.tensor(v) for k, v in arrays.items()}
    args = ("query", "key", "value")
    out, w = F.multi_head_attention_forward(*[mk[a] for a in args], E, H, mk["in_proj_weight"], mk["in_proj_bias"],
                                            mk["bias_k"], mk["bias_v"], True, 0.0, mk["out_proj_weight"],
                                            mk["out_proj_bias"], key_padding_mask=mg.tensor(KPM))
    tout, tw = TF.multi_head_attention_forward(*[tk[a] for a in args], E, H, tk["in_proj_weight"],
                                               tk["in_proj_bias"], tk["bias_k"], tk["bias_v"], True, 0.0,
                                               tk["out_proj_weight"], tk["out_proj_bias"],
                                               key_padding_mask=torch.tensor(KPM))
    assert out.dtype == mg.float32 and w.dtype == mg.float32
    assert_close(out.array, tout.numpy(), rtol=1e-5, atol=1e-6)
    assert_close(w.array, tw.numpy(), rtol=1e-5, atol=1e-6)


def test_dropout_only_when_training():
    a = _arrays(True)
    x = {k: mg.tensor(v) for k, v in a.items()}

    def run(training):
        return F.multi_head_attention_forward(x["query"], x["key"], x["value"], E, H, x["in_proj_weight"],
                                              x["in_proj_bias"], None, None, False, 0.5, x["out_proj_weight"],
                                              x["out_proj_bias"], training=training)[0].array

    mg.manual_seed(0)
    np.testing.assert_array_equal(run(False), run(False))
    ref = _call(mg, a)[0].array  # dropout_p=0
    assert_close(run(False), ref, rtol=1e-12)
    assert not np.allclose(run(True), ref)


# --- nn.MultiheadAttention: one implementation, now with add_bias_kv and add_zero_attn -------------------
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("add_bias_kv, add_zero_attn", [(True, False), (False, True), (True, True)])
@pytest.mark.parametrize("need_weights", [True, False])
def test_module_bias_kv_and_zero_attn_match_torch(batch_first, add_bias_kv, add_zero_attn, need_weights):
    kw = {"add_bias_kv": add_bias_kv, "add_zero_attn": add_zero_attn, "batch_first": batch_first}
    ours, theirs = nn.MultiheadAttention(E, H, **kw), torch.nn.MultiheadAttention(E, H, **kw)
    assert repr(ours) == repr(theirs)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    if add_bias_kv:
        assert ours.bias_k.shape == (1, 1, E) and np.any(ours.bias_k.array)  # xavier_normal_, not zeros
    rng = np.random.default_rng(4)
    shp = (lambda n: (N, n, E)) if batch_first else (lambda n: (n, N, E))
    compare_modules(ours, theirs, [rng.standard_normal(shp(L)), rng.standard_normal(shp(S)),
                                   rng.standard_normal(shp(S))],
                    kwargs={"key_padding_mask": KPM, "attn_mask": ATTN, "need_weights": need_weights})


def test_module_forward_is_the_functional():
    m = nn.MultiheadAttention(E, H, kdim=4, vdim=5).double()
    a = _arrays(True, kdim=4, vdim=5)
    q, k, v = (mg.tensor(a[n]) for n in ("query", "key", "value"))
    out, w = m(q, k, v, key_padding_mask=mg.tensor(KPM), average_attn_weights=False)
    fout, fw = F.multi_head_attention_forward(
        q, k, v, E, H, None, m.in_proj_bias, None, None, False, 0.0, m.out_proj.weight, m.out_proj.bias,
        key_padding_mask=mg.tensor(KPM), use_separate_proj_weight=True, q_proj_weight=m.q_proj_weight,
        k_proj_weight=m.k_proj_weight, v_proj_weight=m.v_proj_weight, average_attn_weights=False)
    np.testing.assert_array_equal(out.array, fout.array)
    np.testing.assert_array_equal(w.array, fw.array)


# --- errors ---------------------------------------------------------------------------------------------------
def _z(*shape):
    return mg.zeros(*shape, dtype=mg.float64)


def _bad(**kw):
    a = {k: mg.tensor(v) for k, v in _arrays(True).items()}
    args = dict(query=a["query"], key=a["key"], value=a["value"], embed_dim_to_check=E, num_heads=H,
                in_proj_weight=a["in_proj_weight"], in_proj_bias=a["in_proj_bias"], bias_k=None, bias_v=None,
                add_zero_attn=False, dropout_p=0.0, out_proj_weight=a["out_proj_weight"],
                out_proj_bias=a["out_proj_bias"])
    args.update(kw)
    return F.multi_head_attention_forward(**args)


@pytest.mark.parametrize("kw, exc, words", [
    ({"is_causal": True}, RuntimeError, "need attn_mask"),
    ({"attn_mask": mg.zeros(L, S + 1, dtype=mg.bool)}, RuntimeError, r"attn_mask should have shape \(3, 4\)"),
    ({"attn_mask": mg.zeros(N, L, S, dtype=mg.bool)}, RuntimeError, r"attn_mask should have shape \(4, 3, 4\)"),
    ({"attn_mask": mg.zeros(1, 1, L, S, dtype=mg.bool)}, RuntimeError, "attn_mask should have shape"),
    ({"key_padding_mask": mg.zeros(S, N, dtype=mg.bool)}, ValueError, r"key_padding_mask should have shape \(2, 4\)"),
    ({"key_padding_mask": mg.zeros(N, S, dtype=mg.int64)}, TypeError, "key_padding_mask"),
    ({"embed_dim_to_check": 8}, ValueError, "query must have 8 features"),
    ({"num_heads": 4}, ValueError, "divisible by num_heads 4"),
    ({"bias_k": _z(1, 1, E)}, ValueError, "bias_k and bias_v must be given together"),
    ({"bias_k": _z(1, 1, E), "bias_v": _z(1, 1, E), "static_k": _z(N * H, S, DH)}, ValueError,
     "cannot be added to static"),
    ({"static_k": _z(N, S, DH)}, ValueError, r"static_k must have shape .*\(4, S, 3\)"),
    ({"static_k": _z(N * H, S + 1, DH)}, ValueError, "keys and values differ"),
    ({"in_proj_weight": None}, ValueError, "in_proj_weight is None"),
    ({"use_separate_proj_weight": True}, ValueError, "q_proj_weight is None"),
    ({"key": _z(S, N, 4), "value": _z(S, N, 4)}, ValueError, "use_separate_proj_weight=True"),
    ({"key": _z(S, N + 1, E), "value": _z(S, N + 1, E)}, ValueError, "batch and sequence dims"),
    ({"query": _z(L, N, E, 1)}, ValueError, r"query of shape \(L, N, E\)"),
    ({"query": mg.zeros(L, N, E, dtype=mg.float32)}, TypeError, "floating dtype"),
])
def test_bad_arguments_say_what_is_wrong(kw, exc, words):
    with pytest.raises(exc, match=words):
        _bad(**kw)


def test_torch_raises_where_we_raise_runtime_error():
    """The RuntimeError cases are torch's RuntimeErrors too (the others are AssertionErrors in torch)."""
    a = {k: torch.tensor(v) for k, v in _arrays(True).items()}
    args = (a["query"], a["key"], a["value"], E, H, a["in_proj_weight"], a["in_proj_bias"], None, None, False, 0.0,
            a["out_proj_weight"], a["out_proj_bias"])
    with pytest.raises(RuntimeError):
        TF.multi_head_attention_forward(*args, is_causal=True)
    with pytest.raises(RuntimeError):
        TF.multi_head_attention_forward(*args, attn_mask=torch.zeros(L, S + 1, dtype=torch.bool))
    with pytest.raises(RuntimeError):
        TF.multi_head_attention_forward(*args, attn_mask=torch.zeros(N, L, S, dtype=torch.bool))


def test_on_the_test_device(cuda):
    """bias_k, add_zero_attn, both masks and the weights: the same numbers on the test device as on the CPU."""
    arrays = _arrays(True)

    def run(dev):
        leaves = {k: mg.tensor(v, requires_grad=True) for k, v in arrays.items()}
        x = {k: v if dev is None else v.to(dev) for k, v in leaves.items()}
        kpm, am = mg.tensor(KPM), mg.tensor(ATTN)
        if dev is not None:
            kpm, am = kpm.to(dev), am.to(dev)
        out, w = F.multi_head_attention_forward(
            x["query"], x["key"], x["value"], E, H, x["in_proj_weight"], x["in_proj_bias"], x["bias_k"],
            x["bias_v"], True, 0.0, x["out_proj_weight"], x["out_proj_bias"], key_padding_mask=kpm, attn_mask=am)
        out2, _ = F.multi_head_attention_forward(
            x["query"], x["key"], x["key"], E, H, x["in_proj_weight"], None, None, None, False, 0.0,
            x["out_proj_weight"], None, need_weights=False, attn_mask=am, is_causal=True)
        assert out.device.type == ("cpu" if dev is None else "cuda")
        ((out ** 2).sum() + (w * 3).sum() + out2.sum()).backward()
        return [out.detach().cpu().numpy(), w.detach().cpu().numpy(), out2.detach().cpu().numpy()] + [
            leaves[k].grad.array for k in ("query", "key", "in_proj_weight", "bias_k")]

    for got, want in zip(run(cuda), run(None)):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
