"""batch_norm and layer_norm: finite differences (first and second order), PyTorch, running statistics."""
from __future__ import annotations

import numpy as np
import pytest

import matgrad as mg
from matgrad.ops.normalization import batch_norm, layer_norm
from tests.helpers import assert_close, check_op, torch

F = None if torch is None else torch.nn.functional


@pytest.mark.parametrize("shape", [(4, 3), (3, 2, 5), (2, 3, 3, 2)])
def test_batch_norm_training(shape):
    c = shape[1]
    check_op(lambda x, w, b: batch_norm(x, None, None, w, b, True, 0.1, 1e-5), shape, (c,), (c,),
             torch_fn=F and (lambda x, w, b: F.batch_norm(x, None, None, w, b, True, 0.1, 1e-5)))


@pytest.mark.parametrize("shape", [(3, 2, 5), (2, 3, 3, 2), (2, 2, 17, 1)])
def test_batch_norm_training_through_the_blas_row_sums(shape, monkeypatch):
    from matgrad.ops import normalization

    monkeypatch.setattr(normalization, "ROW_MIN", 1)  # the test shapes' rows are short
    test_batch_norm_training(shape)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_group_sum_matches_numpys_reduce(dtype):
    from matgrad.ops.normalization import group_sum

    rng = np.random.default_rng(0)
    a, b = (rng.standard_normal((8, 5, 6, 7)).astype(dtype) for _ in range(2))
    axes = (0, 2, 3)
    for got, want in ((group_sum(a, axes), a.sum(axes, keepdims=True)),
                      (group_sum(a, axes, b), (a * b).sum(axes, keepdims=True)),
                      (group_sum(a[:, :, ::2], axes), a[:, :, ::2].sum(axes, keepdims=True)),  # strided: reduce
                      (group_sum(a, (0, 1)), a.sum((0, 1), keepdims=True))):  # not per channel: reduce
        assert got.shape == want.shape and got.dtype == dtype
        assert_close(got, want, rtol=1e-5 if dtype == np.float32 else 1e-12)  # sums that may cancel


def _channel_major(x):
    """x (N, C, ...) laid out as (C, N, ...), as a conv's output is."""
    return x.transpose(0, 1).contiguous().transpose(0, 1)


@pytest.mark.parametrize("shape", [(3, 2, 5), (2, 3, 3, 2), (4, 2, 17, 1)])
def test_batch_norm_training_laid_out_channels_first(shape, monkeypatch):
    """x and dy laid out as a conv's (C, N, H, W) output: Σ dy·(x - μ) by row dots taken channel by channel."""
    from matgrad.ops import normalization

    monkeypatch.setattr(normalization, "CHANNEL_ROW_MIN", 1)  # the test shapes' rows are short
    c = shape[1]

    def fn(x, w, b):  # returned as (C, N, ...): the gradient reaching batch_norm is laid out channels first too
        return batch_norm(_channel_major(x), None, None, w, b, True, 0.1, 1e-5).transpose(0, 1)
    check_op(fn, shape, (c,), (c,),
             torch_fn=F and (lambda x, w, b: F.batch_norm(x, None, None, w, b, True, 0.1, 1e-5).transpose(0, 1)))


def test_batch_norm_float32_channels_first_matches_torch():
    """At the cnn's first layer's shape per channel (rows of 784), with an offset mean, in float32."""
    if torch is None:
        pytest.skip("torch is not installed")
    rng = np.random.default_rng(1)
    a = (rng.standard_normal((16, 4, 28, 28)) * 2 + 3).astype(np.float32)
    g = rng.standard_normal(a.shape).astype(np.float32)
    w, b = (rng.standard_normal(4).astype(np.float32) for _ in range(2))
    x = _channel_major(mg.tensor(a)).detach().requires_grad_()
    ws, bs = mg.tensor(w, requires_grad=True), mg.tensor(b, requires_grad=True)
    y = batch_norm(x, None, None, ws, bs, True)
    y.backward(_channel_major(mg.tensor(g)))
    xt, wt, bt = (torch.tensor(v, requires_grad=True) for v in (a, w, b))
    yt = F.batch_norm(xt, None, None, wt, bt, True)
    yt.backward(torch.tensor(g))
    assert_close(y.numpy(), yt.detach().numpy(), rtol=1e-4, atol=1e-4)
    for ours, theirs in ((x, xt), (ws, wt), (bs, bt)):
        assert_close(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-4, atol=1e-3)


@pytest.mark.parametrize("channels_first", [False, True])
def test_batch_norm_training_one_pass_and_offset_channels(channels_first, monkeypatch):
    """One channel near 0 (σ² from Σx and Σx²) and one far from it (x - μ summed as such), by BLAS sums."""
    from matgrad.ops import normalization

    monkeypatch.setattr(normalization, "ROW_MIN", 1)  # the test shapes' rows are short
    off = np.array([0.0, 30.0]).reshape(1, 2, 1, 1)
    lay = _channel_major if channels_first else (lambda t: t)

    def fn(x, w, b):
        return batch_norm(lay(x + mg.tensor(off)), None, None, w, b, True, 0.1, 1e-5)
    check_op(fn, (3, 2, 2, 3), (2,), (2,),
             torch_fn=F and (lambda x, w, b: F.batch_norm(x + torch.tensor(off), None, None, w, b, True, 0.1, 1e-5)))


def _on_grid(x):
    """x (N, C, H, W) laid out as (C, H, N, W), as a stride-1 conv's output is."""
    return x.permute(1, 2, 0, 3).contiguous().permute(2, 0, 1, 3)


LAYOUTS = {"C": lambda t: t, "channels first": _channel_major, "grid": _on_grid}


@pytest.mark.parametrize("x_layout", list(LAYOUTS))
@pytest.mark.parametrize("dy_layout", list(LAYOUTS))
def test_batch_norm_gradient_by_layout(x_layout, dy_layout):
    """x and dy each in C order, channels first or on a conv's grid, channels near and far from 0, against the
    formula in float64. dy laid out otherwise than x: x - μ and NumPy's sums (as in the generic backward); alike,
    BLAS sums over rows that must hold the same elements of both."""
    rng = np.random.default_rng(3)
    a = rng.standard_normal((6, 3, 5, 7)) + np.array([0.0, 2.0, 40.0]).reshape(1, 3, 1, 1)
    g = rng.standard_normal(a.shape)
    w, b = (rng.standard_normal(3) for _ in range(2))
    xf, gf = (LAYOUTS[layout](mg.tensor(v)) for v, layout in ((a, x_layout), (g, dy_layout)))
    x = xf.detach().requires_grad_()
    ws, bs = mg.tensor(w, requires_grad=True), mg.tensor(b, requires_grad=True)
    y = batch_norm(x, None, None, ws, bs, True)
    y.backward(gf)
    xr = a - a.mean(axis=(0, 2, 3), keepdims=True)
    invstd = 1 / np.sqrt((xr * xr).mean(axis=(0, 2, 3), keepdims=True) + 1e-5)
    xhat, m = xr * invstd, a.size // 3
    dxhat = g * w.reshape(3, 1, 1)
    dx = (dxhat - dxhat.mean(axis=(0, 2, 3), keepdims=True)
          - xhat * (dxhat * xhat).mean(axis=(0, 2, 3), keepdims=True)) * invstd
    assert m == 210
    np.testing.assert_allclose(y.numpy(), xhat * w.reshape(3, 1, 1) + b.reshape(3, 1, 1), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(x.grad.numpy(), dx, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(ws.grad.numpy(), (g * xhat).sum(axis=(0, 2, 3)), rtol=1e-9)
    np.testing.assert_allclose(bs.grad.numpy(), g.sum(axis=(0, 2, 3)), rtol=1e-9)


@pytest.mark.parametrize("shape", [(128, 4, 28, 28), (128, 8, 7, 7)])
def test_batch_norm_float32_channels_first_against_float64(shape):
    """float32 at the cnn's shapes, channels at |μ|/σ from 0 to 100 (one pass, and x - μ summed as such),
    within 2e-5 of float64's (PyTorch's float32 kernel: 1e-7 to 4e-6 of the largest value)."""
    rng = np.random.default_rng(2)
    n, c = shape[:2]
    a = rng.standard_normal((c, n) + shape[2:]) * rng.uniform(0.5, 2, (c, 1, 1, 1))
    a += np.array([0, 1, 3, 100, -2, 4, 0.5, 8][:c]).reshape(c, 1, 1, 1) * a.std()
    g = rng.standard_normal(a.shape)
    w, b = rng.standard_normal(c), rng.standard_normal(c)
    got = []
    for dt in (np.float32, np.float64):
        x = mg.from_numpy(a.astype(dt).transpose(1, 0, 2, 3)).requires_grad_()
        ws, bs = mg.tensor(w.astype(dt), requires_grad=True), mg.tensor(b.astype(dt), requires_grad=True)
        y = batch_norm(x, None, None, ws, bs, True)
        y.backward(mg.from_numpy(g.astype(dt).transpose(1, 0, 2, 3)))
        got.append([t.numpy().astype(np.float64) for t in (y, x.grad, ws.grad, bs.grad)])
    for ours, want in zip(*got):
        assert np.abs(ours - want).max() <= 2e-5 * np.abs(want).max()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_group_sum_channels_first_by_row_dots(dtype, monkeypatch):
    from matgrad.ops import normalization

    rng = np.random.default_rng(0)
    a, b = (np.ascontiguousarray(rng.standard_normal((5, 8, 6, 7)).astype(dtype)).swapaxes(0, 1) for _ in range(2))
    axes = (0, 2, 3)
    for row_min in (1, normalization.CHANNEL_ROW_MIN):  # row dots, and (rows of 42) the product and reduce
        monkeypatch.setattr(normalization, "CHANNEL_ROW_MIN", row_min)
        got, want = normalization.group_sum(a, axes, b), (a * b).sum(axes, keepdims=True)
        assert got.shape == want.shape and got.dtype == dtype
        assert_close(got, want, rtol=1e-5 if dtype == np.float32 else 1e-12)


def test_batch_norm_training_without_affine():
    check_op(lambda x: batch_norm(x, None, None, training=True), (3, 2, 2, 3),
             torch_fn=F and (lambda x: F.batch_norm(x, None, None, training=True)))


def test_batch_norm_eval_uses_running_stats():
    rm, rv = np.array([0.5, -1.0, 2.0]), np.array([1.5, 0.3, 2.0])

    def t(x, w, b):
        return F.batch_norm(x, torch.tensor(rm), torch.tensor(rv), w, b, False, 0.1, 1e-3)

    check_op(lambda x, w, b: batch_norm(x, mg.tensor(rm), mg.tensor(rv), w, b, False, 0.1, 1e-3),
             (4, 3, 2, 2), (3,), (3,), torch_fn=F and t)


def test_running_stats_update_in_place_with_unbiased_variance():
    x = np.random.default_rng(0).standard_normal((5, 2, 3, 3)) * 2 + 1
    rm, rv = mg.zeros(2, dtype=mg.float64), mg.ones(2, dtype=mg.float64)
    batch_norm(mg.tensor(x), rm, rv, training=True, momentum=0.3)
    m = x.size // 2
    mean = x.mean(axis=(0, 2, 3))
    var = x.var(axis=(0, 2, 3)) * m / (m - 1)
    np.testing.assert_allclose(rm.numpy(), 0.3 * mean, rtol=1e-12)
    np.testing.assert_allclose(rv.numpy(), 0.7 + 0.3 * var, rtol=1e-12)
    if torch is not None:
        trm, trv = torch.zeros(2, dtype=torch.float64), torch.ones(2, dtype=torch.float64)
        F.batch_norm(torch.tensor(x), trm, trv, training=True, momentum=0.3)
        np.testing.assert_allclose(rm.numpy(), trm.numpy(), rtol=1e-12)
        np.testing.assert_allclose(rv.numpy(), trv.numpy(), rtol=1e-12)


@pytest.mark.parametrize("shape", [(16, 8, 12, 12), (40, 6)])
def test_running_stats_under_no_grad_are_those_of_a_recorded_step(shape):
    """Training-mode batch_norm under no_grad (as SWA's update_bn runs it) keeps its forward's statistics: the same
    output and running statistics, bit for bit, as with a graph."""
    rng = np.random.default_rng(3)
    n, c = shape[:2]
    x = rng.standard_normal((c, n) + shape[2:], dtype=np.float32).swapaxes(0, 1) * 3 + 2  # a conv's layout
    w, b = mg.tensor(rng.standard_normal(c, dtype=np.float32)), mg.tensor(rng.standard_normal(c, dtype=np.float32))
    got = []
    for recorded in (True, False):
        rm, rv = mg.zeros(c), mg.ones(c)
        with mg.set_grad_enabled(recorded):
            y = batch_norm(mg.tensor(x, requires_grad=True), rm, rv, w, b, training=True, momentum=0.3)
        assert (y.grad_fn is not None) == recorded
        got.append([t.numpy() for t in (y, rm, rv)])
    for a, b in zip(*got):
        np.testing.assert_array_equal(a, b)


def test_batch_norm_output_is_standardized():
    x = mg.randn(64, 3, 4, 4) * 5 + 3
    y = batch_norm(x, None, None, training=True).numpy()
    np.testing.assert_allclose(y.mean(axis=(0, 2, 3)), 0, atol=1e-5)
    np.testing.assert_allclose(y.var(axis=(0, 2, 3)), 1, atol=1e-3)


@pytest.mark.parametrize("shape, norm", [((3, 5), 5), ((2, 3, 4), (3, 4)), ((2, 2, 3), (3,))])
def test_layer_norm(shape, norm):
    ns = (norm,) if isinstance(norm, int) else norm
    check_op(lambda x, w, b: layer_norm(x, norm, w, b), shape, ns, ns,
             torch_fn=F and (lambda x, w, b: F.layer_norm(x, ns, w, b)))


def test_layer_norm_without_affine():
    check_op(lambda x: layer_norm(x, (4,), eps=1e-3), (3, 4),
             torch_fn=F and (lambda x: F.layer_norm(x, (4,), eps=1e-3)))


@pytest.mark.parametrize("shape, norm", [((8, 17, 64), (64,)), ((4, 6, 5, 3), (5, 3))])
def test_layer_norm_rows_match_the_general_formula_and_torch(shape, norm):
    """layer_norm's row path (contiguous input, γ over the normalized dims) against the general formula (taken
    for a non-contiguous view of the same values) and torch, in float32, rows far from zero included."""
    rng = np.random.default_rng(4)
    x = (rng.standard_normal(shape) * 3 + 50 * rng.standard_normal(shape[:-len(norm)] + (1,) * len(norm)))
    x, dy = x.astype(np.float32), rng.standard_normal(shape).astype(np.float32)
    w, b = (rng.standard_normal(norm).astype(np.float32) for _ in range(2))
    got = []
    for layout in ("rows", "strided"):
        xa = x if layout == "rows" else np.asfortranarray(x)  # the same values, not C-contiguous
        ts = [mg.tensor(a, requires_grad=True) for a in (w, b)]
        xt = mg.from_numpy(xa).requires_grad_()
        y = layer_norm(xt, norm, *ts)
        y.backward(mg.tensor(dy))
        got.append([y.numpy(), xt.grad.numpy(), ts[0].grad.numpy(), ts[1].grad.numpy()])
        if layout == "rows":
            assert xt.grad.array.base is None  # dx is an array of its own: the leaf kept it uncopied
    scale = [max(1.0, float(np.abs(a).max())) for a in got[0]]
    for a, c, s in zip(got[0], got[1], scale):
        np.testing.assert_allclose(a, c, rtol=0, atol=2e-5 * s)
    if F is not None:
        xt = torch.tensor(x, requires_grad=True)
        wt, bt = torch.tensor(w, requires_grad=True), torch.tensor(b, requires_grad=True)
        F.layer_norm(xt, norm, wt, bt).backward(torch.tensor(dy))
        want = [F.layer_norm(xt, norm, wt, bt).detach().numpy(), xt.grad.numpy(), wt.grad.numpy(), bt.grad.numpy()]
        for a, c, s in zip(got[0], want, scale):
            np.testing.assert_allclose(a, c, rtol=0, atol=2e-5 * s)


def test_bad_arguments_say_what_is_wrong():
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        batch_norm(mg.zeros(1, 3), None, None, training=True)
    with pytest.raises(RuntimeError, match="needs running_mean"):  # torch's error types
        batch_norm(mg.zeros(2, 3), None, None, training=False)
    with pytest.raises(RuntimeError, match="weight must have shape"):
        batch_norm(mg.zeros(2, 3), None, None, mg.ones(4), training=True)
    with pytest.raises(RuntimeError, match="trailing dims"):  # as torch
        layer_norm(mg.zeros(2, 3), (2,))
