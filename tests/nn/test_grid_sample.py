"""F.grid_sample and F.affine_grid (the spatial transformer pair) and F.feature_alpha_dropout: explicit
values, PyTorch's values and gradients at the kinks (integer pixel coordinates, the borders, the
reflection points), float32 tolerances, warnings and errors."""
from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest

import matgrad as mg
import matgrad.nn.functional as F
from matgrad import nn
from tests.helpers import assert_close, torch

MODES_2D = [(m, p, a) for m in ("bilinear", "nearest", "bicubic") for p in ("zeros", "border", "reflection")
            for a in (False, True)]


def test_identity_affine_grid_samples_the_input_back():
    x = mg.tensor(np.arange(12.0, dtype=np.float32).reshape(1, 1, 3, 4))
    for ac in (False, True):
        grid = F.affine_grid(mg.tensor([[[1.0, 0, 0], [0, 1.0, 0]]]), (1, 1, 3, 4), align_corners=ac)
        for mode in ("bilinear", "nearest", "bicubic"):
            np.testing.assert_allclose(F.grid_sample(x, grid, mode, align_corners=ac).numpy(), x.numpy(), atol=1e-5)


def test_explicit_values_and_gradients():
    x = mg.tensor([[[[1.0, 2.0], [3.0, 4.0]]]], requires_grad=True)  # align_corners=True: corners at ±1
    g = mg.tensor([[[[0.0, 0.0], [1.0, -1.0], [3.0, 0.0], [-0.5, 0.0]]]], requires_grad=True)
    y = F.grid_sample(x, g, align_corners=True)
    np.testing.assert_allclose(y.numpy().ravel(), [2.5, 2.0, 0.0, 2.25])  # centre, top-right, outside, a quarter in
    assert_close(F.grid_sample(x, g, padding_mode="border", align_corners=True).numpy().ravel(),
                 [2.5, 2.0, 3.0, 2.25], 1e-12)
    y.sum().backward()
    # ∂y/∂x at the centre is 1/4 each; (-0.5, 0): u = 0.25, 3/4 to column 0, 1/4 to column 1, half to each row
    np.testing.assert_allclose(x.grad.numpy()[0, 0], [[0.25 + 0.375, 0.25 + 1 + 0.125], [0.25 + 0.375, 0.25 + 0.125]])
    # ∂y/∂gx = (W-1)/2 · (right column - left column) at the centre: 0.5 · 1; ∂y/∂gy = 0.5 · 2
    np.testing.assert_allclose(g.grad.numpy()[0, 0, 0], [0.5, 1.0])
    np.testing.assert_allclose(g.grad.numpy()[0, 0, 2], [0.0, 0.0])  # wholly outside: no gradient


@pytest.mark.parametrize("mode, padding_mode, align_corners", MODES_2D)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_kinks_match_torch(mode, padding_mode, align_corners, dtype):
    """Grid points in quarters over [-3, 3]: integer and half pixel coordinates, borders, reflections."""
    if torch is None:
        pytest.skip("no torch")
    q = np.arange(-12, 13) / 4
    pts = np.array(list(itertools.product(q, q[::3])), dtype=dtype).reshape(1, 1, -1, 2)
    x = np.random.default_rng(0).standard_normal((2, 2, 4, 5)).astype(dtype)
    pts = np.concatenate([pts, pts[:, :, ::-1]])
    _compare(x, pts, dict(mode=mode, padding_mode=padding_mode, align_corners=align_corners), dtype)


@pytest.mark.parametrize("mode, padding_mode", list(itertools.product(("bilinear", "nearest"),
                                                                      ("zeros", "border", "reflection"))))
def test_kinks_match_torch_3d(mode, padding_mode):
    if torch is None:
        pytest.skip("no torch")
    q = np.arange(-8, 9) / 4
    pts = np.array(list(itertools.product(q, q[::4], q[::5]))).reshape(1, 1, 1, -1, 3)
    x = np.random.default_rng(1).standard_normal((1, 2, 3, 4, 5))
    for ac in (False, True):
        _compare(x, pts, dict(mode=mode, padding_mode=padding_mode, align_corners=ac), "float64")


def _compare(x, g, kw, dtype):
    rtol, atol = (1e-10, 1e-12) if dtype == "float64" else (1e-5, 1e-5)
    xs, gs = mg.tensor(x, requires_grad=True), mg.tensor(g, requires_grad=True)
    tx, tg = torch.tensor(x, requires_grad=True), torch.tensor(g, requires_grad=True)
    y, ty = F.grid_sample(xs, gs, **kw), torch.nn.functional.grid_sample(tx, tg, **kw)
    seed = np.random.default_rng(2).standard_normal(ty.shape).astype(dtype)
    (y * mg.tensor(seed)).sum().backward()
    (ty * torch.tensor(seed)).sum().backward()
    assert_close(y.numpy(), ty.detach().numpy(), rtol, atol)
    assert_close(xs.grad.numpy(), tx.grad.numpy(), rtol, atol)
    assert_close(gs.grad.numpy(), tg.grad.numpy(), rtol, atol)


def test_affine_grid_values():
    theta = mg.tensor([[[2.0, 0.0, 0.5], [0.0, 1.0, -1.0]]])
    g = F.affine_grid(theta, (1, 3, 2, 3), align_corners=True).numpy()
    np.testing.assert_allclose(g[0, :, :, 0], [[-1.5, 0.5, 2.5]] * 2)  # x = 2·[-1, 0, 1] + 0.5
    np.testing.assert_allclose(g[0, :, :, 1], [[-2.0] * 3, [0.0] * 3])  # y = [-1, 1] - 1
    g = F.affine_grid(mg.tensor([[[1.0, 0, 0], [0, 1.0, 0]]]), (1, 1, 1, 4), align_corners=False).numpy()
    np.testing.assert_allclose(g[0, 0, :, 0], [-0.75, -0.25, 0.25, 0.75])
    np.testing.assert_allclose(g[0, 0, :, 1], 0.0)  # a size-1 axis sits at 0


@pytest.mark.parametrize("size, ac", [((2, 3, 4, 5), False), ((2, 1, 3, 2), True), ((2, 1, 2, 3, 4), False),
                                      ((2, 2, 3, 1, 2), True)])
def test_affine_grid_matches_torch_float32(size, ac):
    if torch is None:
        pytest.skip("no torch")
    k = len(size) - 2
    th = np.random.default_rng(3).standard_normal((2, k, k + 1)).astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the unit-size warning, tested below
        got, want = F.affine_grid(mg.tensor(th), size, ac), torch.nn.functional.affine_grid(torch.tensor(th), size, ac)
    assert got.dtype == mg.float32
    assert_close(got.numpy(), want.numpy(), 1e-5, 1e-6)


def test_default_align_corners_warns_as_torch():
    x, theta = mg.zeros(1, 1, 2, 2), mg.tensor([[[1.0, 0, 0], [0, 1.0, 0]]])
    with pytest.warns(UserWarning, match="align_corners=False since 1.3.0"):
        grid = F.affine_grid(theta, (1, 1, 2, 2))
    with pytest.warns(UserWarning, match="align_corners=False since 1.3.0"):
        F.grid_sample(x, grid)
    with pytest.warns(UserWarning, match="unit-size grids"):
        F.affine_grid(theta, (1, 1, 1, 2), align_corners=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        F.grid_sample(x, F.affine_grid(theta, (1, 1, 2, 2), False), align_corners=False)


def test_errors_name_what_was_wrong():
    x, g = mg.zeros(1, 1, 3, 3), mg.zeros(1, 2, 2, 2)
    with pytest.raises(ValueError, match="expected mode to be 'bilinear', 'nearest' or 'bicubic', but got: 'cubic'"):
        F.grid_sample(x, g, mode="cubic", align_corners=False)
    with pytest.raises(ValueError, match="padding_mode .* but got: 'edge'"):
        F.grid_sample(x, g, padding_mode="edge", align_corners=False)
    with pytest.raises(RuntimeError, match="size 2 in last dimension"):
        F.grid_sample(x, mg.zeros(1, 2, 2, 3), align_corners=False)
    with pytest.raises(RuntimeError, match="same batch size"):
        F.grid_sample(x, mg.zeros(2, 2, 2, 2), align_corners=False)
    with pytest.raises(RuntimeError, match="same number of dimensions"):
        F.grid_sample(x, mg.zeros(1, 2, 2), align_corners=False)
    with pytest.raises(RuntimeError, match="same dtype"):
        F.grid_sample(x, g.double(), align_corners=False)
    with pytest.raises(RuntimeError, match="bicubic interpolation only supports 4D input"):
        F.grid_sample(mg.zeros(1, 1, 2, 2, 2), mg.zeros(1, 1, 1, 1, 3), mode="bicubic", align_corners=False)
    with pytest.raises(RuntimeError, match="dimension 2 being empty"):
        F.grid_sample(mg.zeros(1, 1, 0, 2), g, align_corners=False)
    with pytest.raises(ValueError, match="Nx2x3 for size"):
        F.affine_grid(mg.zeros(1, 3, 3), (1, 1, 2, 2), False)
    with pytest.raises(ValueError, match="floating point"):
        F.affine_grid(mg.zeros(1, 2, 3, dtype=mg.int64), (1, 1, 2, 2), False)
    with pytest.raises(NotImplementedError, match="4D and 5D sizes"):
        F.affine_grid(mg.zeros(1, 2, 3), (1, 1, 2), False)
    with pytest.raises(ValueError, match="positive output size"):
        F.affine_grid(mg.zeros(1, 2, 3), (1, 1, 0, 2), False)


def test_feature_alpha_dropout_drops_whole_channels_to_one_value():
    mg.manual_seed(0)
    x = mg.ones(4, 16, 3, 3, requires_grad=True)
    y = F.feature_alpha_dropout(x, 0.5, training=True)
    alpha, p = 1.7580993408473766, 0.5
    a = ((1 - p) * (1 + p * alpha * alpha)) ** -0.5
    per = y.numpy().reshape(4, 16, 9)
    kept, dropped = np.isclose(per, a + alpha * a * p).all(2), np.isclose(per, -alpha * a * (1 - p)).all(2)
    assert np.all(kept ^ dropped) and 0.2 < dropped.mean() < 0.8
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy().reshape(4, 16, 9), np.where(kept, a, 0.0)[..., None] * np.ones(9))
    assert F.feature_alpha_dropout(x, 0.5) is x  # training=False by default, as PyTorch's
    m = nn.FeatureAlphaDropout(0.2)
    assert repr(m) == "FeatureAlphaDropout(p=0.2, inplace=False)" and m.eval()(x) is x
    with pytest.raises(RuntimeError, match="at least 2 dimensions"):
        F.feature_alpha_dropout(mg.ones(3), 0.5, True)
    with pytest.raises(ValueError, match="between 0 and 1, but got 1.5"):
        nn.FeatureAlphaDropout(1.5)
