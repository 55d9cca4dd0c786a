"""max_pool2d, avg_pool2d, adaptive_avg_pool2d: finite differences (first and second order) and PyTorch."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

import matgrad as mg
from matgrad.ops.pooling import adaptive_avg_pool2d, avg_pool2d, max_pool2d
from tests.helpers import assert_close, check_op, torch

F = None if torch is None else torch.nn.functional


def _t(name, *args, **kwargs):
    return None if F is None else (lambda x: getattr(F, name)(x, *args, **kwargs))


# (input shape, kernel, stride, padding, dilation)
MAX_CASES = [
    ((2, 3, 6, 6), 2, None, 0, 1),
    ((1, 2, 7, 5), 3, 2, 1, 1),
    ((2, 1, 7, 8), (2, 3), (1, 2), (1, 0), 1),
    ((1, 2, 7, 7), 2, 1, 1, 2),
    # windows apart (stride > dilation·(kernel-1)): the backward writes each window in place
    ((2, 2, 7, 7), 2, 2, 1, 1),
    ((1, 2, 8, 9), (2, 3), (3, 3), 0, 1),
    ((1, 1, 7, 7), 2, 3, 0, 2),
]


@pytest.mark.parametrize("shape, k, s, p, d", MAX_CASES)
def test_max_pool2d(shape, k, s, p, d):
    check_op(lambda x: max_pool2d(x, k, s, p, d), shape, torch_fn=_t("max_pool2d", k, s, p, d))


AVG_CASES = [
    ((2, 3, 6, 6), 2, None, 0, True),
    ((1, 2, 7, 5), 3, 2, 1, True),
    ((1, 2, 7, 5), 3, 2, 1, False),
    ((2, 1, 5, 8), (2, 3), (1, 2), (1, 1), False),
]


@pytest.mark.parametrize("shape, k, s, p, cip", AVG_CASES)
def test_avg_pool2d(shape, k, s, p, cip):
    check_op(lambda x: avg_pool2d(x, k, s, p, count_include_pad=cip), shape,
             torch_fn=_t("avg_pool2d", k, s, p, count_include_pad=cip))


def test_avg_pool2d_divisor_override():
    check_op(lambda x: avg_pool2d(x, 2, 1, divisor_override=3), (1, 2, 4, 5),
             torch_fn=_t("avg_pool2d", 2, 1, divisor_override=3))


@pytest.mark.parametrize("shape, size", [((2, 3, 7, 6), (3, 4)), ((1, 2, 5, 5), 1),
                                         ((1, 1, 4, 6), (5, None))])
def test_adaptive_avg_pool2d(shape, size):
    check_op(lambda x: adaptive_avg_pool2d(x, size), shape, torch_fn=_t("adaptive_avg_pool2d", size))


def test_max_pool_routes_the_gradient_to_the_argmax_only():
    x = mg.tensor([[[[1.0, 5.0, 2.0, 0.0], [3.0, 4.0, 9.0, 8.0]]]], requires_grad=True)
    y = max_pool2d(x, 2)
    np.testing.assert_array_equal(y.numpy(), [[[[5.0, 9.0]]]])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, [[[[0, 1, 0, 0], [0, 0, 1, 0]]]])


def test_max_pool_ties_route_to_the_first_maximum_like_torch():
    x = np.array([[[[2.0, 2.0, 1.0, 3.0], [2.0, 0.0, 3.0, 3.0], [5.0, 5.0, 5.0, 5.0], [5.0, 5.0, 5.0, 5.0]]]])
    ours = mg.tensor(x, requires_grad=True)
    max_pool2d(ours, 2, 1).sum().backward()  # overlapping windows, many ties
    # windows at row 0: first 2 at (0,0), 3 at (1,2), first 3 at (0,3); rows 1-2 and 2-3: the 5s of row 2
    expected = np.array([[[[1, 0, 0, 1], [0, 0, 1, 0], [2, 2, 2, 0], [0, 0, 0, 0]]]], dtype=float)
    np.testing.assert_array_equal(ours.grad, expected)
    if torch is not None:
        theirs = torch.tensor(x, requires_grad=True)
        F.max_pool2d(theirs, 2, 1).sum().backward()
        np.testing.assert_array_equal(ours.grad, theirs.grad.numpy())


@pytest.mark.parametrize("k, s, p", [(2, 2, 0), (2, 2, 1), (3, 3, 1), (2, 1, 0)])
def test_max_pool_after_relu_routes_zero_ties_like_torch(k, s, p):
    # ReLU leaves whole windows of zeros: each must send its gradient to its first zero only
    if torch is None:
        pytest.skip("needs PyTorch")
    rng = np.random.default_rng(0)
    x = np.maximum(rng.standard_normal((4, 3, 13, 13)), 0).astype(np.float32)
    dy = rng.standard_normal(F.max_pool2d(torch.tensor(x), k, s, p).shape).astype(np.float32)
    ours = mg.tensor(x, requires_grad=True)
    max_pool2d(ours, k, s, p).backward(mg.tensor(dy))
    theirs = torch.tensor(x, requires_grad=True)
    F.max_pool2d(theirs, k, s, p).backward(torch.tensor(dy))
    if s >= k:  # one window per pixel: each gradient is one dy, exactly
        np.testing.assert_array_equal(ours.grad, theirs.grad.numpy())
    else:  # overlapping windows add several dy, in another order than PyTorch's
        assert_close(ours.grad, theirs.grad.numpy(), rtol=1e-5)
        np.testing.assert_array_equal(ours.grad != 0, theirs.grad.numpy() != 0)


def test_max_pool_nan_wins_its_window_like_torch():
    x = mg.tensor([[[[1.0, np.nan, 2.0, 0.0], [3.0, 4.0, 9.0, 8.0]]]])
    y = max_pool2d(x, 2).numpy()
    assert np.isnan(y[0, 0, 0, 0]) and y[0, 0, 0, 1] == 9.0


def test_max_pool_padding_is_never_the_maximum():
    x = mg.full((1, 1, 3, 3), -7.0)
    assert max_pool2d(x, 3, 1, 1).numpy().max() == -7.0


def test_float32_and_unbatched():
    x = mg.randn(3, 8, 8, requires_grad=True)
    for y in (max_pool2d(x, 2), avg_pool2d(x, 2), adaptive_avg_pool2d(x, 4)):
        assert y.shape == (3, 4, 4) and y.dtype == np.float32
        y.sum().backward()
        assert x.grad.dtype == np.float32


@pytest.mark.parametrize("call, exc, match", [
    (lambda x: max_pool2d(x, 2, padding=2), ValueError, "at most half"),
    (lambda x: max_pool2d(x, 9), ValueError, "smaller than the window"),
    (lambda x: max_pool2d(x[0, 0], 2), ValueError, "expected input of shape"),
])
def test_bad_arguments_say_what_is_wrong(call, exc, match):
    with pytest.raises(exc, match=match):
        call(mg.zeros(1, 1, 4, 4))


# --- 2×2 windows at stride 2: the winner kept as a code (_max2x2, _route2x2) -------------------------------
def _channel_major(x):
    """x (N, C, H, W) laid out as (C, N, H, W), as an im2col conv's output is."""
    return x.permute(1, 0, 2, 3).contiguous().permute(1, 0, 2, 3)


def _on_grid(x):
    """x (N, C, H, W) laid out as (C, H, N, W), as a stride-1 conv's output is."""
    return x.permute(1, 2, 0, 3).contiguous().permute(2, 0, 1, 3)


PREP = {"C": lambda x: x, "channels first": _channel_major, "grid": _on_grid}


def _np_layouts(a):
    """a NumPy array (N, C, H, W) in C order, channels first and on a conv's grid."""
    return (a, a.transpose(1, 0, 2, 3).copy().transpose(1, 0, 2, 3),
            a.transpose(1, 2, 0, 3).copy().transpose(2, 0, 1, 3))


@pytest.mark.parametrize("shape", [(2, 3, 6, 6), (1, 2, 7, 5), (2, 2, 5, 9), (3, 2, 4, 6)])
@pytest.mark.parametrize("layout", list(PREP))
def test_max_pool2d_2x2_through_the_kept_codes(shape, layout, monkeypatch):
    from matgrad.ops import pooling

    monkeypatch.setattr(pooling, "_MIN_WIDTH", 1)  # the test images are narrow
    prep = PREP[layout]
    check_op(lambda x: max_pool2d(prep(x), 2), shape, torch_fn=_t("max_pool2d", 2))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(3, 4, 8, 8), (2, 3, 7, 9), (2, 2, 28, 28)])
def test_max_pool2d_2x2_ties_go_to_the_first_maximum_as_in_torch(dtype, shape, monkeypatch):
    """Few distinct values, so most windows tie (also across the diagonal); the gradient is dy exactly."""
    from matgrad.ops import pooling

    monkeypatch.setattr(pooling, "_MIN_WIDTH", 1)
    rng = np.random.default_rng(3)
    a = rng.integers(-1, 2, shape).astype(dtype)
    g = rng.standard_normal(shape[:2] + (shape[2] // 2, shape[3] // 2)).astype(dtype)
    want, want_grad = np.zeros_like(g), np.zeros_like(a)
    for n, c, i, j in np.ndindex(g.shape):  # PyTorch's scan: the first maximum, row by row
        window = a[n, c, 2 * i:2 * i + 2, 2 * j:2 * j + 2]
        r, q = divmod(int(np.argmax(window)), 2)
        want[n, c, i, j] = window.max()
        want_grad[n, c, 2 * i + r, 2 * j + q] = g[n, c, i, j]
    for x in (mg.tensor(a, requires_grad=True), _channel_major(mg.tensor(a)).detach().requires_grad_()):
        y = max_pool2d(x, 2)
        y.backward(mg.tensor(g))
        np.testing.assert_array_equal(y.numpy(), want)
        np.testing.assert_array_equal(x.grad.numpy(), want_grad)
        if torch is not None:
            xt = torch.tensor(a, requires_grad=True)
            F.max_pool2d(xt, 2).backward(torch.tensor(g))
            np.testing.assert_array_equal(x.grad.numpy(), xt.grad.numpy())


@pytest.mark.parametrize("shape,k,s", [((2, 3, 16, 16), 2, 2), ((2, 3, 9, 9), 3, 2), ((2, 3, 6, 6), 2, 2)])
@pytest.mark.parametrize("channels_first", [False, True])
def test_max_pool_non_finite_values_route_like_torch(shape, k, s, channels_first):
    """inf or nan in dy moves as it is (never inf·0 = nan beside the maximum); a nan window's dy goes to its
    last nan, as PyTorch's scan (a nan always takes the window over)."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape).astype(np.float32)
    x[0, 0, 0, 0] = x[0, 0, 0, 1] = np.nan  # two nans in one window
    x[1, 2, 3, 3] = np.inf
    ho = (shape[2] - k) // s + 1
    dy = rng.standard_normal((shape[0], shape[1], ho, ho)).astype(np.float32)
    dy[0, 1, 0, 0], dy[1, 0, 2, 2] = np.inf, np.nan
    if channels_first:  # laid out as a conv's output
        x = x.transpose(1, 0, 2, 3).copy().transpose(1, 0, 2, 3)
    ours = mg.tensor(x, requires_grad=True)
    y = max_pool2d(ours, k, s)
    y.backward(mg.tensor(dy))
    theirs = torch.tensor(x, requires_grad=True)
    yt = torch.nn.functional.max_pool2d(theirs, k, s)
    yt.backward(torch.tensor(dy))
    np.testing.assert_array_equal(y.numpy(), yt.detach().numpy())
    np.testing.assert_array_equal(ours.grad.numpy(), theirs.grad.numpy())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(3, 5, 8, 12), (2, 3, 28, 28), (2, 3, 7, 9), (1, 1, 2, 2)])
@pytest.mark.parametrize("block", [64, 1 << 16])  # several blocks (the last one partial) and one
def test_max2x2_blocks_are_bit_for_bit_the_strided_passes(dtype, shape, block, monkeypatch):
    """_max2x2's contiguous passes over blocks of planes against its strided passes (taken when y's codes are
    laid out unlike x): the same maxima (nan, ±inf, ±0 included) and the same codes, in either layout."""
    from matgrad.ops import pooling

    monkeypatch.setattr(pooling, "_BLOCK", block)
    rng = np.random.default_rng(5)
    a = rng.integers(-2, 3, shape).astype(dtype)
    flat = a.reshape(-1)
    for v in (np.nan, np.inf, -np.inf, -0.0):
        flat[rng.integers(0, flat.size, max(1, flat.size // 20))] = v
    ho, wo = shape[2] // 2, shape[3] // 2
    bits = np.uint32 if dtype == np.float32 else np.uint64
    for x in _np_layouts(a):  # (even images on the grid: as (A, 1, H, B·W) planes)
        y = np.empty_like(x, shape=shape[:2] + (ho, wo))
        codes = np.empty_like(y, np.uint8), np.empty_like(y, np.uint8)
        pooling._max2x2(x, y, *codes)
        strided_y = np.empty_like(y)
        other = np.empty(y.shape[::-1], np.uint8).T  # laid out unlike y: the strided passes
        strided_codes = other, np.empty_like(other)
        pooling._max2x2(x, strided_y, *strided_codes)
        np.testing.assert_array_equal(y.view(bits), strided_y.view(bits))
        np.testing.assert_array_equal(codes[0], strided_codes[0])
        np.testing.assert_array_equal(codes[1], strided_codes[1])


@pytest.mark.parametrize("shape", [(3, 4, 8, 6), (2, 3, 7, 9)])
def test_route2x2_is_the_same_in_every_layout(shape):
    """_route2x2 puts its arrays in dx's memory order first: dy, the codes and dx laid out alike or not, C or
    channels first, every dx is the one routed in C order (an odd last row and column zeroed)."""
    from matgrad.ops import pooling

    rng = np.random.default_rng(7)
    x = rng.integers(-2, 3, shape).astype(np.float32)
    ho, wo = shape[2] // 2, shape[3] // 2
    y = np.empty(shape[:2] + (ho, wo), np.float32)
    codes = np.empty(y.shape, np.uint8), np.empty(y.shape, np.uint8)
    pooling._max2x2(x, y, *codes)
    dy = rng.standard_normal(y.shape).astype(np.float32)
    want = np.full(shape, np.nan, np.float32)
    pooling._route2x2(dy, *codes, want)
    assert not np.isnan(want).any() and np.count_nonzero(want) == dy.size

    for dy_, up, down, dx in itertools.product(_np_layouts(dy), _np_layouts(codes[0]), _np_layouts(codes[1]),
                                               _np_layouts(np.full(shape, np.nan, np.float32))):
        pooling._route2x2(dy_, up, down, dx)
        np.testing.assert_array_equal(dx, want)


# --- narrow images: the same codes with the planes innermost (_max2x2_planes, _route2x2_planes) ---------------
@pytest.mark.parametrize("shape", [(2, 3, 7, 7), (1, 2, 7, 5), (2, 2, 5, 9), (3, 2, 9, 3)])
@pytest.mark.parametrize("layout", list(PREP))
def test_max_pool2d_2x2_narrow_images_through_the_planes(shape, layout, monkeypatch):
    from matgrad.ops import pooling

    calls = []
    route = pooling._route2x2_planes
    monkeypatch.setattr(pooling, "_route2x2_planes", lambda *a: calls.append(1) or route(*a))
    prep = PREP[layout]
    check_op(lambda x: max_pool2d(prep(x), 2), shape, torch_fn=_t("max_pool2d", 2))
    assert calls  # the first-order gradient went through the planes (create_graph takes the index routes)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(3, 5, 7, 7), (2, 3, 6, 6), (2, 3, 5, 9), (4, 2, 9, 3), (1, 1, 2, 2)])
@pytest.mark.parametrize("layout", list(PREP))
@pytest.mark.parametrize("block, threads", [(40, 1), (1 << 18, 1), (40, 2)])  # a plane or few a block, and one
def test_narrow_images_pool_bit_for_bit_as_the_strided_passes(dtype, shape, layout, block, threads, monkeypatch):
    """y and dx through the planes against _window_max and _route_back (_PLANES_WINDOWS = 0): the same bits, ties
    (few distinct values), ±0 and ±inf included, dy in C order or laid out as y; and PyTorch. (Where dx is laid
    out: test_max_pool_gradient_laid_out_otherwise_than_its_output.)"""
    from matgrad import parallel
    from matgrad.ops import pooling

    monkeypatch.setattr(pooling, "_BLOCK", block)
    monkeypatch.setattr(parallel, "MIN_SIZE_HEAVY", 1)  # cut even these planes across the threads
    old_threads = mg.get_num_threads()
    mg.set_num_threads(threads)
    rng = np.random.default_rng(11)
    a = rng.integers(-2, 3, shape).astype(dtype)
    flat = a.reshape(-1)
    for v in (np.inf, -np.inf, -0.0):
        flat[rng.integers(0, flat.size, max(1, flat.size // 20))] = v
    a = dict(zip(PREP, _np_layouts(a)))[layout]
    g = rng.standard_normal(shape[:2] + (shape[2] // 2, shape[3] // 2)).astype(dtype)
    bits = np.uint32 if dtype == np.float32 else np.uint64
    calls = []
    route = pooling._route2x2_planes
    monkeypatch.setattr(pooling, "_route2x2_planes", lambda *a: calls.append(1) or route(*a))
    try:
        results = []
        for windows in (pooling._PLANES_WINDOWS, 0):
            monkeypatch.setattr(pooling, "_PLANES_WINDOWS", windows)
            calls.append(windows)
            for dy in (g, np.ascontiguousarray(g.transpose(1, 0, 2, 3)).transpose(1, 0, 2, 3)):
                x = mg.from_numpy(a).requires_grad_()
                y = max_pool2d(x, 2)
                y.backward(mg.from_numpy(dy))
                results.append((y.numpy().view(bits), x.grad.numpy().view(bits)))
    finally:
        mg.set_num_threads(old_threads)
    assert calls[0] and calls[1] == 1 and calls[-1] == 0  # the planes routed the first runs' dy, not the others'
    for y, dx in results[1:]:
        np.testing.assert_array_equal(y, results[0][0])
        np.testing.assert_array_equal(dx, results[0][1])
    if torch is not None:
        xt = torch.tensor(a, requires_grad=True)
        yt = F.max_pool2d(xt, 2)
        yt.backward(torch.tensor(g))
        np.testing.assert_array_equal(results[0][0].view(dtype), yt.detach().numpy())
        np.testing.assert_array_equal(results[0][1].view(dtype), xt.grad.numpy())


def test_narrow_images_with_many_windows_keep_the_strided_passes(monkeypatch):
    # the backward makes four calls a window: a tall narrow image (here 25 windows a plane) keeps _window_max
    from matgrad.ops import pooling

    calls = []
    monkeypatch.setattr(pooling, "_max2x2_planes", lambda *a: calls.append(1))
    rng = np.random.default_rng(0)
    assert max_pool2d(mg.tensor(rng.standard_normal((2, 3, 10, 11))), 2).shape == (2, 3, 5, 5) and not calls
    max_pool2d(mg.tensor(rng.standard_normal((2, 3, 8, 9))), 2)  # 16 windows: the planes
    assert calls


@pytest.mark.parametrize("shape, min_width", [((16, 32, 7, 7), 7), ((16, 32, 14, 14), 7), ((16, 32, 6, 6), 1)])
@pytest.mark.parametrize("grid", [False, True])
def test_max_pool_gradient_laid_out_otherwise_than_its_output(shape, min_width, grid, monkeypatch):
    # a conv's output pooled ((C, N, H, W) in memory, or on a stride-1 conv's grid, (C, H, N, W)), its gradient
    # coming back in C order (as from Flatten): dy is copied to y's layout first; dx is the same as from a dy laid
    # out as y, and is laid out as x
    from matgrad.ops import pooling

    monkeypatch.setattr(pooling, "_MIN_WIDTH", min_width)
    rng = np.random.default_rng(7)
    if grid:
        base = mg.tensor(rng.standard_normal((shape[1], shape[2], shape[0], shape[3])), requires_grad=True)
        x = base.permute(2, 0, 1, 3)  # (N, C, H, W), laid out (C, H, N, W)
    else:
        base = mg.tensor(rng.standard_normal((shape[1], shape[0]) + shape[2:]), requires_grad=True)
        x = base.permute(1, 0, 2, 3)  # (N, C, H, W), laid out (C, N, H, W)
    seen = []
    x.register_hook(lambda g: seen.append(g.numpy().strides))
    y = max_pool2d(x, 2)
    dy = rng.standard_normal(y.shape)
    like_y = np.empty_like(y.numpy())
    like_y[...] = dy
    assert like_y.strides != dy.strides
    (dx_c,) = mg.autograd.grad(y, [base], mg.tensor(dy), retain_graph=True)
    (dx_like,) = mg.autograd.grad(y, [base], mg.from_numpy(like_y))  # (mg.tensor would copy it to C order)
    np.testing.assert_array_equal(dx_c.numpy(), dx_like.numpy())
    assert seen[0] == x.numpy().strides
    if torch is not None:
        bt = torch.tensor(base.numpy(), requires_grad=True)
        F.max_pool2d(bt.permute(2, 0, 1, 3) if grid else bt.permute(1, 0, 2, 3), 2).backward(torch.tensor(dy))
        np.testing.assert_array_equal(dx_c.numpy(), bt.grad.numpy())
