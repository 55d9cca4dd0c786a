"""F.scaled_dot_product_attention and nn.MultiheadAttention against PyTorch (issue 20)."""
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

RNG = np.random.default_rng(0)
BOOL = RNG.random((4, 5)) > 0.3
BOOL[:, 0] = True  # every query row keeps a key
FLOAT = np.where(BOOL, RNG.standard_normal((4, 5)) * 0.1, -np.inf)


def _sdpa_both(qs, ks, vs, dtype="float64", **kw):
    rng = np.random.default_rng(1)
    arrays = [rng.standard_normal(s).astype(dtype) for s in (qs, ks, vs)]
    mx = [mg.tensor(a, requires_grad=True) for a in arrays]
    tx = [torch.tensor(a, requires_grad=True) for a in arrays]
    mk = {k: mg.tensor(v.astype(dtype) if v.dtype.kind == "f" else v) if isinstance(v, np.ndarray) else v
          for k, v in kw.items()}
    tk = {k: torch.tensor(v.astype(dtype) if v.dtype.kind == "f" else v) if isinstance(v, np.ndarray) else v
          for k, v in kw.items()}
    y, ty = F.scaled_dot_product_attention(*mx, **mk), TF.scaled_dot_product_attention(*tx, **tk)
    seed = rng.standard_normal(y.shape).astype(dtype)
    (y * mg.tensor(seed)).sum().backward()
    (ty * torch.tensor(seed)).sum().backward()
    return y, ty, mx, tx


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("kw", [{}, {"is_causal": True}, {"attn_mask": BOOL}, {"attn_mask": FLOAT}, {"scale": 0.3},
                                {"attn_mask": BOOL[None, None]}],
                         ids=["plain", "causal", "bool", "float", "scale", "bool4d"])
def test_sdpa_matches_torch(kw, dtype):
    y, ty, mx, tx = _sdpa_both((2, 3, 4, 6), (2, 3, 5, 6), (2, 3, 5, 7), dtype, **kw)
    tol = 1e-12 if dtype == "float64" else 1e-5
    assert_close(y.array, ty.detach().numpy(), rtol=tol, atol=tol)
    for a, b in zip(mx, tx):
        assert_close(a.grad.array, b.grad.numpy(), rtol=tol * 10, atol=tol * 10)


def test_sdpa_gqa_and_unbatched_shapes():
    y, ty, mx, tx = _sdpa_both((2, 4, 3, 6), (2, 2, 5, 6), (2, 2, 5, 6), enable_gqa=True)
    assert_close(y.array, ty.detach().numpy(), rtol=1e-12)
    assert_close(mx[1].grad.array, tx[1].grad.numpy(), rtol=1e-11)
    y, ty, _, _ = _sdpa_both((3, 6), (5, 6), (5, 2))
    assert y.shape == (3, 2)
    assert_close(y.array, ty.detach().numpy(), rtol=1e-12)


@pytest.mark.parametrize("kind", ["bool", "float"])
def test_sdpa_fully_masked_row_is_zero_like_torch(kind):
    m = np.ones((4, 5), dtype=bool)
    m[1] = False
    mask = m if kind == "bool" else np.where(m, 0.0, -np.inf)
    y, ty, mx, tx = _sdpa_both((2, 4, 6), (2, 5, 6), (2, 5, 6), attn_mask=mask)
    assert np.all(y.array[:, 1] == 0) and np.all(np.isfinite(y.array))
    assert_close(y.array, ty.detach().numpy(), rtol=1e-12)
    for a, b in zip(mx, tx):
        assert np.all(np.isfinite(a.grad.array))
        assert_close(a.grad.array, b.grad.numpy(), rtol=1e-11)
    assert np.all(mx[0].grad.array[:, 1] == 0)


def test_sdpa_gradcheck_first_and_second_order():
    m = np.array([[True, False, True], [True, True, False]])

    def f(q, k, v, bias):
        return F.scaled_dot_product_attention(q, k, v, attn_mask=bias) + F.scaled_dot_product_attention(
            q, k, v, attn_mask=mg.tensor(m)) + F.scaled_dot_product_attention(q, k, v, is_causal=True, scale=0.7)

    rng = np.random.default_rng(3)
    xs = [mg.tensor(rng.standard_normal(s), requires_grad=True) for s in ((2, 2, 3), (2, 3, 3), (2, 3, 2), (2, 3))]
    assert mg.gradcheck(f, xs)
    assert mg.gradgradcheck(f, xs)


def test_sdpa_dropout_trains_and_is_unbiased():
    mg.manual_seed(0)
    q = mg.randn(1, 200, 4)
    v = mg.ones(1, 6, 3)
    y = F.scaled_dot_product_attention(q, mg.randn(1, 6, 4), v, dropout_p=0.5)
    vals = np.unique(np.round(y.array, 6))
    assert len(vals) > 2 and abs(float(y.array.mean()) - 1.0) < 0.15


def test_sdpa_bad_masks():
    q = mg.zeros(2, 3, 4)
    with pytest.raises(ValueError, match=r"attn_mask of shape \(4, 3\).*\(2, 3, 3\)"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=mg.ones(4, 3, dtype=mg.bool))
    with pytest.raises(TypeError, match="attn_mask"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=mg.ones(3, 3, dtype=mg.int64))
    with pytest.raises(ValueError, match="not both"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=mg.ones(3, 3, dtype=mg.bool), is_causal=True)


# --- MultiheadAttention -------------------------------------------------------------------------------
KPM = np.array([[False] * 5, [False, True, False, True, True]])
ATTN_BOOL = ~BOOL  # MHA's bool masks: True = not allowed


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("batch_first", [True, False])
@pytest.mark.parametrize("need_weights, average", [(True, True), (True, False), (False, True)])
@pytest.mark.parametrize("masks", ["none", "kpm", "bool", "float", "both", "kpm_float", "3d"])
def test_mha_matches_torch(dtype, batch_first, need_weights, average, masks):
    E, H, N, L, S = 8, 2, 2, 4, 5
    ours = nn.MultiheadAttention(E, H, batch_first=batch_first)
    theirs = torch.nn.MultiheadAttention(E, H, batch_first=batch_first)
    assert repr(ours) == repr(theirs)
    rng = np.random.default_rng(5)
    shp = (lambda n: (N, n, E)) if batch_first else (lambda n: (n, N, E))
    arrays = [rng.standard_normal(shp(L)), rng.standard_normal(shp(S)), rng.standard_normal(shp(S))]
    kw = {"need_weights": need_weights, "average_attn_weights": average}
    if masks in ("kpm", "both"):
        kw["key_padding_mask"] = KPM
    if masks == "kpm_float":
        kw["key_padding_mask"] = np.where(KPM, -np.inf, 0.0).astype(dtype)
    if masks in ("bool", "both"):
        kw["attn_mask"] = ATTN_BOOL
    if masks == "float":
        kw["attn_mask"] = np.where(ATTN_BOOL, -np.inf, rng.standard_normal((L, S))).astype(dtype)
    if masks == "3d":
        kw["attn_mask"] = np.broadcast_to(ATTN_BOOL, (N * H, L, S)).copy()
    compare_modules(ours, theirs, arrays, dtype, kwargs=kw)
    if need_weights:  # the weights too
        out = ours(*[mg.tensor(a.astype(dtype)) for a in arrays],
                   **{k: mg.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kw.items()})
        tout = theirs(*[torch.tensor(a.astype(dtype)) for a in arrays],
                      **{k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kw.items()})
        assert out[1].shape == tuple(tout[1].shape)
        assert_close(out[1].array, tout[1].detach().numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("self_attention", [True, False])
def test_mha_self_attention_unbatched_and_kdim(self_attention):
    ours, theirs = nn.MultiheadAttention(6, 3, kdim=4, vdim=5), torch.nn.MultiheadAttention(6, 3, kdim=4, vdim=5)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    rng = np.random.default_rng(2)
    compare_modules(ours, theirs, [rng.standard_normal((3, 2, 6)), rng.standard_normal((4, 2, 4)),
                                   rng.standard_normal((4, 2, 5))])
    ours, theirs = nn.MultiheadAttention(6, 2, bias=False), torch.nn.MultiheadAttention(6, 2, bias=False)
    x = rng.standard_normal((3, 6))
    if self_attention:
        compare_modules(ours, theirs, [x], call=lambda m, xs, kw: m(xs[0], xs[0], xs[0]))
    else:
        compare_modules(ours, theirs, [x, rng.standard_normal((4, 6)), rng.standard_normal((4, 6))],
                        kwargs={"key_padding_mask": np.array([False, True, False, False])})


def test_mha_init_like_torch():
    m = nn.MultiheadAttention(8, 2)
    assert m.in_proj_weight.shape == (24, 8) and m.in_proj_bias.shape == (24,)
    assert not np.any(m.in_proj_bias.array) and not np.any(m.out_proj.bias.array)
    bound = np.sqrt(6 / (24 + 8))  # xavier_uniform_ over (3E, E)
    assert np.abs(m.in_proj_weight.array).max() <= bound
    assert m.head_dim == 4 and m._qkv_same_embed_dim


@pytest.mark.filterwarnings("ignore:invalid value encountered")
def test_mha_fully_masked_rows_like_torch():
    ours, theirs = nn.MultiheadAttention(4, 2, batch_first=True), torch.nn.MultiheadAttention(4, 2, batch_first=True)
    kpm = np.array([[True, True, True], [False, True, False]])
    x = np.random.default_rng(0).standard_normal((2, 3, 4))
    # need_weights=False: 0 for the fully masked batch entry, finite gradients, as torch
    compare_modules(ours, theirs, [x], kwargs={"key_padding_mask": kpm, "need_weights": False},
                    call=lambda m, xs, kw: m(xs[0], xs[0], xs[0], **kw))
    y, _ = ours(mg.tensor(x), mg.tensor(x), mg.tensor(x), key_padding_mask=mg.tensor(kpm), need_weights=False)
    assert np.all(np.isfinite(y.array))
    # need_weights=True: NaN as torch's, with a warning
    with pytest.warns(RuntimeWarning, match="every key masked"):
        y, w = ours(mg.tensor(x), mg.tensor(x), mg.tensor(x), key_padding_mask=mg.tensor(kpm))
    ty, tw = theirs(*[torch.tensor(x)] * 3, key_padding_mask=torch.tensor(kpm))
    np.testing.assert_array_equal(np.isnan(y.array), np.isnan(ty.detach().numpy()))


def test_mha_dropout_in_training_only():
    m = nn.MultiheadAttention(8, 2, dropout=0.5, batch_first=True)
    x = mg.randn(2, 5, 8)
    m.eval()
    a, _ = m(x, x, x)
    b, _ = m(x, x, x)
    np.testing.assert_array_equal(a.array, b.array)
    m.train()
    c, _ = m(x, x, x, need_weights=False)
    assert not np.allclose(a.array, c.array)


def test_mha_bad_arguments_name_shapes():
    with pytest.raises(ValueError, match=r"embed_dim \(10\).*num_heads \(3\)"):
        nn.MultiheadAttention(10, 3)
    m = nn.MultiheadAttention(4, 2, batch_first=True)
    x = mg.zeros(2, 3, 4)
    with pytest.raises(ValueError, match=r"key_padding_mask should have shape \(2, 3\), got \(3, 2\)"):
        m(x, x, x, key_padding_mask=mg.zeros(3, 2, dtype=mg.bool))
    with pytest.raises(RuntimeError, match=r"attn_mask should have shape \(3, 3\), got \(3, 4\)"):  # as torch
        m(x, x, x, attn_mask=mg.zeros(3, 4, dtype=mg.bool))
    with pytest.raises(TypeError, match="key_padding_mask.*int64"):
        m(x, x, x, key_padding_mask=mg.zeros(2, 3, dtype=mg.int64))
    with pytest.raises(ValueError, match=r"query.*\(2, 3, 4, 1\)"):
        m(mg.zeros(2, 3, 4, 1), x, x)
    with pytest.raises(ValueError, match="query must have 4 features"):
        m(mg.zeros(2, 3, 5), x, x)
