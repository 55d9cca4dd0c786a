"""ceil_mode=True for max/avg/lp pooling in 1-D, 2-D and 3-D: output sizes, values, gradients, indices and the
max_unpool round trip against PyTorch, and finite differences (first and second order)."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

import matgrad as mg
import matgrad.nn.functional as MF
from matgrad.ops.pooling import pool_size, window_counts
from tests.helpers import check_op, torch

TF = None if torch is None else torch.nn.functional
needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is not installed")


def _t(name, *args, **kwargs):
    return None if TF is None else (lambda x: getattr(TF, name)(x, *args, **kwargs))


def _tup(v, n):
    return tuple(v) if isinstance(v, (tuple, list)) else (v,) * n


def _torch_size(L, k, s, p, d, ceil):
    """PyTorch's pooling_output_shape, written out: the rule matgrad's pool_size must follow."""
    n = (L + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil else 0)) // s + 1
    if ceil and (n - 1) * s >= L + p:
        n -= 1
    return n


def _real_windows(size, k, s, p, d):
    """Whether every window holds a pixel of the input along each dim (windows of padding only are degenerate:
    PyTorch's index for them points outside the input, with ceil_mode or without)."""
    nd = len(size)
    k, s, p, d = (_tup(v, nd) for v in (k, s, p, d))
    for i in range(nd):
        out = _torch_size(size[i], k[i], s[i], p[i], d[i], True)
        if not all(any(0 <= o * s[i] - p[i] + t * d[i] < size[i] for t in range(k[i])) for o in range(out)):
            return False
    return True


def _compare(name, shape, *args, seed=0, positive=False, **kwargs):
    """matgrad's F.name and torch's on one float64 input: shapes, values, the gradient of a random weighting of
    the output, and (for a (value, index) result) the indices."""
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(shape)
    if positive:
        a = np.abs(a) + 0.25
    x = mg.tensor(a, dtype=mg.float64, requires_grad=True)
    t = torch.tensor(a, requires_grad=True)
    got, want = getattr(MF, name)(x, *args, **kwargs), getattr(TF, name)(t, *args, **kwargs)
    if isinstance(want, tuple):
        (got, gi), (want, wi) = got, want
        assert gi.dtype == mg.int64 and tuple(gi.shape) == tuple(wi.shape)
        np.testing.assert_array_equal(gi.numpy(), wi.numpy(), err_msg=f"{name} indices differ from torch")
    assert tuple(got.shape) == tuple(want.shape), f"{name}: {tuple(got.shape)} != torch's {tuple(want.shape)}"
    np.testing.assert_allclose(got.numpy(), want.detach().numpy(), rtol=1e-12, atol=1e-12)
    w = rng.standard_normal(tuple(want.shape))
    (got * mg.tensor(w)).sum().backward()
    (want * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(x.grad, t.grad.numpy(), rtol=1e-12, atol=1e-12, err_msg=f"{name} gradient")
    return got


# --- the output size ---------------------------------------------------------------------------------------------
GRID_1D = [c for c in itertools.product(range(1, 10), range(1, 5), range(1, 4), range(0, 3), range(1, 3))
           if c[3] <= c[1] // 2]


def test_pool_size_is_torchs_rule():
    for L, k, s, p, d in GRID_1D:
        for ceil in (False, True):
            assert pool_size(L, k, s, p, d, ceil) == _torch_size(L, k, s, p, d, ceil), (L, k, s, p, d, ceil)
    # the last window must start inside the input or the left padding: rounding up alone would give 3 here
    assert pool_size(4, 2, 2, 1, 1, True) == 3 and pool_size(5, 3, 2, 1, 1, True) == 3
    assert pool_size(3, 2, 2, 1, 1, True) == 2  # ((3 + 2 - 2) / 2 rounded up) + 1 = 3 starts at 4 = L + p: dropped


@needs_torch
def test_output_sizes_match_torch_on_every_small_window():
    for L, k, s, p, d in GRID_1D:
        a = np.zeros((1, 1, L))
        x, t = mg.tensor(a), torch.tensor(a)
        calls = [("max_pool1d", (k, s, p, d, True))]
        if d == 1:
            calls += [("avg_pool1d", (k, s, p, True, cip)) for cip in (True, False)]
        for name, args in calls:
            try:
                want = tuple(getattr(TF, name)(t, *args).shape)
            except RuntimeError:
                with pytest.raises(RuntimeError):  # output too small, as PyTorch
                    getattr(MF, name)(x, *args)
                continue
            assert tuple(getattr(MF, name)(x, *args).shape) == want, (name, L, k, s, p, d)


def test_ceil_mode_lets_a_window_larger_than_the_input_through():
    x = mg.tensor([[[1.0, 3.0]]])
    assert MF.max_pool1d(x, 3, 2, ceil_mode=True).tolist() == [[[3.0]]]
    assert MF.avg_pool1d(x, 3, 2, ceil_mode=True).tolist() == [[[2.0]]]  # clipped to L + p: divided by 2
    with pytest.raises(RuntimeError, match="smaller than the window"):
        MF.max_pool1d(x, 3, 2)
    with pytest.raises(RuntimeError, match="smaller than the window"):
        MF.max_pool1d(x, 4, 1, ceil_mode=True)  # rounding up cannot make room for a window of 4 with stride 1


def test_window_counts_clip_at_the_padding_then_the_input():
    # L = 5, k = 3, s = 2, p = 1, ceil: windows start at -1, 1, 3 and 5 is dropped ... 3 windows: [-1, 2), [1, 4),
    # [3, 6) clipped to L + p = 6
    assert window_counts(5, 3, 2, 1, 3, True).tolist() == [3, 3, 3]
    assert window_counts(5, 3, 2, 1, 3, False).tolist() == [2, 3, 2]
    # L = 6, k = 3, s = 2, p = 1, ceil: 4 windows, the last [5, 8) clipped to [5, 7) then to the input [5, 6)
    assert window_counts(6, 3, 2, 1, 4, True).tolist() == [3, 3, 3, 2]
    assert window_counts(6, 3, 2, 1, 4, False).tolist() == [2, 3, 3, 1]


def _adds_a_window(size, k, s, p, d):
    nd = len(size)
    k, s, p, d = (_tup(v, nd) for v in (k, s, p, d))
    return any(pool_size(size[i], k[i], s[i], p[i], d[i], True) != pool_size(size[i], k[i], s[i], p[i], d[i], False)
               for i in range(nd))


def test_the_cases_below_exercise_ceil_mode():
    """All but two 2-D cases (the plain path; a rounded-up window dropped) and every 3-D case get a window from
    ceil_mode that they would not get without it."""
    assert [hw for hw, *rest in CASES_2D if not _adds_a_window(hw, *rest)] == [(5, 5), (3, 5)]
    assert all(_adds_a_window(*c) for c in CASES_3D)
    assert sum(_adds_a_window((c[0],), *c[1:]) for c in CASES_1D) > len(CASES_1D) // 3


# --- 1-D ---------------------------------------------------------------------------------------------------------
# (stride 1 never rounds: every other case of stride 2 or 3, with a few of stride 1)
CASES_1D = [(L, k, s, p, d) for L, k, s, p, d in GRID_1D if _torch_size(L, k, s, p, d, True) >= 1 and L >= 2
            and (s > 1 and (L + k + s + p + d) % 2 == 0 or s == 1 and L in (5, 8) and d == 1)]


@needs_torch
@pytest.mark.parametrize("L, k, s, p, d", CASES_1D)
def test_max_pool1d_ceil_matches_torch(L, k, s, p, d):
    assert _real_windows((L,), k, s, p, d)
    _compare("max_pool1d", (2, 3, L), k, s, p, d, ceil_mode=True, return_indices=True)
    _compare("max_pool1d", (3, L), k, s, p, d, ceil_mode=True)  # unbatched


@needs_torch
@pytest.mark.parametrize("L, k, s, p", sorted({c[:4] for c in CASES_1D}))
@pytest.mark.parametrize("cip", [True, False])
def test_avg_pool1d_ceil_matches_torch(L, k, s, p, cip):
    _compare("avg_pool1d", (2, 3, L), k, s, p, True, cip)


# --- 2-D ---------------------------------------------------------------------------------------------------------
CASES_2D = [  # (H, W), kernel, stride, padding, dilation
    ((8, 8), 3, 2, 0, 1),  # GoogLeNet's nn.MaxPool2d(3, 2, ceil_mode=True): 8 -> 4 (3 without ceil_mode)
    ((5, 5), 3, 2, 0, 1),  # rounding up adds nothing: the plain path
    ((6, 7), 3, 2, 1, 1),
    ((7, 7), 2, 2, 0, 1),
    ((3, 5), 2, 2, 1, 1),  # rounding up gives a window starting at 4 = L + p: PyTorch drops it
    ((5, 10), (3, 2), (2, 3), (1, 0), 1),
    ((6, 6), (2, 3), (3, 2), (1, 1), 1),
    ((7, 8), 3, 3, 1, (2, 1)),
    ((8, 5), (3, 2), 2, 0, (1, 2)),
    ((4, 6), 3, 2, 1, 2),
    ((4, 4), 2, 3, 0, 1),
]


@needs_torch
@pytest.mark.parametrize("hw, k, s, p, d", CASES_2D)
def test_max_pool2d_ceil_matches_torch(hw, k, s, p, d):
    assert _real_windows(hw, k, s, p, d)
    _compare("max_pool2d", (2, 3) + hw, k, s, p, d, ceil_mode=True, return_indices=True)
    _compare("max_pool2d", (3,) + hw, k, s, p, d, ceil_mode=True)  # unbatched


@needs_torch
@pytest.mark.parametrize("hw, k, s, p", [c[:4] for c in CASES_2D if c[4] == 1])
@pytest.mark.parametrize("cip", [True, False])
@pytest.mark.parametrize("divisor", [None, 5])
def test_avg_pool2d_ceil_matches_torch(hw, k, s, p, cip, divisor):
    _compare("avg_pool2d", (2, 3) + hw, k, s, p, True, cip, divisor)


@needs_torch
def test_max_pool2d_2x2_on_odd_images_matches_torch():
    # odd sizes: ceil_mode pads a column and a row of -inf, then the 2×2 stride-2 path (kept codes) runs
    for shape in ((2, 3, 9, 17), (1, 2, 16, 15), (2, 1, 15, 16)):
        _compare("max_pool2d", shape, 2, 2, ceil_mode=True, return_indices=True)
        _compare("max_pool2d", shape, 2, 2, ceil_mode=True)


def test_ceil_mode_that_adds_no_window_keeps_the_plain_path(monkeypatch):
    from matgrad.ops import join

    def no_pad(*args, **kwargs):
        raise AssertionError("ceil_mode padded an input whose floor and ceil sizes agree")

    monkeypatch.setattr(join, "pad", no_pad)
    x = mg.randn(2, 3, 16, 16, requires_grad=True)
    y = MF.max_pool2d(x, 2, ceil_mode=True)
    assert y.shape == (2, 3, 8, 8)
    y.sum().backward()
    assert MF.avg_pool2d(x, 3, 1, 1, ceil_mode=True).shape == (2, 3, 16, 16)
    assert MF.avg_pool1d(x[0], 4, 4, ceil_mode=True, count_include_pad=False).shape == (3, 16, 4)
    assert MF.max_pool3d(x.reshape(1, 2, 6, 16, 8), 2, ceil_mode=True, return_indices=True)[0].shape == (1, 2, 3, 8, 4)


@pytest.mark.parametrize("shape", [(2, 3, 15, 17), (1, 2, 16, 15)])
def test_ceil_mode_on_odd_2x2_images_routes_through_the_kept_codes(shape, monkeypatch):
    from matgrad.ops import pooling

    calls = []
    route = pooling._route2x2
    monkeypatch.setattr(pooling, "_route2x2", lambda *a: calls.append(1) or route(*a))
    rng = np.random.default_rng(7)
    a = rng.integers(-1, 2, shape).astype(np.float32)  # few distinct values: most windows tie
    x = mg.tensor(a, requires_grad=True)
    y = MF.max_pool2d(x, 2, ceil_mode=True)
    assert y.shape == shape[:2] + (-(-shape[2] // 2), -(-shape[3] // 2))
    g = rng.standard_normal(y.shape).astype(np.float32)
    y.backward(mg.tensor(g))
    assert calls  # the fast 2×2 path ran on the padded input
    if torch is not None:
        t = torch.tensor(a, requires_grad=True)
        yt = TF.max_pool2d(t, 2, ceil_mode=True)
        yt.backward(torch.tensor(g))
        np.testing.assert_array_equal(y.numpy(), yt.detach().numpy())
        np.testing.assert_array_equal(x.grad.numpy(), t.grad.numpy())
        np.testing.assert_array_equal(MF.max_pool2d(x, 2, ceil_mode=True, return_indices=True)[1].numpy(),
                                      TF.max_pool2d(t, 2, ceil_mode=True, return_indices=True)[1].numpy())


# --- 3-D ---------------------------------------------------------------------------------------------------------
CASES_3D = [  # (D, H, W), kernel, stride, padding, dilation
    ((3, 5, 4), 2, 2, 0, 1),
    ((5, 4, 7), 3, 2, 1, 1),
    ((4, 6, 5), (3, 2, 3), (2, 3, 2), (1, 1, 0), 1),
    ((5, 5, 6), 3, (3, 2, 2), (0, 1, 1), (2, 1, 1)),
    ((6, 6, 6), (2, 3, 2), 2, 1, (1, 1, 2)),
]


@needs_torch
@pytest.mark.parametrize("dhw, k, s, p, d", CASES_3D)
def test_max_pool3d_ceil_matches_torch(dhw, k, s, p, d):
    assert _real_windows(dhw, k, s, p, d)
    _compare("max_pool3d", (2, 2) + dhw, k, s, p, d, ceil_mode=True, return_indices=True)
    _compare("max_pool3d", (2,) + dhw, k, s, p, d, ceil_mode=True)  # unbatched


@needs_torch
@pytest.mark.parametrize("dhw, k, s, p", [c[:4] for c in CASES_3D])
@pytest.mark.parametrize("cip", [True, False])
@pytest.mark.parametrize("divisor", [None, 7])
def test_avg_pool3d_ceil_matches_torch(dhw, k, s, p, cip, divisor):
    _compare("avg_pool3d", (2, 2) + dhw, k, s, p, True, cip, divisor)


@needs_torch
def test_ceil_mode_only_in_depth_matches_torch():
    # H and W fit the windows exactly; only the depth gets a window that runs off its end
    for name, args in (("max_pool3d", (2, 2, 0, 1, True)), ("avg_pool3d", (2, 2, 0, True, True)),
                       ("avg_pool3d", (3, 2, 1, True, False))):
        _compare(name, (1, 2, 5, 4, 6), *args)


# --- LP pooling --------------------------------------------------------------------------------------------------
@needs_torch
@pytest.mark.parametrize("norm", [1.0, 2.0, 3.0, float("inf")])
def test_lp_pool_ceil_matches_torch(norm):
    # positive inputs: x ** p of a negative x is nan for fractional powers in both
    _compare("lp_pool1d", (2, 3, 7), norm, 3, 2, True, positive=True)
    _compare("lp_pool1d", (2, 3, 8), norm, 3, None, True, positive=True)
    _compare("lp_pool2d", (2, 2, 7, 6), norm, (3, 2), (2, 4), True, positive=True)
    _compare("lp_pool3d", (1, 2, 5, 4, 7), norm, 2, (2, 3, 2), True, positive=True)


@needs_torch
def test_lp_pool_modules_ceil_match_torch():
    rng = np.random.default_rng(3)
    for nd, shape in ((1, (2, 3, 9)), (2, (2, 3, 7, 5)), (3, (1, 2, 5, 5, 3))):
        a = np.abs(rng.standard_normal(shape)) + 0.1
        m = getattr(mg.nn, f"LPPool{nd}d")(2, 2, ceil_mode=True)
        t = getattr(torch.nn, f"LPPool{nd}d")(2, 2, ceil_mode=True)
        np.testing.assert_allclose(m(mg.tensor(a)).numpy(), t(torch.tensor(a)).numpy(), rtol=1e-12)


# --- finite differences -----------------------------------------------------------------------------------------
FD_CASES = [  # (function name, input shape, positional arguments after the input)
    ("max_pool1d", (2, 2, 7), (3, 2, 1, 1, True)),
    ("max_pool1d", (1, 2, 8), (2, 3, 0, 2, True)),
    ("avg_pool1d", (2, 2, 7), (3, 2, 1, True, True)),
    ("avg_pool1d", (2, 2, 6), (3, 2, 1, True, False)),
    ("max_pool2d", (1, 2, 5, 6), (3, 2, 1, 1, True)),
    ("max_pool2d", (1, 2, 7, 7), (2, 2, 0, 1, True)),
    ("max_pool2d", (1, 2, 6, 5), ((3, 2), (2, 3), (1, 0), (1, 2), True)),
    ("avg_pool2d", (1, 2, 5, 6), (3, 2, 1, True, True)),
    ("avg_pool2d", (1, 2, 6, 5), ((3, 2), 2, (1, 0), True, False)),
    ("avg_pool2d", (1, 2, 5, 5), (2, 2, 0, True, True, 3)),
    ("max_pool3d", (1, 2, 3, 5, 4), (2, 2, 0, 1, True)),
    ("max_pool3d", (1, 1, 5, 4, 5), (3, 2, 1, 1, True)),
    ("avg_pool3d", (1, 2, 3, 5, 4), (2, 2, 0, True, True)),
    ("avg_pool3d", (1, 1, 5, 4, 5), (3, 2, 1, True, False)),
    ("avg_pool3d", (1, 1, 4, 3, 5), (2, 2, 1, True, True, 5)),
]


@pytest.mark.parametrize("name, shape, args", FD_CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(FD_CASES)])
def test_ceil_mode_finite_differences(name, shape, args):
    check_op(lambda x: getattr(MF, name)(x, *args), shape, torch_fn=_t(name, *args))


@pytest.mark.parametrize("nd, shape", [(1, (1, 2, 7)), (2, (1, 2, 5, 4)), (3, (1, 1, 3, 5, 4))])
def test_lp_pool_ceil_finite_differences(nd, shape):
    fn = f"lp_pool{nd}d"
    check_op(lambda x: getattr(MF, fn)(x, 2.0, 2, 2, True), shape, positive=True, torch_fn=_t(fn, 2.0, 2, 2, True))


# --- modules and the max_unpool round trip ------------------------------------------------------------------------
@needs_torch
def test_max_pool2d_module_ceil_mode_matches_torch():
    a = np.random.default_rng(4).standard_normal((2, 3, 13, 11))
    m, t = mg.nn.MaxPool2d(3, 2, ceil_mode=True), torch.nn.MaxPool2d(3, 2, ceil_mode=True)
    y = m(mg.tensor(a))
    assert y.shape == (2, 3, 6, 5) == tuple(t(torch.tensor(a)).shape)
    np.testing.assert_array_equal(y.numpy(), t(torch.tensor(a)).numpy())
    for nd, shape in ((1, (2, 3, 9)), (3, (1, 2, 5, 6, 7))):
        a = np.random.default_rng(nd).standard_normal(shape)
        for cls in ("MaxPool", "AvgPool"):
            m, t = getattr(mg.nn, f"{cls}{nd}d")(3, 2, ceil_mode=True), getattr(torch.nn, f"{cls}{nd}d")(3, 2,
                                                                                                        ceil_mode=True)
            np.testing.assert_allclose(m(mg.tensor(a)).numpy(), t(torch.tensor(a)).numpy(), rtol=1e-12)


@needs_torch
@pytest.mark.parametrize("nd, shape, k, s, p", [
    (1, (2, 3, 9), 3, 2, 1),
    (1, (2, 3, 8), 2, 3, 0),
    (2, (2, 3, 7, 9), 3, 2, 1),
    (2, (1, 2, 5, 5), 2, 2, 0),
    (3, (1, 2, 5, 6, 7), 3, 2, 1),
    (3, (1, 2, 3, 5, 5), 2, 2, 0),
])
def test_max_unpool_round_trip_after_ceil_mode(nd, shape, k, s, p):
    a = np.random.default_rng(5).standard_normal(shape)
    x, t = mg.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    pool, tpool = (getattr(m.nn, f"MaxPool{nd}d")(k, s, p, return_indices=True, ceil_mode=True) for m in (mg, torch))
    unpool, tunpool = (getattr(m.nn, f"MaxUnpool{nd}d")(k, s, p) for m in (mg, torch))
    (y, i), (ty, ti) = pool(x), tpool(t)
    np.testing.assert_array_equal(i.numpy(), ti.numpy())
    z, tz = unpool(y, i, output_size=x.shape), tunpool(ty, ti, output_size=t.shape)
    assert tuple(z.shape) == shape == tuple(tz.shape)
    np.testing.assert_array_equal(z.numpy(), tz.detach().numpy())
    # each window's maximum back where it came from, zeros elsewhere
    np.testing.assert_array_equal(z.numpy()[z.numpy() != 0], a[z.numpy() != 0])
    w = np.random.default_rng(6).standard_normal(shape)
    (z * mg.tensor(w)).sum().backward()
    (tz * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(x.grad, t.grad.numpy(), rtol=1e-12)
    # without output_size, both unpool to (out - 1)·s - 2p + k per dim, the indices read in that plane
    try:
        want = tunpool(ty.detach(), ti)
    except RuntimeError:
        with pytest.raises(IndexError):
            unpool(y.detach(), i)
        return
    np.testing.assert_array_equal(unpool(y.detach(), i).numpy(), want.numpy())


@needs_torch
def test_pooling_modules_keep_ceil_mode_as_torch():
    modules = [
        ("MaxPool1d", (3, 2), {"ceil_mode": True}), ("MaxPool2d", (3, 2), {"ceil_mode": True}),
        ("MaxPool3d", (3, 2), {"ceil_mode": True, "return_indices": True}), ("MaxPool2d", (2,), {}),
        ("AvgPool1d", (3, 2), {"ceil_mode": True}), ("AvgPool2d", (3, 2, 1), {"ceil_mode": True,
                                                                              "count_include_pad": False}),
        ("AvgPool3d", (3, 2), {"ceil_mode": True, "divisor_override": 2}), ("AvgPool2d", (2,), {}),
        ("LPPool1d", (2, 3, 2), {"ceil_mode": True}), ("LPPool2d", (2, 3), {"ceil_mode": True}),
        ("LPPool3d", (1.5, 3, 2), {"ceil_mode": True}),
    ]
    for name, args, kwargs in modules:
        m, t = getattr(mg.nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
        assert repr(m) == repr(t)
        assert m.ceil_mode is t.ceil_mode
        for attr in ("kernel_size", "stride", "padding", "dilation", "return_indices", "count_include_pad",
                     "divisor_override", "norm_type"):
            if hasattr(t, attr):
                assert getattr(m, attr) == getattr(t, attr), (name, attr)
