"""PyTorch's integer semantics and error types where matgrad used to differ.

1. A Python int that does not fit an integer tensor's dtype wraps into it (modulo 2**bits) in every
   arithmetic, comparison and in-place operator, reflected or not; true division divides by the int itself;
   past 64 bits it is PyTorch's OverflowError.
2. batch_norm's shape errors are RuntimeErrors.
3. select_scatter / slice_scatter cast src to input's dtype (the gradient comes back in src's dtype).
4. View and reduction functions: IndexError "Dimension out of range" for a bad dim, RuntimeError for a bad shape.

Each expected value is computed here independently (NumPy on the wrapped int); where PyTorch is installed the
same call in torch is compared as well.
"""
from __future__ import annotations

import operator

import numpy as np
import pytest

import matgrad as mg
import matgrad.nn.functional as F
from tests.helpers import check_op

try:
    import torch
    import torch.nn.functional as TF
except ImportError:  # the comparisons skip cleanly without PyTorch
    torch = TF = None

INT_DTYPES = ["uint8", "int8", "int16", "int32", "int64"]
OUT_OF_RANGE = [-1, -129, 255, 256, 300, -40000, 2 ** 31, 2 ** 40, 2 ** 63, 2 ** 64 - 1, -(2 ** 63)]
BASE = [1, 5, 100, 7]  # no zeros: they divide too


def _wrap(v: int, dtype: str) -> int:
    """v as PyTorch casts a Python int to this dtype: modulo 2**bits, two's complement."""
    bits = np.dtype(dtype).itemsize * 8
    v %= 1 << bits
    return v - (1 << bits) if np.dtype(dtype).kind == "i" and v >= 1 << (bits - 1) else v


def _fits(v: int, dtype: str) -> bool:
    info = np.iinfo(dtype)
    return info.min <= v <= info.max


def _cases(dtype):
    return [v for v in OUT_OF_RANGE if not _fits(v, dtype)]


def _same_as_torch(got, fn, *args):
    """Where PyTorch is installed, fn on torch tensors gives got's values and dtype."""
    if torch is None:
        return
    want = fn(*[torch.tensor(a) if isinstance(a, np.ndarray) else a for a in args])
    assert str(got.dtype).split(".")[-1] == str(want.dtype).split(".")[-1]
    np.testing.assert_array_equal(got.array, want.numpy())


BINARY = {  # operator: (matgrad/torch function, NumPy reference on the wrapped int)
    "add": (operator.add, np.add), "sub": (operator.sub, np.subtract), "mul": (operator.mul, np.multiply),
    "floordiv": (operator.floordiv, np.floor_divide), "mod": (operator.mod, np.remainder),
    "lt": (operator.lt, np.less), "le": (operator.le, np.less_equal), "gt": (operator.gt, np.greater),
    "ge": (operator.ge, np.greater_equal), "eq": (operator.eq, np.equal), "ne": (operator.ne, np.not_equal),
}


@pytest.mark.parametrize("dtype", INT_DTYPES)
@pytest.mark.parametrize("name", list(BINARY))
def test_out_of_range_ints_wrap_in_operators_both_ways(dtype, name):
    fn, ref = BINARY[name]
    x = np.array(BASE, dtype=dtype)
    for v in _cases(dtype):
        w = np.array(_wrap(v, dtype), dtype=dtype)
        for args, wrapped in (((x, v), (x, w)), ((v, x), (w, x))):
            if name in ("floordiv", "mod") and np.any(wrapped[1] == 0):
                continue  # a wrapped divisor of 0 raises (test_integer_division_by_a_wrapped_zero_raises)
            want = ref(*wrapped)
            got = fn(*[mg.tensor(a) if isinstance(a, np.ndarray) else a for a in args])
            assert got.array.dtype == want.dtype, (v, args)
            np.testing.assert_array_equal(got.array, want, err_msg=f"{name}{args}")
            _same_as_torch(got, fn, *args)


@pytest.mark.parametrize("dtype", INT_DTYPES)
@pytest.mark.parametrize("name", ["floor_divide", "remainder", "fmod", "eq", "gt", "le"])
def test_out_of_range_ints_wrap_in_functions(dtype, name):
    ref = {"floor_divide": np.floor_divide, "remainder": np.remainder, "fmod": np.fmod, "eq": np.equal,
           "gt": np.greater, "le": np.less_equal}[name]
    x = np.array(BASE, dtype=dtype)
    for v in _cases(dtype):
        w = np.array(_wrap(v, dtype), dtype=dtype)
        if w == 0 and name in ("floor_divide", "remainder", "fmod"):
            continue
        got = getattr(mg, name)(mg.tensor(x), v)
        np.testing.assert_array_equal(got.array, ref(x, w), err_msg=f"{name}({v})")
        assert got.array.dtype == ref(x, w).dtype
        _same_as_torch(got, getattr(torch, name, None) if torch else None, x, v)


@pytest.mark.parametrize("dtype", INT_DTYPES)
@pytest.mark.parametrize("mode", ["floor", "trunc"])
def test_div_with_rounding_mode_wraps_the_int(dtype, mode):
    x = np.array([1, 5, 100, 7], dtype=dtype)
    for v in _cases(dtype):
        w = _wrap(v, dtype)
        if w == 0:
            continue
        exact = np.array(BASE, dtype=object) / w  # exact rationals' floor / trunc, as Python ints
        want = np.array([int(np.floor(q)) if mode == "floor" else int(q) for q in exact]).astype(dtype)
        got = mg.div(mg.tensor(x), v, rounding_mode=mode)
        np.testing.assert_array_equal(got.array, want)
        assert got.array.dtype == np.dtype(dtype)
        if torch is not None:
            np.testing.assert_array_equal(got.array, torch.div(torch.tensor(x), v, rounding_mode=mode).numpy())


@pytest.mark.parametrize("dtype", INT_DTYPES)
def test_true_division_by_an_out_of_range_int_is_not_wrapped(dtype):
    x = np.array(BASE, dtype=dtype)
    for v in _cases(dtype):
        for fn, want in ((lambda t, n: t / n, x.astype(np.float32) / np.float32(v)),
                         (lambda t, n: n / t, np.float32(v) / x.astype(np.float32)),
                         (lambda t, n: t.true_divide(n), x.astype(np.float32) / np.float32(v))):
            got = fn(mg.tensor(x), v)
            assert got.dtype == mg.float32
            np.testing.assert_allclose(got.array, want, rtol=1e-6)
            if torch is not None:
                np.testing.assert_allclose(got.array, fn(torch.tensor(x), v).numpy(), rtol=1e-6)


@pytest.mark.parametrize("dtype", INT_DTYPES)
def test_reflected_pow_wraps_the_base(dtype):
    x = np.array([0, 1, 2, 3], dtype=dtype)
    for v in _cases(dtype):
        w = np.array(_wrap(v, dtype), dtype=dtype)
        got = v ** mg.tensor(x)
        np.testing.assert_array_equal(got.array, np.power(w, x))
        _same_as_torch(got, lambda a, b: a ** b, v, x)


def test_an_int_exponent_or_alpha_that_overflows_is_refused_as_torch():
    u = mg.tensor([0, 5, 200], dtype=mg.uint8)
    with pytest.raises(RuntimeError, match="exponent 256 cannot be converted to type uint8 without overflow"):
        u ** 256
    np.testing.assert_array_equal((u ** 255).array, np.power(u.array, 255))
    with pytest.raises(RuntimeError, match="negative integer powers"):
        u ** -1
    with pytest.raises(RuntimeError, match="alpha 256 cannot be converted"):
        mg.add(u, 1, alpha=256)
    with pytest.raises(RuntimeError, match="alpha -129 cannot be converted"):
        mg.sub(mg.tensor([1], dtype=mg.int8), 1, alpha=-129)
    # in range ([-max, max] for unsigned, as torch's checked conversion): computed, wrapping
    np.testing.assert_array_equal(mg.add(u, 1, alpha=-255).array, [1, 6, 201])
    if torch is not None:
        tu = torch.tensor([0, 5, 200], dtype=torch.uint8)
        for fn in (lambda t: t ** 256, lambda t: t ** -1, lambda t: torch.add(t, 1, alpha=256)):
            with pytest.raises(RuntimeError):
                fn(tu)
        np.testing.assert_array_equal(torch.add(tu, 1, alpha=-255).numpy(), [1, 6, 201])


def test_integer_division_by_a_wrapped_zero_raises():
    u = mg.tensor([1, 2], dtype=mg.uint8)
    for fn in (lambda: u // 256, lambda: u % 512, lambda: 300 // mg.tensor([0, 1], dtype=mg.uint8)):
        with pytest.raises(ZeroDivisionError, match="integer division by zero"):  # torch: RuntimeError
            fn()


@pytest.mark.parametrize("dtype", INT_DTYPES)
@pytest.mark.parametrize("v", [2 ** 64, -(2 ** 63) - 1, 2 ** 70])
def test_ints_beyond_64_bits_overflow_everywhere(dtype, v):
    x = mg.tensor(np.array([1, 2], dtype=dtype))
    for fn in (lambda: v + x, lambda: v - x, lambda: v * x, lambda: x // v, lambda: x > v, lambda: v == x,
               lambda: x / v, lambda: v / x, lambda: x.add_(v), lambda: x.mul_(v)):
        with pytest.raises(OverflowError, match="does not fit in 64 bits"):
            fn()
    np.testing.assert_array_equal(x.array, [1, 2])  # nothing was written


INPLACE = {  # in-place form: (NumPy reference, torch's same call)
    "iadd": (np.add, operator.iadd), "isub": (np.subtract, operator.isub), "imul": (np.multiply, operator.imul),
    "ifloordiv": (np.floor_divide, operator.ifloordiv), "imod": (np.remainder, operator.imod),
    "add_": (np.add, lambda t, v: t.add_(v)), "sub_": (np.subtract, lambda t, v: t.sub_(v)),
    "mul_": (np.multiply, lambda t, v: t.mul_(v)), "floor_divide_": (np.floor_divide, lambda t, v: t.floor_divide_(v)),
    "remainder_": (np.remainder, lambda t, v: t.remainder_(v)), "fmod_": (np.fmod, lambda t, v: t.fmod_(v)),
    "eq_": (np.equal, lambda t, v: t.eq_(v)), "gt_": (np.greater, lambda t, v: t.gt_(v)),
}


@pytest.mark.parametrize("dtype", INT_DTYPES)
@pytest.mark.parametrize("name", list(INPLACE))
def test_in_place_operators_wrap_out_of_range_ints(dtype, name):
    ref, fn = INPLACE[name]
    for v in _cases(dtype):
        w = np.array(_wrap(v, dtype), dtype=dtype)
        if w == 0 and ref in (np.floor_divide, np.remainder, np.fmod):
            continue
        x = mg.tensor(np.array(BASE, dtype=dtype))
        same, version = x.array, x._version
        out = fn(x, v)
        assert out is x and x.array is same and x._version == version + 1  # written in place
        want = ref(np.array(BASE, dtype=dtype), w).astype(dtype)
        np.testing.assert_array_equal(x.array, want, err_msg=f"{name} {v}")
        if torch is not None:
            t = torch.tensor(np.array(BASE, dtype=dtype))
            np.testing.assert_array_equal(fn(t, v).numpy(), want)


def test_in_place_pow_is_in_place():
    x = mg.tensor([1, 2, 3])
    y = x
    y **= 2
    assert y is x
    np.testing.assert_array_equal(x.array, [1, 4, 9])


def test_in_place_true_division_of_an_int_tensor_is_torchs_runtime_error():
    for fn in (lambda x: x.div_(2), lambda x: operator.itruediv(x, 300)):
        x = mg.tensor([2, 4], dtype=mg.uint8)
        with pytest.raises(RuntimeError, match="can't be cast to the desired output type"):
            fn(x)
        np.testing.assert_array_equal(x.array, [2, 4])
        if torch is not None:
            with pytest.raises(RuntimeError):
                fn(torch.tensor([2, 4], dtype=torch.uint8))


def test_fitting_ints_and_float_tensors_are_unchanged():
    u = mg.tensor([1, 2], dtype=mg.uint8)
    np.testing.assert_array_equal((250 + u).array, [251, 252])
    np.testing.assert_array_equal((3 - u).array, [2, 1])
    assert (u > 1).array.tolist() == [False, True]
    f = mg.tensor([1.5, 2.0])
    assert (300 - f).dtype == mg.float32 and (2 ** 70 + f).dtype == mg.float32
    np.testing.assert_allclose((-1 - f).array, [-2.5, -3.0])
    np.testing.assert_allclose((300 // f).array, [200.0, 150.0])
    assert (mg.tensor([True]) + 300).dtype == mg.int64


# --- 2. batch_norm ---------------------------------------------------------------------------------
BN_ERRORS = [  # (id, call on (library, functional), error type, matgrad's message)
    ("weight", lambda L, f: f.batch_norm(L.ones(4, 3), None, None, L.ones(4), None, training=True), RuntimeError,
     r"weight must have shape \(3,\), got \(4,\)"),
    ("bias", lambda L, f: f.batch_norm(L.ones(4, 3), None, None, None, L.ones(2), training=True), RuntimeError,
     r"bias must have shape \(3,\), got \(2,\)"),
    ("weight_eval", lambda L, f: f.batch_norm(L.ones(4, 3), L.zeros(3), L.ones(3), L.ones(4)), RuntimeError,
     "weight must have shape"),
    ("running_mean", lambda L, f: f.batch_norm(L.ones(4, 3), L.zeros(4), L.ones(3), training=True),
     RuntimeError, r"running_mean should contain 3 elements"),
    ("running_var", lambda L, f: f.batch_norm(L.ones(4, 3, 2), L.zeros(3), L.ones(2)), RuntimeError,
     r"running_var should contain 3 elements"),
    ("eval_without_stats", lambda L, f: f.batch_norm(L.ones(4, 3), None, None), RuntimeError,
     "running_mean must be defined in evaluation mode"),
    ("one_stat", lambda L, f: f.batch_norm(L.ones(4, 3), L.zeros(3), None, training=True), ValueError,
     "must either both be None or neither be None"),
    ("one_value", lambda L, f: f.batch_norm(L.ones(1, 3), None, None, training=True), ValueError,
     "more than 1 value per channel"),
]


@pytest.mark.parametrize("call, exc, pattern", [pytest.param(c, e, p, id=i) for i, c, e, p in BN_ERRORS])
def test_batch_norm_errors_are_torchs_types(call, exc, pattern):
    with pytest.raises(exc, match=pattern):
        call(mg, F)
    if torch is not None:
        with pytest.raises(exc):
            call(torch, TF)


def test_batch_norm_with_matching_stats_still_runs():
    x = mg.randn(4, 3, 2)
    rm, rv = mg.zeros(3), mg.ones(3)
    y = F.batch_norm(x, rm, rv, mg.ones(3), mg.zeros(3), training=True)
    assert y.shape == (4, 3, 2) and not np.allclose(rm.array, 0)


# --- 3. select_scatter / slice_scatter cast src ----------------------------------------------------
SCATTERS = [
    ("select_scatter", lambda L, x, s: L.select_scatter(x, s, 1, -1), (3, 4), (3,)),
    ("slice_scatter", lambda L, x, s: L.slice_scatter(x, s, 1, 1, None, 2), (3, 4), (3, 2)),
]


@pytest.mark.parametrize("name, fn, xs, ss", SCATTERS, ids=[c[0] for c in SCATTERS])
def test_scatter_casts_src_to_inputs_dtype(name, fn, xs, ss):
    rng = np.random.default_rng(0)
    x, s = rng.standard_normal(xs) * 3, rng.standard_normal(ss) * 3
    for xdt, sdt in (("float64", "float32"), ("float32", "float64"), ("int64", "float64"), ("float32", "int32"),
                     ("int32", "bool"), ("float32", "bool")):
        xa, sa = x.astype(xdt), (s > 0 if sdt == "bool" else s.astype(sdt))
        got = fn(mg, mg.tensor(xa), mg.tensor(sa))
        want = xa.copy()
        target = want[:, -1] if name == "select_scatter" else want[:, 1::2]
        target[...] = sa.astype(xdt)  # NumPy's cast: floats to ints truncate toward zero, as torch
        assert got.array.dtype == np.dtype(xdt)
        np.testing.assert_array_equal(got.array, want)
        if torch is not None:
            np.testing.assert_array_equal(got.array, fn(torch, torch.tensor(xa), torch.tensor(sa)).numpy())


@pytest.mark.parametrize("name, fn, xs, ss", SCATTERS, ids=[c[0] for c in SCATTERS])
def test_scatter_gradients_across_dtypes(name, fn, xs, ss):
    check_op(lambda x, s: fn(mg if isinstance(x, mg.Tensor) else torch, x, s), xs, ss)  # float64 gradcheck
    rng = np.random.default_rng(1)
    xa, sa, w = rng.standard_normal(xs), rng.standard_normal(ss).astype(np.float32), rng.standard_normal(xs)
    x = mg.tensor(xa, requires_grad=True)
    s = mg.tensor(sa, requires_grad=True)
    (fn(mg, x, s) * mg.tensor(w)).sum().backward()
    hit = np.zeros(xs, bool)
    (hit[:, -1:] if name == "select_scatter" else hit[:, 1::2])[...] = True
    np.testing.assert_array_equal(x.grad, np.where(hit, 0, w))  # the overwritten places get none
    assert s.grad.dtype == np.float32  # src's gradient in src's own dtype
    np.testing.assert_array_equal(s.grad, (w[:, -1] if name == "select_scatter" else w[:, 1::2]).astype(np.float32))
    if torch is not None:
        tx, ts = torch.tensor(xa, requires_grad=True), torch.tensor(sa, requires_grad=True)
        (fn(torch, tx, ts) * torch.tensor(w)).sum().backward()
        np.testing.assert_array_equal(x.grad, tx.grad.numpy())
        assert ts.grad.dtype == torch.float32
        np.testing.assert_array_equal(s.grad, ts.grad.numpy())


def test_scatter_src_must_be_a_tensor():
    for call in (lambda: mg.select_scatter(mg.zeros(3, 4), 1.0, 0, 0),
                 lambda: mg.slice_scatter(mg.zeros(3, 4), [[1.0] * 4], 0, 0, 1)):
        with pytest.raises(TypeError, match="argument 'src' .* must be Tensor"):
            call()


# --- 4. and 5. dims out of range and bad shapes ----------------------------------------------------
def _x(L):
    return L.arange(24.0).reshape(2, 3, 4)


DIM_ERRORS = [  # (id, call on a library, PyTorch's error type, the phrase matgrad's message must hold)
    ("t_3d", lambda L: _x(L).t(), RuntimeError, "<= 2 dimensions"),
    ("torch_t_3d", lambda L: L.t(_x(L)), RuntimeError, "<= 2 dimensions"),
    ("diagonal_1d", lambda L: L.arange(3.0).diagonal(), IndexError, r"Dimension out of range .*\[-1, 0\], but got 1"),
    ("diagonal_same_dims", lambda L: L.zeros(2, 3).diagonal(0, 1, -1), RuntimeError, "cannot be identical"),
    ("diagonal_dim", lambda L: _x(L).diagonal(0, 0, 3), IndexError, "Dimension out of range"),
    ("transpose", lambda L: _x(L).transpose(0, 3), IndexError, r"Dimension out of range .*\[-3, 2\], but got 3"),
    ("transpose_neg", lambda L: _x(L).transpose(-4, 0), IndexError, "Dimension out of range"),
    ("transpose_1d", lambda L: L.arange(3.0).transpose(0, 1), IndexError, "Dimension out of range"),
    ("transpose_0d", lambda L: L.tensor(1.0).transpose(0, 1), IndexError, "Dimension out of range"),
    ("swapaxes", lambda L: _x(L).swapaxes(0, 5), IndexError, "Dimension out of range"),
    ("mT_1d", lambda L: L.arange(3.0).mT, RuntimeError, "only supported on matrices"),
    ("permute_dim", lambda L: _x(L).permute(0, 1, 3), IndexError, "Dimension out of range"),
    ("permute_length", lambda L: _x(L).permute(0, 1), RuntimeError, "not a permutation"),
    ("permute_repeat", lambda L: _x(L).permute(0, 1, 1), RuntimeError, "duplicate dims"),
    ("squeeze", lambda L: _x(L).squeeze(3), IndexError, "Dimension out of range"),
    ("squeeze_tuple", lambda L: _x(L).squeeze((0, 5)), IndexError, "Dimension out of range"),
    ("squeeze_repeat", lambda L: _x(L).squeeze((0, -3)), RuntimeError, "dim 0 appears multiple times"),
    ("squeeze_0d", lambda L: L.tensor(1.0).squeeze(1), IndexError, "Dimension out of range"),
    ("unsqueeze", lambda L: _x(L).unsqueeze(4), IndexError, r"Dimension out of range .*\[-4, 3\], but got 4"),
    ("unsqueeze_neg", lambda L: _x(L).unsqueeze(-5), IndexError, "Dimension out of range"),
    ("narrow", lambda L: _x(L).narrow(3, 0, 1), IndexError, "Dimension out of range"),
    ("narrow_length", lambda L: _x(L).narrow(0, 0, 5), RuntimeError, "exceeds dimension size"),
    ("select", lambda L: _x(L).select(3, 0), IndexError, "Dimension out of range"),
    ("unflatten", lambda L: _x(L).unflatten(3, (2, 2)), IndexError, "Dimension out of range"),
    ("unflatten_sizes", lambda L: _x(L).unflatten(2, (3, 2)), RuntimeError, "don't multiply up"),
    ("movedim", lambda L: _x(L).movedim(3, 0), IndexError, "Dimension out of range"),
    ("movedim_repeat", lambda L: _x(L).movedim((0, 0), (1, 2)), RuntimeError, "repeated dim"),
    ("flatten", lambda L: _x(L).flatten(0, 3), IndexError, "Dimension out of range"),
    ("flatten_0d", lambda L: L.tensor(1.0).flatten(1), IndexError, "Dimension out of range"),
    ("flatten_order", lambda L: _x(L).flatten(2, 0), RuntimeError, "start_dim cannot come after end_dim"),
    ("expand", lambda L: _x(L).expand(3, 3, 4), RuntimeError, "must match the existing size"),
    ("expand_fewer", lambda L: _x(L).expand(3, 4), RuntimeError, "must be greater or equal"),
    ("expand_negative", lambda L: _x(L).expand(2, -2, 4), RuntimeError, "must match the existing size"),
    ("expand_new_minus_one", lambda L: _x(L).expand(-1, 2, 3, 4), RuntimeError, "leading, non-existing"),
    ("expand_as", lambda L: _x(L).expand_as(L.zeros(2, 3)), RuntimeError, "must be greater or equal"),
    ("broadcast_to", lambda L: L.broadcast_to(_x(L), (3, 3, 4)), RuntimeError, "cannot be broadcast"),
    ("view", lambda L: _x(L).view(5, 5), RuntimeError, r"shape \[5, 5\] is invalid for input of size 24"),
    ("view_two_inferred", lambda L: _x(L).view(-1, -1), RuntimeError, "only one dimension can be inferred"),
    ("view_negative", lambda L: _x(L).view(-2, 12), RuntimeError, "invalid shape dimension -2"),
    ("reshape", lambda L: _x(L).reshape(-1, 5), RuntimeError, "is invalid for input of size 24"),
    ("reshape_zero", lambda L: _x(L).reshape(0, -1), RuntimeError, "is invalid for input of size 24"),
    ("sum", lambda L: _x(L).sum(3), IndexError, r"sum: Dimension out of range .*\[-3, 2\], but got 3"),
    ("sum_tuple", lambda L: _x(L).sum((0, 3)), IndexError, "Dimension out of range"),
    ("sum_repeat", lambda L: _x(L).sum((0, -3)), RuntimeError, "dim 0 appears multiple times"),
    ("sum_0d", lambda L: L.tensor(1.0).sum(1), IndexError, r"Dimension out of range .*\[-1, 0\]"),
    ("mean", lambda L: _x(L).mean(3), IndexError, "Dimension out of range"),
    ("mean_repeat", lambda L: _x(L).mean((1, 1)), RuntimeError, "appears multiple times"),
    ("max", lambda L: _x(L).max(3), IndexError, "Dimension out of range"),
    ("min", lambda L: _x(L).min(-4), IndexError, "Dimension out of range"),
    ("amax", lambda L: _x(L).amax(3), IndexError, "Dimension out of range"),
    ("argmax", lambda L: _x(L).argmax(3), IndexError, "Dimension out of range"),
    ("argmin_0d", lambda L: L.tensor(1.0).argmin(1), IndexError, "Dimension out of range"),
    ("prod", lambda L: _x(L).prod(3), IndexError, "Dimension out of range"),
    ("var", lambda L: _x(L).var(3), IndexError, "Dimension out of range"),
    ("std", lambda L: _x(L).std(3), IndexError, "Dimension out of range"),
    ("logsumexp", lambda L: _x(L).logsumexp(3), IndexError, "Dimension out of range"),
    ("norm", lambda L: _x(L).norm(dim=3), IndexError, "Dimension out of range"),
    ("all", lambda L: _x(L).all(3), IndexError, "Dimension out of range"),
    ("softmax", lambda L: _x(L).softmax(3), IndexError, "Dimension out of range"),
    ("log_softmax", lambda L: _x(L).log_softmax(-4), IndexError, "Dimension out of range"),
    ("cumsum", lambda L: _x(L).cumsum(3), IndexError, "Dimension out of range"),
    ("cumprod", lambda L: _x(L).cumprod(-4), IndexError, "Dimension out of range"),
]


@pytest.mark.parametrize("call, exc, pattern", [pytest.param(c, e, p, id=i) for i, c, e, p in DIM_ERRORS])
def test_dim_and_shape_errors_are_torchs_types(call, exc, pattern):
    with pytest.raises(exc, match=pattern):
        call(mg)
    if torch is not None:
        with pytest.raises(exc):
            call(torch)


def test_a_non_integer_dim_is_a_type_error():
    with pytest.raises(TypeError, match="argument 'dim' must be int, not float"):
        _x(mg).transpose(0, 1.0)
    for call in (lambda L: _x(L).sum(1.5), lambda L: _x(L).transpose(0, 1.0), lambda L: _x(L).unsqueeze("1")):
        with pytest.raises(TypeError):
            call(mg)
        if torch is not None:
            with pytest.raises(TypeError):
                call(torch)


def test_valid_dims_of_0d_and_1d_tensors_still_work():
    s, v = mg.tensor(2.0), mg.arange(3.0)
    assert s.transpose(0, -1).shape == () and v.transpose(0, -1).shape == (3,) and s.mT.shape == ()
    assert s.sum(0).shape == () and s.squeeze(-1).shape == () and s.unsqueeze(-1).shape == (1,)
    assert s.flatten(0, -1).shape == (1,) and s.movedim(0, -1).shape == ()
    np.testing.assert_array_equal(mg.zeros(2, 3).diagonal(0, -1, 0).array, [0, 0])


def test_expand_and_broadcast_to_take_minus_one_as_torch():
    x = mg.arange(6.0).reshape(2, 1, 3)
    assert mg.broadcast_to(x, (2, -1, 3)).shape == (2, 1, 3)
    assert x.expand(4, 2, 5, -1).shape == (4, 2, 5, 3)
    assert mg.zeros(1).expand(0).shape == (0,)
    check_op(lambda a: a.expand(4, 2, 5, -1), (2, 1, 3))
    check_op(lambda a: a.broadcast_to((3, -1, 2)), (4, 1), torch_fn=lambda a: torch.broadcast_to(a, (3, -1, 2)))
    check_op(lambda a: a.transpose(0, -1).permute(2, 0, 1), (2, 3, 4))
