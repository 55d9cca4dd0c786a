"""F.grouped_mm: float64 against a loop of torch.mm over the groups and finite differences, float32 against
torch's own CPU kernel (which takes float32 but not float64), and torch's error cases."""
from __future__ import annotations

import numpy as np
import pytest

import matgrad as mg
import matgrad.nn.functional as F
from tests.helpers import assert_close, torch

G, M, K, N = 3, 8, 12, 16  # multiples of 4: torch's kernel wants 16-byte strides in float32
RNG = np.random.default_rng(0)

# (name, shape of mat_a, shape of mat_b, offs): offs ends short of the jagged length where it may
CASES = [
    ("3d x 3d", (G, M, K), (G, K, N), None),
    ("2d x 3d", (20, K), (G, K, N), [4, 4, 16]),  # an empty group; rows 16..19 unused
    ("3d x 2d", (G, M, K), (K, 20), [8, 12, 16]),  # columns 16..19 unused
    ("2d x 2d", (M, 20), (20, N), [8, 8, 16]),  # an empty group; K 16..19 unused
]


def _offs(offs, lib):
    if lib is mg:
        return None if offs is None else mg.tensor(offs, dtype=mg.int32)
    return None if offs is None else torch.tensor(offs, dtype=torch.int32)


def _loop_reference(a, b, offs):
    """The documented semantics as a loop of torch.mm over the groups (unused rows/columns: 0)."""
    if offs is None:
        return torch.stack([torch.mm(a[g], b[g]) for g in range(a.shape[0])])
    bounds = list(zip([0] + offs[:-1], offs))
    if a.ndim == 2 and b.ndim == 3:
        out = torch.zeros(a.shape[0], b.shape[2], dtype=a.dtype)
        for g, (s, e) in enumerate(bounds):
            out[s:e] = torch.mm(a[s:e], b[g])
        return out
    if a.ndim == 3:
        out = torch.zeros(a.shape[1], b.shape[1], dtype=a.dtype)
        for g, (s, e) in enumerate(bounds):
            out[:, s:e] = torch.mm(a[g], b[:, s:e])
        return out
    return torch.stack([torch.mm(a[:, s:e], b[s:e]) for s, e in bounds])


@pytest.mark.parametrize("name, a_shape, b_shape, offs", CASES, ids=[c[0] for c in CASES])
def test_float64_matches_loop_of_torch_mm_with_gradients(name, a_shape, b_shape, offs):
    if torch is None:
        pytest.skip("PyTorch not installed")
    a0, b0 = RNG.standard_normal(a_shape), RNG.standard_normal(b_shape)
    a, b = mg.tensor(a0, requires_grad=True), mg.tensor(b0, requires_grad=True)
    ta, tb = torch.tensor(a0, requires_grad=True), torch.tensor(b0, requires_grad=True)
    out = F.grouped_mm(a, b, offs=_offs(offs, mg))
    want = _loop_reference(ta, tb, offs)
    assert out.shape == tuple(want.shape) and out.dtype == mg.float64
    np.testing.assert_allclose(out.array, want.detach().numpy(), rtol=1e-12, atol=1e-12)
    seed = RNG.standard_normal(out.shape)
    (out * mg.tensor(seed)).sum().backward()
    (want * torch.tensor(seed)).sum().backward()
    np.testing.assert_allclose(a.grad.array, ta.grad.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(b.grad.array, tb.grad.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name, a_shape, b_shape, offs", CASES, ids=[c[0] for c in CASES])
def test_finite_differences(name, a_shape, b_shape, offs):
    small = {M: 3, K: 4, N: 2, 20: 6}  # the same layouts, smaller
    a_shape, b_shape = tuple(small.get(d, d) for d in a_shape), tuple(small.get(d, d) for d in b_shape)
    offs = None if offs is None else {"2d x 3d": [1, 1, 5], "3d x 2d": [2, 3, 5], "2d x 2d": [2, 2, 5]}[name]
    xs = [mg.tensor(RNG.standard_normal(s), requires_grad=True) for s in (a_shape, b_shape)]
    fn = lambda a, b: F.grouped_mm(a, b, offs=_offs(offs, mg))  # noqa: E731
    assert mg.gradcheck(fn, xs)
    assert mg.gradgradcheck(fn, xs)


@pytest.mark.parametrize("name, a_shape, b_shape, offs", CASES, ids=[c[0] for c in CASES])
def test_float32_matches_torch_kernel(name, a_shape, b_shape, offs):
    if torch is None:
        pytest.skip("PyTorch not installed")
    a0, b0 = (RNG.standard_normal(s).astype(np.float32) for s in (a_shape, b_shape))
    a, b = mg.tensor(a0, requires_grad=True), mg.tensor(b0, requires_grad=True)
    ta, tb = torch.tensor(a0, requires_grad=True), torch.tensor(b0, requires_grad=True)
    out = F.grouped_mm(a, b, offs=_offs(offs, mg))
    want = torch.nn.functional.grouped_mm(ta, tb, offs=_offs(offs, torch))
    assert out.dtype == mg.float32 and out.shape == tuple(want.shape)
    seed = RNG.standard_normal(out.shape).astype(np.float32)
    (out * mg.tensor(seed)).sum().backward()
    (want * torch.tensor(seed)).sum().backward()
    # torch leaves what lies past offs[-1] uninitialised (output and gradients): compare the groups' part only
    used = slice(None) if offs is None else slice(0, offs[-1])
    got, ref, ga, gb, ra, rb = out.array, want.detach().numpy(), a.grad.array, b.grad.array, ta.grad, tb.grad
    if name == "2d x 3d":
        got, ref, ga, ra = got[used], ref[used], ga[used], ra[used]
        assert not out.array[offs[-1]:].any() and not a.grad.array[offs[-1]:].any()
    elif name == "3d x 2d":
        got, ref, gb, rb = got[:, used], ref[:, used], gb[:, used], rb[:, used]
        assert not out.array[:, offs[-1]:].any() and not b.grad.array[:, offs[-1]:].any()
    elif name == "2d x 2d":
        ga, ra, gb, rb = ga[:, used], ra[:, used], gb[used], rb[used]
    scale = float(np.sqrt(a_shape[-1]))  # products of K unit normals: rounding of their size
    assert_close(got, ref, rtol=1e-5, atol=1e-6, scale=scale)
    assert_close(ga, ra.numpy(), rtol=1e-5, atol=1e-6, scale=scale * 4)
    assert_close(gb, rb.numpy(), rtol=1e-5, atol=1e-6, scale=scale * 4)


def test_float16_stays_float16():
    a, b = mg.ones((2, 4, 8), dtype=mg.float16), mg.ones((2, 8, 4), dtype=mg.float16)
    out = F.grouped_mm(a, b, out_dtype=mg.float16)
    assert out.dtype == mg.float16 and np.all(out.array == 8)


def _ab(a_shape=(G, M, K), b_shape=(G, K, N), dtype=mg.float32):
    return mg.ones(a_shape, dtype=dtype), mg.ones(b_shape, dtype=dtype)


@pytest.mark.parametrize("call, match", [
    (lambda: F.grouped_mm(mg.ones(K), mg.ones((G, K, N))), "mat_a has to be 2 or 3d"),
    (lambda: F.grouped_mm(mg.ones((M, K)), mg.ones((1, G, K, N)), offs=mg.tensor([1], dtype=mg.int32)),
     "mat_b has to be 2 or 3d"),
    (lambda: F.grouped_mm(*_ab(dtype=mg.int64)), "float16, float32 or float64"),
    (lambda: F.grouped_mm(_ab()[0], _ab(dtype=mg.float64)[1]), "same dtype"),
    (lambda: F.grouped_mm(*_ab(), out_dtype=mg.float64), "output dtype must match"),
    (lambda: F.grouped_mm(*_ab(), bias=mg.ones((G, N))), "bias is not supported"),
    (lambda: F.grouped_mm(*_ab((20, K))), "have to provide offsets"),
    (lambda: F.grouped_mm(*_ab(), offs=mg.tensor([2, 4, 8], dtype=mg.int32)), "have to provide offsets"),
    (lambda: F.grouped_mm(*_ab((G, M, K), (G, 4, N))), "contraction dimension"),
    (lambda: F.grouped_mm(*_ab((M, 20), (16, N)), offs=mg.tensor([8, 16], dtype=mg.int32)), "contraction dimension"),
    (lambda: F.grouped_mm(*_ab((G, M, K), (2, K, N))), "batched dimension has to match"),
    (lambda: F.grouped_mm(*_ab((20, K)), offs=mg.tensor([8, 16, 20])), "int32"),
    (lambda: F.grouped_mm(*_ab((20, K)), offs=mg.tensor([[8, 16, 20]], dtype=mg.int32)), "1D"),
    (lambda: F.grouped_mm(*_ab((20, K)), offs=mg.tensor([8, 20], dtype=mg.int32)), "batch sizes have to match"),
    (lambda: F.grouped_mm(*_ab((20, K)), offs=mg.tensor([8, 4, 20], dtype=mg.int32)), "non-decreasing"),
    (lambda: F.grouped_mm(*_ab((20, K)), offs=mg.tensor([8, 16, 40], dtype=mg.int32)), "within"),
], ids=["a 1-d", "b 4-d", "integer", "mixed dtypes", "out_dtype", "bias", "no offs", "offs with 3-d",
        "contraction 3d", "contraction 2d", "groups", "offs int64", "offs 2-d", "offs length", "offs decreasing",
        "offs too far"])
def test_errors(call, match):
    with pytest.raises(RuntimeError, match=match):
        call()


def test_offs_must_be_a_tensor():
    with pytest.raises(TypeError, match="offs"):
        F.grouped_mm(*_ab((20, K)), offs=[8, 16, 20])


def test_torch_raises_where_matgrad_follows_it():
    if torch is None:
        pytest.skip("PyTorch not installed")
    a, b = torch.ones(G, M, K), torch.ones(G, K, N)
    for kwargs, match in [(dict(bias=torch.ones(G, N)), "Bias not supported"),
                          (dict(offs=torch.tensor([2, 4, 8], dtype=torch.int32)), "Have to provide offsets"),
                          (dict(out_dtype=torch.float64), "output dtype must match")]:
        with pytest.raises(RuntimeError, match=match):
            torch.nn.functional.grouped_mm(a, b, **kwargs)
    with pytest.raises(RuntimeError, match="Offsets have to be int32"):
        torch.nn.functional.grouped_mm(torch.ones(20, K), b, offs=torch.tensor([8, 16, 20]))
