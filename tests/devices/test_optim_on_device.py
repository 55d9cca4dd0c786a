"""The optimizers on the CuPy-like test device: a few steps on device parameters equal the CPU's,
their state (momentum buffers, moments) lives on the parameters' device, and state_dicts move
between devices as PyTorch's do.

The test device has no fused kernels, so the NumPy-dispatching path runs there. The CUDA
backend's fused kernels (matgrad/cupy_backend.py KERNELS, CUDA C) are checked too, compiled for
the CPU with the system's C++ compiler as a stand-in for CuPy's ElementwiseKernel (skipped where
there is none): their formulas must give the NumPy path's numbers.
"""
from __future__ import annotations

import ctypes
import hashlib
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

import matgrad as mg
from matgrad import devices, optim
from matgrad.cupy_backend import KERNELS
from tests.devices.fake_cupy import ndarray

CONFIGS = [
    ("SGD", optim.SGD, dict(lr=0.1)),
    ("SGD-wd-maximize", optim.SGD, dict(lr=0.1, weight_decay=0.1, maximize=True)),
    ("SGD-momentum", optim.SGD, dict(lr=0.1, momentum=0.9, dampening=0.2, weight_decay=0.01)),
    ("SGD-nesterov", optim.SGD, dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.05)),
    ("SGD-nesterov-maximize", optim.SGD, dict(lr=0.1, momentum=0.5, nesterov=True, maximize=True)),
    ("Adam", optim.Adam, dict(lr=0.01)),
    ("Adam-wd-amsgrad", optim.Adam, dict(lr=0.01, weight_decay=0.1, amsgrad=True)),
    ("Adam-beta1-small-maximize", optim.Adam, dict(lr=0.01, betas=(0.3, 0.9), maximize=True)),
    ("AdamW", optim.AdamW, dict(lr=0.01, weight_decay=0.1)),
    ("AdamW-amsgrad", optim.AdamW, dict(lr=0.01, amsgrad=True)),
    ("Adagrad", optim.Adagrad, dict(lr=0.1, lr_decay=0.01, weight_decay=0.1, initial_accumulator_value=0.1)),
    ("RMSprop", optim.RMSprop, dict(lr=0.01)),
    ("RMSprop-centered-momentum", optim.RMSprop, dict(lr=0.01, momentum=0.9, centered=True, weight_decay=0.1)),
]
STEPS = 4


def _grads(shapes: list[tuple[int, ...]], dtype: str) -> list[list[np.ndarray]]:
    rng = np.random.default_rng(11)
    return [[rng.standard_normal(s).astype(dtype) for s in shapes] for _ in range(STEPS)]


def _train(cls, opts: dict, dev, dtype: str = "float64"):
    """Parameters and state after STEPS steps with fixed gradients, as host arrays; the state's devices checked."""
    shapes = [(3, 4), (4,), ()]
    rng = np.random.default_rng(10)
    params = [mg.tensor(rng.standard_normal(s).astype(dtype), requires_grad=True) for s in shapes]
    if dev is not None:
        params = [p.to(dev).detach().requires_grad_() for p in params]
    opt = cls(params, **opts)
    for grads in _grads(shapes, dtype):
        for p, g in zip(params, grads):
            p.grad = mg.tensor(g).to(p.device)
        opt.step()
    where = type(params[0].array)
    state = {}
    for i, p in enumerate(params):
        for k, v in opt.state[p].items():
            if not isinstance(v, (int, float)):
                assert type(v) is where, f"state {k!r} is a {type(v).__name__}, not on the parameter's device"
                state[f"{i}.{k}"] = v.get() if type(v) is ndarray else v
            else:
                state[f"{i}.{k}"] = v
    return [p.detach().cpu().numpy() for p in params], state, opt


@pytest.mark.parametrize("cls, opts", [pytest.param(c, o, id=n) for n, c, o in CONFIGS])
def test_optimizer_on_the_test_device(cls, opts, cuda):
    cpu_params, cpu_state, _ = _train(cls, opts, None)
    dev_params, dev_state, _ = _train(cls, opts, cuda)
    for a, b in zip(cpu_params, dev_params):
        np.testing.assert_allclose(b, a, rtol=1e-10, atol=1e-14)
    assert sorted(dev_state) == sorted(cpu_state)
    for k, v in cpu_state.items():
        np.testing.assert_allclose(np.asarray(dev_state[k]), np.asarray(v), rtol=1e-10, atol=1e-14, err_msg=k)


def test_training_loop_on_the_test_device(cuda):
    """A model moved before its optimizer is made trains as on the CPU; zero_grad both ways."""
    def run(dev):
        mg.manual_seed(0)
        model = mg.nn.Sequential(mg.nn.Linear(4, 8), mg.nn.Tanh(), mg.nn.Linear(8, 1)).double()
        if dev is not None:
            model.to(dev)
        opt = optim.Adam(model.parameters(), lr=0.01)
        rng = np.random.default_rng(0)
        x, y = rng.standard_normal((16, 4)), rng.standard_normal((16, 1))
        xt, yt = mg.tensor(x), mg.tensor(y)
        if dev is not None:
            xt, yt = xt.to(dev), yt.to(dev)
        for i in range(5):
            opt.zero_grad(set_to_none=i % 2 == 0)
            loss = ((model(xt) - yt) ** 2).mean()
            loss.backward()
            opt.step()
        return loss.item(), [p.detach().cpu().numpy() for p in model.parameters()]

    cpu_loss, cpu_params = run(None)
    dev_loss, dev_params = run(cuda)
    assert dev_loss == pytest.approx(cpu_loss, rel=1e-10)
    for a, b in zip(cpu_params, dev_params):
        np.testing.assert_allclose(b, a, rtol=1e-10, atol=1e-14)


def test_state_dict_follows_the_parameters(cuda):
    """load_state_dict puts saved state on each parameter's device (PyTorch's), from either device."""
    _, _, dev_opt = _train(optim.SGD, dict(lr=0.1, momentum=0.9), cuda)
    _, _, cpu_opt = _train(optim.SGD, dict(lr=0.1, momentum=0.9), None)
    sd = dev_opt.state_dict()
    p = mg.zeros(3, 4, dtype=mg.float64, requires_grad=True)
    host_opt = optim.SGD([p, mg.zeros(4, dtype=mg.float64, requires_grad=True),
                          mg.zeros((), dtype=mg.float64, requires_grad=True)], lr=0.1, momentum=0.9)
    host_opt.load_state_dict(sd)  # device state onto CPU parameters
    buf = host_opt.state[p]["momentum_buffer"]
    assert type(buf) is np.ndarray
    np.testing.assert_allclose(buf, cpu_opt.state[cpu_opt.param_groups[0]["params"][0]]["momentum_buffer"])
    q = mg.zeros(3, 4, dtype=mg.float64, device="cuda", requires_grad=True)
    dev_opt2 = optim.SGD([q, mg.zeros(4, dtype=mg.float64, device="cuda", requires_grad=True),
                          mg.zeros((), dtype=mg.float64, device="cuda", requires_grad=True)], lr=0.1, momentum=0.9)
    dev_opt2.load_state_dict(cpu_opt.state_dict())  # host state onto device parameters
    assert type(dev_opt2.state[q]["momentum_buffer"]) is ndarray


def test_gradient_on_another_device_is_refused(cuda):
    p = mg.zeros(3, dtype=mg.float64, device="cuda", requires_grad=True)
    opt = optim.SGD([p], lr=0.1)
    p._grad = mg.ones(3, dtype=mg.float64)  # behind the setter's back: a host gradient
    with pytest.raises(RuntimeError, match="gradient on cpu"):
        opt.step()


# --- the CUDA backend's fused kernels, compiled for the CPU ---------------------------------------------

class _CompiledKernel:
    """cupy.ElementwiseKernel's calling convention over the kernel's body built for the CPU with g++."""
    # arrays element by element (inputs by value, outputs by reference, updated in place), scalars as they are

    def __init__(self, in_params: str, out_params: str, body: str, name: str, folder: Path, calls: list) -> None:
        self.ins = [p.split()[1] for p in in_params.split(",")]
        self.outs = [p.split()[1] for p in out_params.split(",")]
        self.body, self.name, self.folder, self.calls = body, name, folder, calls
        self.libs: dict = {}

    def __call__(self, *args):
        assert len(args) == len(self.ins) + len(self.outs), f"{self.name}: {len(args)} arguments"
        self.calls.append(self.name)
        arrays = [a._a if type(a) is ndarray else a for a in args]
        dtype = next(a.dtype for a in arrays if isinstance(a, np.ndarray))
        is_array = tuple(isinstance(a, np.ndarray) for a in arrays)
        for a, arr in zip(arrays, is_array):
            if arr:
                assert a.dtype == dtype and a.flags.c_contiguous and a.shape == arrays[0].shape
            else:
                assert type(a) is dtype.type, f"{self.name}: scalar {a!r} is not a {dtype}"
        fn = self._compile(dtype, is_array)
        ctype = ctypes.c_double if dtype == np.float64 else ctypes.c_float
        fn(ctypes.c_long(arrays[0].size), *[ctypes.c_void_p(a.ctypes.data) if arr else ctype(a)
                                            for a, arr in zip(arrays, is_array)])

    def _compile(self, dtype, is_array):
        key = (dtype.str, is_array)
        if key not in self.libs:
            ctype = "double" if dtype == np.float64 else "float"
            names = self.ins + self.outs
            sig, loads = [], []
            for k, (name, arr) in enumerate(zip(names, is_array)):
                out = k >= len(self.ins)
                if arr:
                    sig.append(f"T* _a_{name}")
                    loads.append(f"T& {name} = _a_{name}[i];" if out else f"const T {name} = _a_{name}[i];")
                else:
                    assert not out
                    sig.append(f"const T {name}")
            src = (f"#include <cmath>\nusing std::sqrt;\ntypedef {ctype} T;\n"
                   f"extern \"C\" void run(long n, {', '.join(sig)}) {{\n"
                   f"  for (long i = 0; i < n; ++i) {{\n    {' '.join(loads)}\n{self.body}\n  }}\n}}\n")
            tag = hashlib.sha1(src.encode()).hexdigest()[:16]
            cpp, so = self.folder / f"{tag}.cpp", self.folder / f"{tag}.so"
            cpp.write_text(src)
            subprocess.run(["g++", "-O1", "-ffp-contract=off", "-shared", "-fPIC", "-o", str(so), str(cpp)],
                           check=True, capture_output=True)
            fn = ctypes.CDLL(str(so)).run
            fn.restype = None
            self.libs[key] = fn
        return self.libs[key]


@pytest.fixture
def fused_cuda(cuda, tmp_path):
    """The test device with the CUDA backend's fused kernels, compiled for the CPU; yields the call log."""
    if shutil.which("g++") is None:
        pytest.skip("no C++ compiler to build the fused kernels for the CPU")
    calls: list[str] = []
    devices.cuda_backend().fused = {name: _CompiledKernel(*spec, name, tmp_path, calls)
                                    for name, spec in KERNELS.items()}
    yield calls


FUSED = [c for c in CONFIGS if c[1] in (optim.SGD, optim.Adam, optim.AdamW)]


@pytest.mark.parametrize("cls, opts", [pytest.param(c, o, id=n) for n, c, o in FUSED])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_fused_kernels_match_the_numpy_path(cls, opts, dtype, fused_cuda, cuda):
    cpu_params, cpu_state, _ = _train(cls, opts, None, dtype)
    dev_params, dev_state, _ = _train(cls, opts, cuda, dtype)
    assert len(fused_cuda) == 3 * STEPS, "one kernel call per parameter and step"
    rtol = 1e-13 if dtype == "float64" else 1e-6
    for a, b in zip(cpu_params, dev_params):
        np.testing.assert_allclose(b, a, rtol=rtol, atol=rtol)
    assert sorted(dev_state) == sorted(cpu_state)
    for k, v in cpu_state.items():
        np.testing.assert_allclose(np.asarray(dev_state[k]), np.asarray(v), rtol=rtol, atol=rtol, err_msg=k)


def test_fused_kernels_are_used_by_name(fused_cuda, cuda):
    """Where the backend has no kernel for an optimizer (Adagrad), the NumPy-dispatching path runs."""
    _train(optim.Adagrad, dict(lr=0.1), cuda)
    assert fused_cuda == []
    _train(optim.SGD, dict(lr=0.1), cuda)
    assert set(fused_cuda) == {"sgd_plain"}


def test_clip_grad_on_the_test_device(cuda):
    def run(dev):
        ps = [mg.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True), mg.tensor([3.0, -4.0], requires_grad=True)]
        if dev is not None:
            ps = [p.to(dev).detach().requires_grad_() for p in ps]
        for p in ps:
            p.grad = (p.detach() * 2)
        norm = mg.nn.utils.clip_grad_norm_(ps, 1.0)
        assert norm.device == ps[0].device
        mg.nn.utils.clip_grad_value_(ps, 0.1)
        return norm.item(), [p.grad.cpu().numpy() for p in ps]

    (n0, g0), (n1, g1) = run(None), run(cuda)
    assert n1 == pytest.approx(n0, rel=1e-12)
    for a, b in zip(g0, g1):
        np.testing.assert_allclose(b, a, rtol=1e-12)
