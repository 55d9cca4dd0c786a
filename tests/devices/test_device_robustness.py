"""Code paths that once worked only on the CPU, on the CuPy-like test device; and the test device's own
faithfulness to CuPy where matgrad relies on it (tests/devices/fake_cupy.py's module docstring).

- the fake: asarray takes what cupy.asarray takes; linalg.solve, reductions and ufunc methods are as
  strict as CuPy's; linalg.inv/solve/cholesky do not raise by default, as CuPy's;
- matgrad/cupy_backend.py's `device_module`: the backend's linalg raises numpy.linalg.LinAlgError on
  a singular (not positive-definite) input, so matgrad.linalg's errors read as on the CPU;
- scatter_reduce(..., "prod") and scatter(..., reduce="multiply") without `multiply.at` (CuPy has none);
- optim.LBFGS's flat vectors on the parameters' device, step for step as on the CPU;
- lgamma, digamma, polygamma(1), erfinv, i0, igamma(c), searchsorted, bucketize, isin on the device's
  own kernels, with no trip to the host (the backend's to_host made to fail proves it).
"""
from __future__ import annotations

import numpy as np
import pytest

import matgrad as mg
import matgrad.linalg as LA
from matgrad import backend, devices, optim
from matgrad.ops.scatter import ufunc_at
from tests.devices.fake_cupy import fake_cupy, fake_cupyx, ndarray
from tests.devices.test_ops_on_device import _run

SINGULAR = np.array([[1.0, 2.0], [2.0, 4.0]])
NOT_PD = np.array([[4.0, 2.0], [2.0, 1.0]])


@pytest.fixture
def no_host(cuda):
    """The test device, with its to_host failing: what runs under it never copies a device array back."""
    cur = devices.cuda_backend()

    def refuse(a):
        raise AssertionError("a device array went to the host")

    before, cur.to_host = cur.to_host, refuse
    try:
        yield cuda
    finally:
        cur.to_host = before


# --- the fake is CuPy where matgrad relies on it ----------------------------------------------------------

def test_asarray_takes_what_cupy_takes():
    host = np.arange(3.0)
    dev = fake_cupy.asarray(host)
    assert type(dev) is ndarray and dev.get().tolist() == [0.0, 1.0, 2.0]
    assert fake_cupy.asarray(dev) is dev  # no copy for a device array of its dtype, as CuPy
    assert fake_cupy.array(dev) is not dev
    assert fake_cupy.asarray(dev, dtype=np.float32).dtype == np.float32
    mixed = fake_cupy.asarray([dev, host, [5.0, 6.0, np.float32(7)]])
    np.testing.assert_array_equal(mixed.get(), [[0, 1, 2], [0, 1, 2], [5, 6, 7]])
    assert fake_cupy.ascontiguousarray(dev[::2]).get().tolist() == [0.0, 2.0]
    assert fake_cupy.asarray(np.float64(2.5)).shape == ()
    with pytest.raises(TypeError, match="Implicit conversion"):  # the other way still needs .get()
        np.asarray(dev)


def test_solve_is_as_strict_as_cupys():
    a = fake_cupy.asarray(np.eye(3)[None].repeat(2, 0) * 2.0)
    assert np.linalg.solve(a, fake_cupy.ones((2, 3))).shape == (2, 3)  # a stack of vectors
    assert np.linalg.solve(a, fake_cupy.ones((2, 3, 4))).shape == (2, 3, 4)
    square = fake_cupy.asarray(np.eye(3)[None].repeat(3, 0))
    assert fake_cupy.linalg.solve(square, fake_cupy.ones((3, 3))).shape == (3, 3)  # vectors, not NumPy 2's matrix
    with pytest.raises(ValueError, match=r"b must have \(\.\.\., M\) or \(\.\.\., M, K\)"):
        np.linalg.solve(a, fake_cupy.ones((1, 3, 4)))  # no broadcasting of batch dims (cupy/cupy#8173)
    with pytest.raises(ValueError, match="b must have"):
        fake_cupy.linalg.solve(fake_cupy.asarray(np.eye(3)), fake_cupy.ones((2, 3, 1)))


@pytest.mark.parametrize("call", [
    lambda x: x.max(initial=0.0), lambda x: np.max(x, initial=0.0), lambda x: fake_cupy.amax(x, where=x > 0),
    lambda x: x.min(where=x > 0), lambda x: x.sum(initial=1.0), lambda x: np.prod(x, where=x > 0)])
def test_reductions_take_no_initial_or_where(call):
    x = fake_cupy.asarray(np.array([1.0, -2.0, 3.0]))
    with pytest.raises(TypeError, match="unexpected keyword argument"):
        call(x)


def test_ufunc_methods_are_cupys():
    x = fake_cupy.zeros(3)
    i = fake_cupy.asarray(np.array([0, 0, 2]))
    np.add.at(x, i, 1.0)
    np.maximum.at(x, i, 5.0)
    assert x.get().tolist() == [5.0, 0.0, 5.0]
    for call in (lambda: np.multiply.at(x, i, 2.0), lambda: fake_cupy.multiply.at(x, i, 2.0),
                 lambda: np.maximum.accumulate(x), lambda: np.maximum.reduce(x)):
        with pytest.raises(NotImplementedError, match="not supported on device arrays"):
            call()
    assert float(np.add.reduce(x)) == 10.0
    for ufunc, dtype in ((np.add, np.int64), (np.add, np.bool_), (np.maximum, np.float16), (np.minimum, np.int64)):
        with pytest.raises(TypeError, match="only supports"):  # CuPy's atomics: no int64, bool ...
            ufunc.at(fake_cupy.zeros(3, dtype=dtype), i, 1)
    np.add.at(fake_cupy.zeros(3, dtype=np.int64), fake_cupy.asarray(np.array([True, False, True])), 1)  # a mask: any


def test_linalg_does_not_raise_by_default_as_cupys():
    s, n = fake_cupy.asarray(SINGULAR), fake_cupy.asarray(NOT_PD)
    assert np.isnan(fake_cupy.linalg.inv(s).get()).all()
    assert np.isnan(np.linalg.solve(s, fake_cupy.ones(2)).get()).all()
    assert np.isfinite(np.linalg.cholesky(n).get()).all()  # garbage, not a factor: nothing to notice
    with fake_cupyx.errstate(linalg="raise"):
        for call in (lambda: np.linalg.inv(s), lambda: fake_cupy.linalg.solve(s, fake_cupy.ones(2)),
                     lambda: np.linalg.cholesky(n)):
            with pytest.raises(np.linalg.LinAlgError, match="in cuSOLVER. devInfo"):
                call()
    assert fake_cupyx.geterr()["linalg"] == "ignore"


# --- the backend's linalg raises as NumPy's (matgrad/cupy_backend.py device_module) -------------------------

def test_backend_linalg_raises_as_numpy(cuda):
    xp = devices.cuda_backend().xp
    s, n = fake_cupy.asarray(SINGULAR), fake_cupy.asarray(NOT_PD)
    for call in (lambda: xp.linalg.inv(s), lambda: xp.linalg.solve(s, fake_cupy.ones(2)),
                 lambda: xp.linalg.cholesky(n)):
        with pytest.raises(np.linalg.LinAlgError):
            call()
    assert fake_cupyx.geterr()["linalg"] == "ignore"  # only for the call: the user's CuPy setting is left
    good = np.array([[4.0, 1.0], [1.0, 3.0]])
    np.testing.assert_allclose(xp.linalg.inv(fake_cupy.asarray(good)).get(), np.linalg.inv(good), rtol=1e-14)
    np.testing.assert_allclose(xp.linalg.cholesky(fake_cupy.asarray(good)).get(), np.linalg.cholesky(good),
                               rtol=1e-14)
    assert float(xp.linalg.det(fake_cupy.asarray(good))) == pytest.approx(11.0)  # the rest is CuPy's, as it is


def _message(call, *arrays, dev):
    with pytest.raises(LA.LinAlgError) as info:
        call(*[mg.tensor(a, device=dev) for a in arrays])
    return str(info.value)


@pytest.mark.parametrize("call, arrays", [
    pytest.param(lambda a, b: LA.solve(a, b), [SINGULAR, np.ones((2, 2))], id="solve"),
    pytest.param(lambda a: LA.cholesky(a), [NOT_PD], id="cholesky"),
    pytest.param(lambda a: LA.cholesky_ex(a, check_errors=True), [NOT_PD], id="cholesky_ex"),
    pytest.param(lambda a: LA.inv_ex(a, check_errors=True), [np.array([SINGULAR, np.eye(2)])], id="inv_ex"),
])
def test_linalg_errors_on_device_read_as_on_the_cpu(call, arrays, cuda):
    assert _message(call, *arrays, dev="cuda") == _message(call, *arrays, dev="cpu")


def test_inv_error_on_device_reads_as_on_the_cpu(cuda):
    assert _message(LA.inv, SINGULAR, dev="cuda") == _message(LA.inv, SINGULAR, dev="cpu")


def test_cholesky_ex_info_on_device(cuda):
    a = np.array([NOT_PD, np.array([[4.0, 2.0], [2.0, 5.0]])])
    cpu, dev = LA.cholesky_ex(mg.tensor(a)), LA.cholesky_ex(mg.tensor(a, device="cuda"))
    assert dev.info.device.type == "cuda"
    np.testing.assert_array_equal(dev.info.cpu().numpy(), cpu.info.numpy())
    np.testing.assert_allclose(dev.L.cpu().numpy(), cpu.L.numpy(), rtol=1e-14)


# --- scatter with products, and with dtypes CuPy's ufunc.at refuses ---------------------------------------

@pytest.mark.parametrize("ufunc", [np.multiply, np.add, np.maximum, np.minimum])
@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.float16, np.int64, np.int32, np.int8, np.bool_])
@pytest.mark.parametrize("n", [0, 1, 7, 40, 300])
def test_ufunc_at_on_device_matches_numpy(ufunc, dtype, n, cuda):
    rng = np.random.default_rng(n)
    out = rng.integers(-3, 4, size=(3, 5)).astype(dtype)
    idx = (rng.integers(0, 3, n), rng.integers(0, 2, n))  # many repeats: up to ~n/6 values a place
    vals = rng.choice(np.array([-2, -1, 0, 1, 2, 3]), n).astype(dtype)
    if dtype in (np.float64, np.float32, np.float16) and n:
        vals = vals * rng.uniform(0.5, 1.5, n).astype(dtype)
        vals[0] = np.inf
        vals[-1] = np.nan if n > 5 else vals[-1]  # maximum/minimum propagate it, as NumPy's
    want = out.copy()
    with np.errstate(invalid="ignore", over="ignore"):
        ufunc.at(want, idx, vals)
        got = fake_cupy.asarray(out)
        ufunc_at(ufunc, got, tuple(fake_cupy.asarray(i) for i in idx), fake_cupy.asarray(vals))
    if dtype == np.float16:
        np.testing.assert_allclose(got.get(), want, rtol=1e-2, atol=0)
        return
    if dtype in (np.float64, np.float32):  # the same values, combined in another order
        np.testing.assert_allclose(got.get(), want, rtol=1e-5 if dtype == np.float32 else 1e-12, atol=0)
    else:
        np.testing.assert_array_equal(got.get(), want)


PROD_CASES = [  # (id, fn); src has zeros so the zero-factor rules of the backward run
    ("prod_self", lambda x, s: mg.scatter_reduce(x, 0, mg.tensor([[0, 1, 0], [0, 1, 1], [2, 0, 0]]), s, "prod")),
    ("prod_no_self", lambda x, s: mg.scatter_reduce(x, 0, mg.tensor([[0, 1, 0], [0, 1, 1], [2, 0, 0]]), s, "prod",
                                                     include_self=False)),
    ("prod_dim1", lambda x, s: mg.scatter_reduce(x, 1, mg.tensor([[0, 0, 3], [1, 1, 1], [2, 2, 0]]), s, "prod")),
]


def _prod_inputs():
    rng = np.random.default_rng(3)
    x, s = rng.uniform(0.5, 1.5, (3, 4)), rng.uniform(-1.5, 1.5, (3, 3))
    x[1, 1], s[0, 1], s[1, 1], s[2, 2] = 0.0, 0.0, 0.0, 0.0
    return [x, s]


@pytest.mark.parametrize("fn", [pytest.param(f, id=i) for i, f in PROD_CASES])
def test_scatter_reduce_prod_on_device(fn, cuda):
    arrays = _prod_inputs()
    cpu, dev = _run(fn, arrays, True, on_device=False), _run(fn, arrays, True, on_device=True)
    for a, b in zip(cpu, dev):
        for x, y in zip(a, b):
            assert (x is None) == (y is None)
            if x is not None:
                np.testing.assert_allclose(y, x, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("fn", [pytest.param(f, id=i) for i, f in PROD_CASES])
def test_scatter_reduce_prod_on_device_against_finite_differences(fn, cuda):
    arrays, eps = _prod_inputs(), 1e-6
    with mg.device("cuda"):
        xs = [mg.tensor(a, dtype=mg.float64, requires_grad=True) for a in arrays]
        w = np.random.default_rng(4).standard_normal(fn(*xs).shape)
        grads = mg.autograd.grad((fn(*xs) * mg.tensor(w)).sum(), xs)
        for k, a in enumerate(arrays):
            numeric = np.zeros_like(a)
            for i in np.ndindex(a.shape):
                value = []
                for sign in (1, -1):
                    moved = [b.copy() for b in arrays]
                    moved[k][i] += sign * eps
                    value.append(float((fn(*[mg.tensor(b) for b in moved]) * mg.tensor(w)).sum()))
                numeric[i] = (value[0] - value[1]) / (2 * eps)
            np.testing.assert_allclose(grads[k].cpu().numpy(), numeric, rtol=1e-6, atol=1e-8)


def test_scatter_reduce_prod_on_device_against_torch(cuda):
    torch = pytest.importorskip("torch")
    x, s = _prod_inputs()
    index = [[0, 1, 0], [0, 1, 1], [2, 0, 0]]
    for include_self in (True, False):
        got = mg.scatter_reduce(mg.tensor(x, device="cuda"), 0, mg.tensor(index, device="cuda"),
                                mg.tensor(s, device="cuda"), "prod", include_self=include_self)
        want = torch.tensor(x).scatter_reduce(0, torch.tensor(index), torch.tensor(s), "prod",
                                              include_self=include_self)
        assert got.device.type == "cuda"
        np.testing.assert_allclose(got.cpu().numpy(), want.numpy(), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("reduce", ["sum", "prod", "mean", "amax", "amin"])
@pytest.mark.parametrize("include_self", [True, False])
def test_integer_scatter_reduce_on_device(reduce, include_self, cuda):
    """int64 targets, which CuPy's add/maximum/minimum.at refuse: the same values as on the CPU."""
    x = np.arange(12).reshape(3, 4).astype(np.int64)
    index = np.array([[0, 1, 0, 2], [0, 0, 2, 2]])
    src = np.array([[5, -1, 7, 2], [9, 3, 3, -4]], dtype=np.int64)
    out = [mg.scatter_reduce(mg.tensor(x, device=d), 0, mg.tensor(index, device=d), mg.tensor(src, device=d),
                             reduce, include_self=include_self) for d in ("cpu", "cuda")]
    assert out[1].device.type == "cuda" and out[1].dtype == mg.int64
    np.testing.assert_array_equal(out[1].cpu().numpy(), out[0].numpy())


def test_integer_index_adds_on_device(cuda):
    x = np.arange(12).reshape(3, 4).astype(np.int64)
    for make in (lambda d: mg.scatter_add(mg.tensor(x, device=d), 0, mg.tensor([[0, 0, 2, 0]], device=d),
                                          mg.tensor([[1, 2, 3, 4]], device=d)),
                 lambda d: mg.tensor(x, device=d).index_put((mg.tensor([0, 0, 1], device=d),),
                                                            mg.tensor([1, 1, 1, 1], device=d), accumulate=True),
                 lambda d: mg.tensor(x, device=d).index_add(0, mg.tensor([0, 0], device=d),
                                                            mg.tensor(x[:2], device=d))):
        cpu, dev = make("cpu"), make("cuda")
        assert dev.device.type == "cuda"
        np.testing.assert_array_equal(dev.cpu().numpy(), cpu.numpy())


def test_scatter_multiply_on_device(cuda):
    x = np.arange(1.0, 13.0).reshape(3, 4)
    index = np.array([[0, 1, 2, 0], [0, 1, 2, 1]])
    src = np.full((2, 4), 3.0)
    for dev in ("cpu", "cuda"):
        t, i, s = (mg.tensor(a, device=dev) for a in (x, index, src))
        out = mg.scatter(t, 0, i, s, reduce="multiply")
        value = mg.scatter(t, 0, i, 2.0, reduce="multiply")
        assert out.device.type == dev and value.device.type == dev
        if dev == "cpu":
            want_out, want_value = out.numpy(), value.numpy()
    np.testing.assert_array_equal(out.cpu().numpy(), want_out)
    np.testing.assert_array_equal(value.cpu().numpy(), want_value)
    assert want_out[0, 0] == 9.0 and want_value[0, 0] == 4.0  # index 0 twice in column 0: two factors


# --- LBFGS, step for step ---------------------------------------------------------------------------------

def _lbfgs_run(dev, dtype, line_search):
    """Losses and parameters after each of 4 steps (8 iterations each) of a small least-squares problem."""
    rng = np.random.default_rng(7)
    a_np, b_np = rng.standard_normal((6, 3)).astype(dtype), rng.standard_normal(6).astype(dtype)
    w = mg.tensor(rng.standard_normal(3).astype(dtype), device=dev, requires_grad=True)
    c = mg.tensor(np.asarray(0.5, dtype=dtype), device=dev, requires_grad=True)
    unused = mg.tensor(np.ones(2, dtype=dtype), device=dev, requires_grad=True)  # no gradient: zeros in the flat one
    a, b = mg.tensor(a_np, device=dev), mg.tensor(b_np, device=dev)
    opt = optim.LBFGS([w, c, unused], lr=0.8, max_iter=8, history_size=3, line_search_fn=line_search)

    def closure():
        opt.zero_grad()
        r = a @ w + c * c - b
        loss = (r * r).sum() + (w * w * w * w).sum() * 0.1
        loss.backward()
        return loss

    history = []
    for _ in range(4):
        loss = opt.step(closure)
        history.append((float(loss), w.detach().cpu().numpy().copy(), float(c.detach().cpu())))
    return history, opt.state[w]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("line_search", [None, "strong_wolfe"])
def test_lbfgs_on_device_step_for_step(dtype, line_search, cuda):
    cpu, _ = _lbfgs_run("cpu", dtype, line_search)
    dev, state = _lbfgs_run("cuda", dtype, line_search)
    tol = dict(rtol=1e-12, atol=1e-14) if dtype == np.float64 else dict(rtol=1e-5, atol=1e-6)
    for step, ((lc, wc, cc), (ld, wd, cd)) in enumerate(zip(cpu, dev)):
        np.testing.assert_allclose(ld, lc, **tol, err_msg=f"loss at step {step}")
        np.testing.assert_allclose(wd, wc, **tol, err_msg=f"w after step {step}")
        np.testing.assert_allclose(cd, cc, **tol, err_msg=f"c after step {step}")
        assert wd.dtype == dtype
    assert cpu[-1][0] < cpu[0][0]  # it optimises
    assert type(state["d"]) is ndarray and type(state["prev_flat_grad"]) is ndarray  # the vectors stay there
    assert all(type(v) is ndarray for v in state["old_dirs"] + state["old_stps"])
    assert state["d"].dtype == dtype


# --- special functions and index searches on the device's kernels -----------------------------------------

SPECIAL = [  # (id, fn, inputs): edge values included (poles, ±0, ±inf, nan, ±1 for erfinv)
    ("lgamma", mg.lgamma, [[-3.5, -2.0, -0.0, 0.0, 1e-3, 0.5, 1.0, 2.0, 7.3, 30.0, np.inf, -np.inf, np.nan]]),
    ("digamma", mg.digamma, [[-3.5, -2.0, -0.0, 0.0, 1e-3, 0.5, 1.0, 7.3, 30.0, np.inf, -np.inf, np.nan]]),
    ("trigamma", lambda x: mg.polygamma(1, x), [[-3.5, -2.0, -0.25, 0.0, 1e-3, 0.5, 7.3, 30.0, np.inf, -np.inf,
                                                 np.nan]]),
    ("erfinv", mg.erfinv, [[-1.5, -1.0, -0.999, -0.3, -0.0, 0.2, 0.9, 1.0, 2.0, np.nan]]),
    ("i0", mg.i0, [[-40.0, -3.0, -0.5, 0.0, 0.5, 3.0, 40.0, np.inf, np.nan]]),
    ("mvlgamma", lambda x: mg.mvlgamma(x, 3), [[1.2, 1.5, 4.0, 9.0]]),
    ("igamma", mg.igamma, [[0.0, 0.5, 1.0, 3.0, np.inf, -1.0, 2.0, 0.0, 4.0],
                           [0.0, 0.7, 0.0, 2.5, np.inf, 1.0, np.nan, 1.0, 9.0]]),
    ("igammac", mg.igammac, [[0.0, 0.5, 1.0, 3.0, np.inf, -1.0, 2.0, 0.0, 4.0],
                             [0.0, 0.7, 0.0, 2.5, np.inf, 1.0, np.nan, 1.0, 9.0]]),
]


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")  # inf − inf at the edges, as on the CPU
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("fn, inputs", [pytest.param(f, i, id=n) for n, f, i in SPECIAL])
def test_special_functions_on_device_kernels(fn, inputs, dtype, no_host):
    arrays = [np.array(v, dtype=dtype) for v in inputs]
    tol = dict(rtol=1e-12, atol=0) if dtype == np.float64 else dict(rtol=1e-5, atol=1e-6)
    results = []
    for dev in ("cpu", "cuda"):
        xs = [mg.tensor(a, device=dev, requires_grad=k == len(arrays) - 1) for k, a in enumerate(arrays)]
        y = fn(*xs)
        differentiable = y.requires_grad and fn is not SPECIAL[2][1]
        g = mg.autograd.grad(y.sum(), xs[-1])[0] if differentiable else None
        assert y.device.type == dev and y.dtype == xs[-1].dtype
        results.append([y.detach(), g])
    devices.cuda_backend().to_host = lambda a: a.get()  # the comparison may copy back now
    for c, d in zip(*results):
        if c is not None:
            np.testing.assert_allclose(d.cpu().numpy(), c.numpy(), **tol, equal_nan=True)
            finite = np.isfinite(c.numpy())
            assert np.array_equal(np.signbit(d.cpu().numpy()[finite]), np.signbit(c.numpy()[finite]))


@pytest.mark.parametrize("fn, x", [
    pytest.param(mg.lgamma, [-2.5, 0.3, 1.5, 12.0], id="lgamma"),
    pytest.param(mg.digamma, [-2.5, 0.3, 1.5, 12.0], id="digamma"),
    pytest.param(mg.erfinv, [-0.9, -0.2, 0.4, 0.95], id="erfinv"),
    pytest.param(mg.i0, [-3.0, -0.4, 0.7, 5.0], id="i0"),
    pytest.param(lambda t: mg.igamma(mg.tensor([0.5, 2.0, 3.0, 7.0], device="cuda"), t), [0.3, 1.5, 4.0, 6.0],
                 id="igamma"),
])
def test_special_device_gradients_against_finite_differences(fn, x, cuda):
    x, eps = np.array(x), 1e-6
    t = mg.tensor(x, device="cuda", requires_grad=True)
    analytic = mg.autograd.grad(fn(t).sum(), t)[0].cpu().numpy()
    plus = fn(mg.tensor(x + eps, device="cuda")).cpu().numpy()
    minus = fn(mg.tensor(x - eps, device="cuda")).cpu().numpy()
    np.testing.assert_allclose(analytic, (plus - minus) / (2 * eps), rtol=1e-6, atol=1e-8)


def test_special_functions_on_device_against_torch(cuda):
    torch = pytest.importorskip("torch")
    x = np.array([-2.5, -0.0, 0.0, 0.3, 1.0, 4.5, 20.0])
    u = np.array([-0.999, -0.5, 0.0, 0.25, 0.9])
    for mine, theirs, v in ((mg.lgamma, torch.lgamma, x), (mg.digamma, torch.digamma, x),
                            (lambda t: mg.polygamma(1, t), lambda t: torch.polygamma(1, t), x),
                            (mg.erfinv, torch.erfinv, u), (mg.i0, torch.i0, x)):
        got = mine(mg.tensor(v, device="cuda")).cpu().numpy()
        np.testing.assert_allclose(got, theirs(torch.tensor(v)).numpy(), rtol=1e-8, atol=1e-12)  # torch: ψ'(1) to 5e-10
    a, z = np.array([0.5, 1.0, 3.0, 10.0]), np.array([0.2, 1.0, 2.5, 12.0])
    got = mg.igamma(mg.tensor(a, device="cuda"), mg.tensor(z, device="cuda")).cpu().numpy()
    np.testing.assert_allclose(got, torch.igamma(torch.tensor(a), torch.tensor(z)).numpy(), rtol=1e-10)


def test_special_functions_fall_back_to_the_host_without_a_kernel(cuda):
    """A device whose namespace lacks a kernel (an older CuPy) still computes, through the host."""
    cur = devices.cuda_backend()
    ns = backend.ArrayNamespace("fake_cupy", plain=True, device="cuda",
                                **{k: v for k, v in vars(cur.namespace).items()
                                   if k not in ("gammaln", "digamma", "polygamma", "erfinv", "i0", "i1",
                                                "gammainc", "gammaincc", "name", "plain", "device")})
    before, cur.namespace = cur.namespace, ns
    try:
        x = np.array([-2.5, 0.5, 3.0])
        for fn in (mg.lgamma, mg.digamma, mg.i0, lambda t: mg.polygamma(1, t), lambda t: mg.igamma(t * 0 + 2, t)):
            t = mg.tensor(x, device="cuda", requires_grad=True)
            y = fn(t)
            assert y.device.type == "cuda"
            np.testing.assert_allclose(y.detach().cpu().numpy(), fn(mg.tensor(x)).numpy(), rtol=1e-14)
    finally:
        cur.namespace = before


SEARCH = [  # (sorted_sequence, values, kwargs)
    (np.array([-1.0, 0.0, 0.0, 2.5, 7.0]), np.array([[-3.0, 0.0, 1.0], [2.5, 7.0, 9.0]]), {}),
    (np.array([-1.0, 0.0, 0.0, 2.5, 7.0]), np.array([[-3.0, 0.0, 1.0], [2.5, 7.0, 9.0]]), dict(right=True)),
    (np.array([1, 3, 3, 8]), np.array(3), dict(side="right", out_int32=True)),
    (np.array([[0.0, 1.0, 2.0], [5.0, 6.0, 9.0]]), np.array([[1.5, -1.0], [6.0, 10.0]]), {}),
    (np.array([[2.0, 0.0, 1.0], [9.0, 5.0, 6.0]]), np.array([[1.5, -1.0], [6.0, 10.0]]),
     dict(sorter=np.array([[1, 2, 0], [1, 2, 0]]))),
    (np.array([], dtype=np.float64), np.array([1.0, 2.0]), {}),
    (np.array([0.0, 1.0, np.nan]), np.array([np.nan, 0.5, 2.0]), {}),  # NaN last, as the CPU path
]


@pytest.mark.parametrize("seq, vals, kwargs", SEARCH)
def test_searchsorted_on_device_kernels(seq, vals, kwargs, no_host):
    out = {}
    for dev in ("cpu", "cuda"):
        kw = {k: mg.tensor(v, device=dev) if k == "sorter" else v for k, v in kwargs.items()}
        got = mg.searchsorted(mg.tensor(seq, device=dev), mg.tensor(vals, device=dev), **kw)
        assert got.device.type == dev
        out[dev] = got
    devices.cuda_backend().to_host = lambda a: a.get()
    assert out["cuda"].dtype == out["cpu"].dtype
    np.testing.assert_array_equal(out["cuda"].cpu().numpy(), out["cpu"].numpy())


def test_searchsorted_on_device_against_torch(cuda):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    seq = np.sort(rng.integers(-5, 6, (3, 9)).astype(np.float64), -1)
    vals = rng.integers(-7, 8, (3, 6)).astype(np.float64)
    for right in (False, True):
        got = mg.searchsorted(mg.tensor(seq, device="cuda"), mg.tensor(vals, device="cuda"), right=right)
        want = torch.searchsorted(torch.tensor(seq), torch.tensor(vals), right=right)
        np.testing.assert_array_equal(got.cpu().numpy(), want.numpy())
        got = mg.bucketize(mg.tensor(vals, device="cuda"), mg.tensor(seq[0], device="cuda"), right=right)
        want = torch.bucketize(torch.tensor(vals), torch.tensor(seq[0]), right=right)
        np.testing.assert_array_equal(got.cpu().numpy(), want.numpy())


def test_bucketize_and_isin_on_device_kernels(no_host):
    values = mg.tensor([[0.5, 3.0], [-1.0, 9.0]], device="cuda")
    buckets = mg.bucketize(values, mg.tensor([0.0, 1.0, 3.0], device="cuda"), right=True)
    hits = mg.isin(mg.tensor([1, 2, 3, 2], device="cuda"), mg.tensor([2, 7], device="cuda"))
    misses = mg.isin(mg.tensor([1, 2, 3, 2], device="cuda"), 2, invert=True)
    with pytest.raises(RuntimeError, match="boundaries tensor must be 1 dimension"):
        mg.bucketize(values, mg.tensor([[0.0, 1.0]], device="cuda"))
    devices.cuda_backend().to_host = lambda a: a.get()
    for t in (buckets, hits, misses):
        assert t.device.type == "cuda"
    np.testing.assert_array_equal(buckets.cpu().numpy(), [[1, 3], [0, 3]])
    np.testing.assert_array_equal(hits.cpu().numpy(), [False, True, False, True])
    np.testing.assert_array_equal(misses.cpu().numpy(), [True, False, True, False])
