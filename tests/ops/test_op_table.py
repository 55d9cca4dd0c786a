"""Every differentiable op, one line each: float64 finite differences (first and second
order) and, with PyTorch installed, forward values and gradients equal to torch's.

A row is (id, fn, shapes, options). `fn` must use only names matgrad and torch share;
give `torch_fn` in the options where they differ. Shapes cover broadcasting pairs,
0-d tensors and batched cases.
"""
from __future__ import annotations

import numpy as np
import pytest

import matgrad as mg
from tests.helpers import check_op

try:
    import torch
except ImportError:
    torch = None

BROADCAST = [((3, 1, 4), (5, 4)), ((), (3, 4)), ((4,), (2, 3, 4)), ((2, 3), (2, 3))]
UNARY_SHAPES = [(), (5,), (2, 3, 4)]


def _nnf(name):
    """torch.nn.functional.<name>, looked up at call time (torch may be absent)."""
    return lambda *a, **k: getattr(torch.nn.functional, name)(*a, **k)


ROWS = []


def row(id_, fn, *shapes, **opts):
    ROWS.append(pytest.param(fn, shapes, opts, id=id_))


# --- arithmetic, with broadcasting and scalars on either side --------------------------
for i, (sa, sb) in enumerate(BROADCAST):
    row(f"add{i}", lambda a, b: a + b, sa, sb)
    row(f"sub{i}", lambda a, b: a - b, sa, sb)
    row(f"mul{i}", lambda a, b: a * b, sa, sb)
    row(f"div{i}", lambda a, b: a / b, sa, sb, positive=True)
    row(f"pow{i}", lambda a, b: a**b, sa, sb, positive=True)
    row(f"maximum{i}", lambda a, b: a.maximum(b), sa, sb)
    row(f"minimum{i}", lambda a, b: a.minimum(b), sa, sb)
    row(f"where{i}", lambda a, b: mg.where(a > 0, a, b), sa, sb,
        torch_fn=lambda a, b: torch.where(a > 0, a, b))
    row(f"pow_tensor_int_scalar{i}", lambda a, b: (a * b) ** 3, sa, sb)
row("radd", lambda a: 2.5 + a, (3, 2))
row("rsub", lambda a: 2.5 - a, (3, 2))
row("rmul", lambda a: 2.5 * a, (3, 2))
row("rdiv", lambda a: 2.5 / a, (3, 2), positive=True)
row("rpow", lambda a: 2.5**a, (3, 2))
row("pow_scalar", lambda a: a**3, (3, 2))
row("pow_half", lambda a: a**0.5, (3, 2), positive=True)
row("pow_neg", lambda a: a**-1.5, (3, 2), positive=True)
row("neg", lambda a: -a, (3, 2))
row("where_scalar", lambda a: mg.where(a > 0, a, 0.5), (3, 2), torch_fn=lambda a: torch.where(a > 0, a, 0.5))
row("f64_times_0d", lambda a, b: a * b, (3, 2), ())
row("add_alpha", lambda a, b: a.add(b, alpha=2.0), (3, 2), (2,))
row("sub_alpha", lambda a, b: a.sub(b, alpha=0.5), (3, 2), (2,))
row("reuse", lambda a: a * a + a / (a * a + 1), (4,))

# --- elementwise math and activations ---------------------------------------------------
for s in UNARY_SHAPES:
    k = f"_{len(s)}d"
    row("exp" + k, lambda a: a.exp(), s)
    row("log" + k, lambda a: a.log(), s, positive=True)
    row("sqrt" + k, lambda a: a.sqrt(), s, positive=True)
    row("rsqrt" + k, lambda a: a.rsqrt(), s, positive=True)
    row("abs" + k, lambda a: a.abs(), s)
    row("sin" + k, lambda a: a.sin(), s)
    row("cos" + k, lambda a: a.cos(), s)
    row("erf" + k, lambda a: a.erf(), s)
    row("square" + k, lambda a: a.square(), s)
    row("tanh" + k, lambda a: a.tanh(), s)
    row("sigmoid" + k, lambda a: a.sigmoid(), s)
    row("relu" + k, lambda a: a.relu(), s)
    row("sign" + k, lambda a: a.sign() * a, s)
    row("log1p" + k, lambda a: a.log1p(), s, positive=True)
    row("expm1" + k, lambda a: a.expm1(), s)
    row("reciprocal" + k, lambda a: a.reciprocal(), s, positive=True)
row("leaky_relu", lambda a: mg.leaky_relu(a, 0.2), (4, 5), torch_fn=lambda a: _nnf("leaky_relu")(a, 0.2))
row("leaky_relu_default", lambda a: mg.leaky_relu(a), (4, 5), torch_fn=lambda a: _nnf("leaky_relu")(a))
row("leaky_relu_steep", lambda a: mg.leaky_relu(a, 1.5), (4, 5), torch_fn=lambda a: _nnf("leaky_relu")(a, 1.5))
row("leaky_relu_negative", lambda a: mg.leaky_relu(a, -0.3), (4, 5), torch_fn=lambda a: _nnf("leaky_relu")(a, -0.3))
row("elu", lambda a: mg.elu(a), (4, 5), torch_fn=lambda a: _nnf("elu")(a))
row("elu_alpha", lambda a: mg.elu(a, 0.7), (4, 5), torch_fn=lambda a: _nnf("elu")(a, 0.7))
row("gelu", lambda a: mg.gelu(a), (4, 5), torch_fn=lambda a: _nnf("gelu")(a))
row("gelu_tanh", lambda a: mg.gelu(a, approximate="tanh"), (4, 5),
    torch_fn=lambda a: _nnf("gelu")(a, approximate="tanh"))
row("softplus", lambda a: mg.softplus(a), (4, 5), torch_fn=lambda a: _nnf("softplus")(a))
row("softplus_beta", lambda a: mg.softplus(a * 20, beta=2.0, threshold=5.0), (4, 5),
    torch_fn=lambda a: _nnf("softplus")(a * 20, beta=2.0, threshold=5.0))
row("clamp", lambda a: a.clamp(-0.5, 0.5), (4, 5))
row("clamp_min", lambda a: a.clamp(min=0.1), (4, 5))
row("clamp_max", lambda a: a.clip(max=0.1), (4, 5))
row("clamp_tensor", lambda a, lo: a.clamp(min=lo), (4, 5), (5,))

# --- matmul -------------------------------------------------------------------------------
row("mm", lambda a, b: a @ b, (3, 4), (4, 2))
row("vec_vec", lambda a, b: a @ b, (4,), (4,))
row("vec_mat", lambda a, b: a @ b, (4,), (4, 2))
row("mat_vec", lambda a, b: a @ b, (3, 4), (4,))
row("batched", lambda a, b: a @ b, (2, 3, 4), (2, 4, 5))
row("batched_bcast", lambda a, b: a.matmul(b), (2, 1, 3, 4), (5, 4, 2))
row("batch_mat", lambda a, b: a @ b, (2, 3, 4), (4, 5))
row("vec_batch", lambda a, b: a @ b, (4,), (2, 4, 3))
row("batch_vec", lambda a, b: a @ b, (2, 3, 4), (4,))

# --- reductions ---------------------------------------------------------------------------
row("sum", lambda a: a.sum(), (3, 4))
row("sum_dim", lambda a: a.sum(1), (3, 4, 2))
row("sum_neg_keep", lambda a: a.sum(-1, keepdim=True), (3, 4))
row("sum_dims", lambda a: a.sum((0, 2)), (3, 4, 2))
row("sum_0d", lambda a: a.sum(), ())
row("mean", lambda a: a.mean(), (3, 4))
row("mean_dim", lambda a: a.mean(dim=0, keepdim=True), (3, 4))
row("mean_dims", lambda a: a.mean((-1, 0)), (3, 4, 2))
row("max_all", lambda a: a.max(), (3, 4))
row("min_all", lambda a: a.min(), (3, 4))
row("max_dim", lambda a: a.max(1)[0], (3, 4))
row("max_dim_keep", lambda a: a.max(dim=-1, keepdim=True).values, (3, 4))
row("min_dim", lambda a: a.min(0).values, (3, 4))
row("amax", lambda a: a.amax(1), (3, 4, 2))
row("amin", lambda a: a.amin((0, 2), keepdim=True), (3, 4, 2))
row("var", lambda a: a.var(), (3, 4))
row("var_dim", lambda a: a.var(1), (3, 4))
row("var_biased", lambda a: a.var(0, unbiased=False, keepdim=True), (3, 4))
row("var_correction", lambda a: a.var(dim=1, correction=0), (3, 4))
row("std", lambda a: a.std(), (3, 4))
row("std_dim", lambda a: a.std(dim=(0, 1), keepdim=True), (3, 4, 2))
row("logsumexp", lambda a: a.logsumexp(1), (3, 4))
row("logsumexp_keep", lambda a: a.logsumexp((0, 1), keepdim=True), (3, 4, 2))
row("prod", lambda a: a.prod(), (3, 4), positive=True)
row("prod_dim", lambda a: a.prod(1), (3, 4))
row("prod_with_zero", lambda a: a.prod(1), np.array([[2.0, 0.0, 3.0], [1.0, -2.0, 0.5]]), second=False)
row("prod_0d", lambda a: a.prod(), ())
row("softmax", lambda a: a.softmax(1), (3, 4))
row("softmax_neg", lambda a: a.softmax(dim=-1), (2, 3, 4))
row("log_softmax", lambda a: a.log_softmax(1), (3, 4))
row("log_softmax_0", lambda a: a.log_softmax(0), (3, 4, 2))
row("softmax_big", lambda a: (a * 300).softmax(-1), (3, 4))
row("log_softmax_big", lambda a: (a * 300).log_softmax(-1), (3, 4))

# --- shape --------------------------------------------------------------------------------
row("reshape", lambda a: a.reshape(4, 3), (3, 4))
row("reshape_inferred", lambda a: a.reshape(-1, 2), (3, 4))
row("view", lambda a: a.view(2, 6), (3, 4))
row("transpose", lambda a: a.transpose(0, 2), (2, 3, 4))
row("permute", lambda a: a.permute(2, 0, 1), (2, 3, 4))
row("T", lambda a: a.T, (3, 4))
row("mT", lambda a: a.mT, (2, 3, 4))
row("flatten", lambda a: a.flatten(), (2, 3, 4))
row("flatten_range", lambda a: a.flatten(1), (2, 3, 4))
row("squeeze", lambda a: a.squeeze(), (3, 1, 4, 1))
row("squeeze_dim", lambda a: a.squeeze(1), (3, 1, 4, 1))
row("unsqueeze", lambda a: a.unsqueeze(-1), (3, 4))
row("expand", lambda a: a.expand(2, 3, 4), (3, 1))
row("expand_keep", lambda a: a.expand(-1, 4), (3, 1))
row("broadcast_to", lambda a: a.broadcast_to((2, 3, 4)), (4,))

# --- indexing -----------------------------------------------------------------------------
row("slice", lambda a: a[1:, ::2], (4, 5))
row("neg_step", lambda a: a[::-1, -2::-2], (4, 5), torch_fn=lambda a: a.flip(0)[:, [3, 1]])
row("int", lambda a: a[2], (4, 5))
row("none_ellipsis", lambda a: a[None, ..., 1], (2, 3, 4))
row("int_array_repeats", lambda a: a[[0, 2, 0, 0]], (4, 5),
    torch_fn=lambda a: a[torch.tensor([0, 2, 0, 0])])
row("int_arrays_2d", lambda a: a[[0, 1, 1], [2, 2, 0]], (3, 4),
    torch_fn=lambda a: a[torch.tensor([0, 1, 1]), torch.tensor([2, 2, 0])])
row("bool_mask", lambda a: a[a > 0], (4, 5))
row("flip", lambda a: a.flip((0, -1)), (3, 4, 2))
row("masked_fill", lambda a: a.masked_fill(a > 0, 2.0), (3, 4))
row("mixed", lambda a: a[1:, [0, 0, 2]], (3, 4, 2), torch_fn=lambda a: a[1:, torch.tensor([0, 0, 2])])

# --- joining and splitting ------------------------------------------------------------------
row("cat", lambda a, b: mg.cat([a, b, a], 1), (2, 3), (2, 1),
    torch_fn=lambda a, b: torch.cat([a, b, a], 1))
row("cat_neg", lambda a, b: mg.concat([a, b], dim=-1), (2, 3), (2, 4),
    torch_fn=lambda a, b: torch.concat([a, b], dim=-1))
row("stack", lambda a, b: mg.stack([a, b], 1), (2, 3), (2, 3),
    torch_fn=lambda a, b: torch.stack([a, b], 1))
row("stack_neg", lambda a, b: mg.stack([a, b, a], -1), (2, 3), (2, 3),
    torch_fn=lambda a, b: torch.stack([a, b, a], -1))
row("split", lambda a: a.split(2, 1), (3, 5))
row("split_sizes", lambda a: a.split([1, 4], dim=1), (3, 5))
row("chunk", lambda a: a.chunk(3, 0), (5, 2))
row("unbind", lambda a: a.unbind(1), (3, 2))
row("pad", lambda a: mg.pad(a, (1, 2)), (3, 4), torch_fn=lambda a: _nnf("pad")(a, (1, 2)))
row("pad_crop", lambda a: mg.pad(a, (-1, 2, 1, -2)), (4, 5),
    torch_fn=lambda a: _nnf("pad")(a, (-1, 2, 1, -2)))
row("pad2", lambda a: mg.pad(a, (1, 0, 0, 2), value=1.5), (2, 3, 4),
    torch_fn=lambda a: _nnf("pad")(a, (1, 0, 0, 2), value=1.5))

# --- compositions ---------------------------------------------------------------------------
row("diamond", lambda a: (a.exp() + a.sin()) * a.tanh(), (3, 4))
row("mlp", lambda x, w, b: ((x @ w + b).tanh() @ w.T).sum(1), (5, 3), (3, 3), (3,))


@pytest.mark.parametrize("fn, shapes, opts", ROWS)
def test_op(fn, shapes, opts):
    check_op(fn, *shapes, **opts)


# The ops that pick elements by a mask use a branch-free bit select above WHERE_MIN_SIZE
# elements; the rows above are too small to reach it, so run theirs again with it forced.
SELECTING = ("where", "masked_fill", "maximum", "minimum", "elu", "softplus", "leaky_relu", "erf")


@pytest.mark.parametrize("fn, shapes, opts", [r for r in ROWS if r.id.startswith(SELECTING)])
def test_op_through_the_bit_select(fn, shapes, opts, monkeypatch):
    from matgrad import kernels as xp

    monkeypatch.setattr(xp, "WHERE_MIN_SIZE", 0)
    check_op(fn, *shapes, **opts)
