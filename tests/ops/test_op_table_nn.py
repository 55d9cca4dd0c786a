"""The nn ops of issue 14, one row each: float64 finite differences (first and second order) and
PyTorch's values and gradients (tests.helpers.check_op), as tests/ops/test_op_table.py."""
from __future__ import annotations

import numpy as np
import pytest

import matgrad.nn.functional as F
from tests.helpers import check_op, torch

ROWS = []


def row(id_, fn, tfn, *shapes, **opts):
    ROWS.append(pytest.param(fn, tfn, shapes, opts, id=id_))


def TF(name):
    return lambda *a, **k: getattr(torch.nn.functional, name)(*a, **k)


# --- pad: every mode, asymmetric and negative pads, 1-, 2- and 3-D ------------------------------
for mode in ("reflect", "replicate", "circular"):
    for i, (shape, p) in enumerate([((2, 5), (2, 1)), ((1, 2, 6), (0, 3)), ((2, 3, 4, 5), (1, 2, 3, 0)),
                                    ((2, 4, 5), (-1, 2, 1, -2)), ((1, 2, 3, 4, 5), (1, 0, 2, 1, 0, 2)),
                                    ((2, 3, 4), (3, 3, 2, 2))]):
        row(f"pad_{mode}{i}", lambda a, p=p, m=mode: F.pad(a, p, m), lambda a, p=p, m=mode: TF("pad")(a, p, m), shape)
row("pad_constant", lambda a: F.pad(a, (1, 2, 0, 1), value=0.5), lambda a: TF("pad")(a, (1, 2, 0, 1), value=0.5),
    (2, 3, 4))

# --- interpolate: nearest, linear family, bicubic, area; size and scale_factor; align_corners ---
INTERP = [
    ("nearest", None, dict(size=(7, 9))), ("nearest", None, dict(scale_factor=2)),
    ("nearest", None, dict(scale_factor=0.6)), ("nearest", None, dict(size=(3, 13))),
    ("nearest-exact", None, dict(size=(7, 4))),
    ("bilinear", False, dict(size=(7, 9))), ("bilinear", True, dict(size=(7, 9))),
    ("bilinear", False, dict(scale_factor=1.5)), ("bilinear", True, dict(scale_factor=(2, 0.5))),
    ("bilinear", False, dict(size=(2, 3))), ("bilinear", True, dict(size=(1, 1))),
    ("bicubic", False, dict(size=(6, 7))), ("bicubic", True, dict(scale_factor=2)),
    ("area", None, dict(size=(3, 2))),
]
for i, (mode, ac, kw) in enumerate(INTERP):
    row(f"interpolate_{mode}{i}", lambda a, m=mode, ac=ac, kw=kw: F.interpolate(a, mode=m, align_corners=ac, **kw),
        lambda a, m=mode, ac=ac, kw=kw: TF("interpolate")(a, mode=m, align_corners=ac, **kw), (2, 3, 4, 5))
row("interpolate_linear", lambda a: F.interpolate(a, size=9, mode="linear", align_corners=False),
    lambda a: TF("interpolate")(a, size=9, mode="linear", align_corners=False), (2, 3, 4))
row("interpolate_linear_ac", lambda a: F.interpolate(a, scale_factor=1.7, mode="linear", align_corners=True),
    lambda a: TF("interpolate")(a, scale_factor=1.7, mode="linear", align_corners=True), (2, 3, 4))
row("interpolate_trilinear", lambda a: F.interpolate(a, size=(3, 4, 5), mode="trilinear"),
    lambda a: TF("interpolate")(a, size=(3, 4, 5), mode="trilinear"), (1, 2, 2, 3, 4))
row("interpolate_nearest3d", lambda a: F.interpolate(a, scale_factor=2), lambda a: TF("interpolate")(a, scale_factor=2),
    (1, 2, 2, 3, 2))

# --- unfold / fold -------------------------------------------------------------------------------
row("unfold", lambda a: F.unfold(a, 2), lambda a: TF("unfold")(a, 2), (2, 3, 4, 5))
row("unfold_all", lambda a: F.unfold(a, (2, 3), dilation=(1, 2), padding=1, stride=(2, 1)),
    lambda a: TF("unfold")(a, (2, 3), dilation=(1, 2), padding=1, stride=(2, 1)), (2, 2, 5, 6))
row("unfold_unbatched", lambda a: F.unfold(a, 3, padding=1), lambda a: TF("unfold")(a, 3, padding=1), (2, 4, 4))
row("fold", lambda a: F.fold(a, (4, 5), 2), lambda a: TF("fold")(a, (4, 5), 2), (2, 12, 12))
row("fold_all", lambda a: F.fold(a, (5, 6), (2, 3), dilation=(1, 2), padding=1, stride=(2, 1)),
    lambda a: TF("fold")(a, (5, 6), (2, 3), dilation=(1, 2), padding=1, stride=(2, 1)), (2, 12, 12))
row("fold_unbatched", lambda a: F.fold(a, 4, 3, padding=1), lambda a: TF("fold")(a, 4, 3, padding=1), (18, 16))

# --- pooling with indices ------------------------------------------------------------------------
row("max_pool2d_indices", lambda a: F.max_pool2d(a, 2, return_indices=True)[0],
    lambda a: TF("max_pool2d")(a, 2, return_indices=True)[0], (2, 3, 4, 6))
row("max_unpool2d", lambda a: F.max_unpool2d(*F.max_pool2d(a, 2, return_indices=True), 2),
    lambda a: TF("max_unpool2d")(*TF("max_pool2d")(a, 2, return_indices=True), 2), (2, 3, 4, 6))
row("max_unpool2d_size", lambda a: F.max_unpool2d(*F.max_pool2d(a, 2, 2, 1, return_indices=True), 2, 2, 1,
                                                  output_size=(5, 7)),
    lambda a: TF("max_unpool2d")(*TF("max_pool2d")(a, 2, 2, 1, return_indices=True), 2, 2, 1, output_size=(5, 7)),
    (2, 3, 5, 7))
row("adaptive_max_pool2d", lambda a: F.adaptive_max_pool2d(a, (2, 3)), lambda a: TF("adaptive_max_pool2d")(a, (2, 3)),
    (2, 3, 5, 7))
row("adaptive_max_pool2d_1", lambda a: F.adaptive_max_pool2d(a, 1), lambda a: TF("adaptive_max_pool2d")(a, 1),
    (3, 4, 5))


# --- linear_activation: Linear and its activation as one op (fused on a GPU), batched and 1-D inputs --------
def _linear_activation_rows():
    from matgrad.ops.linear import linear_activation

    def torch_act(act, z):
        return getattr(torch, act)(z)

    for act in ("relu", "sigmoid", "tanh"):
        for i, x_shape in enumerate([(5, 4), (2, 3, 4), (4,)]):
            row(f"linear_activation_{act}{i}", lambda x, w, b, a=act: linear_activation(x, w, b, a),
                lambda x, w, b, a=act: torch_act(a, TF("linear")(x, w, b)), x_shape, (3, 4), (3,))
        row(f"linear_activation_{act}_nobias", lambda x, w, a=act: linear_activation(x, w, None, a),
            lambda x, w, a=act: torch_act(a, TF("linear")(x, w)), (2, 2, 4), (3, 4))


_linear_activation_rows()

def test_max_unpool2d_overlapping_windows_match_torch():
    """Overlapping windows repeat an index: PyTorch keeps one write (equal values) and gathers dy for each."""
    from tests.helpers import compare_torch

    if torch is None:
        pytest.skip("no torch")
    x = np.random.default_rng(3).standard_normal((2, 3, 5, 7))
    compare_torch(lambda a: F.max_unpool2d(*F.max_pool2d(a, 3, 2, 1, return_indices=True), 3, 2, 1,
                                           output_size=(5, 7)),
                  [x], lambda a: TF("max_unpool2d")(*TF("max_pool2d")(a, 3, 2, 1, return_indices=True), 3, 2, 1,
                                                    output_size=(5, 7)))


@pytest.mark.parametrize("fn, tfn, shapes, opts", ROWS)
def test_op(fn, tfn, shapes, opts):
    check_op(fn, *shapes, torch_fn=tfn if torch is not None else None, **opts)


def test_op_table_nn_covers_issue_14_ops():
    ids = {r.id.split("_")[0] for r in ROWS}
    assert {"pad", "interpolate", "unfold", "fold", "max", "adaptive"} <= ids
    assert len(ROWS) > 40 and np.all([len(r.values[2]) for r in ROWS])
