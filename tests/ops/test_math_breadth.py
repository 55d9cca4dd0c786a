"""torch's math functions beyond the op table: div's rounding modes, integer and bool dtypes, values at
the edges (inf, nan, −0.0, zeros), gradients torch defines by convention, and the errors. Each test
states its expected values, so it means something without PyTorch; with it, torch is compared too.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import matgrad as mg

try:
    import torch
except ImportError:
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="compares with PyTorch")
INF, NAN = float("inf"), float("nan")


def _dt(t):
    return str(t.dtype).split(".")[-1]


def _check(got, want_values, want_dtype=None, torch_result=None):
    """got equals the expected values (nan and the sign of zero included) and dtype, and torch's result."""
    want = np.asarray(want_values)
    np.testing.assert_array_equal(got.array, want.astype(got.array.dtype))
    if got.array.dtype.kind == "f":  # the sign of zero too (a nan's sign is not specified)
        real = ~np.isnan(want.astype(np.float64))
        np.testing.assert_array_equal(np.signbit(got.array)[real], np.signbit(want)[real])
    if want_dtype is not None:
        assert _dt(got) == want_dtype, (got.dtype, want_dtype)
    if torch is not None and torch_result is not None:
        t = torch_result()
        np.testing.assert_array_equal(got.array, t.detach().numpy())
        assert _dt(got) == _dt(t), (got.dtype, t.dtype)


# --- div(rounding_mode=) ----------------------------------------------------------------------------
IA, IB = [5, -5, 7, -7, 0, 6], [3, 3, -2, -2, 2, -3]


@pytest.mark.parametrize("dtype", ["int64", "int32", "int16", "int8"])
def test_div_rounding_integers(dtype):
    a, b = mg.tensor(np.array(IA, dtype)), mg.tensor(np.array(IB, dtype))
    tt = (lambda m: torch.div(torch.tensor(np.array(IA, dtype)), torch.tensor(np.array(IB, dtype)),
                              rounding_mode=m)) if torch else None
    _check(mg.div(a, b, rounding_mode="floor"), [1, -2, -4, 3, 0, -2], dtype, tt and (lambda: tt("floor")))
    _check(mg.div(a, b, rounding_mode="trunc"), [1, -1, -3, 3, 0, -2], dtype, tt and (lambda: tt("trunc")))
    _check(a.div(b, rounding_mode="trunc"), [1, -1, -3, 3, 0, -2], dtype)
    _check(a.divide(b, rounding_mode="floor"), [1, -2, -4, 3, 0, -2], dtype)


def test_div_rounding_dtypes_and_scalars():
    i = mg.tensor([7, -7])
    _check(mg.div(i, 2, rounding_mode="trunc"), [3, -3], "int64")
    _check(mg.div(i, 2, rounding_mode="floor"), [3, -4], "int64")
    _check(mg.div(i, 2.5, rounding_mode="trunc"), [2.0, -2.0], "float32")  # int with a float: the default float
    _check(mg.div(mg.tensor(7), mg.tensor(2), rounding_mode="floor"), 3, "int64")
    _check(mg.div(mg.tensor([250], dtype=mg.uint8), mg.tensor([3], dtype=mg.uint8), rounding_mode="floor"),
           [83], "uint8")
    _check(mg.div(mg.tensor([7], dtype=mg.int16), mg.tensor(2), rounding_mode="trunc"), [3], "int16")
    _check(mg.div(i, mg.tensor([2.0, 2.0], dtype=mg.float64), rounding_mode="floor"), [3.0, -4.0], "float64")
    _check(mg.div(i, 2), [3.5, -3.5], "float32")  # no rounding_mode: true division


FA = [5.0, -5.0, 3.5, -3.5, 0.0, -0.0, 7.0, -7.0, 0.5, -0.5, -1.0, INF, NAN, 1.0]
FB = [3.0, 3.0, -2.0, -2.0, 2.0, -2.0, 0.0, 0.0, -INF, INF, 3.0, 2.0, 1.0, NAN]
FLOOR = [1.0, -2.0, -2.0, 1.0, 0.0, 0.0, INF, -INF, -1.0, -1.0, -1.0, NAN, NAN, NAN]
TRUNC = [1.0, -1.0, -1.0, 1.0, 0.0, 0.0, INF, -INF, -0.0, -0.0, -0.0, INF, NAN, NAN]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("mode, want", [("floor", FLOOR), ("trunc", TRUNC)])
def test_div_rounding_floats_edges(mode, want, dtype):
    a, b = np.array(FA, dtype), np.array(FB, dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no NumPy RuntimeWarning for 0-division, inf or nan
        got = mg.div(mg.tensor(a), mg.tensor(b), rounding_mode=mode)
    want = np.array(want)
    real = ~np.isnan(want)
    np.testing.assert_array_equal(got.array, want.astype(dtype))
    np.testing.assert_array_equal(np.signbit(got.array)[real], np.signbit(want)[real])
    assert _dt(got) == dtype
    if torch is not None:
        t = torch.div(torch.tensor(a), torch.tensor(b), rounding_mode=mode).numpy()
        np.testing.assert_array_equal(got.array, t)
        np.testing.assert_array_equal(np.signbit(got.array)[real], np.signbit(t)[real])


@pytest.mark.parametrize("mode", ["floor", "trunc"])
def test_div_rounding_gradient_is_zero(mode):
    x = mg.tensor([5.0, -3.0, 0.7], requires_grad=True)
    y = mg.tensor([2.0, 2.0, -0.3], requires_grad=True)
    mg.div(x, y, rounding_mode=mode).sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.0, 0.0])
    np.testing.assert_array_equal(y.grad, [0.0, 0.0, 0.0])
    if torch is not None:
        tx = torch.tensor([5.0, -3.0, 0.7], requires_grad=True)
        ty = torch.tensor([2.0, 2.0, -0.3], requires_grad=True)
        torch.div(tx, ty, rounding_mode=mode).sum().backward()
        np.testing.assert_array_equal(x.grad, tx.grad.numpy())


def test_div_rounding_errors():
    with pytest.raises(RuntimeError, match="rounding_mode.*'round'"):
        mg.div(mg.tensor([1.0]), 2, rounding_mode="round")
    with pytest.raises(ZeroDivisionError, match="div"):
        mg.div(mg.tensor([1, 2]), mg.tensor([1, 0]), rounding_mode="trunc")
    with pytest.raises(ZeroDivisionError, match="div"):
        mg.tensor([1, 2]).div(0, rounding_mode="floor")
    with pytest.raises(NotImplementedError, match="not implemented for 'Bool'"):
        mg.div(mg.tensor([True]), mg.tensor([True]), rounding_mode="floor")
    with pytest.raises(ValueError, match=r"div: shapes \(2,\) and \(3,\)"):
        mg.div(mg.tensor([1, 2]), mg.tensor([1, 2, 3]), rounding_mode="floor")
    with pytest.raises(TypeError):
        mg.true_divide(mg.tensor([1.0]), 2, rounding_mode="floor")


def test_div_rounding_out():
    out = mg.zeros(2, dtype=mg.int64)
    mg.div(mg.tensor([7, -7]), 2, rounding_mode="trunc", out=out)
    np.testing.assert_array_equal(out.array, [3, -3])


# --- addcmul, addcdiv, clamp_min/max, float_power -----------------------------------------------------
def test_addcmul_addcdiv_values_and_dtypes():
    i = mg.tensor([1, 2, 3])
    _check(mg.addcmul(i, i, i, value=2), [3, 10, 21], "int64")
    _check(mg.addcmul(i, i, i, value=0.5), [1, 2, 3], "int64")  # value cast to the integer result: 0, as torch
    f = mg.tensor([1.0, 2.0, 3.0])
    _check(mg.addcdiv(f, f, f.double()), [2.0, 3.0, 4.0], "float64")
    _check(f.addcdiv(f, mg.tensor([2.0, 4.0, 6.0]), value=-2), [0.0, 1.0, 2.0], "float32")
    _check(f.addcmul(mg.tensor(2.0), f), [3.0, 6.0, 9.0], "float32")
    assert mg.addcmul(mg.zeros(3, 1), mg.ones(4), mg.ones(2, 1, 1)).shape == (2, 3, 4)
    with pytest.raises(TypeError, match="addcdiv: integer division"):
        mg.addcdiv(f, i, i)
    with pytest.raises(ValueError, match=r"addcmul: shapes \(3,\) and \(2,\) and \(3,\)"):
        mg.addcmul(f, mg.ones(2), f)


def test_clamp_min_max():
    i = mg.tensor([1, 2, 3])
    _check(mg.clamp_min(i, 1.5), [1.5, 2.0, 3.0], "float32")
    _check(i.clamp_max(2), [1, 2, 2], "int64")
    _check(mg.clamp_min(mg.tensor([1.0, 2.0, 3.0]), mg.tensor([2.0, 0.0, 5.0])), [2.0, 2.0, 5.0], "float32")
    _check(mg.clamp_min(mg.tensor([NAN, 1.0]), 2.0), [NAN, 2.0], "float32")
    x = mg.tensor([-1.0, 0.5, 2.0], requires_grad=True)
    x.clamp_min(0.5).sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 1.0, 1.0])


def test_float_power():
    _check(mg.float_power(mg.tensor([2.0]), 2), [4.0], "float64")
    _check(mg.float_power(mg.tensor([1, 2, 4]), -1), [1.0, 0.5, 0.25], "float64")
    _check(mg.tensor([4.0, 9.0]).float_power(mg.tensor([0.5, 0.5])), [2.0, 3.0], "float64")


# --- logaddexp, logaddexp2, hypot: edges and their nan gradients -----------------------------------
@pytest.mark.parametrize("name", ["logaddexp", "logaddexp2"])
def test_logaddexp_edges(name):
    a = mg.tensor([INF, -INF, INF, NAN, 1000.0, -1000.0])
    b = mg.tensor([INF, -INF, -INF, 1.0, 1000.0, -1000.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = getattr(mg, name)(a, b)
    step = np.log(2.0) if name == "logaddexp" else 1.0
    _check(got, [INF, -INF, INF, NAN, np.float32(1000.0 + step), np.float32(-1000.0 + step)], "float32",
           torch and (lambda: getattr(torch, name)(torch.tensor(a.array), torch.tensor(b.array))))
    x = mg.tensor([-INF, 1.0], requires_grad=True)
    y = mg.tensor([-INF, 1.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        getattr(mg, name)(x, y).sum().backward()
    np.testing.assert_array_equal(x.grad, [NAN, 0.5])  # as torch: e^(−inf − (−inf)) is nan


def test_hypot_edges_and_gradient():
    _check(mg.hypot(mg.tensor([INF, NAN, 0.0, 3e200], dtype=mg.float64),
                    mg.tensor([NAN, 1.0, -0.0, 4e200], dtype=mg.float64))[:3],
           [INF, NAN, 0.0], "float64")
    big = mg.tensor([3e200, 4e200], dtype=mg.float64)
    np.testing.assert_allclose(mg.hypot(big[:1], big[1:]).array, [5e200], rtol=1e-15)  # no overflow on the way
    x = mg.tensor([0.0, 3.0], requires_grad=True)
    y = mg.tensor([0.0, 4.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mg.hypot(x, y).sum().backward()
    np.testing.assert_allclose(x.grad, [NAN, 0.6])
    np.testing.assert_allclose(y.grad, [NAN, 0.8])


@pytest.mark.parametrize("name", ["logaddexp", "logaddexp2", "hypot"])
def test_float_only_functions_refuse_integers(name):
    with pytest.raises(TypeError, match=f"{name}: expected floating point"):
        getattr(mg, name)(mg.tensor([1, 2]), mg.tensor([3, 4]))
    assert _dt(getattr(mg, name)(mg.tensor([1, 2]), mg.tensor([3.0, 4.0]))) == "float32"


# --- xlogy, logit, copysign, sinc, erfc ----------------------------------------------------------
def test_xlogy_conventions():
    x = mg.tensor([0.0, 0.0, 0.0, 1.0, NAN, 0.0, 2.0, 3.0])
    y = mg.tensor([0.0, NAN, -1.0, 0.0, 0.0, INF, -1.0, 1.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = mg.xlogy(x, y)
    _check(got, [0.0, NAN, 0.0, -INF, NAN, 0.0, NAN, 0.0], "float32",
           torch and (lambda: torch.xlogy(torch.tensor(x.array), torch.tensor(y.array))))
    _check(mg.xlogy(mg.tensor([1, 2]), mg.tensor([1, 1])), [0.0, 0.0], "float32")
    assert mg.xlogy(2, mg.tensor([1.0, np.e])).array[1] == pytest.approx(2.0)
    a = mg.tensor([0.0, 0.0, 2.0], requires_grad=True, dtype=mg.float64)
    b = mg.tensor([0.0, 1.0, 3.0], requires_grad=True, dtype=mg.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mg.xlogy(a, b).sum().backward()
    np.testing.assert_allclose(a.grad, [0.0, 0.0, np.log(3.0)])
    np.testing.assert_allclose(b.grad, [NAN, 0.0, 2 / 3])


def test_logit_values_and_gradient():
    x = mg.tensor([0.0, 0.5, 1.0, -0.1, 1.1])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _check(mg.logit(x), [-INF, 0.0, INF, NAN, NAN], "float32")
        lo, hi = -2.1972246170043945, 2.1972243785858154  # float32's 0.1 and 1 − 0.1 (torch's values too)
        _check(x.logit(eps=0.1), [lo, 0.0, hi, lo, hi], "float32",
               torch and (lambda: torch.logit(torch.tensor(x.array), eps=0.1)))
    _check(mg.logit(mg.tensor([1])), [INF], "float32")
    g = mg.tensor([0.0, 0.05, 0.1, 0.5, 0.9, 0.95, 1.0], requires_grad=True, dtype=mg.float64)
    mg.logit(g, eps=0.1).sum().backward()
    np.testing.assert_allclose(g.grad, [0.0, 0.0, 1 / 0.09, 4.0, 1 / 0.09, 0.0, 0.0])  # the clamp's ends count
    h = mg.tensor([-0.5, 0.0, 0.5, 1.0, 1.5], requires_grad=True, dtype=mg.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mg.logit(h).sum().backward()
    np.testing.assert_array_equal(h.grad, [NAN, INF, 4.0, INF, NAN])
    if torch is not None:
        th = torch.tensor(h.array, requires_grad=True)
        torch.logit(th).sum().backward()
        np.testing.assert_array_equal(h.grad, th.grad.numpy())
        tg = torch.tensor(g.array, requires_grad=True)
        torch.logit(tg, eps=0.1).sum().backward()
        np.testing.assert_allclose(g.grad, tg.grad.numpy())


def test_copysign_signbit_sgn():
    a, b = mg.tensor([1.0, -2.0, 0.0, 3.0, NAN]), mg.tensor([-0.0, 1.0, -1.0, NAN, -1.0])
    _check(mg.copysign(a, b), [-1.0, 2.0, -0.0, 3.0, -NAN], "float32")
    _check(mg.copysign(mg.tensor([1, 2]), -1), [-1.0, -2.0], "float32")
    x = mg.tensor([1.0, -2.0, 0.0], requires_grad=True)
    y = mg.tensor([-1.0, -1.0, -1.0], requires_grad=True)
    mg.copysign(x, y).sum().backward()
    np.testing.assert_array_equal(x.grad, [-1.0, 1.0, 0.0])
    np.testing.assert_array_equal(y.grad, [0.0, 0.0, 0.0])
    _check(mg.signbit(mg.tensor([-0.0, 0.0, -1.0, INF, -NAN])), [True, False, True, False, True], "bool")
    _check(mg.tensor([-3, 0, 2]).signbit(), [True, False, False], "bool")
    _check(mg.sgn(mg.tensor([-2.0, 0.0, -0.0, NAN, 3.0])), [-1.0, 0.0, 0.0, 0.0, 1.0], "float32")
    _check(mg.tensor([-4, 0, 9]).sgn(), [-1, 0, 1], "int64")


def test_sinc_erfc_deg_rad():
    _check(mg.sinc(mg.tensor([0.0, 0.5, -0.0, 1e-20], dtype=mg.float64)), [1.0, 2 / np.pi, 1.0, 1.0], "float64")
    assert np.isnan(mg.sinc(mg.tensor([INF])).array[0])
    assert abs(mg.sinc(mg.tensor([1.0, 2.0], dtype=mg.float64)).array).max() < 1e-15
    _check(mg.sinc(mg.tensor([0])), [1.0], "float32")
    e = mg.erfc(mg.tensor([-30.0, 0.0, 10.0, 27.0, 30.0, INF, NAN], dtype=mg.float64)).array
    np.testing.assert_array_equal(e[[0, 1, 4, 5]], [2.0, 1.0, 0.0, 0.0])
    np.testing.assert_allclose(e[2:4], [2.088487583762545e-45, 5.237048923789e-319], rtol=1e-12)
    assert np.isnan(e[6])
    assert _dt(mg.erfc(mg.tensor([1, 2]))) == "float32"
    _check(mg.deg2rad(mg.tensor([180, -90])), np.array([np.pi, -np.pi / 2], np.float32), "float32")
    np.testing.assert_allclose(mg.rad2deg(mg.tensor([np.pi], dtype=mg.float64)).array, [180.0], rtol=1e-15)


@needs_torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_unary_against_torch(dtype):
    a = np.array([-30.0, -3.0, -1.0, -0.5, -0.0, 0.0, 1e-8, 0.3, 1.0, 2.5, 10.0, 26.0, INF, -INF, NAN], dtype)
    x, t = mg.tensor(a), torch.tensor(a)
    for name in ("erfc", "sinc", "deg2rad", "rad2deg", "sgn", "signbit", "logit", "positive"):
        got, want = getattr(x, name)(), getattr(t, name)()
        np.testing.assert_allclose(got.array, want.numpy(), rtol=2e-7 if dtype == "float32" else 1e-14,
                                   atol=0, err_msg=name)
        assert _dt(got) == _dt(want), name
    m, e = mg.frexp(x)
    tm, te = torch.frexp(t)
    np.testing.assert_array_equal(m.array, tm.numpy())
    np.testing.assert_array_equal(e.array, te.numpy())
    assert e.dtype == mg.int32


def test_frexp_ldexp():
    m, e = mg.frexp(mg.tensor([8.0, 0.0, -3.0, INF, 0.1]))
    _check(m, [0.5, 0.0, -0.75, INF, np.float32(0.1) * 8], "float32")
    _check(e, [4, 0, 2, 0, -3], "int32")
    _check(mg.ldexp(m, e), [8.0, 0.0, -3.0, INF, np.float32(0.1)], "float32")
    _check(mg.ldexp(mg.tensor([1, 2]), mg.tensor([3, -1])), [8.0, 1.0], "float32")
    x = mg.tensor([3.0, -20.0], requires_grad=True)
    mg.frexp(x).mantissa.sum().backward()
    np.testing.assert_array_equal(x.grad, [0.25, 1 / 32])
    with pytest.raises(TypeError, match="frexp"):
        mg.frexp(mg.tensor([1, 2]))


def test_positive():
    x = mg.tensor([1, 2])
    assert mg.positive(x) is x
    with pytest.raises(TypeError, match="bool"):
        mg.positive(mg.tensor([True]))


# --- fmax, fmin, heaviside, gcd, lcm ----------------------------------------------------------------
def test_fmax_fmin_ignore_nan():
    a = mg.tensor([1.0, 2.0, NAN, NAN, 3.0], requires_grad=True)
    b = mg.tensor([1.0, NAN, 1.0, NAN, 4.0], requires_grad=True)
    _check(mg.fmax(a, b).detach(), [1.0, 2.0, 1.0, NAN, 4.0], "float32")
    _check(mg.fmin(a, b).detach(), [1.0, 2.0, 1.0, NAN, 3.0], "float32")
    mg.fmax(a, b).sum().backward()
    np.testing.assert_array_equal(a.grad, [1.0, 1.0, 0.0, 1.0, 0.0])  # ties and double nan go to input, as torch
    np.testing.assert_array_equal(b.grad, [0.0, 0.0, 1.0, 0.0, 1.0])
    a.grad = b.grad = None
    mg.fmin(a, b).sum().backward()
    np.testing.assert_array_equal(a.grad, [1.0, 1.0, 0.0, 1.0, 1.0])
    np.testing.assert_array_equal(b.grad, [0.0, 0.0, 1.0, 0.0, 0.0])
    _check(mg.fmax(mg.tensor([1, 5]), mg.tensor([3.0, 4.0])), [3.0, 5.0], "float32")


def test_heaviside():
    _check(mg.heaviside(mg.tensor([-1.0, 0.0, 2.0, NAN]), mg.tensor([0.5])), [0.0, 0.5, 1.0, 0.0], "float32")
    _check(mg.tensor([-1, 0, 2]).heaviside(mg.tensor([7])), [0, 7, 1], "int64")
    with pytest.raises(TypeError, match="same dtype"):
        mg.heaviside(mg.tensor([1.0]), mg.tensor(0.5, dtype=mg.float64))
    x = mg.tensor([-1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="heaviside"):
        mg.heaviside(x, mg.tensor([0.5])).sum().backward()


def test_gcd_lcm():
    a, b = mg.tensor([12, -18, 0, 0, 4]), mg.tensor([18, 12, 5, 0, -6])
    _check(mg.gcd(a, b), [6, 6, 5, 0, 2], "int64")
    _check(a.lcm(b), [36, 36, 0, 0, 12], "int64")
    _check(mg.gcd(mg.tensor([4, 6], dtype=mg.int32), mg.tensor([6, 9])), [2, 3], "int64")
    for bad in (mg.tensor([1.0]), mg.tensor([True])):
        with pytest.raises(TypeError, match="gcd: expected integer"):
            mg.gcd(bad, bad)


# --- nansum, nanmean ------------------------------------------------------------------------------
def test_nansum_nanmean():
    x = mg.tensor([[1.0, NAN], [NAN, NAN]], requires_grad=True)
    _check(mg.nansum(x, dim=1, keepdim=True).detach(), [[1.0], [0.0]], "float32")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        m = mg.nanmean(x, dim=1)
        _check(m.detach(), [1.0, NAN], "float32")
        m.sum().backward()
    np.testing.assert_array_equal(x.grad, [[1.0, 0.0], [NAN, NAN]])  # 0 · (1/0) at an all-nan row, as torch
    x.grad = None
    x.nansum().backward()
    np.testing.assert_array_equal(x.grad, [[1.0, 0.0], [0.0, 0.0]])
    _check(mg.nansum(mg.tensor([1, 2], dtype=mg.int32)), 3, "int64")
    _check(mg.nansum(mg.tensor([1.0, NAN]), dtype=mg.float64), 1.0, "float64")
    _check(mg.nanmean(mg.tensor([1.0, NAN, 3.0]), dtype=mg.float64), 2.0, "float64")
    with pytest.raises(TypeError, match="nanmean: expected input to have floating point"):
        mg.nanmean(mg.tensor([1, 2]))


# --- diff, cross, kron, tensordot, inner, vdot, trapezoid, cov ---------------------------------------
def test_diff_values_and_errors():
    f = mg.tensor([1.0, 2.0, 4.0, 7.0])
    _check(f.diff(), [1.0, 2.0, 3.0], "float32")
    _check(mg.diff(f, n=2), [1.0, 1.0], "float32")
    _check(mg.diff(f, n=0), [1.0, 2.0, 4.0, 7.0], "float32")
    assert mg.diff(f, n=9).shape == (0,)
    _check(mg.diff(mg.tensor([True, False, False, True])), [True, False, True], "bool")
    _check(mg.diff(mg.tensor([3, 1], dtype=mg.uint8)), [254], "uint8")
    _check(mg.diff(mg.tensor([1.0, 2.0]), prepend=mg.tensor([1]), append=mg.tensor([0.0])), [0.0, 1.0, -2.0])
    with pytest.raises(RuntimeError, match="at least one-dimensional"):
        mg.diff(mg.tensor(1.0))
    with pytest.raises(RuntimeError, match="same number of dimensions"):
        mg.diff(f, prepend=mg.tensor(0.0))
    with pytest.raises(RuntimeError, match="shape of prepend"):
        mg.diff(mg.ones(2, 3), dim=0, prepend=mg.ones(1, 2))


def test_cross_kron_tensordot_inner_vdot():
    _check(mg.cross(mg.tensor([1, 0, 0]), mg.tensor([0, 1, 0]), dim=0), [0, 0, 1], "int64")
    with pytest.warns(UserWarning, match="dim"):
        _check(mg.cross(mg.tensor([[1.0, 0, 0]]), mg.tensor([[0.0, 0, 1]])), [[0.0, -1.0, 0.0]], "float32")
    with pytest.raises(RuntimeError, match="length 3"):
        mg.cross(mg.ones(2, 4), mg.ones(2, 4), dim=1)
    with pytest.raises(RuntimeError, match="same number of dimensions"):
        mg.cross(mg.ones(2, 1, 3), mg.ones(4, 3), dim=-1)
    with pytest.raises(RuntimeError, match="no dimension of size 3"):
        mg.cross(mg.ones(2, 4), mg.ones(2, 4))
    _check(mg.kron(mg.tensor([[1, 2], [3, 4]]), mg.tensor([1, 10])), [[1, 10, 2, 20], [3, 30, 4, 40]], "int64")
    assert mg.kron(mg.ones(2, 3), mg.ones(4)).shape == (2, 12)
    a = mg.arange(24.0).reshape(2, 3, 4)
    np.testing.assert_array_equal(mg.tensordot(a, mg.ones(3, 4)).array, a.array.sum((1, 2)))
    assert mg.tensordot(a, mg.ones(3, 2, 5), dims=([1, 0], [0, 1])).shape == (4, 5)
    assert mg.tensordot(a, mg.ones(5), dims=0).shape == (2, 3, 4, 5)
    assert mg.tensordot(a, mg.ones(4, 5), dims=mg.tensor(1)).shape == (2, 3, 5)
    with pytest.raises(RuntimeError, match="contracted dimensions need to match"):
        mg.tensordot(mg.ones(3, 4), mg.ones(5, 5), dims=([1], [0]))
    with pytest.raises(RuntimeError, match="dims >= 0"):
        mg.tensordot(mg.ones(3), mg.ones(3), dims=-1)
    _check(mg.inner(mg.tensor([1, 2, 3]), mg.tensor([1, 2, 3])), 14, "int64")
    assert mg.inner(mg.ones(2, 3), mg.ones(4, 3)).shape == (2, 4)
    _check(mg.vdot(mg.tensor([1.0, 2.0]), mg.tensor([3.0, 4.0])), 11.0, "float32")
    with pytest.raises(RuntimeError, match="1D tensors expected"):
        mg.vdot(mg.ones(2, 2), mg.ones(2, 2))


def test_trapezoid_family():
    y = mg.tensor([1.0, 2.0, 4.0])
    _check(mg.trapezoid(y), 4.5, "float32")
    _check(mg.trapezoid(mg.tensor([1, 2, 4])), 4.5, "float32")
    _check(mg.trapezoid(y, dx=2), 9.0, "float32")
    _check(mg.trapezoid(y.reshape(1, 3), mg.tensor([0.0, 1.0, 3.0])), [7.5], "float32")
    _check(mg.trapz(y, dx=0.5), 2.25, "float32")
    _check(mg.trapz(y, mg.tensor([0, 1, 3])), 7.5, "float32")
    _check(mg.trapezoid(mg.ones(2, 1)), [0.0, 0.0], "float32")
    _check(mg.cumulative_trapezoid(y), [1.5, 4.5], "float32")
    _check(mg.cumulative_trapezoid(y, x=mg.tensor([0.0, 1.0, 3.0])), [1.5, 7.5], "float32")
    assert mg.cumulative_trapezoid(mg.ones(2, 1)).shape == (2, 0)
    with pytest.raises(TypeError, match="x or dx"):
        mg.trapezoid(y, mg.tensor([0.0, 1.0, 3.0]), dx=1)
    with pytest.raises(IndexError, match="no dimensions"):
        mg.trapezoid(mg.tensor(1.0))
    with pytest.raises(RuntimeError, match="x has 2 points"):
        mg.trapezoid(y, mg.tensor([0.0, 1.0]))


def test_cov_corrcoef():
    x = mg.tensor([[0.0, 1.0, 2.0], [2.0, 1.0, 0.5]], dtype=mg.float64)
    np.testing.assert_allclose(mg.cov(x).array, [[1.0, -0.75], [-0.75, 7 / 12]])
    np.testing.assert_allclose(mg.cov(x, correction=0).array, np.cov(x.array, ddof=0))
    fw, aw = np.array([1, 2, 1]), np.array([0.5, 2.0, 1.0])
    np.testing.assert_allclose(mg.cov(x, fweights=mg.tensor(fw), aweights=mg.tensor(aw, dtype=mg.float64)).array,
                               np.cov(x.array, fweights=fw, aweights=aw))
    np.testing.assert_allclose(mg.corrcoef(x).array, np.corrcoef(x.array))
    _check(mg.cov(mg.tensor([1.0, 2.0, 3.0])), 1.0, "float32")
    assert _dt(mg.cov(mg.tensor([[1, 2, 4], [0, 1, 1]]))) == "float32"
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        c = mg.corrcoef(mg.tensor([[1.0, 1.0, 1.0], [1.0, 2.0, 3.0]])).array
    assert np.isnan(c[0]).all() and c[1, 1] == 1.0
    with pytest.warns(UserWarning, match="degrees of freedom"):
        assert np.isnan(mg.cov(mg.tensor([[1.0]])).item())
    with pytest.raises(RuntimeError, match="two or fewer dimensions"):
        mg.cov(mg.ones(2, 2, 2))
    with pytest.raises(RuntimeError, match="fweights to have integral dtype"):
        mg.cov(x, fweights=mg.tensor([1.0, 2.0, 1.0]))
    with pytest.raises(RuntimeError, match="fweights cannot be negative"):
        mg.cov(x, fweights=mg.tensor([1, -2, 1]))


@needs_torch
def test_float32_results_match_torch():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((3, 4)).astype(np.float32), rng.standard_normal((3, 4)).astype(np.float32)
    x, y, t, u = mg.tensor(a), mg.tensor(b), torch.tensor(a), torch.tensor(b)
    pairs = [(mg.logaddexp(x, y), torch.logaddexp(t, u)), (mg.hypot(x, y), torch.hypot(t, u)),
             (mg.xlogy(x, y.abs()), torch.xlogy(t, u.abs())), (mg.addcmul(x, x, y), torch.addcmul(t, t, u)),
             (mg.addcdiv(x, x, y), torch.addcdiv(t, t, u)), (mg.copysign(x, y), torch.copysign(t, u)),
             (mg.cross(x[:, :3], y[:, :3], dim=1), torch.cross(t[:, :3], u[:, :3], dim=1)),
             (mg.tensordot(x, y.T, 1), torch.tensordot(t, u.T, 1)), (mg.kron(x, y), torch.kron(t, u)),
             (mg.diff(x, dim=0), torch.diff(t, dim=0)), (mg.trapezoid(x), torch.trapezoid(t)),
             (mg.cov(x), torch.cov(t)), (mg.corrcoef(x), torch.corrcoef(t)), (mg.nanmean(x, 1), torch.nanmean(t, 1)),
             (mg.float_power(x, 2), torch.float_power(t, 2))]
    for got, want in pairs:
        assert _dt(got) == _dt(want)
        np.testing.assert_allclose(got.array, want.numpy(), rtol=1e-5, atol=1e-6)


def test_method_names_exist():
    t = mg.ones(3)
    for name in ("divide", "true_divide", "addcmul", "addcdiv", "clamp_min", "clamp_max", "logaddexp",
                 "logaddexp2", "hypot", "xlogy", "logit", "copysign", "signbit", "heaviside", "fmax", "fmin",
                 "float_power", "sgn", "positive", "deg2rad", "rad2deg", "sinc", "frexp", "ldexp", "gcd", "lcm",
                 "diff", "cross", "kron", "inner", "vdot", "cov", "corrcoef", "erfc", "nansum", "nanmean"):
        assert callable(getattr(t, name)), name
