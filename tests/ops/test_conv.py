"""conv2d and conv_transpose2d: finite differences (first and second order) and PyTorch, through both
the stride-1 shifted-products path and the general im2col path."""
from __future__ import annotations

import numpy as np
import pytest

import matgrad as mg
from matgrad.ops import conv as conv_mod
from matgrad.ops.conv import _input_grad_flat, conv2d, conv_forward, conv_transpose2d, fold, unfold
from matgrad.parallel import memory_order
from tests.helpers import check_op, torch

F = None if torch is None else torch.nn.functional


@pytest.fixture(params=["shifted", "im2col"])
def path(request, monkeypatch):
    """Every stride-1, one-group conv through the shifted products (any channel count), or none of them."""
    monkeypatch.setattr(conv_mod, "_MIN_CHANNELS", 1 if request.param == "shifted" else 1 << 62)
    return request.param

# (input shape, weight shape, stride, padding, dilation, groups): odd sizes, every knob
CONV_CASES = [
    ((2, 3, 5, 4), (4, 3, 3, 3), 1, 0, 1, 1),
    ((1, 2, 7, 6), (3, 2, 3, 2), 2, 1, 1, 1),
    ((2, 4, 6, 7), (6, 2, 3, 3), (2, 1), (1, 2), 1, 2),
    ((1, 3, 7, 7), (3, 1, 2, 3), 1, 2, 2, 3),
    ((2, 2, 5, 5), (2, 2, 1, 1), 3, 0, 1, 1),
    ((1, 4, 14, 13), (4, 2, 3, 3), 1, 1, 1, 2),  # stride 1, little padding: the shifted-grid fold
    ((1, 2, 12, 11), (2, 2, 2, 2), 1, 2, 2, 1),
]


def _t(fn):
    """The same call through torch.nn.functional, or None without torch."""
    return None if F is None else getattr(F, fn)


@pytest.mark.parametrize("xs, ws, s, p, d, g", CONV_CASES)
def test_conv2d_gradients_and_torch(path, xs, ws, s, p, d, g):
    f = _t("conv2d")
    check_op(lambda x, w, b: conv2d(x, w, b, s, p, d, g), xs, ws, (ws[0],),
             torch_fn=f and (lambda x, w, b: f(x, w, b, s, p, d, g)))


@pytest.mark.parametrize("xs, ws, s, p, d, g", CONV_CASES[:3])
def test_conv2d_without_bias(xs, ws, s, p, d, g):
    f = _t("conv2d")
    check_op(lambda x, w: conv2d(x, w, None, s, p, d, g), xs, ws, second=False,
             torch_fn=f and (lambda x, w: f(x, w, None, s, p, d, g)))


# (input shape, weight shape (C_in, C_out/g, kH, kW), stride, padding, output_padding, groups, dilation)
TRANSPOSE_CASES = [
    ((2, 3, 3, 4), (3, 2, 3, 3), 1, 0, 0, 1, 1),
    ((1, 2, 3, 3), (2, 3, 3, 2), 2, 1, 1, 1, 1),
    ((2, 4, 3, 2), (4, 1, 2, 3), (2, 3), (0, 1), (1, 2), 2, 1),
    ((1, 3, 4, 3), (3, 2, 3, 3), 1, 1, 1, 3, 2),
    ((2, 3, 4, 3), (3, 2, 3, 2), 1, (1, 0), (1, 0), 1, 2),  # stride 1, one group: cut short by output_padding
    ((1, 3, 4, 4), (3, 2, 3, 3), 1, 2, 1, 1, 2),  # a size-keeping conv's transpose, output_padding past its input
]


@pytest.mark.parametrize("xs, ws, s, p, op, g, d", TRANSPOSE_CASES)
def test_conv_transpose2d_gradients_and_torch(path, xs, ws, s, p, op, g, d):
    f = _t("conv_transpose2d")
    check_op(lambda x, w, b: conv_transpose2d(x, w, b, s, p, op, g, d), xs, ws, (ws[1] * g,),
             torch_fn=f and (lambda x, w, b: f(x, w, b, s, p, op, g, d)))


def test_conv2d_is_the_matrix_product_over_patches():
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((2, 3, 5, 6)), rng.standard_normal((4, 3, 2, 2))
    y = conv2d(mg.tensor(x), mg.tensor(w)).numpy()
    expected = np.zeros((2, 4, 4, 5))
    for i in range(4):
        for j in range(5):
            expected[:, :, i, j] = np.einsum("nchw,ochw->no", x[:, :, i:i + 2, j:j + 2], w)
    np.testing.assert_allclose(y, expected, rtol=1e-12)


@pytest.mark.parametrize("grid", [False, True])
def test_fold_is_the_transpose_of_unfold(grid):
    # ⟨unfold(x), c⟩ = ⟨x, fold(c)⟩ for any x, c: the adjoint the backward relies on
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 3, 7, 6))
    args = ((2, 3), (2, 1), (1, 2), (2, 1))
    cols = unfold(x, *args, grid=grid)
    assert cols.shape == ((3, 2, 3, 4, 2, 8) if grid else (3, 2, 3, 2, 4, 8))  # (C, kH, kW, Hₒ, N, Wₒ) on the grid
    c = rng.standard_normal(cols.shape)
    lhs = np.sum(cols * c)
    dx = fold(c, x.shape, *args[1:], grid=grid)
    assert memory_order(dx) == ([1, 2, 0, 3] if grid else [1, 0, 2, 3])  # (C, H, N, W) in memory on the grid
    rhs = np.sum(x * dx)
    assert lhs == pytest.approx(rhs, rel=1e-12)
    if grid:  # the same columns as the default order, each image's moved
        np.testing.assert_array_equal(cols, unfold(x, *args).transpose(0, 1, 2, 4, 3, 5))


@pytest.mark.parametrize("xs, ws, s, p, d, g", CONV_CASES + [((3, 1, 6, 5), (8, 1, 3, 3), 1, 1, 1, 1)])
def test_im2col_outputs_lie_on_the_grid_and_every_layout_gives_the_same_gradients(xs, ws, s, p, d, g):
    """The im2col path's Y lies on the output's grid, (O, Hₒ, N, Wₒ) in memory, as the stride-1 path's does; X and dY in
    any layout give the same values; dX lies on X's grid (as a view of the padded fold)."""
    rng = np.random.default_rng(9)
    x, w, b = rng.standard_normal(xs), rng.standard_normal(ws), rng.standard_normal(ws[0])
    y0 = conv2d(mg.tensor(x), mg.tensor(w), mg.tensor(b), s, p, d, g).numpy()
    dy = rng.standard_normal(y0.shape)
    want = _conv_grads(x, w, b, p, d, dy, s, g)
    for (xl, xa), (dl, dya) in [(u, v) for u in _layouts(x).items() for v in _layouts(dy).items()]:
        xt, wt, bt = (mg.from_numpy(a).requires_grad_() for a in (xa, w, b))
        seen = []
        xt.register_hook(lambda g, seen=seen: seen.append(g.numpy()))
        y = conv2d(xt, wt, bt, s, p, d, g)
        assert conv_mod._on_grid(y.numpy()), y.numpy().strides
        y.backward(mg.from_numpy(dya))
        for name, got, e in zip(("y", "dx", "dw", "db"), (y, xt.grad, wt.grad, bt.grad), want):
            np.testing.assert_allclose(got.numpy(), e, rtol=1e-12, atol=1e-12, err_msg=f"{name}: x {xl}, dy {dl}")
        ph, pw = (p, p) if isinstance(p, int) else p
        flat = s == 1 and (xs[2] + 2 * ph) * (xs[3] + 2 * pw) <= 1.35 * y.shape[2] * y.shape[3]  # _input_grad_flat's
        if xs[0] > 1:  # (one image: no order of N to see)
            assert memory_order(seen[0]) == ([1, 0, 2, 3] if flat else [1, 2, 0, 3]), (xl, dl)  # the fold's: grid


@pytest.mark.parametrize("xs, ws, p, d, g", [
    ((2, 4, 9, 8), (6, 2, 3, 3), (1, 1), (1, 1), 2),
    ((1, 3, 10, 12), (2, 3, 2, 3), (2, 1), (2, 1), 1),
    ((2, 2, 64, 70), (3, 2, 3, 3), (1, 1), (1, 1), 1),  # more columns than one GEMM block
])
def test_shifted_grid_input_gradient_equals_fold(xs, ws, p, d, g):
    rng = np.random.default_rng(4)
    x, w = rng.standard_normal(xs), rng.standard_normal(ws)
    y, _ = conv_forward(x, w, (1, 1), p, d, g)
    dy = rng.standard_normal(y.shape)
    n, o, ho, wo = dy.shape
    w2 = w.reshape(g, o // g, -1)
    dcols = np.matmul(w2.transpose(0, 2, 1), dy.transpose(1, 0, 2, 3).reshape(g, o // g, -1))
    general = fold(dcols.reshape(xs[1], ws[2], ws[3], n, ho, wo), xs, (1, 1), p, d)
    shifted = _input_grad_flat(dy, w2, xs, p, d, ws[2:])
    np.testing.assert_allclose(shifted, general, rtol=1e-12, atol=1e-12)


# (input shape, weight shape, padding, dilation): stride 1, one group, the shapes the shifted grid must get right
SHIFTED_CASES = [
    ((2, 4, 9, 8), (6, 4, 3, 3), 1, 1),
    ((1, 5, 10, 7), (3, 5, 5, 5), 2, 1),  # 5×5, batch 1
    ((3, 4, 11, 9), (2, 4, 3, 2), (0, 2), (2, 1)),  # non-square kernel, dilation 2 in H only
    ((2, 4, 5, 6), (3, 4, 1, 1), 0, 1),  # 1×1: a plain product
    ((2, 4, 5, 6), (3, 4, 1, 1), 1, 1),  # 1×1 with padding: outputs that see only zeros
    ((1, 4, 6, 6), (3, 4, 3, 3), 3, 1),  # padding wider than the kernel's reach
    ((3, 4, 6, 5), (3, 4, 3, 3), 0, 2),  # dilation 2, no padding
    ((1, 4, 3, 3), (2, 4, 1, 3), (0, 3), (1, 3)),  # a 1-row kernel dilated past the image
    ((1, 4, 1, 7), (3, 4, 1, 3), (0, 1), 1),  # a single row (conv1d's shape)
    ((2, 6, 64, 70), (3, 6, 3, 3), 1, 1),  # more columns than one block of products
    # the size kept (dX by rows of taps): no centre tap, taps reaching past the image, dilation, non-square
    ((2, 4, 5, 6), (3, 4, 2, 2), 1, 2),  # 2×2 dilated 2: every row and column of taps shifted
    ((2, 4, 3, 2), (3, 4, 1, 5), (0, 2), 1),  # taps two columns away in an image two columns wide
    ((2, 4, 7, 6), (3, 4, 3, 3), 2, 2),  # 3×3 dilated 2, padding 2
    ((1, 4, 6, 5), (3, 4, 5, 3), (2, 1), 1),  # 5×3
]


def _conv_grads(x, w, b, p, d, dy, s=1, g=1):
    xt, wt, bt = (mg.tensor(a, requires_grad=True) for a in (x, w, b))
    y = conv2d(xt, wt, bt, s, p, d, g)
    y.backward(mg.tensor(dy))
    return [y.numpy(), xt.grad.numpy(), wt.grad.numpy(), bt.grad.numpy()]


@pytest.mark.parametrize("row_block", [64, 8192])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("xs, ws, p, d", SHIFTED_CASES)
def test_shifted_products_equal_im2col_and_torch(monkeypatch, xs, ws, p, d, dtype, row_block):
    rng = np.random.default_rng(4)
    x, w, b = rng.standard_normal(xs).astype(dtype), rng.standard_normal(ws).astype(dtype), \
        rng.standard_normal(ws[0]).astype(dtype)
    dy = rng.standard_normal(conv2d(mg.tensor(x), mg.tensor(w), None, 1, p, d).shape).astype(dtype)
    monkeypatch.setattr(conv_mod, "_BLOCK", 1024)  # several blocks for the largest case
    monkeypatch.setattr(conv_mod, "_ROW_BLOCK", row_block)  # 64: a block per grid row or two, edges everywhere
    monkeypatch.setattr(conv_mod, "_MIN_CHANNELS", 1 << 62)
    general = _conv_grads(x, w, b, p, d, dy)
    monkeypatch.setattr(conv_mod, "_MIN_CHANNELS", 1)
    shifted = _conv_grads(x, w, b, p, d, dy)
    eps = np.finfo(dtype).eps * 100  # float32: sums of thousands of terms round differently in each order

    def close(a, e, name):
        np.testing.assert_allclose(a, e, rtol=eps, atol=eps * np.abs(e).max(), err_msg=name)

    for name, a, e in zip(("y", "dx", "dw", "db"), shifted, general):
        assert a.dtype == dtype and a.shape == e.shape, name
        close(a, e, name)
    if F is not None:
        xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
        yt = F.conv2d(xt, wt, bt, 1, p, d)
        yt.backward(torch.tensor(dy))
        for name, a, t in zip(("y", "dx", "dw", "db"), shifted, (yt, xt.grad, wt.grad, bt.grad)):
            close(a, t.detach().numpy(), name)


def _layouts(a):
    """a (N, C, H, W) in C order, channels first ((C, N, H, W) in memory) and on a stride-1 conv's grid
    ((C, H, N, W) in memory): the same values each time."""
    return {"C": a, "channels first": a.transpose(1, 0, 2, 3).copy().transpose(1, 0, 2, 3),
            "grid": a.transpose(1, 2, 0, 3).copy().transpose(2, 0, 1, 3)}


def test_shifted_outputs_lie_on_the_grid_and_every_layout_gives_the_same_gradients(monkeypatch):
    """Y stays as the shifted products leave it, (O, Hₒ, N, Wₒ) in memory; X and dY in any layout (dY on the grid:
    its rows are taken as they lie) give im2col's values, and dX lies on the grid where X does."""
    rng = np.random.default_rng(8)
    x, dy = rng.standard_normal((3, 4, 6, 8)), rng.standard_normal((3, 5, 6, 8))
    w, b = rng.standard_normal((5, 4, 3, 3)), rng.standard_normal(5)
    monkeypatch.setattr(conv_mod, "_MIN_CHANNELS", 1 << 62)
    want = _conv_grads(x, w, b, 1, 1, dy)
    monkeypatch.setattr(conv_mod, "_MIN_CHANNELS", 1)
    for (xl, xa), (dl, dya) in [(u, v) for u in _layouts(x).items() for v in _layouts(dy).items()]:
        xt, wt, bt = (mg.from_numpy(a).requires_grad_() for a in (xa, w, b))  # (mg.tensor would copy to C order)
        seen = []  # dX as the conv gives it (.grad is then stored in C order)
        xt.register_hook(lambda g, seen=seen: seen.append(g.numpy()))
        y = conv2d(xt, wt, bt, 1, 1, 1)
        assert conv_mod._on_grid(y.numpy()) and not y.numpy().flags.c_contiguous
        y.backward(mg.from_numpy(dya))
        for name, got, e in zip(("y", "dx", "dw", "db"), (y, xt.grad, wt.grad, bt.grad), want):
            np.testing.assert_allclose(got.numpy(), e, rtol=1e-12, atol=1e-12, err_msg=f"{name}: x {xl}, dy {dl}")
        assert conv_mod._on_grid(seen[0]) == (xl == "grid"), (xl, dl)


@pytest.mark.parametrize("shape", [(2, 4, 6, 6), (1, 4, 5, 7)])
def test_a_conv_of_a_conv_on_the_grid(monkeypatch, shape):
    """The second conv's input lies on the first's grid, and so does the gradient it gives back."""
    monkeypatch.setattr(conv_mod, "_MIN_CHANNELS", 1)
    check_op(lambda x, w1, w2: conv2d(conv2d(x, w1, padding=1), w2, padding=(1, 0)), shape, (3, 4, 3, 3),
             (2, 3, 3, 3), torch_fn=F and (lambda x, w1, w2: F.conv2d(F.conv2d(x, w1, padding=1), w2, padding=(1, 0))))


def test_which_path_a_conv_takes(monkeypatch):
    """Stride 1, one group, NumPy arrays and enough channels: shifted products; anything else: im2col."""
    calls = []
    real = conv_mod._shifted_forward
    monkeypatch.setattr(conv_mod, "_shifted_forward", lambda *a: calls.append(a[0].shape) or real(*a))
    x, w = mg.randn(2, 16, 6, 6), mg.randn(16, 16, 3, 3)
    conv2d(x, w, padding=1)
    assert len(calls) == 1
    conv2d(x, w, stride=2)
    conv2d(x, mg.randn(16, 8, 3, 3), groups=2)
    conv2d(mg.randn(2, 1, 6, 6), mg.randn(16, 1, 3, 3))  # one input channel: im2col's copy is small
    conv2d(x, mg.randn(2, 16, 3, 3))  # two output channels: thin products
    assert len(calls) == 1
    assert not conv_mod._use_shifted(np.ma.zeros((2, 16, 6, 6)), w.numpy(), (1, 1), 1, (16, 16))  # other array types


def test_dx_by_rows_of_taps_where_the_conv_keeps_its_size(monkeypatch):
    """A stride-1 conv whose output has its input's size takes dX by rows of taps from dY's grid rows (no padded
    grid); any other stride-1 conv, by single taps over dY's padded grid."""
    calls = []
    for name in ("_row_tap_input_grad", "_Grid"):
        real = getattr(conv_mod, name)
        monkeypatch.setattr(conv_mod, name, lambda *a, name=name, real=real: calls.append(name) or real(*a))
    x, w = mg.randn(2, 16, 6, 6, requires_grad=True), mg.randn(16, 16, 3, 3)
    conv2d(x, w, padding=1).sum().backward()
    conv2d(x, mg.randn(16, 16, 5, 3), padding=(2, 1)).sum().backward()
    assert calls == ["_row_tap_input_grad"] * 2
    conv2d(x, w).sum().backward()  # padding 0: 4×4 from 6×6
    assert calls[2:] == ["_Grid"]
    conv_transpose2d(x, w, padding=1)  # conv2d's input gradient as a layer: the same path
    assert calls[3:] == ["_row_tap_input_grad"]


def test_shifted_forward_keeps_the_stack_not_the_columns():
    # the backward's saved state: X stacked kW times (3 × X plus its padding rows), not im2col's kH·kW-fold matrix
    x, w = np.random.default_rng(5).standard_normal((2, 16, 10, 10)), np.ones((16, 16, 3, 3))
    _, saved = conv_forward(x, w, (1, 1), (1, 1), (1, 1), 1)
    assert isinstance(saved, conv_mod._StackedX)
    assert saved.buf.shape == (3 * 16, 12 * 2 * 10)  # (kW·C, (H + 2p)·N·Wₒ)
    _, cols = conv_forward(x, w, (2, 2), (1, 1), (1, 1), 1)
    assert cols.size == 16 * 9 * 2 * 5 * 5


def test_conv2d_third_order_gradient_is_a_convolution_too():
    x = mg.tensor(np.random.default_rng(2).standard_normal((1, 2, 4, 4)), requires_grad=True)
    w = mg.tensor(np.random.default_rng(3).standard_normal((2, 2, 3, 3)), requires_grad=True)
    y = (conv2d(x, w, padding=1) ** 2).sum()
    (gx,) = mg.autograd.grad(y, [x], create_graph=True)
    (gw,) = mg.autograd.grad((gx ** 2).sum(), [w], create_graph=True)
    assert gw.requires_grad and gw.grad_fn is not None
    assert mg.gradgradcheck(lambda a, b: (conv2d(a, b, padding=1) ** 2).sum(), [x, w])


def test_float32_stays_float32_and_unbatched_input():
    x = mg.randn(3, 8, 8)
    w = mg.randn(5, 3, 3, 3, requires_grad=True)
    y = conv2d(x, w, stride=2)
    assert y.shape == (5, 3, 3) and y.dtype == np.float32
    y.sum().backward()
    assert w.grad.dtype == np.float32


@pytest.mark.filterwarnings("ignore:Using padding=.same.")
def test_padding_same_and_valid():
    x = mg.randn(1, 2, 7, 6, dtype=mg.float64)
    w = mg.randn(3, 2, 4, 3, dtype=mg.float64)
    assert conv2d(x, w, padding="same").shape == (1, 3, 7, 6)
    assert conv2d(x, w, padding="valid").shape == (1, 3, 4, 4)
    if F is not None:
        ref = F.conv2d(torch.tensor(x.numpy()), torch.tensor(w.numpy()), padding="same")
        np.testing.assert_allclose(conv2d(x, w, padding="same").numpy(), ref.numpy(), rtol=1e-10)


@pytest.mark.parametrize("kwargs, match", [
    (dict(input=(1, 4, 5, 5), weight=(2, 3, 3, 3)), "input channels"),
    (dict(input=(1, 4, 5, 5), weight=(3, 2, 3, 3), groups=2), "groups=2"),
    (dict(input=(1, 3, 2, 2), weight=(2, 3, 3, 3)), "smaller than the kernel"),
    (dict(input=(3, 5, 5, 5, 1), weight=(2, 3, 3, 3)), "expected input of shape"),
    (dict(input=(1, 3, 5, 5), weight=(2, 3, 3, 3), stride=0), "stride .* must be positive"),
    (dict(input=(1, 3, 5, 5), weight=(2, 3, 3, 3), dilation=0), "dilation .* must be positive"),
    (dict(input=(1, 3, 5, 5), weight=(2, 3, 3, 3), padding=-1), "padding .* not negative"),
])
def test_bad_shapes_say_what_is_wrong(kwargs, match):
    # PyTorch raises RuntimeError for each; matgrad's error is one (and a ValueError, as before)
    x, w = mg.zeros(*kwargs.pop("input")), mg.zeros(*kwargs.pop("weight"))
    with pytest.raises(RuntimeError, match=match) as info:
        conv2d(x, w, **kwargs)
    assert isinstance(info.value, ValueError)
    if F is not None:
        with pytest.raises(RuntimeError):
            F.conv2d(torch.zeros(x.shape), torch.zeros(w.shape), **kwargs)


def test_conv_transpose_with_stride_zero_says_so():
    with pytest.raises(RuntimeError, match="stride .* must be positive"):
        conv_transpose2d(mg.zeros(1, 3, 5, 5), mg.zeros(3, 2, 3, 3), stride=0)


def test_mixed_dtypes_are_refused():
    with pytest.raises(TypeError, match="same floating dtype"):
        conv2d(mg.zeros(1, 1, 3, 3, dtype=mg.float64), mg.zeros(1, 1, 3, 3))


@pytest.mark.parametrize("stride", [1, 2])
def test_an_empty_batch_gives_empty_outputs_and_zero_weight_gradients(path, stride):
    # as PyTorch: N = 0 is a valid batch (both paths once divided or reshaped by it)
    x = mg.zeros(0, 16, 6, 6, requires_grad=True)
    w = mg.randn(16, 16, 3, 3, requires_grad=True)
    b = mg.randn(16, requires_grad=True)
    y = conv2d(x, w, b, stride=stride, padding=1)
    assert y.shape == (0, 16, 6 // stride, 6 // stride)
    y.sum().backward()
    assert x.grad.shape == x.shape
    np.testing.assert_array_equal(w.grad.numpy(), np.zeros((16, 16, 3, 3)))
    np.testing.assert_array_equal(b.grad.numpy(), np.zeros(16))
    t = conv_transpose2d(mg.zeros(0, 16, 5, 5), w, stride=stride, padding=1)
    assert t.shape == (0, 16, 5 if stride == 1 else 9, 5 if stride == 1 else 9)
    if torch is not None:
        assert tuple(F.conv2d(torch.zeros(0, 16, 6, 6), torch.zeros(16, 16, 3, 3), stride=stride, padding=1).shape) \
            == y.shape
