"""Tensor methods PyTorch code calls that matgrad lacked: the in-place twins of the math ops (x.sin_() ...),
the shape-changing in-place ones (t_, squeeze_ ...), aliases, small facts (itemsize, storage_offset ...),
igamma/igammac, addr, sum_to_size, cholesky_solve/cholesky_inverse, and torch's top-level functions that are
methods (torch.sin_(x)).

Each in-place method must give the out-of-place op's values in the tensor's own memory, raise on a leaf that
requires grad, and on a graph carry the gradient as the out-of-place op does (finite differences in float64,
and torch where installed).
"""
from __future__ import annotations

import math

import numpy as np
import pytest

import matgrad as mg
from tests.helpers import assert_close, compare_torch

try:
    import torch
except ImportError:
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="compares with PyTorch")
rng = np.random.default_rng(0)


def _normal(*shape):
    return rng.standard_normal(shape)


def _positive(*shape):
    return np.abs(rng.standard_normal(shape)) + 0.5


def _unit(*shape):  # inside (-0.9, 0.9)
    return 0.9 * np.tanh(rng.standard_normal(shape))


def _prob(*shape):  # inside (0.1, 0.9)
    return 0.5 + 0.4 * np.tanh(rng.standard_normal(shape))


# name: (input maker, extra arguments)
UNARY = {
    "sin_": (_normal, ()), "cos_": (_normal, ()), "tan_": (_unit, ()), "asin_": (_unit, ()), "acos_": (_unit, ()),
    "atan_": (_normal, ()), "arcsin_": (_unit, ()), "arccos_": (_unit, ()), "arctan_": (_normal, ()),
    "sinh_": (_normal, ()), "cosh_": (_normal, ()), "asinh_": (_normal, ()),
    "acosh_": (lambda *s: _positive(*s) + 1, ()), "atanh_": (_unit, ()), "arcsinh_": (_normal, ()),
    "arccosh_": (lambda *s: _positive(*s) + 1, ()), "arctanh_": (_unit, ()),
    "exp2_": (_normal, ()), "expm1_": (_normal, ()), "log10_": (_positive, ()), "log1p_": (_positive, ()),
    "log2_": (_positive, ()), "rsqrt_": (_positive, ()), "reciprocal_": (_positive, ()),
    "sign_": (_normal, ()), "sgn_": (_normal, ()), "floor_": (_normal, ()), "ceil_": (_normal, ()),
    "round_": (_normal, ()), "trunc_": (_normal, ()), "fix_": (_normal, ()), "frac_": (_normal, ()),
    "erf_": (_normal, ()), "erfc_": (_normal, ()), "erfinv_": (_unit, ()), "digamma_": (_positive, ()),
    "lgamma_": (_positive, ()), "i0_": (_normal, ()), "logit_": (_prob, ()), "sinc_": (_normal, ()),
    "deg2rad_": (_normal, ()), "rad2deg_": (_normal, ()), "nan_to_num_": (_normal, ()),
    "cumsum_": (_normal, (1,)), "cumprod_": (_normal, (0,)), "polygamma_": (_positive, (0,)),
    "mvlgamma_": (lambda *s: _positive(*s) + 1, (2,)), "negative_": (_normal, ()), "absolute_": (_positive, ()),
    "tril_": (_normal, (0,)), "triu_": (_normal, (1,)), "clamp_min_": (_normal, (0.1,)),
    "clamp_max_": (_normal, (-0.1,)), "renorm_": (_normal, (2, 0, 1.0)),
}
NO_SECOND_ORDER = {"polygamma_", "digamma_", "lgamma_", "i0_"}  # their derivatives' own gradients are not written
# torch writes no derivative for these in place (it would need the overwritten input): compared out of place
TORCH_OUT_OF_PLACE = {"acosh_", "arccosh_", "asinh_", "arcsinh_", "atanh_", "arctanh_",
                      "sgn_"}  # (sgn's gradient is torch's ZeroTensor, which NumPy cannot read: sign's is compared)


def _out_of_place(name):
    return {"absolute_": "abs", "negative_": "neg"}.get(name, name[:-1])


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_in_place_values_memory_and_version(name):
    make, args = UNARY[name]
    a = make(3, 4)
    x = mg.tensor(a)
    array, version = x.array, x._version
    want = getattr(mg.tensor(a), _out_of_place(name))(*args)
    out = getattr(x, name)(*args)
    assert out is x and x.array is array, "the result must be written into the tensor's own array"
    assert x._version == version + 1
    np.testing.assert_array_equal(x.array, want.array)


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_in_place_gradient(name):
    make, args = UNARY[name]
    x = mg.tensor(make(3, 4), dtype=mg.float64, requires_grad=True)

    def fn(t):
        return getattr(t * 1, name)(*args)

    assert mg.gradcheck(fn, [x])
    plain = "sign" if name == "sgn_" else _out_of_place(name)
    compare_torch(fn, [x.array.copy()], torch_fn=(lambda t: getattr(t * 1, plain)(*args))
                  if name in TORCH_OUT_OF_PLACE else None)


@pytest.mark.parametrize("name", sorted(set(UNARY) - NO_SECOND_ORDER - {"renorm_"}))
def test_unary_in_place_second_order(name):
    make, args = UNARY[name]
    x = mg.tensor(make(2, 3), dtype=mg.float64, requires_grad=True)
    assert mg.gradgradcheck(lambda t: getattr(t * 1, name)(*args), [x])


@pytest.mark.parametrize("name", ["sin_", "cumsum_", "tril_", "eq_", "t_", "unsqueeze_"])
def test_in_place_on_a_leaf_that_requires_grad_raises(name):
    x = mg.tensor(_normal(2, 2), requires_grad=True)
    args = {"cumsum_": (0,), "tril_": (), "eq_": (0.0,), "unsqueeze_": (0,)}.get(name, ())
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        getattr(x, name)(*args)
    with mg.no_grad():  # as an optimizer step changes a parameter
        getattr(x, name)(*args)
    assert x.grad_fn is None and x.requires_grad


def test_in_place_keeps_the_tensor_dtype_and_refuses_what_it_cannot_hold():
    x = mg.arange(6).reshape(2, 3)
    with pytest.raises(RuntimeError, match="can't be cast to the desired output type int64"):
        x.sin_()
    x.cumsum_(1)
    assert x.dtype == mg.int64 and x.tolist() == [[0, 1, 3], [3, 7, 12]]
    h = mg.tensor([1.0, 2.0], dtype=mg.float16)
    h.exp2_()
    assert h.dtype == mg.float16 and h.tolist() == [2.0, 4.0]
    with pytest.raises(RuntimeError, match="cannot be written in place"):
        mg.zeros(3).atan2_(mg.ones(2, 3))
    with pytest.raises(RuntimeError, match="float_power_ has dtype .*float32"):
        mg.ones(3).float_power_(2)
    d = mg.tensor([2.0, 3.0], dtype=mg.float64)
    assert d.float_power_(2).tolist() == [4.0, 9.0]


def test_an_alias_sees_the_change_and_a_saved_input_is_checked():
    x = mg.tensor([0.5, 1.0, 2.0])
    view = x[1:]
    x.log2_()
    assert_close(view.array, [0.0, 1.0], rtol=0, atol=1e-7)
    a = mg.tensor([0.5, 1.5], requires_grad=True)
    b = a * 1
    c = b * b  # keeps b for its backward
    b.sin_()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        c.sum().backward()


def _f64(a):
    return mg.tensor(a, dtype=mg.float64, requires_grad=True)


# name: (input makers for self and the operands, keyword arguments)
BINARY = {
    "atan2_": ((_normal, _normal), {}), "arctan2_": ((_normal, _normal), {}), "hypot_": ((_normal, _normal), {}),
    "copysign_": ((_normal, _normal), {}), "fmod_": ((_positive, lambda *s: _positive(*s) + 2), {}),
    "remainder_": ((_positive, lambda *s: _positive(*s) + 2), {}), "xlogy_": ((_normal, _positive), {}),
    "lerp_": ((_normal, _normal, _prob), {}), "nextafter_": ((_normal, _normal), {}),
    "divide_": ((_normal, _positive), {}), "true_divide_": ((_normal, _positive), {}),
    "multiply_": ((_normal, _normal), {}), "subtract_": ((_normal, _normal), {"alpha": 2.0}),
    "addcdiv_": ((_normal, _normal, _positive), {"value": 0.5}), "addcmul_": ((_normal, _normal, _normal), {}),
    "float_power_": ((_positive, _normal), {}), "igammac_": ((_positive, _positive), {}),
    "igamma_": ((_positive, _positive), {}),
}
NO_GRAD_TO_SELF = {"igamma_", "igammac_"}  # torch writes no derivative for igamma's first argument either


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_in_place_values_and_gradient(name):
    makers, kwargs = BINARY[name]
    arrays = [makers[0](3, 4)] + [m(4) if i == 1 else m(3, 4) for i, m in enumerate(makers[1:], 1)]
    want = getattr(mg.tensor(arrays[0], dtype=mg.float64), name[:-1])(
        *[mg.tensor(a, dtype=mg.float64) for a in arrays[1:]], **kwargs)
    x = mg.tensor(arrays[0], dtype=mg.float64)
    getattr(x, name)(*[mg.tensor(a, dtype=mg.float64) for a in arrays[1:]], **kwargs)
    np.testing.assert_array_equal(x.array, want.array)

    if name in NO_GRAD_TO_SELF:
        const = mg.tensor(arrays[0], dtype=mg.float64)

        def fn(*others):
            return getattr(const * 1, name)(*others, **kwargs)

        def tfn(*others):
            return getattr(torch.tensor(arrays[0]) * 1, name)(*others, **kwargs)
        xs = arrays[1:]
    else:
        def fn(t, *others):
            return getattr(t * 1, name)(*others, **kwargs)
        tfn, xs = None, arrays
    assert mg.gradcheck(fn, [_f64(a) for a in xs])
    compare_torch(fn, xs, torch_fn=tfn)


@pytest.mark.parametrize("name, shapes", [
    ("addmm_", [(3, 4), (3, 2), (2, 4)]), ("addmv_", [(3,), (3, 2), (2,)]), ("addr_", [(3, 4), (3,), (4,)]),
    ("addbmm_", [(3, 4), (5, 3, 2), (5, 2, 4)]), ("baddbmm_", [(5, 3, 4), (5, 3, 2), (5, 2, 4)]),
])
def test_matrix_products_in_place(name, shapes):
    arrays = [_normal(*s) for s in shapes]

    def fn(t, a, b):
        return getattr(t * 1, name)(a, b, beta=0.5, alpha=2.0)

    assert mg.gradcheck(fn, [_f64(a) for a in arrays])
    compare_torch(fn, arrays)


def test_heaviside_floor_divide_gcd_lcm_ldexp_in_place():
    x = mg.tensor([-1.5, 0.0, 2.0])
    assert x.heaviside_(mg.tensor([0.5])).tolist() == [0.0, 0.5, 1.0]
    y = mg.tensor([7.0, -7.0, 8.0])
    assert y.floor_divide_(2).tolist() == [3.0, -4.0, 4.0]
    g = mg.tensor([12, 18, 7])
    assert g.gcd_(mg.tensor([8, 12, 3])).tolist() == [4, 6, 1]
    assert g.lcm_(mg.tensor([6, 4, 2])).tolist() == [12, 12, 2]
    f = mg.tensor([1.0, 3.0])
    assert f.ldexp_(mg.tensor([2, 3])).tolist() == [4.0, 24.0]


COMPARISONS = ["eq_", "ne_", "lt_", "le_", "gt_", "ge_", "greater_", "greater_equal_", "less_", "less_equal_",
               "not_equal_", "logical_and_", "logical_or_", "logical_xor_"]


@pytest.mark.parametrize("name", COMPARISONS + ["logical_not_"])
def test_comparison_in_place_writes_ones_and_zeros(name):
    a = np.array([[0.0, 1.0, 2.0], [3.0, -1.0, 0.0]])
    b = np.array([1.0, 1.0, 0.0])
    args = () if name == "logical_not_" else (mg.tensor(b),)
    x = mg.tensor(a, dtype=mg.float32)
    getattr(x, name)(*args)
    assert x.dtype == mg.float32
    if torch is not None:
        t = torch.tensor(a, dtype=torch.float32)
        getattr(t, name)(*(() if name == "logical_not_" else (torch.tensor(b, dtype=torch.float32),)))
        np.testing.assert_array_equal(x.array, t.numpy())
    i = mg.tensor(a.astype(np.int64))
    getattr(i, name)(*args)
    assert i.dtype == mg.int64 and set(i.flatten().tolist()) <= {0, 1}


def test_comparison_in_place_on_a_graph_keeps_requiring_grad_with_a_zero_gradient():
    x = mg.tensor([0.5, 1.0, 2.0], dtype=mg.float64, requires_grad=True)
    y = x * 2
    y.gt_(1.5)
    assert y.requires_grad and y.tolist() == [0.0, 1.0, 1.0]
    (y * mg.tensor([1.0, 2.0, 3.0], dtype=mg.float64)).sum().backward()
    assert x.grad.tolist() == [0.0, 0.0, 0.0]


# name, arguments, input shape
RESHAPES = [("t_", (), (2, 3)), ("t_", (), (3,)), ("transpose_", (0, 2), (2, 3, 4)), ("swapdims_", (1, -1), (2, 3, 4)),
            ("swapaxes_", (0, 1), (2, 3)), ("squeeze_", (), (1, 3, 1)), ("squeeze_", (2,), (1, 3, 1)),
            ("squeeze_", (1,), (1, 3, 1)), ("unsqueeze_", (1,), (2, 3)), ("unsqueeze_", (-1,), (2, 3))]


@pytest.mark.parametrize("name, args, shape", RESHAPES)
def test_shape_changing_in_place(name, args, shape):
    a = _normal(*shape)
    x = mg.tensor(a)
    alias = x.data  # another tensor on the same memory
    memory, version = x.array, x._version
    assert getattr(x, name)(*args) is x
    assert np.shares_memory(x.array, memory) and x._version == version + 1
    assert alias.shape == shape, "an alias keeps its own shape, as in PyTorch"
    if torch is not None:
        t = torch.tensor(a)
        getattr(t, name)(*args)
        assert x.shape == tuple(t.shape)
        np.testing.assert_array_equal(x.array, t.numpy())
    x.mul_(0)
    assert not alias.array.any(), "an alias sees later in-place changes"


@pytest.mark.parametrize("name, args, shape", RESHAPES)
def test_shape_changing_in_place_gradient(name, args, shape):
    a = _normal(*shape)

    def fn(t):
        y = t.exp()
        getattr(y, name)(*args)
        return y.sin_() * mg.tensor(np.arange(y.numel(), dtype=np.float64).reshape(y.shape))

    assert mg.gradcheck(fn, [_f64(a)])
    x = _f64(a)
    out = x.exp()
    getattr(out, name)(*args)
    out.sum().backward()
    assert_close(x.grad.array, np.exp(a), rtol=1e-12)

    def both(t):  # the same calls in matgrad and torch
        y = t * 1
        getattr(y, name)(*args)
        return y.sin_() * 3

    compare_torch(both, [a])


def test_shape_changing_in_place_of_a_saved_tensor_is_caught_at_backward():
    x = mg.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    y = x * 1
    z = y * y
    y.t_()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.sum().backward()
    with pytest.raises(IndexError):
        mg.zeros(1, 3).squeeze_(2)
    with pytest.raises(RuntimeError, match="<= 2 dimensions"):  # torch's error type
        mg.zeros(2, 2, 2).t_()


def test_aliases():
    a, b = mg.tensor([1.0, 2.0, 3.0]), mg.tensor([2.0, 2.0, 2.0])
    assert a.greater(b).tolist() == [False, False, True] and a.less_equal(b).tolist() == [True, True, False]
    assert a.greater_equal(b).tolist() == [False, True, True] and a.less(b).tolist() == [True, False, False]
    assert a.not_equal(b).tolist() == [True, False, True]
    assert a.multiply(b).tolist() == [2.0, 4.0, 6.0] and a.subtract(b, alpha=2).tolist() == [-3.0, -2.0, -1.0]
    assert a.negative().tolist() == [-1.0, -2.0, -3.0] and (-a).absolute().tolist() == [1.0, 2.0, 3.0]
    assert mg.zeros(2, 3, 4).swapdims(0, 2).shape == (4, 3, 2)
    assert a.clone().divide_(b, rounding_mode="floor").tolist() == [0.0, 1.0, 1.0]
    assert a.hardshrink(1.5).tolist() == [0.0, 2.0, 3.0] and mg.hardshrink(a, 2.5).tolist() == [0.0, 0.0, 3.0]
    assert (-a).prelu(mg.tensor([0.5])).tolist() == [-0.5, -1.0, -1.5]
    assert mg.prelu(-a, mg.tensor([0.5])).tolist() == [-0.5, -1.0, -1.5]


def test_array_facts():
    x = mg.zeros(3, 4, dtype=mg.float64)
    assert x.itemsize == 8 and x.nbytes == 96 and mg.zeros(5, dtype=mg.int16).nbytes == 10
    assert x.is_cpu and x.get_device() == -1 and mg.get_device(x) == -1
    assert x.is_same_size(mg.ones(3, 4)) and not x.is_same_size(mg.ones(4, 3)) and mg.is_same_size(x, x)
    assert [mg.zeros(1, dtype=d).is_signed() for d in (mg.float32, mg.int8, mg.int64, mg.uint8, mg.bool)] == [
        True, True, True, False, False]
    with mg.inference_mode():
        made = mg.ones(2)
    assert not made.is_inference() and not mg.is_inference(made)  # matgrad's are ordinary tensors
    assert x.storage_offset() == 0 and x[1].storage_offset() == 4 and x[2, 1:].storage_offset() == 9
    assert x[:, 2].storage_offset() == 2 and x.t()[1].storage_offset() == 1
    assert x[1:].reshape(-1)[3:].storage_offset() == 7


@needs_torch
def test_storage_offset_matches_torch_for_slices():
    a = np.arange(24.0).reshape(2, 3, 4)
    x, t = mg.tensor(a), torch.tensor(a)
    for index in ((1,), (1, 2), (slice(None), 1), (0, slice(1, 3), 2), (1, slice(None), slice(2, None))):
        assert x[index].storage_offset() == t[index].storage_offset(), index


def test_sum_to_size():
    a = _normal(2, 3, 4)
    x = mg.tensor(a)
    assert_close(x.sum_to_size(3, 1).array, a.sum(axis=(0, 2)).reshape(3, 1), rtol=1e-6)
    assert_close(x.sum_to_size((1, 4)).array, a.sum(axis=(0, 1)).reshape(1, 4), rtol=1e-6)
    assert x.sum_to_size(2, 3, 4) is x
    for bad in ((3,), (2, 2, 4), (1, 2, 3, 4)):
        with pytest.raises(RuntimeError, match="not expandable"):
            x.sum_to_size(*bad)
    assert mg.gradcheck(lambda t: t.sum_to_size(1, 3, 1), [_f64(a)])
    compare_torch(lambda t: t.sum_to_size(3, 1), [a])


def test_addr():
    i, u, v = _normal(3, 4), _normal(3), _normal(4)
    x = mg.addr(mg.tensor(i), mg.tensor(u), mg.tensor(v), beta=0.5, alpha=2.0)
    assert_close(x.array, 0.5 * i + 2.0 * np.outer(u, v), rtol=1e-6)
    compare_torch(lambda a, b, c: a.addr(b, c, beta=2.0), [i, u, v])
    compare_torch(lambda a, b, c: mg.addr(a, b, c) if isinstance(a, mg.Tensor) else torch.addr(a, b, c),
                  [_normal(1, 4), u, v])
    assert mg.gradcheck(lambda a, b, c: mg.addr(a, b, c, alpha=3.0), [_f64(i), _f64(u), _f64(v)])
    nan = mg.full((3, 4), float("nan"))
    assert not mg.addr(nan, mg.tensor(u), mg.tensor(v), beta=0).isnan().any()
    with pytest.raises(RuntimeError, match="1-D argument vec1"):
        mg.addr(mg.tensor(i), mg.tensor(i), mg.tensor(v))
    with pytest.raises(RuntimeError, match="does not broadcast"):
        mg.addr(mg.zeros(4, 4), mg.tensor(u), mg.tensor(v))


def test_igamma_values():
    x = np.array([0.1, 0.7, 2.0, 5.0, 30.0])
    assert_close(mg.igamma(mg.tensor(np.ones(5)), mg.tensor(x)).array, 1 - np.exp(-x), rtol=1e-6)
    half = mg.igamma(mg.tensor(np.full(5, 0.5)), mg.tensor(x, dtype=mg.float64))
    assert_close(half.array, [math.erf(math.sqrt(v)) for v in x], rtol=1e-13)
    q = mg.igammac(mg.tensor(np.full(5, 0.5)), mg.tensor(x, dtype=mg.float64))
    assert_close(q.array, [math.erfc(math.sqrt(v)) for v in x], rtol=1e-12, scale=0)  # tiny Q kept exactly
    a = mg.tensor([0.0, 1, -1, 2, math.inf, 2, 0, math.inf, 0, math.nan])
    z = mg.tensor([1.0, 0, 1, math.inf, 3, -1, 0, math.inf, math.nan, 1])
    np.testing.assert_array_equal(mg.igamma(a, z).array, [1, 0, np.nan, 1, 0, np.nan, np.nan, np.nan, np.nan, np.nan])
    np.testing.assert_array_equal(a.igammac(z).array, [0, 1, np.nan, 0, 1, np.nan, np.nan, np.nan, np.nan, np.nan])
    assert mg.igamma(mg.ones(2), mg.ones(2, dtype=mg.float64)).dtype == mg.float64
    with pytest.raises(NotImplementedError, match="floating-point"):
        mg.igamma(mg.tensor([1, 2]), mg.tensor([1, 2]))


@needs_torch
def test_igamma_matches_torch():
    a = np.concatenate([_positive(50) * 3, [0.01, 0.5, 7.0, 120.0]])
    x = np.concatenate([_positive(50) * 4, [3.0, 1e-3, 7.0, 119.0]])
    for fn in ("igamma", "igammac"):
        got = getattr(mg, fn)(mg.tensor(a, dtype=mg.float64), mg.tensor(x, dtype=mg.float64)).array
        # torch's large-a expansion is good to ~1e-9 there; matgrad's series/fraction to ~1e-15 (mpmath)
        assert_close(got, getattr(torch, fn)(torch.tensor(a), torch.tensor(x)).numpy(), rtol=1e-8)
        got32 = getattr(mg, fn)(mg.tensor(a, dtype=mg.float32), mg.tensor(x, dtype=mg.float32)).array
        assert got32.dtype == np.float32
        assert_close(got32, getattr(torch, fn)(torch.tensor(a).float(), torch.tensor(x).float()).numpy(),
                     rtol=1e-5, atol=1e-6)


def test_igamma_gradient_is_for_x_only():
    a, x = _positive(2, 3), _positive(3)
    const = mg.tensor(a, dtype=mg.float64)
    for fn in (mg.igamma, mg.igammac):
        assert mg.gradcheck(lambda t, f=fn: f(const, t), [_f64(x)])
        assert mg.gradgradcheck(lambda t, f=fn: f(const, t), [_f64(x)])
        if torch is not None:
            tfn = getattr(torch, fn.__name__)
            compare_torch(lambda t, f=fn: f(const, t), [x], torch_fn=lambda t, g=tfn: g(torch.tensor(a), t))
        out = fn(_f64(a), _f64(x))
        with pytest.raises(NotImplementedError, match=f"derivative for '{fn.__name__}: input'"):
            out.sum().backward()


def _spd(n, batch=()):
    m = rng.standard_normal((*batch, n, n))
    return m @ np.swapaxes(m, -1, -2) + n * np.eye(n)


@pytest.mark.parametrize("upper", [False, True])
def test_cholesky_solve_and_inverse(upper):
    A = _spd(3, (2,))
    L = np.linalg.cholesky(A)
    factor = np.swapaxes(L, -1, -2) if upper else L
    B = _normal(2, 3, 2)
    X = mg.cholesky_solve(mg.tensor(B, dtype=mg.float64), mg.tensor(factor, dtype=mg.float64), upper=upper)
    assert_close(X.array, np.linalg.solve(A, B), rtol=1e-10)
    assert_close(mg.tensor(factor, dtype=mg.float64).cholesky_inverse(upper=upper).array, np.linalg.inv(A),
                 rtol=1e-10)
    garbage = factor + (np.tril(np.ones(3), -1) if upper else np.triu(np.ones(3), 1))  # the unread triangle
    X2 = mg.tensor(B, dtype=mg.float64).cholesky_solve(mg.tensor(garbage, dtype=mg.float64), upper)
    assert_close(X2.array, X.array, rtol=1e-12)
    # the gradient flows to the factor (to torch's values, which treat it as a whole matrix) and to B
    compare_torch(lambda b, f: b.cholesky_solve(f, upper), [B, factor])
    compare_torch(lambda f: f.cholesky_inverse(upper), [factor[0]])
    # finite differences see only the triangle that is read
    def tri(f):
        return f.triu() if upper else f.tril()
    assert mg.gradcheck(lambda b, f: mg.cholesky_solve(b, tri(f), upper), [_f64(B), _f64(factor)])
    assert mg.gradcheck(lambda f: mg.cholesky_inverse(tri(f), upper), [_f64(factor)])


def test_cholesky_solve_errors():
    L = mg.tensor(np.linalg.cholesky(_spd(3)))
    with pytest.raises(RuntimeError, match="at least 2 dimensions"):
        mg.cholesky_solve(mg.ones(3), L)
    with pytest.raises(RuntimeError, match="square matrices"):
        mg.cholesky_solve(mg.ones(3, 2), mg.ones(2, 3))
    with pytest.raises(RuntimeError, match="same dtype"):
        mg.cholesky_solve(mg.ones(3, 2), L.double())
    with pytest.raises(RuntimeError, match="at least 2 dimensions"):
        mg.cholesky_inverse(mg.ones(3))
    with pytest.raises(NotImplementedError, match="int64"):
        mg.cholesky_inverse(mg.ones(3, 3, dtype=mg.int64))


def test_top_level_functions_that_are_methods():
    x = mg.tensor([0.0, 1.0])
    assert mg.sin_(x) is x and x.tolist() == [0.0, pytest.approx(math.sin(1.0))]
    assert mg.zero_(x).tolist() == [0.0, 0.0]
    assert mg.is_signed(x) and mg.is_same_size(x, x)
    with pytest.raises(TypeError, match="must be Tensor"):
        mg.exp_(np.ones(2))


@needs_torch
def test_no_method_from_the_brief_is_missing():
    wanted = set(UNARY) | set(BINARY) | set(COMPARISONS) | {
        "t_", "transpose_", "swapaxes_", "swapdims_", "squeeze_", "unsqueeze_", "logical_not_", "heaviside_",
        "floor_divide_", "ldexp_", "gcd_", "lcm_", "addmm_", "addmv_", "addbmm_", "baddbmm_", "addr_", "absolute",
        "greater", "greater_equal", "less", "less_equal", "not_equal", "multiply", "subtract", "negative",
        "swapdims", "sum_to_size", "is_same_size", "is_signed", "is_cpu", "get_device", "itemsize", "nbytes",
        "storage_offset", "is_inference", "hardshrink", "prelu", "addr", "igamma", "igammac", "cholesky_solve",
        "cholesky_inverse", "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not", "bitwise_left_shift",
        "bitwise_right_shift", "bitwise_and_", "bitwise_left_shift_"}
    assert wanted <= set(dir(torch.Tensor))
    assert sorted(n for n in wanted if not hasattr(mg.Tensor, n)) == []


def test_new_methods_stay_on_the_test_device():
    from matgrad import devices
    from tests.devices.conftest import fake_backend

    before = devices.set_cuda_backend(fake_backend())
    try:
        a = np.array([0.5, 1.5, 2.0])
        x = mg.tensor(a, dtype=mg.float64).to("cuda").requires_grad_()
        y = x * 1
        y.sin_()
        y.unsqueeze_(0)
        y.t_()
        z = mg.igamma(mg.tensor([1.0, 2.0, 3.0], dtype=mg.float64).to("cuda"), y.squeeze(1))
        z.sum().backward()
        assert x.grad.device.type == "cuda" and x.get_device() == 0 and not x.is_cpu
        cpu = _f64(a)
        mg.igamma(mg.tensor([1.0, 2.0, 3.0], dtype=mg.float64), (cpu * 1).sin_()).sum().backward()
        assert_close(x.grad.cpu().array, cpu.grad.array, rtol=1e-12)
        w = x * 2
        w.gt_(1.5)
        assert w.device.type == "cuda" and w.cpu().tolist() == [0.0, 1.0, 1.0]
        assert (mg.tensor([1, 2, 8]).to("cuda") << 2).cpu().tolist() == [4, 8, 32]
        L = mg.tensor(np.linalg.cholesky(np.eye(3) * 2)).to("cuda")
        assert_close(mg.cholesky_inverse(L).cpu().array, np.eye(3) / 2, rtol=1e-12)
    finally:
        devices.restore_cuda_backend(before)


def test_adjoint_slogdet_char_and_unsafe_splits():
    a = _normal(2, 3, 3)
    x = mg.tensor(a)
    np.testing.assert_array_equal(x.adjoint().array, np.swapaxes(a, -1, -2))
    np.testing.assert_array_equal(mg.adjoint(x).array, np.swapaxes(a, -1, -2))
    with pytest.raises(RuntimeError, match="matrices"):
        mg.ones(3).adjoint()
    compare_torch(lambda t: t.adjoint(), [a])
    sign, logabs = x[0].slogdet()
    want_sign, want_log = np.linalg.slogdet(a[0])
    assert sign.item() == want_sign and logabs.item() == pytest.approx(want_log, rel=1e-12)
    assert mg.slogdet(x[0]).sign.item() == want_sign
    assert mg.tensor([1.7, -2.2]).char().dtype == mg.int8
    assert [p.tolist() for p in mg.arange(5).unsafe_split(2)] == [[0, 1], [2, 3], [4]]
    assert [p.tolist() for p in mg.unsafe_chunk(mg.arange(5), 2)] == [[0, 1, 2], [3, 4]]
    assert [p.tolist() for p in mg.arange(5).unsafe_split_with_sizes([2, 3])] == [[0, 1], [2, 3, 4]]
