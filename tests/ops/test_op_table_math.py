"""The op table for issue 14's math ops: cumulative, linear algebra, einsum, rounding, trigonometry,
division's relatives, distances. Each row: float64 finite differences (first and second order) and,
with PyTorch installed, values and gradients equal to torch's. Below the table: the values and dtypes
of what has no gradient (indices, integer results, ties, nan), and the errors.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import matgrad as mg
from tests.helpers import check_op

try:
    import torch
except ImportError:
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="compares with PyTorch")

BROADCAST = [((3, 1, 4), (5, 4)), ((), (3, 4)), ((4,), (2, 3, 4)), ((2, 3), (2, 3))]
UNARY_SHAPES = [(), (5,), (2, 3, 4)]

ROWS = []


def row(id_, fn, *shapes, **opts):
    ROWS.append(pytest.param(fn, shapes, opts, id=id_))


def top(name, *args, **kwargs):
    """(fn, torch_fn) calling matgrad.NAME and torch.NAME on the tensors, then args."""
    return dict(fn=lambda *ts: getattr(mg, name)(*ts, *args, **kwargs),
                torch_fn=lambda *ts: getattr(torch, name)(*ts, *args, **kwargs))


def trow(id_, name, args, shapes, **opts):
    """A row for a top-level function: matgrad.NAME(*tensors, *args) against torch.NAME."""
    kw = opts.pop("kwargs", {})
    f = top(name, *args, **kw)
    row(id_, f["fn"], *shapes, torch_fn=f["torch_fn"], **opts)


# --- cumulative -----------------------------------------------------------------------------
ZEROS = np.array([[2.0, 0.0, 3.0, -1.5], [0.0, 1.5, 0.0, 2.0], [1.0, -2.0, 0.5, 0.7]])
for d in (0, 1, -1):
    row(f"cumsum{d}", lambda a, d=d: a.cumsum(d), (3, 4))
    row(f"cumprod{d}", lambda a, d=d: a.cumprod(d), (3, 4))
    row(f"cumprod_zeros{d}", lambda a, d=d: a.cumprod(d), ZEROS)
    row(f"cummax{d}", lambda a, d=d: a.cummax(d).values, (3, 4))
    row(f"cummin{d}", lambda a, d=d: a.cummin(dim=d)[0], (3, 4))
    row(f"logcumsumexp{d}", lambda a, d=d: a.logcumsumexp(d), (3, 4))
row("cumsum_3d", lambda a: a.cumsum(1), (2, 3, 4))
row("cumsum_0d", lambda a: a.cumsum(0), ())
trow("cumsum_top", "cumsum", (), [(3, 4)], kwargs={"dim": 1})
row("cumsum_dtype", lambda a: mg.cumsum(a, 0, dtype=mg.float64), (3, 4),
    torch_fn=lambda a: torch.cumsum(a, 0, dtype=torch.float64))
row("cumprod_0d", lambda a: a.cumprod(0), ())
row("cumprod_3d", lambda a: a.cumprod(2), (2, 3, 4))
row("cumprod_one_zero", lambda a: a.cumprod(0), np.array([1.5, -0.5, 0.0, 2.0, 3.0]))
row("cumprod_many_zeros", lambda a: a.cumprod(1), np.array([[0.0, 2.0, 0.0, 3.0], [1.0, 0.0, 0.0, 2.0]]))
row("cumprod_leading_zero", lambda a: a.cumprod(0), np.array([0.0, 2.0, 3.0]))
trow("cumprod_top", "cumprod", (1,), [(3, 4)])
row("cummax_3d", lambda a: a.cummax(1).values, (2, 3, 4))
row("cummin_0d", lambda a: a.cummin(0).values, ())
trow("cummax_top", "cummax", (0,), [(4, 2)])
row("logcumsumexp_big", lambda a: (a * 300).logcumsumexp(1), (3, 4))
row("logcumsumexp_3d", lambda a: a.logcumsumexp(0), (2, 3, 4))
row("logcumsumexp_0d", lambda a: a.logcumsumexp(0), ())
trow("logcumsumexp_top", "logcumsumexp", (1,), [(3, 4)])

# --- triangles and diagonals ----------------------------------------------------------------------
for k in (-1, 0, 2):
    trow(f"tril{k}", "tril", (k,), [(4, 5)])
    trow(f"triu{k}", "triu", (k,), [(4, 5)])
    row(f"diagonal_offset{k}", lambda a, k=k: a.diagonal(k), (4, 5))
    trow(f"diag_vec{k}", "diag", (k,), [(3,)])
    trow(f"diag_mat{k}", "diag", (k,), [(4, 5)])
row("tril_batched", lambda a: a.tril(), (2, 3, 4))
row("triu_batched", lambda a: a.triu(diagonal=1), (2, 4, 3))
row("diagonal_dims", lambda a: a.diagonal(0, 1, 2), (2, 3, 4))
row("diagonal_dims_neg", lambda a: a.diagonal(offset=-1, dim1=2, dim2=0), (3, 2, 4))
row("diagonal_empty", lambda a: a.diagonal(7), (3, 4))
trow("diagonal_top", "diagonal", (1, 0, 1), [(3, 4)])
row("trace", lambda a: a.trace(), (4, 4))
row("trace_rect", lambda a: a.trace(), (3, 5))

# --- products ---------------------------------------------------------------------------------------
trow("outer", "outer", (), [(3,), (4,)])
row("outer_method", lambda a, b: a.outer(b), (3,), (2,))
trow("mv", "mv", (), [(3, 4), (4,)])
trow("addmm", "addmm", (), [(3, 2), (3, 4), (4, 2)])
trow("addmm_bcast", "addmm", (), [(2,), (3, 4), (4, 2)])
trow("addmm_scaled", "addmm", (), [(3, 2), (3, 4), (4, 2)], kwargs={"beta": 0.5, "alpha": -2.0})
trow("addmm_beta0", "addmm", (), [(1, 2), (3, 4), (4, 2)], kwargs={"beta": 0})
trow("baddbmm", "baddbmm", (), [(2, 3, 5), (2, 3, 4), (2, 4, 5)])
trow("baddbmm_bcast", "baddbmm", (), [(3, 1), (2, 3, 4), (2, 4, 5)], kwargs={"beta": 2.0, "alpha": 0.5})

# --- einsum -------------------------------------------------------------------------------------------
EINSUM = [
    ("mm", "ij,jk->ik", [(3, 4), (4, 2)]),
    ("mm_implicit", "ij,jk", [(3, 4), (4, 2)]),
    ("bmm", "bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
    ("outer", "i,j->ij", [(3,), (4,)]),
    ("dot", "i,i->", [(4,), (4,)]),
    ("elementwise", "ij,ij->ij", [(3, 4), (3, 4)]),
    ("transpose", "ijk->kji", [(2, 3, 4)]),
    ("sum_all", "ij->", [(3, 4)]),
    ("sum_rows", "ij->i", [(3, 4)]),
    ("trace", "ii->", [(4, 4)]),
    ("trace_implicit", "ii", [(4, 4)]),
    ("diag", "ii->i", [(4, 4)]),
    ("batch_diag", "bii->bi", [(2, 3, 3)]),
    ("repeat_three", "iii->i", [(3, 3, 3)]),
    ("repeat_with_other", "iij,j->i", [(3, 3, 4), (4,)]),
    ("diag_times_vec", "ii,i->i", [(3, 3), (3,)]),
    ("three_operands", "ij,jk,kl->il", [(2, 3), (3, 4), (4, 5)]),
    ("ellipsis_bmm", "...ij,...jk->...ik", [(2, 3, 4), (4, 5)]),
    ("ellipsis_broadcast", "...ij,...jk->...ik", [(2, 1, 3, 4), (5, 4, 2)]),
    ("ellipsis_implicit", "...ij,...jk", [(2, 3, 4), (4, 5)]),
    ("ellipsis_sum", "...ij->ij", [(2, 3, 4)]),
    ("ellipsis_middle", "i...j->j...i", [(2, 3, 4, 5)]),
    ("ellipsis_identity", "...->...", [(2, 3)]),
    ("size1_broadcast", "ij,kj->ik", [(2, 1), (3, 4)]),
    ("uppercase", "Ba,ab", [(2, 3), (3, 5)]),
    ("spaces", "i j , j k -> i k", [(3, 4), (4, 2)]),
    ("scalar", ",ij->ij", [(), (3, 4)]),
    ("bilinear", "bn,anm,bm->ba", [(2, 3), (4, 3, 5), (2, 5)]),
]
for id_, eq, shapes in EINSUM:
    row(f"einsum_{id_}", lambda *ts, eq=eq: mg.einsum(eq, *ts), *shapes,
        torch_fn=lambda *ts, eq=eq: torch.einsum(eq, *ts))
row("einsum_list", lambda a, b: mg.einsum("ij,jk->ik", [a, b]), (3, 4), (4, 2),
    torch_fn=lambda a, b: torch.einsum("ij,jk->ik", [a, b]))

# --- det and inverse ----------------------------------------------------------------------------------
WELL = np.array([[2.0, 0.5, -0.3], [0.1, 1.5, 0.4], [-0.6, 0.2, 3.0]])
BATCH_WELL = np.stack([WELL, WELL.T + np.eye(3)])
SINGULAR = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [0.5, -1.0, 2.0]])
trow("det", "det", (), [(3, 3)])
trow("det_batched", "det", (), [(2, 4, 4)])
trow("det_1x1", "det", (), [(1, 1)])
row("det_method", lambda a: a.det(), WELL)
row("det_singular", lambda a: mg.det(a), SINGULAR, second=False, use_torch=False)  # torch's gradient is 0 there
row("det_singular_rank1", lambda a: mg.det(a), np.ones((3, 3)), second=False, use_torch=False)
trow("inverse", "inverse", (), [WELL])
trow("inverse_batched", "inverse", (), [BATCH_WELL])
row("inverse_method", lambda a: a.inverse() @ a.T, WELL)

# --- distances ---------------------------------------------------------------------------------------
for p in (2.0, 1.0, 3.0, float("inf"), 0.5):
    trow(f"cdist_p{p}", "cdist", (), [(4, 3), (5, 3)], kwargs={"p": p})
    trow(f"dist_p{p}", "dist", (), [(3, 4), (4,)], kwargs={"p": p})
trow("cdist_batched", "cdist", (), [(2, 4, 3), (2, 5, 3)])
trow("cdist_batch_broadcast", "cdist", (), [(2, 1, 4, 3), (3, 5, 3)])
trow("cdist_default", "cdist", (), [(6, 2), (3, 2)])
row("cdist_same_points", lambda a: mg.cdist(a, a), (4, 3), torch_fn=lambda a: torch.cdist(a, a),
    second=False)  # d = 0 on the diagonal: the gradient there is 0, as PyTorch's (√ is not smooth at 0)
row("dist_method", lambda a, b: a.dist(b), (3, 4), (3, 4))

# --- copies and rotations ----------------------------------------------------------------------------
row("roll", lambda a: a.roll(1, 0), (4, 3))
row("roll_neg", lambda a: a.roll(-2, -1), (4, 3))
row("roll_big", lambda a: a.roll(7, 1), (4, 3))
row("roll_dims", lambda a: a.roll((1, -1), (0, 2)), (2, 3, 4))
row("roll_flat", lambda a: a.roll(2), (3, 4))
row("roll_zero", lambda a: a.roll(0, 0), (3, 4))
trow("roll_top", "roll", (1, 1), [(3, 4)])
row("repeat", lambda a: a.repeat(2, 3), (3, 4))
row("repeat_more_dims", lambda a: a.repeat(2, 1, 3), (3, 4))
row("repeat_1d", lambda a: a.repeat(3), (4,))
row("repeat_0d", lambda a: a.repeat(2, 2), ())
row("repeat_interleave", lambda a: a.repeat_interleave(2, dim=0), (3, 4))
row("repeat_interleave_dim1", lambda a: a.repeat_interleave(3, 1), (2, 3))
row("repeat_interleave_flat", lambda a: a.repeat_interleave(2), (2, 3))
row("repeat_interleave_tensor", lambda a: a.repeat_interleave(mg.tensor([1, 0, 3]), dim=1), (2, 3),
    torch_fn=lambda a: a.repeat_interleave(torch.tensor([1, 0, 3]), dim=1))
row("repeat_interleave_top", lambda a: mg.repeat_interleave(a, mg.tensor([2, 1]), dim=0), (2, 3),
    torch_fn=lambda a: torch.repeat_interleave(a, torch.tensor([2, 1]), dim=0))

# --- elementwise math ----------------------------------------------------------------------------------
for s in UNARY_SHAPES:
    k = f"_{len(s)}d"
    row("tan" + k, lambda a: a.tan(), s)
    row("asin" + k, lambda a: (a.tanh() * 0.9).asin(), s)
    row("acos" + k, lambda a: (a.tanh() * 0.9).acos(), s)
    row("atan" + k, lambda a: a.atan(), s)
    row("sinh" + k, lambda a: a.sinh(), s)
    row("cosh" + k, lambda a: a.cosh(), s)
    row("asinh" + k, lambda a: a.asinh(), s)
    row("acosh" + k, lambda a: (a + 1).acosh(), s, positive=True)
    row("atanh" + k, lambda a: (a.tanh() * 0.9).atanh(), s)
    row("log2" + k, lambda a: a.log2(), s, positive=True)
    row("log10" + k, lambda a: a.log10(), s, positive=True)
    row("exp2" + k, lambda a: a.exp2(), s)
    row("floor" + k, lambda a: (a * 3).floor() * a, s)
    row("ceil" + k, lambda a: (a * 3).ceil() * a, s)
    row("round" + k, lambda a: (a * 3).round() * a, s)
    row("trunc" + k, lambda a: (a * 3).trunc() * a, s)
    row("frac" + k, lambda a: (a * 3).frac() * a, s)
for name in ("tan", "asin", "atan", "sinh", "cosh", "asinh", "exp2", "floor", "ceil", "round", "trunc", "frac"):
    trow(f"{name}_top", name, (), [(3, 2)])
trow("log2_top", "log2", (), [(3, 2)], positive=True)
trow("log10_top", "log10", (), [(3, 2)], positive=True)
row("round_decimals", lambda a: (a * 10).round(decimals=2) * a, (3, 4))
row("round_decimals_neg", lambda a: (a * 100).round(decimals=-1) * a, (3, 4))
row("nan_to_num_finite", lambda a: a.nan_to_num(), (3, 4))
trow("nan_to_num_top", "nan_to_num", (), [(3, 4)], kwargs={"nan": 1.0})

# --- division's relatives, atan2, lerp ---------------------------------------------------------------
for i, (sa, sb) in enumerate(BROADCAST):
    row(f"fmod{i}", lambda a, b: a.fmod(b), sa, sb)
    row(f"remainder{i}", lambda a, b: a.remainder(b), sa, sb)
    row(f"mod_op{i}", lambda a, b: a % b, sa, sb)
    row(f"atan2{i}", lambda a, b: a.atan2(b), sa, sb)
    row(f"lerp_tensor_weight{i}", lambda a, b: a.lerp(b, b.sigmoid()), sa, sb)
row("mod_scalar", lambda a: a % 0.7, (3, 4))
row("rmod", lambda a: 2.5 % a, (3, 4),  # torch has no derivative for Scalar % Tensor
    torch_fn=lambda a: torch.remainder(torch.full_like(a, 2.5), a))
row("fmod_scalar", lambda a: a.fmod(-0.7), (3, 4))
trow("fmod_top", "fmod", (), [(3, 4), (4,)])
trow("remainder_top", "remainder", (), [(3, 4), (3, 1)])
trow("atan2_top", "atan2", (), [(3, 4), (4,)])
row("lerp_scalar", lambda a, b: a.lerp(b, 0.3), (3, 4), (4,))
row("lerp_high", lambda a, b: a.lerp(b, 0.8), (3, 4), (3, 4))
trow("lerp_top", "lerp", (0.25,), [(3, 4), (3, 4)])

# --- var_mean / std_mean --------------------------------------------------------------------------------
trow("var_mean", "var_mean", (), [(3, 4)])
trow("var_mean_dim", "var_mean", (1,), [(3, 4)])
trow("var_mean_keep", "var_mean", (), [(3, 4, 2)], kwargs={"dim": (0, 2), "keepdim": True, "correction": 0})
trow("std_mean", "std_mean", (), [(3, 4)])
trow("std_mean_unbiased", "std_mean", (0,), [(3, 4)], kwargs={"unbiased": False})
trow("std_mean_correction", "std_mean", (), [(3, 4)], kwargs={"dim": 1, "correction": 2})


# --- more of torch's math: div's rounding modes, addcmul/addcdiv, nan-aware reductions, products ------
for i, (sa, sb) in enumerate(BROADCAST):
    for mode in ("floor", "trunc"):  # zero gradient, as torch's; the product keeps a gradient to check
        row(f"div_{mode}{i}", lambda a, b, m=mode: a.div(b, rounding_mode=m) * a * b, sa, sb)
    row(f"addcmul{i}", lambda a, b: mg.addcmul(a, b, b.sin(), value=-0.5), sa, sb,
        torch_fn=lambda a, b: torch.addcmul(a, b, b.sin(), value=-0.5))
    row(f"addcdiv{i}", lambda a, b: a.addcdiv(b, b.exp(), value=2.0), sa, sb)
    row(f"logaddexp{i}", lambda a, b: a.logaddexp(b), sa, sb)
    row(f"logaddexp2{i}", lambda a, b: a.logaddexp2(b), sa, sb)
    row(f"hypot{i}", lambda a, b: a.hypot(b), sa, sb)
    row(f"xlogy{i}", lambda a, b: a.xlogy(b.exp()), sa, sb)
    row(f"copysign{i}", lambda a, b: a.copysign(b), sa, sb)
    row(f"fmax{i}", lambda a, b: a.fmax(b), sa, sb)
    row(f"fmin{i}", lambda a, b: a.fmin(b), sa, sb)
    row(f"clamp_min_tensor{i}", lambda a, b: a.clamp_min(b), sa, sb)
    row(f"float_power{i}", lambda a, b: a.abs().float_power(b), sa, sb)
    row(f"ldexp{i}", lambda a, b: mg.ldexp(a, b), sa, sb, torch_fn=lambda a, b: torch.ldexp(a, b))
trow("addcmul_top", "addcmul", (), [(3, 4), (4,), (3, 1)])
trow("addcdiv_top", "addcdiv", (), [(3, 4), (4,), (3, 1)], kwargs={"value": 0.5}, positive=True)
trow("logaddexp_top", "logaddexp", (), [(3, 4), (4,)])
trow("hypot_top", "hypot", (), [(3, 4), (3, 4)])
trow("xlogy_top", "xlogy", (), [(3, 4), (3, 4)], positive=True)
row("xlogy_scalar", lambda a: mg.xlogy(a, 2.5), (3, 4), torch_fn=lambda a: torch.xlogy(a, 2.5))
row("clamp_min", lambda a: a.clamp_min(0.2), (3, 4))
row("clamp_max", lambda a: a.clamp_max(-0.1), (3, 4))
trow("clamp_min_top", "clamp_min", (0.3,), [(3, 4)])
trow("clamp_max_top", "clamp_max", (0.3,), [(3, 4)])
trow("float_power_scalar", "float_power", (3,), [(3, 4)])
for s in UNARY_SHAPES:
    k = f"_{len(s)}d"
    row("logit" + k, lambda a: a.sigmoid().logit(), s)
    row("logit_eps" + k, lambda a: (a.sigmoid() * 1.2 - 0.1).logit(eps=0.05), s)
    row("erfc" + k, lambda a: a.erfc(), s)
    row("sinc" + k, lambda a: a.sinc(), s)
    row("deg2rad" + k, lambda a: a.deg2rad(), s)
    row("rad2deg" + k, lambda a: a.rad2deg(), s)
    row("sgn" + k, lambda a: a.sgn() * a, s)
    row("positive" + k, lambda a: a.positive() * 2, s)
    row("frexp" + k, lambda a: a.frexp().mantissa, s)
    row("nansum" + k, lambda a: a.nansum(), s)
    row("nanmean" + k, lambda a: a.nanmean(), s)
row("sinc_zero", lambda a: a.sinc(), np.array([0.0, 0.5, -1.5, 2.0]))
row("logit_eps_outside", lambda a: a.logit(eps=0.25), np.array([0.1, 0.2, 0.5, 0.8, 0.9]))
trow("erfc_top", "erfc", (), [(3, 4)])
trow("logit_top", "logit", (0.01,), [(3, 4)], positive=True)
NANS = np.array([[1.0, np.nan, -2.0, 0.5], [np.nan, np.nan, 3.0, 1.0], [0.2, 0.4, -0.6, np.nan]])
for d in (0, 1, (0, 1)):
    row(f"nansum_dim{d}", lambda a, d=d: a.nansum(d), NANS, torch_fn=lambda a, d=d: a.nansum(d))
    row(f"nanmean_dim{d}", lambda a, d=d: a.nanmean(d, keepdim=True), NANS)
trow("nansum_top", "nansum", (), [(3, 4)], kwargs={"dim": 1, "keepdim": True})
trow("nanmean_top", "nanmean", (), [(3, 4)], kwargs={"dim": 0})

for n in (1, 2, 3):
    row(f"diff_n{n}", lambda a, n=n: a.diff(n), (3, 5))
row("diff_dim0", lambda a: a.diff(dim=0), (3, 4))
row("diff_prepend_append", lambda a, p, q: a.diff(n=2, dim=1, prepend=p, append=q), (3, 4), (3, 1), (3, 2))
row("diff_long", lambda a: a.diff(7), (2, 5))
trow("diff_top", "diff", (), [(2, 3, 4)], kwargs={"dim": 1})
row("cross", lambda a, b: a.cross(b, dim=1), (4, 3), (4, 3))
row("cross_dim0", lambda a, b: mg.cross(a, b, dim=0), (3, 2), (3, 1), torch_fn=lambda a, b: torch.cross(a, b, dim=0))
row("cross_batch", lambda a, b: mg.cross(a, b, dim=-1), (2, 1, 3), (1, 4, 3),
    torch_fn=lambda a, b: torch.cross(a, b, dim=-1))
trow("kron", "kron", (), [(2, 3), (3, 2)])
trow("kron_ranks", "kron", (), [(2,), (2, 3, 2)])
trow("kron_0d", "kron", (), [(), (3,)])
trow("tensordot", "tensordot", (), [(3, 4, 5), (4, 5, 2)])
trow("tensordot_int", "tensordot", (1,), [(3, 4), (4, 2)])
trow("tensordot_zero", "tensordot", (0,), [(3,), (2,)])
trow("tensordot_lists", "tensordot", (), [(3, 4, 2), (4, 3, 5)], kwargs={"dims": ([1, 0], [0, 1])})
trow("tensordot_neg", "tensordot", (), [(3, 4), (2, 4)], kwargs={"dims": ([-1], [1])})
trow("inner", "inner", (), [(2, 3), (4, 3)])
trow("inner_0d", "inner", (), [(), (4, 3)])
trow("inner_1d", "inner", (), [(3,), (3,)])
trow("vdot", "vdot", (), [(5,), (5,)])
row("inner_method", lambda a, b: a.inner(b), (2, 3, 4), (4,))
trow("trapezoid", "trapezoid", (), [(3, 5)])
trow("trapezoid_dx", "trapezoid", (), [(3, 5)], kwargs={"dx": 0.3, "dim": 0})
trow("trapezoid_x1d", "trapezoid", (), [(3, 5), (5,)])
trow("trapezoid_x_full", "trapezoid", (), [(3, 5), (3, 5)], kwargs={"dim": 0})
trow("trapezoid_one_point", "trapezoid", (), [(3, 1)])
trow("trapz_x", "trapz", (), [(4, 3), (4, 3)], kwargs={"dim": 0})
trow("trapz_dx", "trapz", (), [(4, 3)], kwargs={"dx": 2.0})
trow("cumulative_trapezoid", "cumulative_trapezoid", (), [(3, 5)])
trow("cumulative_trapezoid_x", "cumulative_trapezoid", (), [(3, 5), (5,)])
trow("cumulative_trapezoid_dx", "cumulative_trapezoid", (), [(3, 5)], kwargs={"dx": 0.5, "dim": 0})
trow("cov", "cov", (), [(3, 6)])
trow("cov_1d", "cov", (), [(6,)])
trow("cov_correction0", "cov", (), [(2, 5)], kwargs={"correction": 0})
row("cov_aweights", lambda a, w: mg.cov(a, aweights=w.exp()), (3, 5), (5,),
    torch_fn=lambda a, w: torch.cov(a, aweights=w.exp()))
row("cov_fweights", lambda a: mg.cov(a, fweights=mg.tensor([1, 2, 0, 3, 1]), aweights=mg.tensor(
    [0.5, 1.0, 2.0, 0.3, 1.5], dtype=mg.float64)), (3, 5),
    torch_fn=lambda a: torch.cov(a, fweights=torch.tensor([1, 2, 0, 3, 1]),
                                 aweights=torch.tensor([0.5, 1.0, 2.0, 0.3, 1.5], dtype=torch.float64)))
trow("corrcoef", "corrcoef", (), [(3, 6)])
row("corrcoef_method", lambda a: a.corrcoef(), (2, 5))


# --- the torch functions that were still missing: old linear algebra, nan-aware order statistics, i0 ... ----
def _spd(a):
    """a @ aᵀ + 3I: symmetric positive-definite, in either library."""
    eye = mg.eye(a.shape[-1], dtype=mg.float64) if isinstance(a, mg.Tensor) else torch.eye(a.shape[-1],
                                                                                           dtype=torch.float64)
    return a @ a.mT + 3 * eye


def _quiet(fn):
    """fn with its deprecation warning (chain_matmul, cholesky: checked in test_more_functions) silenced."""
    def run(*ts):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            return fn(*ts)
    return run


NANS = np.array([[2.0, np.nan, 1.0, 3.0, 0.5], [np.nan, 0.3, np.nan, -1.0, 4.0], [1.5, -2.0, 0.7, 2.5, -0.4]])
row("bmm_method", lambda a, b: a.bmm(b), (2, 3, 4), (2, 4, 2))
trow("addmv", "addmv", (), [(3,), (3, 4), (4,)])
trow("addmv_scaled", "addmv", (), [(), (3, 4), (4,)], kwargs={"beta": 0.5, "alpha": -2.0})
trow("addbmm", "addbmm", (), [(3, 2), (4, 3, 5), (4, 5, 2)])
trow("addbmm_scaled", "addbmm", (), [(2,), (2, 3, 4), (2, 4, 2)], kwargs={"beta": 2.0, "alpha": 0.5})
row("aminmax_dim", lambda a: a.aminmax(dim=1, keepdim=True), (3, 4))
row("aminmax_all", lambda a: a.aminmax(), (2, 3, 4))
row("logdet", lambda a: _spd(a).logdet(), (2, 3, 3))
row("matrix_power3", lambda a: a.matrix_power(3), (2, 3, 3))
row("matrix_power_neg", lambda a: _spd(a).matrix_power(-2), (3, 3))
trow("matrix_exp_top", "matrix_exp", (), [(2, 3, 3)])
trow("pinverse", "pinverse", (), [(4, 3)])
trow("pinverse_rcond", "pinverse", (), [(2, 3, 5)], kwargs={"rcond": 1e-3})
row("svd_legacy", lambda a: (lambda u, s, v: (u * u, s, v * v))(*a.svd()), (2, 4, 3))  # V (not Vh): torch's
row("svd_legacy_full", lambda a: (lambda u, s, v: (u[..., :3] ** 2, s, v ** 2))(*a.svd(some=False)), (4, 3))
row("cholesky_legacy", _quiet(lambda a: _spd(a).cholesky()), (2, 3, 3))
row("cholesky_legacy_upper", _quiet(lambda a: _spd(a).cholesky(upper=True)), (3, 3))
row("chain_matmul", _quiet(lambda a, b, c: mg.chain_matmul(a, b, c)), (2, 3), (3, 4), (4, 2),
    torch_fn=_quiet(lambda a, b, c: torch.chain_matmul(a, b, c)))
row("nanmedian_dim", lambda a: a.nanmedian(1), NANS)
row("nanmedian_dim0_keepdim", lambda a: a.nanmedian(0, keepdim=True).values, NANS)
row("nanmedian_all", lambda a: a.nanmedian(), NANS)
row("nanquantile_dim", lambda a: a.nanquantile(0.3, dim=1), NANS)
row("nanquantile_all", lambda a: a.nanquantile(0.65), NANS)
trow("renorm", "renorm", (2, 0, 2.0), [(3, 4)])
trow("renorm_p3_dim1", "renorm", (3, 1, 1.5), [(2, 4, 3)])
trow("renorm_inf", "renorm", (float("inf"), -1, 1.0), [(3, 4)])
trow("i0", "i0", (), [(2, 3, 4)])
# |x| > 30: i1's asymptotic series in the gradient (scaled by e^-|x|, as i0e, so no value swamps the others)
row("i0_large", lambda a: (a * 25).i0() * (-(a * 25).abs()).exp(), (3, 4))
row("mvlgamma", lambda a: (a + 1).mvlgamma(3), (2, 3), positive=True)
row("mvlgamma_p1", lambda a: a.mvlgamma(1), (4,), positive=True)
row("nextafter", lambda a, b: a.nextafter(b), (3, 4), (4,))


@pytest.mark.parametrize("fn, shapes, opts", ROWS)
def test_op(fn, shapes, opts):
    check_op(fn, *shapes, **opts)


def test_cdist_through_the_matrix_product(monkeypatch):
    from matgrad.ops import linalg

    monkeypatch.setattr(linalg, "CDIST_DIRECT_MAX", 0)
    check_op(lambda a, b: mg.cdist(a, b), (2, 5, 3), (4, 3), torch_fn=lambda a, b: torch.cdist(a, b))


# --- values, dtypes and gradients with no finite differences ----------------------------------------
def _both(array, requires_grad=False):
    return (mg.tensor(array, requires_grad=requires_grad),
            torch.tensor(array, requires_grad=requires_grad) if torch is not None else None)


def _same(got, want, dtype=True):
    np.testing.assert_allclose(got.array, want.detach().numpy(), rtol=1e-6, atol=1e-6)
    if dtype:
        assert str(got.dtype).split(".")[-1] == str(want.dtype).split(".")[-1], (got.dtype, want.dtype)


TIES = np.array([[1.0, 1.0, 3.0, 3.0, 2.0, 3.0], [5.0, np.nan, 2.0, 7.0, np.nan, 1.0],
                 [-1.0, -1.0, -2.0, -2.0, 0.0, -2.0]])


@needs_torch
@pytest.mark.parametrize("name", ["cummax", "cummin"])
@pytest.mark.parametrize("dim", [0, 1])
def test_cummax_cummin_ties_and_nan(name, dim):
    x, t = _both(TIES, requires_grad=True)
    got, want = getattr(x, name)(dim), getattr(t, name)(dim)
    _same(got.values, want.values)
    np.testing.assert_array_equal(got.indices.array, want.indices.numpy())
    assert got.indices.dtype == mg.int64
    seed = np.arange(TIES.size, dtype=np.float64).reshape(TIES.shape)
    (got.values * mg.tensor(seed)).nan_to_num().sum().backward()
    (want.values * torch.tensor(seed)).nan_to_num().sum().backward()
    np.testing.assert_allclose(x.grad, t.grad.numpy())


@needs_torch
@pytest.mark.parametrize("dtype", ["int32", "int64", "bool", "float32"])
def test_cumulative_dtypes(dtype):
    a = np.array([[1, 0, 2], [3, 1, 1]]).astype(dtype)
    x, t = _both(a)
    for name in ("cumsum", "cumprod"):
        _same(getattr(mg, name)(x, 1), getattr(torch, name)(t, 1))
    if dtype != "bool":
        _same(x.cummax(1).values, t.cummax(1).values)
    _same(mg.cumsum(x, 0, dtype=mg.float64), torch.cumsum(t, 0, dtype=torch.float64))
    if dtype == "float32":
        _same(x.logcumsumexp(1), t.logcumsumexp(1))


@needs_torch
def test_logcumsumexp_infinities():
    a = np.array([[-np.inf, -np.inf, 0.0, 1000.0, -np.inf], [np.inf, 1.0, -1.0, 2.0, 3.0]])
    x, t = _both(a)
    _same(x.logcumsumexp(1), t.logcumsumexp(1))


ROUNDING = np.array([-2.5, -1.5, -0.5, -0.0, 0.0, 0.5, 1.5, 2.5, -1.7, 1.2, 3.999, -3.001, np.inf, -np.inf, np.nan])


@needs_torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", ["floor", "ceil", "round", "trunc", "frac"])
def test_rounding_edge_values(name, dtype):
    x, t = _both(ROUNDING.astype(dtype), requires_grad=True)
    got, want = getattr(x, name)(), getattr(t, name)()
    _same(got, want)
    np.testing.assert_array_equal(np.signbit(got.array), np.signbit(want.detach().numpy()))
    with np.errstate(invalid="ignore"):  # the sum of inf and -inf
        got.sum().backward()
    want.sum().backward()
    np.testing.assert_array_equal(x.grad, t.grad.numpy())


@needs_torch
@pytest.mark.parametrize("decimals", [-1, 1, 2, 3])
def test_round_decimals_values(decimals):
    a = np.array([1.2345, -1.2355, 125.0, 0.005, -0.015, 1234.5678])
    x, t = _both(a)
    _same(mg.round(x, decimals=decimals), torch.round(t, decimals=decimals))


@needs_torch
@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8"])
@pytest.mark.parametrize("name", ["floor", "ceil", "round", "trunc"])
def test_rounding_integers_unchanged(name, dtype):
    x, t = _both(np.array([0, 3, 7, 250]).astype(dtype))
    _same(getattr(mg, name)(x), getattr(torch, name)(t))


DIVIDENDS = np.array([5.0, -5.0, 3.5, -3.5, 0.0, -0.0, 7.0, -7.0])
DIVISORS = np.array([3.0, 3.0, -2.0, -2.0, 2.0, -2.0, 0.0, 0.0])


@needs_torch
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "int32"])
def test_division_relatives_values_and_dtypes(dtype):
    a, b = DIVIDENDS.astype(dtype), DIVISORS.astype(dtype)
    if dtype.startswith("int"):
        a, b = a[b != 0], b[b != 0]
    (x, t), (y, u) = _both(a), _both(b)
    for name in ("fmod", "remainder", "floor_divide"):
        got, want = getattr(mg, name)(x, y), getattr(torch, name)(t, u)
        _same(got, want)
        if dtype.startswith("float"):
            real = ~np.isnan(want.numpy())  # nan's sign bit is not specified
            np.testing.assert_array_equal(np.signbit(got.array)[real], np.signbit(want.numpy())[real], err_msg=name)
    _same(x % y, t % u)
    _same(x // y, t // u)
    _same(x % 3, t % 3)
    _same(7 % y, 7 % u)
    _same(7 // y, 7 // u)
    _same(x // 2.5, t // 2.5)
    _same(mg.atan2(x, y), torch.atan2(t, u))


def test_integer_division_by_zero():
    x = mg.tensor([1, 2, 3])
    for fn in (lambda: x % 0, lambda: x // mg.tensor([1, 0, 1]), lambda: mg.fmod(x, 0)):
        with pytest.raises(ZeroDivisionError):
            fn()


def test_floor_divide_has_no_derivative():
    x = mg.tensor([5.0, -3.0], requires_grad=True)
    y = x // 2
    with pytest.raises(RuntimeError, match="floor_divide"):
        y.sum().backward()


@needs_torch
def test_nan_to_num_values_and_gradient():
    a = np.array([1.0, np.nan, np.inf, -np.inf, -2.0])
    for dtype in ("float32", "float64"):
        x, t = _both(a.astype(dtype), requires_grad=True)
        for kw in ({}, {"nan": 2.0, "posinf": 9.0}, {"neginf": -1.0}):
            _same(x.nan_to_num(**kw), t.nan_to_num(**kw))
        mg.nan_to_num(x).sum().backward()
        torch.nan_to_num(t).sum().backward()
        np.testing.assert_array_equal(x.grad, t.grad.numpy())
    _same(mg.nan_to_num(mg.tensor([1, 2])), torch.nan_to_num(torch.tensor([1, 2])))


@needs_torch
def test_trig_domains_and_integers():
    a = np.array([-1.5, -1.0, -0.5, 0.0, 0.5, 1.0, 1.5, 2.0])
    x, t = _both(a)
    for name in ("asin", "acos", "atanh", "acosh", "log2", "log10", "tan", "atan", "sinh", "cosh", "asinh", "exp2"):
        _same(getattr(x, name)(), getattr(t, name)())
    xi, ti = _both(np.array([0, 1, 2, 3]))
    for name in ("tan", "log2", "exp2", "atan"):
        _same(getattr(mg, name)(xi), getattr(torch, name)(ti))


@needs_torch
def test_float32_rows():
    rng = np.random.default_rng(3)
    a, b, c = (rng.standard_normal(s).astype(np.float32) for s in [(3, 4), (4, 5), (3, 5)])
    (x, t), (y, u), (z, v) = _both(a), _both(b), _both(c)
    for got, want in [(mg.einsum("ij,jk->ik", x, y), torch.einsum("ij,jk->ik", t, u)),
                      (mg.cdist(x, y.T), torch.cdist(t, u.T)), (x.cumsum(1), t.cumsum(1)),
                      (x.cumprod(0), t.cumprod(0)), (mg.addmm(z, x, y), torch.addmm(v, t, u)),
                      (x.tril(), t.tril()), (mg.outer(x[0], y[0]), torch.outer(t[0], u[0]))]:
        assert got.dtype == mg.float32
        np.testing.assert_allclose(got.array, want.numpy(), rtol=1e-5, atol=1e-5)


@needs_torch
def test_non_differentiable_values():
    x, t = _both(np.arange(12.0).reshape(3, 4))
    _same(mg.tril(mg.ones(3, 3, dtype=mg.int64)), torch.tril(torch.ones(3, 3, dtype=torch.int64)))
    _same(mg.triu(mg.ones(3, 3, dtype=mg.bool_)), torch.triu(torch.ones(3, 3, dtype=torch.bool)))
    _same(mg.repeat_interleave(mg.tensor([2, 0, 1])), torch.repeat_interleave(torch.tensor([2, 0, 1])))
    _same(mg.cdist(x, x + 1, p=0), torch.cdist(t, t + 1, p=0))
    _same(mg.dist(x, x * 0, p=0), torch.dist(t, t * 0, p=0))
    _same(mg.trace(mg.tensor([[1, 2], [3, 4]])), torch.trace(torch.tensor([[1, 2], [3, 4]])))
    _same(mg.diag(mg.tensor([1, 2])), torch.diag(torch.tensor([1, 2])))
    _same(mg.einsum("ij,jk->ik", mg.tensor([[1, 2]]), mg.tensor([[3], [4]])),
          torch.einsum("ij,jk->ik", torch.tensor([[1, 2]]), torch.tensor([[3], [4]])))
    tril = mg.tril(mg.full((3, 3), float("-inf")))
    assert not np.isnan(tril.array).any()
    assert mg.cummax(mg.tensor(2.0), 0).indices.shape == ()


def test_errors_name_the_shapes():
    a, b = mg.randn(3, 4), mg.randn(5, 2)
    with pytest.raises(RuntimeError, match="einsum"):
        mg.einsum("ij,jk->ik", a, b)
    with pytest.raises(RuntimeError, match=r"operand 0.*\(3, 4\)"):
        mg.einsum("ijk->i", a)
    with pytest.raises(RuntimeError, match="2 operand"):
        mg.einsum("ij->i", a, b)
    with pytest.raises(RuntimeError, match="output subscript z"):
        mg.einsum("ij->z", a)
    with pytest.raises(RuntimeError, match="repeated"):
        mg.einsum("ii->i", a)
    with pytest.raises(RuntimeError, match="invalid subscript"):
        mg.einsum("i1->i", a)
    with pytest.raises(RuntimeError, match="3 by 4"):
        mg.det(a)
    with pytest.raises(RuntimeError, match="at least 2 dimensions"):
        mg.inverse(mg.randn(3))
    with pytest.raises(RuntimeError, match="singular"):
        mg.inverse(mg.tensor([[1.0, 2.0], [2.0, 4.0]]))
    with pytest.raises(IndexError, match="out of range"):
        a.cumsum(2)
    with pytest.raises(IndexError, match="out of range"):
        a.diagonal(0, 0, 5)
    with pytest.raises(RuntimeError, match="columns"):
        mg.cdist(a, b)
    with pytest.raises(RuntimeError, match="3x4 and 5x2"):
        mg.addmm(mg.zeros(3, 2), a, b)
    with pytest.raises(RuntimeError, match="align"):  # PyTorch's RuntimeError, here and below
        a.roll((1, 2), 0)
    with pytest.raises(RuntimeError, match="smaller"):
        a.repeat(2)
    with pytest.raises(RuntimeError, match="2 dimensions"):
        mg.tril(mg.randn(3))
    with pytest.raises(RuntimeError, match="same size"):
        a.repeat_interleave(mg.tensor([1, 2]), dim=0)
