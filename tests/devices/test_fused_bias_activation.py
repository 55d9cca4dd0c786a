"""Linear + activation as one op (matgrad/ops/linear.py LinearActivation) and Sequential's use of it.

On the CPU the op equals Linear followed by the activation, first and second order. On the test
device, a backend with fused kernels ("bias_<act>", "<act>_grad") makes Sequential run each
Linear + ReLU/Sigmoid/Tanh pair as one op with one kernel call each way, with the CPU's numbers;
without them (or with hooks) Sequential runs the modules. The CUDA backend's kernel bodies
(matgrad/cupy_backend.py KERNELS) are compiled for the CPU with g++, as
tests/devices/test_optim_on_device.py does for the optimizers', and must give the NumPy path's numbers.
"""
from __future__ import annotations

import shutil

import numpy as np
import pytest

import matgrad as mg
import matgrad.nn.functional as F
from matgrad import devices, nn
from matgrad.cupy_backend import KERNELS
from matgrad.ops.activation import _relu_grad
from matgrad.ops.linear import _IN_PLACE, ACTIVATIONS, LinearActivation, linear_activation
from tests.devices.fake_cupy import ndarray
from tests.devices.test_optim_on_device import _CompiledKernel

NAMES = [f"bias_{a}" for a in ACTIVATIONS] + [f"{a}_grad" for a in ACTIVATIONS]


def _np_act(act: str, z: np.ndarray) -> np.ndarray:
    if act == "relu":
        return np.maximum(0, z)
    if act == "sigmoid":
        with np.errstate(over="ignore"):
            return 1 / (1 + np.exp(-z))
    return np.tanh(z)


def _np_grad(act: str, dy: np.ndarray, y: np.ndarray) -> np.ndarray:
    if act == "relu":  # the op's own select (ops/activation.py): dy where y != 0, +0.0 elsewhere
        return _relu_grad(dy, y)
    if act == "sigmoid":
        return dy * (y * (1 - y))
    return dy * (1 - y * y)


def numpy_kernels(calls: list) -> dict:
    """The fused kernels' contract (bias: kernel(b, y) in place; grad: dz = kernel(dy, y)), done by NumPy."""
    def bias(act):
        def kernel(b, y):
            calls.append(f"bias_{act}")
            y._a[...] = _np_act(act, y._a + b._a)
        return kernel

    def grad(act):
        def kernel(dy, y):
            calls.append(f"{act}_grad")
            return ndarray(_np_grad(act, dy._a, y._a))
        return kernel

    return {**{f"bias_{a}": bias(a) for a in ACTIVATIONS}, **{f"{a}_grad": grad(a) for a in ACTIVATIONS}}


class _Broadcasting:
    """cupy.ElementwiseKernel's broadcasting of inputs and allocation of a missing output, around the
    g++-built kernel (which takes contiguous arrays of one shape)."""

    def __init__(self, kernel: _CompiledKernel) -> None:
        self.kernel = kernel

    def __call__(self, *args):
        arrays = [a._a for a in args]
        n_in = len(self.kernel.ins)
        if len(arrays) == n_in:
            shape = np.broadcast_shapes(*(a.shape for a in arrays))
            outs = [np.empty(shape, arrays[0].dtype) for _ in self.kernel.outs]
        else:
            outs = arrays[n_in:]
            shape = outs[0].shape
        ins = [np.ascontiguousarray(np.broadcast_to(a, shape)) for a in arrays[:n_in]]
        self.kernel(*[ndarray(a) for a in ins + outs])
        return ndarray(outs[0]) if len(arrays) == n_in else None


@pytest.fixture
def numpy_fused(cuda):
    """The test device with fused kernels done by NumPy; yields the call log."""
    calls: list[str] = []
    devices.cuda_backend().fused = numpy_kernels(calls)
    yield calls


@pytest.fixture
def compiled_fused(cuda, tmp_path):
    """The test device with the CUDA backend's bias + activation kernels compiled for the CPU; the call log."""
    if shutil.which("g++") is None:
        pytest.skip("no C++ compiler to build the fused kernels for the CPU")
    calls: list[str] = []
    devices.cuda_backend().fused = {n: _Broadcasting(_CompiledKernel(*KERNELS[n], n, tmp_path, calls))
                                    for n in NAMES}
    yield calls


def _inputs(x_shape, seed=0, dtype="float64"):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s).astype(dtype) for s in (x_shape, (3, 4), (3,))]


def _run_op(arrays, act, fused: bool, dev=None, bias=True):
    """(y, first-order grads, second-order grads) of the op or of linear + act, as host arrays."""
    xs = [mg.tensor(a, requires_grad=True) for a in arrays[:3 if bias else 2]]
    if dev is not None:
        xs = [t.to(dev).detach().requires_grad_() for t in xs]
    b = xs[2] if bias else None
    y = linear_activation(xs[0], xs[1], b, act) if fused else getattr(F, act)(F.linear(xs[0], xs[1], b))
    rng = np.random.default_rng(5)
    g = mg.tensor(rng.standard_normal(y.shape)).to(y.device)
    grads = mg.autograd.grad((y * g).sum(), xs, create_graph=True)
    ggs = mg.autograd.grad(sum((q * q).sum() for q in grads), xs, allow_unused=True)
    host = lambda t: None if t is None else t.detach().cpu().numpy()  # noqa: E731
    return [host(y), *map(host, grads), *map(host, ggs)], y


@pytest.mark.parametrize("act", ACTIVATIONS)
@pytest.mark.parametrize("x_shape", [(5, 4), (2, 3, 4), (4,)])
@pytest.mark.parametrize("bias", [True, False])
def test_op_equals_linear_then_activation_on_the_cpu(act, x_shape, bias):
    arrays = _inputs(x_shape)
    got, y = _run_op(arrays, act, fused=True, bias=bias)
    want, _ = _run_op(arrays, act, fused=False, bias=bias)
    assert type(y.grad_fn) is LinearActivation
    for i, (a, b) in enumerate(zip(got, want)):
        assert (a is None) == (b is None), i
        if a is not None:
            np.testing.assert_allclose(a, b, rtol=1e-14, atol=1e-15, err_msg=f"result {i}")


def test_op_on_the_cpu_keeps_the_activations_edge_values():
    """NaN stays NaN through relu as in ReLU; sigmoid saturates to exact 0 and 1 without warnings."""
    w = mg.tensor(np.array([[1.0]]))
    b = mg.tensor(np.array([-0.0]))
    z = np.array([[-1.0], [np.nan], [-1000.0], [1000.0]])
    x = mg.tensor(z)
    y = linear_activation(x, w, b, "relu").numpy()
    want = F.relu(F.linear(x, w, b)).numpy()
    np.testing.assert_array_equal(y, want)
    assert np.isnan(y[1, 0]) and np.array_equal(np.signbit(y), np.signbit(want))
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        s = linear_activation(mg.tensor(z[2:]), w, b, "sigmoid").numpy()
    np.testing.assert_array_equal(s, [[0.0], [1.0]])


def test_bad_activation_and_bias_are_refused():
    x, w = mg.ones(2, 4), mg.ones(3, 4)
    with pytest.raises(ValueError, match="activation must be one of"):
        linear_activation(x, w, mg.ones(3), "gelu")
    with pytest.raises(RuntimeError, match=r"bias must have shape \(3,\)"):
        linear_activation(x, w, mg.ones(4), "relu")
    with pytest.raises(RuntimeError, match="does not fit"):
        linear_activation(mg.ones(2, 5), w, None, "tanh")


def _mlp(inplace: bool = False) -> nn.Sequential:
    mg.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 8), nn.ReLU(inplace=inplace), nn.Linear(8, 6), nn.Sigmoid(),
                         nn.Linear(6, 5), nn.Tanh(), nn.Linear(5, 2, bias=False), nn.Tanh()).double()


def _train_step(model: nn.Sequential, dev=None):
    """The output, its grad_fn, and every parameter's gradient after one backward, as host arrays."""
    rng = np.random.default_rng(3)
    x = mg.tensor(rng.standard_normal((7, 4)))
    if dev is not None:
        model.to(dev)
        x = x.to(dev)
    y = model(x)
    (y * y).sum().backward()
    return y.detach().cpu().numpy(), y.grad_fn, [p.grad.cpu().numpy() for p in model.parameters()]


@pytest.mark.parametrize("inplace", [False, True])
def test_sequential_fuses_on_a_device_with_the_kernels(numpy_fused, cuda, inplace):
    y0, fn0, g0 = _train_step(_mlp(inplace))
    assert type(fn0).__name__ == "Tanh", "the CPU runs the modules"
    y1, fn1, g1 = _train_step(_mlp(inplace), cuda)
    # three Linear + act pairs with a bias; the bias-free Linear + Tanh at the end runs as two modules
    assert numpy_fused == ["bias_relu", "bias_sigmoid", "bias_tanh", "tanh_grad", "sigmoid_grad", "relu_grad"]
    assert type(fn1).__name__ == "Tanh"
    np.testing.assert_allclose(y1, y0, rtol=1e-12, atol=1e-14)
    for a, b in zip(g0, g1):
        np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-14)


def test_sequential_ends_with_a_fused_node(numpy_fused, cuda):
    model = _mlp()[:6]
    _, fn0, _ = _train_step(model)
    _, fn1, _ = _train_step(model, cuda)
    assert type(fn0).__name__ == "Tanh" and type(fn1) is LinearActivation


def test_sequential_without_fused_kernels_runs_the_modules(cuda):
    model = _mlp()[:6]
    y0, _, g0 = _train_step(_mlp()[:6])
    y1, fn1, g1 = _train_step(model, cuda)
    assert type(fn1).__name__ == "Tanh"
    np.testing.assert_allclose(y1, y0, rtol=1e-12, atol=1e-14)
    for a, b in zip(g0, g1):
        np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-14)


def test_hooks_keep_the_modules(numpy_fused, cuda):
    """A hook on either module of a pair must see that module run, so the pair is not fused."""
    model = _mlp()[:6]
    seen = []
    model[3].register_forward_hook(lambda m, args, out: seen.append(type(m).__name__))
    model[0].register_forward_pre_hook(lambda m, args: seen.append(type(m).__name__))
    _, fn, _ = _train_step(model, cuda)
    assert seen == ["Linear", "Sigmoid"]
    assert type(fn) is LinearActivation  # the last pair has no hooks
    assert numpy_fused[:1] == ["bias_tanh"] and "bias_relu" not in numpy_fused


def test_a_subclass_or_other_activation_is_not_fused(numpy_fused, cuda):
    class MyLinear(nn.Linear):
        pass

    mg.manual_seed(0)
    model = nn.Sequential(MyLinear(4, 3), nn.ReLU(), nn.Linear(3, 3), nn.GELU()).double()
    _train_step(model, cuda)
    assert numpy_fused == []


# --- the CUDA backend's kernel bodies, compiled for the CPU ------------------------------------------------

@pytest.mark.parametrize("act", ACTIVATIONS)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("x_shape", [(6, 4), (2, 3, 4)])
def test_compiled_kernels_match_the_numpy_path(act, dtype, x_shape, compiled_fused, cuda):
    arrays = _inputs(x_shape, seed=1, dtype=dtype)

    def run(dev):
        xs = [mg.tensor(a, requires_grad=True) for a in arrays]
        if dev is not None:
            xs = [t.to(dev).detach().requires_grad_() for t in xs]
        y = linear_activation(*xs, act)
        g = mg.tensor(np.random.default_rng(2).standard_normal(y.shape).astype(dtype)).to(y.device)
        grads = mg.autograd.grad((y * g).sum(), xs)
        return [y.detach().cpu().numpy()] + [q.cpu().numpy() for q in grads]

    cpu, dev = run(None), run(cuda)
    assert compiled_fused == [f"bias_{act}", f"{act}_grad"], "one kernel call each way"
    rtol = 1e-13 if dtype == "float64" else 1e-5
    for i, (a, b) in enumerate(zip(cpu, dev)):
        assert b.dtype == a.dtype
        np.testing.assert_allclose(b, a, rtol=rtol, atol=rtol, err_msg=f"result {i}")


@pytest.mark.parametrize("act", ACTIVATIONS)
def test_compiled_kernels_on_edge_values(act, compiled_fused, cuda):
    """-0.0, NaN, ±inf and saturating inputs: the kernels give NumPy's answers bit for bit (float64)."""
    fused = devices.cuda_backend().fused
    z = np.array([[-0.0, 0.0, np.nan, -np.inf, np.inf, -1000.0, 1000.0, 0.5, -0.5, 3.0]])
    bias = np.array([0.0, 0.0, 1.0, 0.0, 0.0, -5.0, 5.0, 0.25, 0.0, -3.0])
    y = ndarray(z.copy())
    fused[f"bias_{act}"](ndarray(bias), y)
    ref = _IN_PLACE[act](z + bias)  # the op's own NumPy passes
    np.testing.assert_array_equal(y._a, ref)
    assert np.array_equal(np.signbit(y._a), np.signbit(ref))

    dy = np.array([[1.0, -2.0, 0.5, np.inf, -np.inf, np.nan, 3.0, -0.0, 2.0, 1.5]])
    got = fused[f"{act}_grad"](ndarray(dy), ndarray(ref))._a
    with np.errstate(invalid="ignore"):  # inf · 0 is NaN on both sides
        want = _np_grad(act, dy, ref)
        np.testing.assert_array_equal(got, want)
    assert np.array_equal(np.signbit(got), np.signbit(want))


def test_relu_then_maxpool_runs_pool_first_on_a_device(cuda):
    """Sequential's device path reorders ReLU -> MaxPool2d as its CPU path does (nn/container.py _pool_first)."""
    def run(dev, pool_first):
        mg.manual_seed(0)
        head = nn.Sequential(nn.Conv2d(2, 3, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)).double()
        tail = nn.Sequential(nn.Flatten(), nn.Linear(12, 2)).double()
        head.relu_after_maxpool = pool_first
        x = mg.tensor(np.random.default_rng(4).standard_normal((5, 2, 4, 4)))
        if dev is not None:
            head.to(dev)
            tail.to(dev)
            x = x.to(dev)
        y = head(x)
        (tail(y) ** 2).sum().backward()
        params = list(head.parameters()) + list(tail.parameters())
        return y.grad_fn.name(), y.detach().cpu().numpy(), [p.grad.cpu().numpy() for p in params]
    name0, y0, g0 = run(None, False)
    name1, y1, g1 = run(cuda, True)
    assert name0 == "MaxPool2dBackward0" and name1 == "ReLUBackward0"
    np.testing.assert_allclose(y1, y0, rtol=1e-12, atol=1e-14)
    for a, b in zip(g0, g1):
        np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-14)
