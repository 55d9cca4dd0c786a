"""matgrad.special's Bessel Y, modified Bessel I and K (and scaled K), spherical j₀ and Airy Ai against mpmath (their
accuracy, ~1e-15) and torch.special (its values and edges), in float64 and float32; exact gradients by finite
differences (torch's outputs have none) and by the derivative formulas on torch's own values."""
from __future__ import annotations

import numpy as np
import pytest

import matgrad as mg
import matgrad.special as ms
from tests.helpers import assert_close

torch = pytest.importorskip("torch")

NAMES = ["airy_ai", "bessel_y0", "bessel_y1", "modified_bessel_i0", "modified_bessel_i1", "modified_bessel_k0",
         "modified_bessel_k1", "scaled_modified_bessel_k0", "scaled_modified_bessel_k1", "spherical_bessel_j0"]

RNG = np.random.default_rng(0)
#: positive points over many scales, every algorithm's range and the boundaries between them
POSITIVE = np.sort(np.concatenate([
    10.0 ** RNG.uniform(-8, 2.8, 300), RNG.uniform(0.5, 30, 200),
    [1e-300, 1e-20, 0.89357696627916752, 1.0, 1.0000001, 2.0, 2.0000001, 3.8317059702075123, 20.0, 20.0000001,
     25.0, 25.0000001, 100.0, 700.0, 713.0, 1e4, 1e8, 1e12, 1e15]]))
#: a few roundings: ~1e-15 is what these reach (up to 1.6e-15 here), with room for another CPU's libm or SIMD
TOL = 4e-15
EDGES = np.array([0.0, -0.0, -1.0, -1e-300, 1e-300, np.inf, -np.inf, np.nan, 1e300, -1e300])


def _mine(name, x, dtype=mg.float64):
    return getattr(ms, name)(mg.tensor(x, dtype=dtype)).numpy()


def _torch(name, x, dtype=None):
    return getattr(torch.special, name)(torch.tensor(x, dtype=dtype or torch.float64)).numpy()


def _mp_values(name, x):
    """The function by mpmath at 30 digits (None where mpmath is missing: those checks skip)."""
    mpmath = pytest.importorskip("mpmath")
    mpmath.mp.dps = 30
    f = {"bessel_y0": lambda v: mpmath.bessely(0, v), "bessel_y1": lambda v: mpmath.bessely(1, v),
         "modified_bessel_i0": lambda v: mpmath.besseli(0, v), "modified_bessel_i1": lambda v: mpmath.besseli(1, v),
         "modified_bessel_k0": lambda v: mpmath.besselk(0, v), "modified_bessel_k1": lambda v: mpmath.besselk(1, v),
         "scaled_modified_bessel_k0": lambda v: mpmath.besselk(0, v) * mpmath.exp(v),
         "scaled_modified_bessel_k1": lambda v: mpmath.besselk(1, v) * mpmath.exp(v),
         "spherical_bessel_j0": lambda v: mpmath.sin(v) / v, "airy_ai": mpmath.airyai,
         "airy_ai'": lambda v: mpmath.airyai(v, derivative=1)}[name]
    return np.array([float(f(mpmath.mpf(float(v)))) for v in x])


def test_namespace_has_the_functions():
    for name in NAMES:
        assert hasattr(torch.special, name) and getattr(ms, name) is getattr(mg.special, name), name
        assert name in ms.__all__


@pytest.mark.parametrize("name", ["modified_bessel_k0", "modified_bessel_k1", "scaled_modified_bessel_k0",
                                  "scaled_modified_bessel_k1", "modified_bessel_i0", "modified_bessel_i1"])
def test_monotone_functions_match_mpmath(name):
    # no zeros: relative accuracy everywhere (K below e^(−745) is 0, as the float it rounds to)
    x = POSITIVE[POSITIVE < 700] if name.startswith("modified_bessel_k") else POSITIVE[POSITIVE < 714]
    if name.startswith("modified_bessel_i"):
        x = np.concatenate([x, -x])
    want = _mp_values(name, x)
    np.testing.assert_allclose(_mine(name, x), want, rtol=TOL, atol=0)


@pytest.mark.parametrize("name", ["bessel_y0", "bessel_y1", "spherical_bessel_j0"])
def test_oscillating_functions_match_mpmath(name):
    # accurate to a rounding of the amplitude (relative error grows at the zeros, as with any method)
    x = POSITIVE if name != "spherical_bessel_j0" else np.concatenate([POSITIVE, -POSITIVE])
    want = _mp_values(name, x)
    a = np.abs(x)
    amp = np.maximum(np.abs(want), np.sqrt(2 / (np.pi * a)) if name != "spherical_bessel_j0" else 1 / a)
    got = _mine(name, x)
    assert np.all(np.abs(got - want) <= TOL * amp), x[np.argmax(np.abs(got - want) / amp)]


@pytest.mark.parametrize("derivative", [0, 1])
def test_airy_ai_matches_mpmath(derivative):
    x = np.concatenate([np.linspace(-30, 30, 601), -(10.0 ** RNG.uniform(0, 10, 100)), 10.0 ** RNG.uniform(-6, 2, 60),
                        [-9.5, -9.5000001, -9.4999999, 1.0, 1.0000001, 0.9999999, 0.0, -2.09, 2.09, 103.0]])
    want = _mp_values("airy_ai" if derivative == 0 else "airy_ai'", x)
    if derivative == 0:
        got = _mine("airy_ai", x)
    else:
        t = mg.tensor(x, dtype=mg.float64, requires_grad=True)
        ms.airy_ai(t).sum().backward()
        got = t.grad
    # the left oscillates with amplitude |x|^(∓1/4)/√π: accurate to a rounding of it; the right decays: relative
    far = np.maximum(np.abs(x), 1)
    amp = np.where(x < -1, far ** (-0.25 if derivative == 0 else 0.25) / np.sqrt(np.pi), np.abs(want))
    assert np.all(np.abs(got - want) <= TOL * amp), x[np.argmax(np.abs(got - want) / amp)]


@pytest.mark.parametrize("name", NAMES)
def test_edges_as_torch(name):
    got, want = _mine(name, EDGES), _torch(name, EDGES)
    finite = np.isfinite(want) & (np.abs(EDGES) < 1e300)  # far out torch's phase x − π/4 has rounded away
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_array_equal(got[np.isinf(want)], want[np.isinf(want)])
    np.testing.assert_allclose(got[finite], want[finite], rtol=1e-14)


@pytest.mark.parametrize("name", NAMES)
def test_values_match_torch_float64(name):
    if name == "airy_ai":
        x = np.concatenate([np.linspace(-200, 100, 1501), RNG.uniform(-3, 3, 100)])
    elif name == "spherical_bessel_j0" or name.startswith("modified_bessel_i"):
        x = np.concatenate([POSITIVE[POSITIVE < 700], -POSITIVE[POSITIVE < 700]])
    else:
        x = POSITIVE[POSITIVE < 1e4]  # beyond, torch's x − π/4 starts to lose the phase's digits
    got, want = _mine(name, x), _torch(name, x)
    if name in ("bessel_y0", "bessel_y1", "airy_ai"):
        # torch's rational fits are off by up to ~2.4e-6 (Y near x = 6–8) and ~6e-6 (Ai near x = −2.1) of the
        # amplitude; beyond those fits (Y past 25, Ai on [−2, 100]) it agrees to ~1e-13
        a = np.maximum(np.abs(x), 1e-300)
        if name == "airy_ai":
            amp = np.where(x < -1, np.maximum(a, 1) ** -0.25 / np.sqrt(np.pi), np.abs(want))
            tight = (x >= -2) & (x <= 100)
        else:
            amp = np.maximum(np.abs(want), np.sqrt(2 / (np.pi * a)))
            tight = x > 25
        assert np.all(np.abs(got - want) <= 1e-5 * amp)
        assert np.all(np.abs(got - want)[tight] <= 1e-12 * amp[tight])
    else:
        np.testing.assert_allclose(got, want, rtol=1e-13, atol=0)


@pytest.mark.parametrize("name", NAMES)
def test_values_float32(name):
    x = (POSITIVE[(POSITIVE > 1e-6) & (POSITIVE < 80)] if name != "airy_ai" else np.linspace(-30, 20, 500))
    if name == "spherical_bessel_j0" or name.startswith("modified_bessel_i"):
        x = np.concatenate([x, -x])
    x32 = x.astype(np.float32)
    got = _mine(name, x32, dtype=mg.float32)
    assert got.dtype == np.float32
    exact = _mine(name, x32.astype(np.float64))  # matgrad computes in float64 and rounds once
    with np.errstate(over="ignore"):
        np.testing.assert_array_equal(got, exact.astype(np.float32))
    want = _torch(name, x32, torch.float32).astype(np.float64)
    a = np.abs(x32.astype(np.float64))
    if name in ("bessel_y0", "bessel_y1"):
        amp = np.maximum(np.abs(exact), np.sqrt(2 / (np.pi * a)))
    elif name == "airy_ai":
        amp = np.where(x32 < -1, a ** -0.25 / np.sqrt(np.pi), np.abs(exact))
    elif name == "spherical_bessel_j0":
        amp = np.maximum(np.abs(exact), 1 / a)
    else:
        amp = np.abs(exact)
    shown = np.abs(exact) > 1e-30  # where float32 holds the value
    assert np.all(np.abs(got - want)[shown] <= 1e-5 * amp[shown] + 1e-37)


def test_integer_and_bool_inputs_become_float():
    for name in NAMES:
        got = getattr(ms, name)(mg.tensor([1, 2, 3]))
        assert got.dtype == mg.float32
        np.testing.assert_allclose(got.numpy(), _torch(name, np.array([1, 2, 3]), torch.int64), rtol=1e-6)
    assert_close(ms.bessel_y0(mg.tensor([True, False])).numpy(), torch.special.bessel_y0(torch.tensor([True, False])),
                 rtol=1e-6)


def test_float16_is_refused_as_torch():
    with pytest.raises(NotImplementedError, match="Half"):
        torch.special.bessel_y0(torch.tensor([1.0], dtype=torch.float16))
    for name in NAMES:
        with pytest.raises(NotImplementedError, match=f"{name}.*Half"):
            getattr(ms, name)(mg.tensor([1.0], dtype=mg.float16))


def test_large_arguments():
    # the scaled K stay finite for any x; I is finite up to 713.98 (torch overflows from 709.78)
    np.testing.assert_allclose(_mine("scaled_modified_bessel_k0", np.array([1e300])), [np.sqrt(np.pi / 2e300)],
                               rtol=1e-15)
    assert np.isfinite(_mine("modified_bessel_i0", np.array([713.0]))).all()
    assert np.isinf(_mine("modified_bessel_i0", np.array([714.0]))).all()
    # Ai on the far left keeps its phase (ζ = (2/3)|x|^(3/2) in double-double): mpmath's value at −1e8
    np.testing.assert_allclose(_mine("airy_ai", np.array([-1e8])), _mp_values("airy_ai", [-1e8]), rtol=1e-12)
    assert _mine("airy_ai", np.array([1e10]))[0] == 0.0


# --- gradients -----------------------------------------------------------------------------------------------------
GRAD_RANGES = [("bessel_y0", 0.3, 30), ("bessel_y1", 0.3, 30), ("modified_bessel_i0", -8, 8),
               ("modified_bessel_i1", -8, 8), ("modified_bessel_k0", 0.2, 25), ("modified_bessel_k1", 0.2, 25),
               ("scaled_modified_bessel_k0", 0.2, 25), ("scaled_modified_bessel_k1", 0.2, 25),
               ("spherical_bessel_j0", -12, 12), ("airy_ai", -12, 4)]


@pytest.mark.parametrize("name,lo,hi", GRAD_RANGES)
def test_gradients_by_finite_differences(name, lo, hi):
    x = mg.tensor(np.random.default_rng(3).uniform(lo, hi, (3, 5)), dtype=mg.float64, requires_grad=True)
    fn = getattr(ms, name)
    assert mg.gradcheck(fn, [x])
    assert mg.gradgradcheck(fn, [x])


def _torch_derivative(name, x):
    """The derivative from torch's own values of the family (Y₀' = −Y₁, K₁' = −K₀ − K₁/x ...)."""
    S = torch.special
    t = torch.tensor(x, dtype=torch.float64)
    return {"bessel_y0": lambda: -S.bessel_y1(t), "bessel_y1": lambda: S.bessel_y0(t) - S.bessel_y1(t) / t,
            "modified_bessel_i0": lambda: S.modified_bessel_i1(t),
            "modified_bessel_i1": lambda: S.modified_bessel_i0(t) - S.modified_bessel_i1(t) / t,
            "modified_bessel_k0": lambda: -S.modified_bessel_k1(t),
            "modified_bessel_k1": lambda: -S.modified_bessel_k0(t) - S.modified_bessel_k1(t) / t,
            "scaled_modified_bessel_k0": lambda: S.scaled_modified_bessel_k0(t) - S.scaled_modified_bessel_k1(t),
            "scaled_modified_bessel_k1": lambda: S.scaled_modified_bessel_k1(t) * (1 - 1 / t)
            - S.scaled_modified_bessel_k0(t),
            "spherical_bessel_j0": lambda: (t * torch.cos(t) - torch.sin(t)) / t ** 2}[name]().numpy()


@pytest.mark.parametrize("name,lo,hi", [r for r in GRAD_RANGES if r[0] != "airy_ai"])
def test_gradients_match_torch_values(name, lo, hi):
    x = np.random.default_rng(4).uniform(lo, hi, 40)
    x = x[np.abs(x) > 0.1]
    t = mg.tensor(x, dtype=mg.float64, requires_grad=True)
    getattr(ms, name)(t).sum().backward()
    want = _torch_derivative(name, x)
    # torch's own Y values are off by up to ~2.4e-6 of the amplitude (see above); the others to ~1e-15
    rtol = 1e-5 if name.startswith("bessel_y") else 1e-12
    assert_close(t.grad, want, rtol=rtol)
    tx = torch.tensor(x, requires_grad=True)
    assert not getattr(torch.special, name)(tx).requires_grad  # torch: no gradient at all


def test_gradients_at_zero():
    x = mg.tensor([0.0], dtype=mg.float64, requires_grad=True)
    expect = {"spherical_bessel_j0": (0.0, -1 / 3), "modified_bessel_i1": (0.5, 0.0),
              "modified_bessel_i0": (0.0, 0.5)}
    for name, (first, second) in expect.items():
        (g,) = mg.autograd.grad(getattr(ms, name)(x).sum(), x, create_graph=True)
        (g2,) = mg.autograd.grad(g.sum(), x)
        np.testing.assert_allclose([g.item(), g2.item()], [first, second], rtol=1e-15, atol=1e-300, err_msg=name)
    with np.errstate(all="ignore"):
        for name, sign in [("bessel_y0", 1), ("bessel_y1", 1), ("modified_bessel_k0", -1), ("modified_bessel_k1", -1),
                           ("scaled_modified_bessel_k1", -1)]:
            (g,) = mg.autograd.grad(getattr(ms, name)(x).sum(), x)
            assert g.item() == sign * np.inf, name


def test_airy_second_derivative_is_x_ai():
    x = np.linspace(-8, 3, 23)
    t = mg.tensor(x, dtype=mg.float64, requires_grad=True)
    (g,) = mg.autograd.grad(ms.airy_ai(t).sum(), t, create_graph=True)
    (g2,) = mg.autograd.grad(g.sum(), t)
    assert_close(g2, x * _torch("airy_ai", x), rtol=1e-5)  # torch's Ai: good to ~6e-6 near −2.1 only
    assert_close(g2, x * _mine("airy_ai", x), rtol=1e-15)


@pytest.mark.parametrize("name,lo,hi", GRAD_RANGES)
def test_on_device(cuda, name, lo, hi):
    x = np.random.default_rng(5).uniform(lo, hi, (2, 3))
    fn = getattr(ms, name)
    t = mg.tensor(x, dtype=mg.float64, device=cuda, requires_grad=True)
    out = fn(t)
    assert out.device == t.device
    out.sum().backward()
    h = mg.tensor(x, dtype=mg.float64, requires_grad=True)
    fn(h).sum().backward()
    np.testing.assert_array_equal(out.cpu().numpy(), fn(mg.tensor(x)).numpy())
    np.testing.assert_array_equal(t.grad.cpu().numpy(), h.grad.numpy())
