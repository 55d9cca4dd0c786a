"""Matrix products of operands of different dtypes raise, as torch's (its RuntimeError; matgrad's ArgumentError is a
RuntimeError and a TypeError), naming the op and both dtypes; the products torch computes elementwise (outer, kron,
einsum without a contraction) promote to torch's dtype. Same-dtype products still work and differentiate."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import matgrad as mg
import matgrad.nn.functional as F
from matgrad.tensor import ArgumentError
from tests.helpers import torch

TF = None if torch is None else torch.nn.functional


def _chain(L, *ms):
    with warnings.catch_warnings():  # deprecated in both, with a UserWarning
        warnings.simplefilter("ignore")
        return L.chain_matmul(*ms)


# name: (the op the message names, call(library, its functional module, *operands), operand shapes)
RAISES = {
    "mm": ("mm", lambda L, f, a, b: L.mm(a, b), [(2, 3), (3, 4)]),
    "matmul-1d-1d": ("matmul", lambda L, f, a, b: L.matmul(a, b), [(3,), (3,)]),
    "matmul-1d-2d": ("matmul", lambda L, f, a, b: L.matmul(a, b), [(3,), (3, 4)]),
    "matmul-2d-1d": ("matmul", lambda L, f, a, b: L.matmul(a, b), [(2, 3), (3,)]),
    "matmul-2d-2d": ("matmul", lambda L, f, a, b: L.matmul(a, b), [(2, 3), (3, 4)]),
    "matmul-batched": ("matmul", lambda L, f, a, b: L.matmul(a, b), [(5, 2, 3), (5, 3, 4)]),
    "matmul-broadcast": ("matmul", lambda L, f, a, b: L.matmul(a, b), [(2, 1, 2, 3), (5, 3, 4)]),
    "matmul-1d-batched": ("matmul", lambda L, f, a, b: L.matmul(a, b), [(3,), (5, 3, 4)]),
    "matmul-batched-1d": ("matmul", lambda L, f, a, b: L.matmul(a, b), [(5, 2, 3), (3,)]),
    "operator@": ("matmul", lambda L, f, a, b: a @ b, [(2, 3), (3, 4)]),
    "operator@-reflected": ("matmul", lambda L, f, a, b: a.__rmatmul__(b), [(3, 4), (2, 3)]),
    "linalg.matmul": ("matmul", lambda L, f, a, b: L.linalg.matmul(a, b), [(2, 3), (3, 4)]),
    "Tensor.mm": ("mm", lambda L, f, a, b: a.mm(b), [(2, 3), (3, 4)]),
    "Tensor.matmul": ("matmul", lambda L, f, a, b: a.matmul(b), [(2, 3), (3, 4)]),
    "bmm": ("bmm", lambda L, f, a, b: L.bmm(a, b), [(5, 2, 3), (5, 3, 4)]),
    "Tensor.bmm": ("bmm", lambda L, f, a, b: a.bmm(b), [(5, 2, 3), (5, 3, 4)]),
    "mv": ("mv", lambda L, f, a, b: L.mv(a, b), [(2, 3), (3,)]),
    "Tensor.mv": ("mv", lambda L, f, a, b: a.mv(b), [(2, 3), (3,)]),
    "dot": ("dot", lambda L, f, a, b: L.dot(a, b), [(3,), (3,)]),
    "Tensor.dot": ("dot", lambda L, f, a, b: a.dot(b), [(3,), (3,)]),
    "vdot": ("vdot", lambda L, f, a, b: L.vdot(a, b), [(3,), (3,)]),
    "addmm": ("addmm", lambda L, f, i, a, b: L.addmm(i, a, b), [(2, 4), (2, 3), (3, 4)]),
    "addmm-broadcast-input": ("addmm", lambda L, f, i, a, b: L.addmm(i, a, b, beta=0.5, alpha=2),
                              [(4,), (2, 3), (3, 4)]),
    "Tensor.addmm_": ("addmm", lambda L, f, i, a, b: i.clone().addmm_(a, b), [(2, 4), (2, 3), (3, 4)]),
    "addmv": ("addmv", lambda L, f, i, a, b: L.addmv(i, a, b), [(2,), (2, 3), (3,)]),
    "addbmm": ("addbmm", lambda L, f, i, a, b: L.addbmm(i, a, b), [(2, 4), (5, 2, 3), (5, 3, 4)]),
    "baddbmm": ("baddbmm", lambda L, f, i, a, b: L.baddbmm(i, a, b), [(5, 2, 4), (5, 2, 3), (5, 3, 4)]),
    "inner-1d": ("inner", lambda L, f, a, b: L.inner(a, b), [(3,), (3,)]),
    "inner-2d": ("inner", lambda L, f, a, b: L.inner(a, b), [(2, 3), (4, 3)]),
    "tensordot": ("tensordot", lambda L, f, a, b: L.tensordot(a, b, dims=1), [(2, 3), (3, 4)]),
    "tensordot-pairs": ("tensordot", lambda L, f, a, b: L.tensordot(a, b, dims=([0], [1])), [(3, 2), (4, 3)]),
    "tensordot-dims0": ("tensordot", lambda L, f, a, b: L.tensordot(a, b, dims=0), [(2, 3), (3, 4)]),
    "einsum-matmul": ("einsum", lambda L, f, a, b: L.einsum("ij,jk->ik", a, b), [(2, 3), (3, 4)]),
    "einsum-dot": ("einsum", lambda L, f, a, b: L.einsum("i,i->", a, b), [(3,), (3,)]),
    "einsum-rowdot": ("einsum", lambda L, f, a, b: L.einsum("ij,ij->i", a, b), [(2, 3), (2, 3)]),
    "einsum-batched": ("einsum", lambda L, f, a, b: L.einsum("bij,bjk->bik", a, b), [(5, 2, 3), (5, 3, 4)]),
    "einsum-implicit": ("einsum", lambda L, f, a, b: L.einsum("ij,jk", a, b), [(2, 3), (3, 4)]),
    "einsum-three": ("einsum", lambda L, f, a, b, c: L.einsum("ij,jk,kl->il", a, b, c), [(2, 3), (3, 4), (4, 5)]),
    "chain_matmul": ("chain_matmul", lambda L, f, a, b, c: _chain(L, a, b, c), [(2, 3), (3, 4), (4, 5)]),
    "multi_dot": ("multi_dot", lambda L, f, a, b, c: L.linalg.multi_dot([a, b, c]), [(2, 3), (3, 4), (4, 5)]),
    "multi_dot-vectors": ("multi_dot", lambda L, f, a, b, c: L.linalg.multi_dot([a, b, c]), [(3,), (3, 4), (4,)]),
    "linalg.vecdot": ("vecdot", lambda L, f, a, b: L.linalg.vecdot(a, b), [(2, 3), (2, 3)]),
    "linear": ("linear", lambda L, f, x, w: f.linear(x, w), [(2, 3), (4, 3)]),
    "linear-1d": ("linear", lambda L, f, x, w: f.linear(x, w), [(3,), (4, 3)]),
    "linear-3d": ("linear", lambda L, f, x, w: f.linear(x, w), [(5, 2, 3), (4, 3)]),
    "linear-bias": ("linear", lambda L, f, x, w, b: f.linear(x, w, b), [(2, 3), (4, 3), (4,)]),
    "bilinear": ("bilinear", lambda L, f, x1, x2, w: f.bilinear(x1, x2, w), [(2, 3), (2, 4), (5, 3, 4)]),
    "bilinear-bias": ("bilinear", lambda L, f, x1, x2, w, b: f.bilinear(x1, x2, w, b),
                      [(2, 3), (2, 4), (5, 3, 4), (5,)]),
}

# (the dtype of the others, the odd operand's)
PAIRS = [("float32", "float64"), ("float64", "float32"), ("float32", "int64"), ("int64", "float32"),
         ("int32", "int64"), ("float16", "float32")]


def _array(shape, dtype, seed):
    rng = np.random.default_rng(seed)
    if np.dtype(dtype).kind in "iu":
        return rng.integers(-3, 4, size=shape).astype(dtype)
    return rng.standard_normal(shape).astype(dtype)


def _operands(shapes, dtypes, seed=0):
    return [_array(s, d, seed + k) for k, (s, d) in enumerate(zip(shapes, dtypes))]


def _mg(arrays):
    return [mg.tensor(a) for a in arrays]


def _torch(arrays):
    return [torch.tensor(a) for a in arrays]


_RAISE_IDS = [(name, odd) for name, (_, _, shapes) in RAISES.items() for odd in range(len(shapes))]


@pytest.mark.parametrize("name, odd", _RAISE_IDS, ids=[f"{n}-operand{k}" for n, k in _RAISE_IDS])
def test_mixed_dtypes_raise_as_torch(name, odd):
    op, fn, shapes = RAISES[name]
    for base, other in PAIRS:
        dtypes = [other if k == odd else base for k in range(len(shapes))]
        arrays = _operands(shapes, dtypes)
        with pytest.raises(ArgumentError) as info:
            fn(mg, F, *_mg(arrays))
        assert isinstance(info.value, RuntimeError) and isinstance(info.value, TypeError)
        message = str(info.value)
        assert op in message, message
        assert base in message and other in message, message
        assert ".to(" in message, message  # says what to do
        if torch is not None:
            with pytest.raises(RuntimeError):
                fn(torch, TF, *_torch(arrays))


@pytest.mark.parametrize("name", list(RAISES))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_same_dtype_still_works(name, dtype):
    _, fn, shapes = RAISES[name]
    arrays = _operands(shapes, [dtype] * len(shapes))
    got = fn(mg, F, *_mg(arrays))
    assert got.dtype == getattr(mg, dtype)
    if torch is not None:
        want = fn(torch, TF, *_torch(arrays))
        tol = 1e-5 if dtype == "float32" else 1e-12
        np.testing.assert_allclose(got.numpy(), want.detach().numpy(), rtol=tol, atol=tol)


@pytest.mark.parametrize("name", ["mm", "matmul-1d-1d", "matmul-2d-1d", "matmul-batched", "bmm", "mv", "dot",
                                  "addmm", "tensordot", "einsum-matmul"])
def test_integer_products_of_one_dtype_work(name):
    """torch computes int64 products on the CPU: so does matgrad, exactly (small integers are exact in float64 too,
    so the float64 product, checked against torch above, is an oracle without torch)."""
    _, fn, shapes = RAISES[name]
    arrays = _operands(shapes, ["int64"] * len(shapes))
    got = fn(mg, F, *_mg(arrays))
    assert got.dtype == mg.int64
    np.testing.assert_array_equal(got.numpy(), fn(mg, F, *_mg([a.astype(np.float64) for a in arrays])).numpy())
    if torch is not None:
        np.testing.assert_array_equal(got.numpy(), fn(torch, TF, *_torch(arrays)).numpy())


# name: (call, shapes, torch's rule for the result dtype without torch at hand: "promote" for promote_types, as
# tensors with dims; "result" for result_type, where a 0-d operand counts less)
PROMOTES = {
    "outer": (lambda L, a, b: L.outer(a, b), [(3,), (4,)], "promote"),
    "ger": (lambda L, a, b: L.ger(a, b), [(3,), (4,)], "promote"),
    "Tensor.outer": (lambda L, a, b: a.outer(b), [(3,), (4,)], "promote"),
    "kron": (lambda L, a, b: L.kron(a, b), [(2, 3), (3, 4)], "promote"),
    "Tensor.kron": (lambda L, a, b: a.kron(b), [(2, 3), (3, 4)], "promote"),
    "inner-0d": (lambda L, a, b: L.inner(a, b), [(), (3,)], "result"),
    "einsum-outer": (lambda L, a, b: L.einsum("i,j->ij", a, b), [(3,), (4,)], "promote"),
    "einsum-mul": (lambda L, a, b: L.einsum("ij,ij->ij", a, b), [(2, 3), (2, 3)], "promote"),
    "einsum-diagonal-mul": (lambda L, a, b: L.einsum("ii,i->i", a, b), [(3, 3), (3,)], "promote"),
    "einsum-row-scale": (lambda L, a, b: L.einsum("ij,j->ij", a, b), [(2, 3), (3,)], "promote"),
    "einsum-summed-apart": (lambda L, a, b: L.einsum("i,j->", a, b), [(3,), (4,)], "promote"),
    "einsum-broadcast-size-1": (lambda L, a, b: L.einsum("ij,j->i", a, b), [(2, 3), (1,)], "promote"),
    "einsum-0d": (lambda L, a, b: L.einsum("i,->i", a, b), [(3,), ()], "promote"),
    "einsum-ellipsis": (lambda L, a, b: L.einsum("...,...->...", a, b), [(2, 3), (2, 3)], "promote"),
}


@pytest.mark.parametrize("name", list(PROMOTES))
@pytest.mark.parametrize("pair", [("float32", "float64"), ("float64", "float32"), ("float32", "int64"),
                                  ("int64", "float32"), ("int32", "int64")], ids="-".join)
def test_elementwise_products_promote_as_torch(name, pair):
    fn, shapes, rule = PROMOTES[name]
    arrays = _operands(shapes, pair)
    ts = _mg(arrays)
    got = fn(mg, *ts)
    if rule == "promote":
        assert got.dtype == mg.promote_types(ts[0].dtype, ts[1].dtype)
    else:
        assert got.dtype == mg.result_type(ts[0], ts[1])
    if torch is not None:
        want = fn(torch, *_torch(arrays))
        assert str(got.dtype).split(".")[-1] == str(want.dtype).split(".")[-1]
        np.testing.assert_allclose(got.numpy().astype(np.float64), want.numpy().astype(np.float64),
                                   rtol=1e-5, atol=1e-5)


def test_einsum_contraction_after_a_promoting_step():
    """torch multiplies left to right: float32 · float64 (no sum yet) is float64, then · float32 with the sum: an
    error; float64 · float32 · float64 is fine."""
    a, b = mg.ones(3), mg.ones(3, dtype=mg.float64)
    with pytest.raises(ArgumentError, match="einsum"):
        mg.einsum("i,i,i->", a, b, a)
    assert mg.einsum("i,i,i->", b, a, b).dtype == mg.float64
    if torch is not None:
        ta, tb = torch.ones(3), torch.ones(3, dtype=torch.float64)
        with pytest.raises(RuntimeError):
            torch.einsum("i,i,i->", ta, tb, ta)
        assert torch.einsum("i,i,i->", tb, ta, tb).dtype == torch.float64


def test_nn_linear_with_float64_input():
    layer = mg.nn.Linear(3, 4)
    with pytest.raises(ArgumentError, match="linear.*float64.*float32|linear.*float32.*float64"):
        layer(mg.ones(2, 3, dtype=mg.float64))
    assert layer.double()(mg.ones(2, 3, dtype=mg.float64)).dtype == mg.float64


def test_autocast_casts_before_the_check():
    """Under autocast the listed products cast their floating operands first (float32 and float16 meet as float16),
    as torch's; the others still raise."""
    a, h = mg.ones(2, 3), mg.ones(3, 4, dtype=mg.float16)
    with mg.autocast("cpu", dtype=mg.float16):
        for fn in (mg.mm, mg.matmul, lambda x, y: mg.einsum("ij,jk->ik", x, y),
                   lambda x, y: F.linear(x, y.T), lambda x, y: mg.bmm(x[None], y[None])):
            assert fn(a, h).dtype == mg.float16
        with pytest.raises(ArgumentError, match="mv"):
            mg.mv(a, h[:, 0])
    if torch is not None:
        ta, th = torch.ones(2, 3), torch.ones(3, 4, dtype=torch.float16)
        with torch.autocast("cpu", dtype=torch.float16):
            assert torch.mm(ta, th).dtype == torch.float16
            assert torch.einsum("ij,jk->ik", ta, th).dtype == torch.float16
            with pytest.raises(RuntimeError):
                torch.mv(ta, th[:, 0])


@pytest.mark.parametrize("make", [lambda: mg.tensor([1, 2]).requires_grad_(),
                                  lambda: mg.tensor([1, 2], requires_grad=True),
                                  lambda: mg.ones(2, dtype=mg.int64, requires_grad=True),
                                  lambda: setattr(mg.tensor([1, 2]), "requires_grad", True)],
                         ids=["requires_grad_", "tensor", "ones", "attribute"])
def test_integer_tensor_cannot_require_grad(make):
    with pytest.raises(ArgumentError, match="floating-point") as info:
        make()
    assert isinstance(info.value, RuntimeError) and isinstance(info.value, TypeError)
    if torch is not None:
        with pytest.raises(RuntimeError):
            torch.tensor([1, 2]).requires_grad_()
        with pytest.raises(RuntimeError):
            torch.tensor([1, 2], requires_grad=True)
        with pytest.raises(RuntimeError):
            torch.tensor([1, 2]).requires_grad = True


GRADS = {
    "mm": (lambda a, b: mg.mm(a, b), [(2, 3), (3, 4)]),
    "matmul-broadcast": (lambda a, b: mg.matmul(a, b), [(2, 1, 2, 3), (5, 3, 4)]),
    "addmm-broadcast-input": (lambda i, a, b: mg.addmm(i, a, b, beta=0.5, alpha=2), [(4,), (2, 3), (3, 4)]),
    "einsum-batched": (lambda a, b: mg.einsum("bij,bjk->bik", a, b), [(5, 2, 3), (5, 3, 4)]),
    "linear-bias": (lambda x, w, b: F.linear(x, w, b), [(5, 2, 3), (4, 3), (4,)]),
    "bilinear-bias": (lambda x1, x2, w, b: F.bilinear(x1, x2, w, b), [(2, 3), (2, 4), (5, 3, 4), (5,)]),
}


@pytest.mark.parametrize("name", list(GRADS))
def test_float64_gradients_finite_differences(name):
    fn, shapes = GRADS[name]
    ts = [mg.tensor(a, requires_grad=True) for a in _operands(shapes, ["float64"] * len(shapes), seed=7)]
    assert mg.gradcheck(fn, ts)
