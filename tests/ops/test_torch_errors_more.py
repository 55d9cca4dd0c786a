"""More places where matgrad's errors and hooks now match PyTorch 2.13 (test_torch_errors.py has the first ones).

1. A bad dim: IndexError "Dimension out of range" from every dim-taking op (one helper, tensor.wrap_dim), the
   0-d cases PyTorch refuses (softmax(dim=1), split, chunk, unbind), a repeated flip dim; a bool or float dim
   is a TypeError, a 0-d integer tensor a dim.
2. RuntimeError where matgrad said ValueError: tril/triu/trace on a wrong rank, repeat with too few sizes
   (and roll's and repeat_interleave's checks); batch_norm's 0-d / 1-D / integer inputs take PyTorch's types.
3. Bitwise ops (& | ^ << >> and their functions) wrap an out-of-range Python int into the tensor's dtype.
4. Integer division by zero: IntegerDivisionByZero, a RuntimeError (PyTorch's) and a ZeroDivisionError.
5. Hooks put straight into a module's hook dicts run; optimizer hook handles share the one id counter.

Expected values are computed here (NumPy, Python ints); where PyTorch is installed the same call is compared.
"""
from __future__ import annotations

import copy
import operator
import pickle
from collections import OrderedDict

import numpy as np
import pytest

import matgrad as mg
import matgrad.nn.functional as F
from matgrad import nn
from matgrad.autograd.hooks import RemovableHandle
from matgrad.ops.arithmetic import IntegerDivisionByZero
from tests.helpers import check_op
from tests.ops.test_torch_errors import INT_DTYPES, OUT_OF_RANGE, _fits, _wrap

try:
    import torch
    import torch.nn.functional as TF
except ImportError:  # the comparisons skip cleanly without PyTorch
    torch = TF = None


def _x(L):
    return L.arange(24.0).reshape(2, 3, 4)


def _idx(L):
    return L.zeros(2, 3, 4, dtype=L.int64)


def _raises_like_torch(call, exc, pattern=None):
    """call(matgrad) raises exc (its message matching pattern); where PyTorch is installed, call(torch) too."""
    with pytest.raises(exc, match=pattern):
        call(mg)
    if torch is not None:
        with pytest.raises(exc):
            call(torch)


# --- 1. dims ---------------------------------------------------------------------------------------
OUT = r"Dimension out of range \(expected to be in range of \[-3, 2\], but got {}\)"
DIM_ERRORS = [  # (id, call on a library, PyTorch's error type, the phrase matgrad's message must hold)
    ("softmax_0d", lambda L: L.softmax(L.tensor(1.0), 1), IndexError, r"\[-1, 0\], but got 1"),
    ("log_softmax_0d", lambda L: L.log_softmax(L.tensor(1.0), -2), IndexError, r"\[-1, 0\], but got -2"),
    ("softmax_method_0d", lambda L: L.tensor(1.0).softmax(1), IndexError, "Dimension out of range"),
    ("split", lambda L: L.split(_x(L), 1, 3), IndexError, OUT.format(3)),
    ("split_neg", lambda L: L.split(_x(L), 1, -4), IndexError, OUT.format(-4)),
    ("split_sizes", lambda L: L.split(_x(L), [1, 1], 3), IndexError, OUT.format(3)),
    ("split_method", lambda L: _x(L).split(2, 3), IndexError, OUT.format(3)),
    ("split_0d", lambda L: L.split(L.tensor(1.0), 1, 5), RuntimeError, "split expects at least a 1-dimensional"),
    ("chunk", lambda L: L.chunk(_x(L), 2, 3), IndexError, OUT.format(3)),
    ("chunk_method", lambda L: _x(L).chunk(2, -4), IndexError, OUT.format(-4)),
    ("chunk_0d", lambda L: L.chunk(L.tensor(1.0), 1), RuntimeError, "chunk expects at least a 1-dimensional"),
    ("unbind", lambda L: L.unbind(_x(L), 3), IndexError, OUT.format(3)),
    ("unbind_method", lambda L: _x(L).unbind(-4), IndexError, OUT.format(-4)),
    ("unbind_0d_out", lambda L: L.unbind(L.tensor(1.0), 5), IndexError, r"\[-1, 0\], but got 5"),
    ("unbind_0d", lambda L: L.unbind(L.tensor(1.0), -1), IndexError, "Dimension specified as 0 but tensor has no"),
    ("flip", lambda L: L.flip(_x(L), (3,)), IndexError, OUT.format(3)),
    ("flip_repeat", lambda L: L.flip(_x(L), (0, -3)), RuntimeError, "dim 0 appears multiple times"),
    ("cat", lambda L: L.cat([_x(L), _x(L)], 3), IndexError, OUT.format(3)),
    ("cat_neg", lambda L: L.cat([_x(L), _x(L)], -4), IndexError, OUT.format(-4)),
    ("rot90", lambda L: L.rot90(_x(L), 1, (0, 3)), IndexError, OUT.format(3)),
    ("cummax", lambda L: L.cummax(_x(L), 3), IndexError, OUT.format(3)),
    ("logcumsumexp", lambda L: L.logcumsumexp(_x(L), -4), IndexError, OUT.format(-4)),
    ("diff", lambda L: L.diff(_x(L), dim=3), IndexError, OUT.format(3)),
    ("gather", lambda L: L.gather(_x(L), 3, _idx(L)), IndexError, OUT.format(3)),
    ("scatter", lambda L: L.scatter(_x(L), 3, _idx(L), 1.0), IndexError, OUT.format(3)),
    ("scatter_add", lambda L: L.scatter_add(_x(L), -4, _idx(L), _x(L)), IndexError, OUT.format(-4)),
    ("index_select", lambda L: L.index_select(_x(L), 3, L.tensor([0])), IndexError, OUT.format(3)),
    ("index_add", lambda L: _x(L).index_add(3, L.tensor([0]), _x(L)), IndexError, OUT.format(3)),
    ("index_fill", lambda L: _x(L).index_fill(3, L.tensor([0]), 1.0), IndexError, OUT.format(3)),
    ("take_along_dim", lambda L: L.take_along_dim(_x(L), _idx(L), 3), IndexError, OUT.format(3)),
    ("repeat_interleave", lambda L: L.repeat_interleave(_x(L), 2, dim=3), IndexError, OUT.format(3)),
    ("narrow", lambda L: L.narrow(_x(L), -4, 0, 1), IndexError, OUT.format(-4)),
    ("roll", lambda L: L.roll(_x(L), 1, 3), IndexError, OUT.format(3)),
    ("roll_tuple", lambda L: L.roll(_x(L), (1, 1), (0, 3)), IndexError, OUT.format(3)),
    ("sort", lambda L: L.sort(_x(L), 3), IndexError, OUT.format(3)),
    ("argsort", lambda L: L.argsort(_x(L), -4), IndexError, OUT.format(-4)),
    ("topk", lambda L: L.topk(_x(L), 1, 3), IndexError, OUT.format(3)),
    ("kthvalue", lambda L: L.kthvalue(_x(L), 1, 3), IndexError, OUT.format(3)),
    ("median", lambda L: L.median(_x(L), 3), IndexError, OUT.format(3)),
    ("mode", lambda L: L.mode(_x(L), 3), IndexError, OUT.format(3)),
    ("argmax", lambda L: L.argmax(_x(L), -4), IndexError, OUT.format(-4)),
    ("select", lambda L: L.select(_x(L), 3, 0), IndexError, OUT.format(3)),
    ("unfold", lambda L: _x(L).unfold(3, 1, 1), IndexError, OUT.format(3)),
    ("tensor_split", lambda L: L.tensor_split(_x(L), 2, 3), IndexError, OUT.format(3)),
    ("select_scatter", lambda L: L.select_scatter(_x(L), L.zeros(2, 3), 3, 0), IndexError, OUT.format(3)),
    ("diag_embed", lambda L: L.diag_embed(_x(L), 0, 0, 4), IndexError, r"\[-4, 3\], but got 4"),
    ("renorm", lambda L: L.renorm(_x(L), 2, 3, 1.0), IndexError, OUT.format(3)),
    ("cross", lambda L: L.cross(L.zeros(3, 3), L.zeros(3, 3), dim=2), IndexError, r"\[-2, 1\], but got 2"),
    ("tensordot", lambda L: L.tensordot(_x(L), _x(L), ([3], [0])), IndexError, OUT.format(3)),
]


@pytest.mark.parametrize("call, exc, pattern", [pytest.param(c, e, p, id=i) for i, c, e, p in DIM_ERRORS])
def test_a_bad_dim_is_torchs_error(call, exc, pattern):
    _raises_like_torch(call, exc, pattern)


DIM_TYPES = [
    ("sum_bool", lambda L: _x(L).sum(True)),
    ("cumsum_bool", lambda L: L.cumsum(_x(L), True)),
    ("index_select_bool", lambda L: L.index_select(_x(L), True, L.tensor([0]))),
    ("gather_bool", lambda L: L.gather(_x(L), True, _idx(L))),
    ("softmax_bool", lambda L: L.softmax(_x(L), True)),
    ("cat_bool", lambda L: L.cat([_x(L), _x(L)], True)),
    ("cumsum_float", lambda L: L.cumsum(_x(L), 1.0)),
    ("softmax_float", lambda L: L.softmax(_x(L), 1.0)),
    ("chunk_float", lambda L: L.chunk(_x(L), 2, 1.0)),
    ("index_select_float", lambda L: L.index_select(_x(L), 1.0, L.tensor([0]))),
    ("renorm_float", lambda L: L.renorm(_x(L), 2, 1.0, 1.0)),
]


@pytest.mark.parametrize("call", [pytest.param(c, id=i) for i, c in DIM_TYPES])
def test_a_bool_or_float_dim_is_a_type_error(call):
    _raises_like_torch(call, TypeError, "argument 'dim' must be int, not (bool|float)")


def test_a_0d_integer_tensor_is_a_dim():
    x = _x(mg)
    for fn in (lambda L, d: L.cumsum(_x(L), d), lambda L, d: L.sort(_x(L), d).values,
               lambda L, d: L.index_select(_x(L), d, L.tensor([0, 2]))):
        got = fn(mg, mg.tensor(1))
        np.testing.assert_array_equal(got.array, fn(mg, 1).array)
        if torch is not None:
            np.testing.assert_array_equal(got.array, fn(torch, torch.tensor(1)).numpy())
    assert x.cumsum(np.int64(-1)).shape == (2, 3, 4)


def test_0d_softmax_takes_dim_0_and_minus_1():
    for dim in (0, -1):
        for f in (mg.softmax, mg.log_softmax):
            got = f(mg.tensor(3.0), dim)
            assert got.shape == ()
            if torch is not None:
                np.testing.assert_allclose(got.array, getattr(torch, f.__name__)(torch.tensor(3.0), dim).numpy())
    np.testing.assert_array_equal(mg.softmax(mg.tensor(3.0), 0).array, 1.0)


SPLITS = [  # valid negative dims give the same pieces as the wrapped ones, with their gradients
    ("split", lambda a: a.split(2, -1), (2, 3, 5)),
    ("split_sizes", lambda a: a.split([1, 2], -2), (2, 3, 4)),
    ("chunk", lambda a: a.chunk(2, -3), (3, 2, 2)),
    ("unbind", lambda a: a.unbind(-2), (2, 3, 2)),
    ("flip", lambda a: a.flip((-1, 0)), (2, 3, 2)),
    ("cat", lambda a: mg.cat([a, a * 2], -2) if isinstance(a, mg.Tensor) else torch.cat([a, a * 2], -2),
     (2, 3, 2)),
    ("softmax", lambda a: a.softmax(-2), (2, 3, 4)),
    ("log_softmax", lambda a: a.log_softmax(-3), (2, 3, 4)),
]


@pytest.mark.parametrize("fn, shape", [pytest.param(f, s, id=i) for i, f, s in SPLITS])
def test_valid_negative_dims_and_their_gradients(fn, shape):
    check_op(fn, shape)  # float64 gradcheck and gradgradcheck, and torch's values and gradients


# --- 2. RuntimeError, not ValueError ----------------------------------------------------------------
RUNTIME_ERRORS = [
    ("tril_1d", lambda L: L.tril(L.zeros(3)), "tril: input tensor must have at least 2 dimensions"),
    ("triu_0d", lambda L: L.triu(L.tensor(1.0)), "triu: input tensor must have at least 2 dimensions"),
    ("tril_method", lambda L: L.zeros(3).tril(), "at least 2 dimensions"),
    ("trace_1d", lambda L: L.trace(L.zeros(3)), "trace: expected a matrix, but got tensor with dim 1"),
    ("trace_3d", lambda L: L.trace(L.zeros(2, 2, 2)), "expected a matrix, but got tensor with dim 3"),
    ("repeat_few", lambda L: _x(L).repeat(2, 2), "can not be smaller than number of dimensions of tensor"),
    ("repeat_negative", lambda L: L.zeros(2).repeat(-1), "negative dimension"),
    ("roll_align", lambda L: L.roll(_x(L), (1, 2), 0), "shifts and dimensions must align"),
    ("roll_no_dims", lambda L: L.roll(_x(L), (1, 2)), "shifts and dimensions must align"),
    ("repeat_interleave_negative", lambda L: L.repeat_interleave(_x(L), -1), "must be non-negative"),
    ("repeat_interleave_size", lambda L: L.repeat_interleave(_x(L), L.tensor([1, 2]), dim=1), "same size"),
]


@pytest.mark.parametrize("call, pattern", [pytest.param(c, p, id=i) for i, c, p in RUNTIME_ERRORS])
def test_shape_errors_are_runtime_errors(call, pattern):
    _raises_like_torch(call, RuntimeError, pattern)


def test_the_ops_still_compute_and_differentiate():
    check_op(lambda a: a.tril(-1), (3, 4, 4))
    check_op(lambda a: a.triu(1), (4, 3))
    check_op(lambda a: a.trace(), (3, 4))
    check_op(lambda a: a.repeat(2, 1, 3), (2, 2))
    check_op(lambda a: a.roll((1, -2), (0, -1)), (3, 4))


BN_CASES = [  # (id, call on (library, functional), PyTorch's error type, matgrad's message)
    ("0d_train", lambda L, f: f.batch_norm(L.tensor(1.0), None, None, training=True), IndexError,
     "got a 0-d tensor"),
    ("1d_train", lambda L, f: f.batch_norm(L.ones(3), None, None, training=True), IndexError,
     r"Dimension out of range \(expected to be in range of \[-1, 0\], but got 1\)"),
    ("1d_one_value", lambda L, f: f.batch_norm(L.ones(1), None, None, training=True), ValueError,
     "more than 1 value per channel"),
    ("1d_train_stats", lambda L, f: f.batch_norm(L.ones(3), L.zeros(3), L.ones(3), training=True), RuntimeError,
     "running_mean should contain 0 elements.*no channel dim"),
    ("1d_eval", lambda L, f: f.batch_norm(L.ones(3), L.zeros(3), L.ones(3)), RuntimeError,
     "running_mean should contain 0 elements"),
    ("1d_eval_empty_stats", lambda L, f: f.batch_norm(L.ones(3), L.zeros(0), L.ones(0)), IndexError,
     "Dimension out of range"),
    ("1d_eval_no_stats", lambda L, f: f.batch_norm(L.ones(3), None, None), RuntimeError,
     "running_mean must be defined in evaluation mode"),
    ("0d_eval", lambda L, f: f.batch_norm(L.tensor(1.0), L.zeros(1), L.ones(1)), RuntimeError,
     "running_mean should contain 0 elements"),
    ("int64", lambda L, f: f.batch_norm(L.ones(4, 3, dtype=L.int64), None, None, training=True),
     NotImplementedError, '"batch_norm" not implemented for .*int64'),
    ("int32_eval", lambda L, f: f.batch_norm(L.ones(4, 3, dtype=L.int32), L.zeros(3), L.ones(3)),
     NotImplementedError, "not implemented"),
    ("uint8", lambda L, f: f.batch_norm(L.ones(4, 3, dtype=L.uint8), None, None, training=True),
     NotImplementedError, "not implemented"),
    ("bool", lambda L, f: f.batch_norm(L.ones(4, 3, dtype=L.bool), None, None, training=True),
     NotImplementedError, "not implemented"),
    ("int_one_value", lambda L, f: f.batch_norm(L.ones(1, 3, dtype=L.int64), None, None, training=True),
     ValueError, "more than 1 value per channel"),
    ("int_1d", lambda L, f: f.batch_norm(L.ones(3, dtype=L.int64), None, None, training=True), IndexError,
     "Dimension out of range"),
    ("int_bad_stats", lambda L, f: f.batch_norm(L.ones(4, 3, dtype=L.int64), L.zeros(4), L.ones(4)),
     RuntimeError, "running_mean should contain 3 elements"),
    ("int_bad_weight", lambda L, f: f.batch_norm(L.ones(4, 3, dtype=L.int64), L.zeros(3), L.ones(3), L.ones(4)),
     RuntimeError, "weight must have shape"),
    ("int_one_stat", lambda L, f: f.batch_norm(L.ones(4, 3, dtype=L.int64), L.zeros(3), None, training=True),
     ValueError, "both be None or neither"),
    ("stats_before_weight", lambda L, f: f.batch_norm(L.ones(4, 3), L.zeros(4), L.ones(3), L.ones(5)),
     RuntimeError, "running_mean should contain 3 elements"),
    ("module_int", lambda L, f: L.nn.BatchNorm1d(3)(L.ones(4, 3, dtype=L.int64)), NotImplementedError,
     "not implemented"),
]


@pytest.mark.parametrize("call, exc, pattern", [pytest.param(c, e, p, id=i) for i, c, e, p in BN_CASES])
def test_batch_norm_input_errors_are_torchs_types(call, exc, pattern):
    with pytest.raises(exc, match=pattern):
        call(mg, F)
    if torch is not None:
        with pytest.raises(exc):
            call(torch, TF)


@pytest.mark.parametrize("shape", [(0, 3), (0, 3, 2), (4, 0), (4, 0, 5)])
@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_of_an_empty_input_is_empty_and_leaves_the_stats(shape, training):
    c = shape[1]
    x = mg.ones(*shape, requires_grad=True)
    rm, rv = mg.arange(float(c)), mg.ones(c) * 2
    w, b = mg.ones(c, requires_grad=True), mg.zeros(c, requires_grad=True)
    affine = c > 0  # (PyTorch 2.13 itself fails on a weight of 0 channels in training: not compared)
    y = F.batch_norm(x, rm, rv, w if affine else None, b if affine else None, training=training)
    assert y.shape == shape and y.dtype == mg.float32
    y.sum().backward()
    assert x.grad.shape == shape
    if affine:
        np.testing.assert_array_equal(w.grad, np.zeros(c))
        np.testing.assert_array_equal(b.grad, np.zeros(c))
    np.testing.assert_array_equal(rm.array, np.arange(c))
    np.testing.assert_array_equal(rv.array, np.full(c, 2.0))
    if torch is not None:
        trm, trv = torch.arange(float(c)), torch.ones(c) * 2
        tw, tb = (torch.ones(c), torch.zeros(c)) if affine else (None, None)
        ty = TF.batch_norm(torch.ones(*shape), trm, trv, tw, tb, training=training)
        assert tuple(ty.shape) == shape
        np.testing.assert_array_equal(trm.numpy(), rm.array)
        np.testing.assert_array_equal(trv.numpy(), rv.array)


@pytest.mark.parametrize("training, eps", [(True, 0.0), (True, -1e-5), (False, -1e-5)])
def test_batch_norm_refuses_a_bad_eps_as_torch(training, eps):
    _raises_like_torch(lambda L: (F if L is mg else TF).batch_norm(L.randn(4, 3), L.zeros(3), L.ones(3),
                                                                   training=training, eps=eps),
                       ValueError, "eps must be")
    F.batch_norm(mg.randn(4, 3), mg.zeros(3), mg.ones(3), eps=0.0)  # eps 0 in evaluation: allowed, as torch


def test_batch_norm_still_normalizes_with_gradients():
    check_op(lambda a, w, b: F.batch_norm(a, None, None, w, b, training=True) if isinstance(a, mg.Tensor)
             else TF.batch_norm(a, None, None, w, b, training=True), (4, 3, 2), (3,), (3,))


# --- 3. bitwise ops wrap out-of-range ints --------------------------------------------------------
def _shift_ref(x: int, s: int, dtype: str, left: bool) -> int:
    """x << s or x >> s on one element of dtype, PyTorch's way (a shift by < 0 or ≥ the bits: 0, or −1)."""
    bits = np.dtype(dtype).itemsize * 8
    if s < 0 or s >= bits:
        return -1 if (x < 0 and not left) else 0
    return _wrap(x << s, dtype) if left else x >> s


BITWISE = {  # name: (matgrad/torch call (a, b), reference on two Python ints and the dtype)
    "and": (operator.and_, lambda a, b, dt: _wrap(a & b, dt)),
    "or": (operator.or_, lambda a, b, dt: _wrap(a | b, dt)),
    "xor": (operator.xor, lambda a, b, dt: _wrap(a ^ b, dt)),
    "lshift": (operator.lshift, lambda a, b, dt: _shift_ref(a, b, dt, True)),
    "rshift": (operator.rshift, lambda a, b, dt: _shift_ref(a, b, dt, False)),
    "bitwise_and": (lambda a, b: (mg if isinstance(a, mg.Tensor) else torch).bitwise_and(a, b),
                    lambda a, b, dt: _wrap(a & b, dt)),
    "bitwise_or": (lambda a, b: (mg if isinstance(a, mg.Tensor) else torch).bitwise_or(a, b),
                   lambda a, b, dt: _wrap(a | b, dt)),
    "bitwise_xor": (lambda a, b: (mg if isinstance(a, mg.Tensor) else torch).bitwise_xor(a, b),
                    lambda a, b, dt: _wrap(a ^ b, dt)),
    "bitwise_left_shift": (lambda a, b: (mg if isinstance(a, mg.Tensor) else torch).bitwise_left_shift(a, b),
                           lambda a, b, dt: _shift_ref(a, b, dt, True)),
    "bitwise_right_shift": (lambda a, b: (mg if isinstance(a, mg.Tensor) else torch).bitwise_right_shift(a, b),
                            lambda a, b, dt: _shift_ref(a, b, dt, False)),
}
BITS_BASE = [1, 5, 100, 7, 0]


@pytest.mark.parametrize("dtype", INT_DTYPES)
@pytest.mark.parametrize("name", list(BITWISE))
def test_bitwise_ops_wrap_an_out_of_range_int(dtype, name):
    fn, ref = BITWISE[name]
    x = np.array(BITS_BASE, dtype=dtype)
    for v in [c for c in OUT_OF_RANGE if not _fits(c, dtype)]:
        w = _wrap(v, dtype)
        pairs = [((x, v), [ref(int(e), w, dtype) for e in x])]
        if name in ("and", "or", "xor", "lshift", "rshift"):  # the reflected operators too
            pairs.append(((v, x), [ref(w, int(e), dtype) for e in x]))
        for args, want in pairs:
            got = fn(*[mg.tensor(a) if isinstance(a, np.ndarray) else a for a in args])
            assert got.array.dtype == np.dtype(dtype), (v, args)
            np.testing.assert_array_equal(got.array, np.array(want, dtype=dtype), err_msg=f"{name}{args}")
            if torch is not None:
                t = fn(*[torch.tensor(a) if isinstance(a, np.ndarray) else a for a in args])
                np.testing.assert_array_equal(got.array, t.numpy())


@pytest.mark.parametrize("dtype", ["uint8", "int8", "int32"])
def test_in_place_bitwise_ops_wrap_too(dtype):
    for name, fn in (("iand", operator.iand), ("ior", operator.ior), ("ixor", operator.ixor),
                     ("ilshift", operator.ilshift), ("irshift", operator.irshift),
                     ("bitwise_and_", lambda t, v: t.bitwise_and_(v)), ("bitwise_or_", lambda t, v: t.bitwise_or_(v))):
        ref = BITWISE[{"iand": "and", "ior": "or", "ixor": "xor", "ilshift": "lshift", "irshift": "rshift",
                       "bitwise_and_": "and", "bitwise_or_": "or"}[name]][1]
        for v in (-1, 300, 2 ** 40):
            if _fits(v, dtype):
                continue
            x = mg.tensor(np.array(BITS_BASE, dtype=dtype))
            out = fn(x, v)
            assert out is x
            want = np.array([ref(e, _wrap(v, dtype), dtype) for e in BITS_BASE], dtype=dtype)
            np.testing.assert_array_equal(x.array, want, err_msg=f"{name} {v}")
            if torch is not None:
                np.testing.assert_array_equal(fn(torch.tensor(np.array(BITS_BASE, dtype=dtype)), v).numpy(), want)


def test_bitwise_ops_with_fitting_ints_and_beyond_64_bits():
    u = mg.tensor([1, 2, 255], dtype=mg.uint8)
    np.testing.assert_array_equal((u & 3).array, [1, 2, 3])
    np.testing.assert_array_equal((1 << mg.tensor([1, 2], dtype=mg.int8)).array, [2, 4])
    assert (mg.tensor([True, False]) | 300).dtype == mg.int64
    for fn in (lambda: u & 2 ** 64, lambda: 2 ** 64 | u, lambda: u << 2 ** 70, lambda: mg.bitwise_xor(u, -(2 ** 64))):
        with pytest.raises(OverflowError, match="does not fit in 64 bits"):
            fn()


# --- 4. integer division by zero --------------------------------------------------------------------
DIVISIONS = [
    ("floordiv", lambda a, b: a // b), ("mod", lambda a, b: a % b),
    ("div_floor", lambda a, b: (mg if isinstance(a, mg.Tensor) else torch).div(a, b, rounding_mode="floor")),
    ("div_trunc", lambda a, b: (mg if isinstance(a, mg.Tensor) else torch).div(a, b, rounding_mode="trunc")),
    ("fmod", lambda a, b: (mg if isinstance(a, mg.Tensor) else torch).fmod(a, b)),
    ("remainder", lambda a, b: (mg if isinstance(a, mg.Tensor) else torch).remainder(a, b)),
    ("floor_divide", lambda a, b: (mg if isinstance(a, mg.Tensor) else torch).floor_divide(a, b)),
    ("ifloordiv", lambda a, b: operator.ifloordiv(a.clone(), b)), ("imod", lambda a, b: operator.imod(a.clone(), b)),
    ("fmod_", lambda a, b: a.clone().fmod_(b)), ("remainder_", lambda a, b: a.clone().remainder_(b)),
]


@pytest.mark.parametrize("dtype", INT_DTYPES)
@pytest.mark.parametrize("name, fn", DIVISIONS, ids=[d[0] for d in DIVISIONS])
def test_integer_division_by_zero_is_a_runtime_error_and_a_zero_division_error(dtype, name, fn):
    x = np.array([5, 7, 3], dtype=dtype)
    zero_in = np.array([1, 0, 2], dtype=dtype)
    for b in (lambda L: L.tensor(zero_in), lambda L: 0, lambda L: 256 if dtype == "uint8" else 0):
        with pytest.raises(IntegerDivisionByZero, match="ZeroDivisionError.*integer division by zero") as info:
            fn(mg.tensor(x), b(mg))
        assert isinstance(info.value, RuntimeError) and isinstance(info.value, ZeroDivisionError)
        if torch is not None:
            with pytest.raises(RuntimeError, match="ZeroDivisionError"):
                fn(torch.tensor(x), b(torch))
    if name in ("floordiv", "mod"):  # reflected: a Python int over a tensor holding a zero
        with pytest.raises(ZeroDivisionError):
            fn(5, mg.tensor(zero_in))
        with pytest.raises(RuntimeError):
            fn(5, mg.tensor(zero_in))


def test_divisions_that_do_not_divide_integers_by_zero_still_run():
    np.testing.assert_array_equal((mg.zeros(0, dtype=mg.int64) // mg.zeros(0, dtype=mg.int64)).array, [])
    with np.errstate(divide="ignore"):
        assert np.isinf((mg.tensor([1.0]) // mg.tensor([0])).array).all()  # a float numerator: no error
    np.testing.assert_array_equal(mg.fmod(mg.tensor([-7, 7]), mg.tensor([2, -2])).array, [-1, 1])
    np.testing.assert_array_equal(mg.remainder(mg.tensor([-7, 7]), mg.tensor([2, -2])).array, [1, -1])
    try:
        raise IntegerDivisionByZero("x")
    except ZeroDivisionError as e:  # an `except ZeroDivisionError` written for Python's own error still works
        assert isinstance(e, RuntimeError)


# --- 5. hooks put straight into a module's dicts; optimizer handles --------------------------------
def _forward_log(L):
    """A Linear with a pre-hook and a forward hook put straight into its dicts; what they saw, and the output."""
    L.manual_seed(0)
    m = L.nn.Linear(3, 2)
    log = []

    def pre(mod, args):
        log.append("pre")
        return (args[0] * 2,)

    def post(mod, args, out):
        log.append("post")
        return out + 1

    m._forward_pre_hooks[987654321] = pre
    m._forward_hooks[987654322] = post
    x = L.ones(4, 3)
    y = m(x)
    want = (x * 2) @ m.weight.T + m.bias + 1
    return log, y, want


def test_forward_hooks_put_straight_into_the_dicts_run():
    log, y, want = _forward_log(mg)
    assert log == ["pre", "post"]
    np.testing.assert_allclose(y.array, want.array, rtol=1e-6)
    if torch is not None:
        tlog, ty, twant = _forward_log(torch)
        assert tlog == log
        np.testing.assert_allclose(ty.detach().numpy(), twant.detach().numpy(), rtol=1e-6)


def test_backward_hooks_put_straight_into_the_dicts_run():
    m = nn.Linear(3, 2)
    seen = {}

    def pre(mod, grad_out):
        seen["pre"] = grad_out[0].numpy().copy()

    def post(mod, grad_in, grad_out):
        seen["post"] = grad_in[0].numpy().copy()

    m._backward_pre_hooks[11] = pre
    m._backward_hooks[12] = post
    x = mg.ones(4, 3, requires_grad=True)
    (m(x) * 3).sum().backward()
    np.testing.assert_array_equal(seen["pre"], np.full((4, 2), 3.0, np.float32))
    np.testing.assert_allclose(seen["post"], np.full((4, 2), 3.0) @ m.weight.array, rtol=1e-6)


def test_a_hook_dict_assigned_whole_runs_and_removal_still_works():
    m = nn.Linear(3, 2)
    log = []
    m._forward_hooks = OrderedDict({1: lambda mod, a, o: log.append("swapped")})
    m(mg.ones(1, 3))
    assert log == ["swapped"]
    m2 = nn.Linear(3, 2)
    h = m2.register_forward_hook(lambda mod, a, o: log.append("registered"))
    m2(mg.ones(1, 3))
    h.remove()
    m2(mg.ones(1, 3))
    assert log == ["swapped", "registered"]
    m3 = nn.Linear(3, 2)
    m3._forward_hooks.update({2: lambda mod, a, o: log.append("update")})
    m3(mg.ones(1, 3))
    assert log[-1] == "update"


@pytest.mark.parametrize("how", ["deepcopy", "pickle"])
def test_copies_notice_hooks_put_into_their_own_dicts(how):
    seq = nn.Sequential(nn.Linear(3, 2), nn.ReLU())
    clone = copy.deepcopy(seq) if how == "deepcopy" else pickle.loads(pickle.dumps(seq))
    log = []
    clone[0]._forward_hooks[5] = lambda mod, a, o: log.append("clone")
    clone(mg.ones(1, 3))
    seq(mg.ones(1, 3))
    assert log == ["clone"]  # the original's dicts are its own


def test_optimizer_and_module_hook_handles_share_one_id_counter():
    m = nn.Linear(2, 2)
    opt = mg.optim.SGD(m.parameters(), lr=0.1)
    handles = [m.register_forward_hook(lambda *a: None), opt.register_step_pre_hook(lambda *a: None),
               m.register_forward_pre_hook(lambda *a: None), opt.register_step_post_hook(lambda *a: None),
               mg.optim.optimizer.register_optimizer_step_pre_hook(lambda *a: None),
               opt.register_state_dict_pre_hook(lambda *a: None, prepend=True),
               m.register_full_backward_hook(lambda *a: None)]
    ids = [h.id for h in handles]
    assert all(type(h) is RemovableHandle for h in handles)
    assert ids == sorted(ids) and len(set(ids)) == len(ids)  # one counter, in the order they were made
    calls = []
    opt._optimizer_step_pre_hooks[handles[0].id] = lambda *a: calls.append("own")  # no clash with the module's
    for h in handles:
        h.remove()
    assert not m._forward_hooks and not m._forward_pre_hooks and not opt._optimizer_step_post_hooks
    assert list(opt._optimizer_step_pre_hooks) == [handles[0].id]
    opt.step()
    assert calls == ["own"]
