"""matgrad.amp.custom_fwd / custom_bwd against torch.amp's under CPU float16 autocast: the same autograd.Function
written for both libraries gives the same output dtypes and values, sees the same autocast state in forward and
in backward, and gives the same gradients; cast_inputs' casting rules (float64, integers, other containers);
outside autocast nothing changes (a float64 gradcheck); the deprecated matgrad.cuda.amp spellings warn as
torch's; and the errors."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import matgrad as mg
from matgrad import _autocast
from tests.helpers import assert_close


@pytest.fixture(autouse=True)
def _no_autocast_left():
    yield
    assert not _autocast.on and not mg.is_autocast_enabled("cpu")


def _functions(lib, cast_inputs):
    """A matmul Function in lib (matgrad or torch) whose forward and backward note the autocast state they see."""
    seen = {}

    class MatMul(lib.autograd.Function):
        @staticmethod
        @lib.amp.custom_fwd(device_type="cpu", cast_inputs=cast_inputs)
        def forward(ctx, a, b):
            ctx.save_for_backward(a, b)
            seen["fwd"] = (lib.is_autocast_enabled("cpu"), str(a.dtype).split(".")[-1], str(b.dtype).split(".")[-1])
            return a.mm(b)

        @staticmethod
        @lib.amp.custom_bwd(device_type="cpu")
        def backward(ctx, grad):
            a, b = ctx.saved_tensors
            ga, gb = grad.mm(b.t()), a.t().mm(grad)
            seen["bwd"] = (lib.is_autocast_enabled("cpu"), str(lib.get_autocast_dtype("cpu")).split(".")[-1],
                           str(ga.dtype).split(".")[-1])
            return ga, gb

    return MatMul, seen


def _run(lib, cast_inputs, half_input, region=True):
    rng = np.random.default_rng(0)
    a = lib.tensor(rng.standard_normal((3, 4)).astype(np.float32), requires_grad=True)
    b = lib.tensor(rng.standard_normal((4, 2)).astype(np.float32), requires_grad=True)
    fn, seen = _functions(lib, cast_inputs)
    if region:
        with lib.autocast("cpu", dtype=lib.float16):
            y = fn.apply(a.half() if half_input else a, b)
    else:
        y = fn.apply(a.half() if half_input else a, b)
    y.float().sum().backward()
    return dict(y=y.detach().float().numpy(), y_dtype=str(y.dtype).split(".")[-1], seen=seen,
                grads=[a.grad.numpy(), b.grad.numpy()], grad_dtypes=[str(a.grad.dtype), str(b.grad.dtype)])


@pytest.mark.parametrize("cast_inputs, half_input, region", [
    (None, False, True),          # forward's ops autocast to float16; backward under autocast too
    ("float32", True, True),      # inputs cast to float32, forward and backward outside autocast
    ("float32", False, False),    # outside a region: a no-op
    (None, False, False),
])
def test_same_as_torch(cast_inputs, half_input, region):
    torch = pytest.importorskip("torch")
    got = _run(mg, None if cast_inputs is None else getattr(mg, cast_inputs), half_input, region)
    want = _run(torch, None if cast_inputs is None else getattr(torch, cast_inputs), half_input, region)
    assert got["y_dtype"] == want["y_dtype"]
    assert got["seen"]["fwd"] == want["seen"]["fwd"]
    # backward's autocast state; its dtype only where autocast is on (torch's CPU default is bfloat16,
    # which matgrad has not: its default is None)
    g, w = got["seen"]["bwd"], want["seen"]["bwd"]
    assert (g[0], g[2]) == (w[0], w[2]) and (not g[0] or g[1] == w[1])
    assert [d.split(".")[-1] for d in got["grad_dtypes"]] == [d.split(".")[-1] for d in want["grad_dtypes"]]
    # float16 steps (the mm under autocast, the half input) round to ~1e-3 of the values
    rtol = 2e-3 if "float16" in (got["y_dtype"], got["seen"]["fwd"][1]) else 1e-5
    assert_close(got["y"], want["y"], rtol=rtol)
    for g, w in zip(got["grads"], want["grads"]):
        assert_close(g, w, rtol=rtol)


def test_state_seen_in_backward_is_forwards():
    got = _run(mg, None, False)
    assert got["seen"] == {"fwd": (True, "float32", "float32"), "bwd": (True, "float16", "float16")}
    assert got["y_dtype"] == "float16"
    cast = _run(mg, mg.float32, True)
    assert cast["seen"] == {"fwd": (False, "float32", "float32"), "bwd": (False, "float16", "float32")}


def test_cast_inputs_rules_are_torchs():
    """Floating tensors on the device type are cast (through lists, tuples and dicts); float64 and integer
    tensors, NumPy arrays and strings are left alone."""
    torch = pytest.importorskip("torch")

    def dtypes(lib):
        seen = {}

        def name(dtype):
            return str(dtype).split(".")[-1]  # torch.float16, matgrad.float16 and NumPy's float32 alike

        class Probe(lib.autograd.Function):
            @staticmethod
            @lib.amp.custom_fwd(device_type="cpu", cast_inputs=lib.float16)
            def forward(ctx, x, pair, table, text, arr):
                seen.update(x=name(x.dtype), pair=[name(p.dtype) for p in pair], pair_type=type(pair).__name__,
                            table={k: name(v.dtype) for k, v in table.items()}, text=text, arr=name(arr.dtype))
                return x * 1

            @staticmethod
            def backward(ctx, g):
                return g, None, None, None, None

        with lib.autocast("cpu", dtype=lib.float16):
            Probe.apply(lib.ones(2), (lib.ones(2, dtype=lib.float64), lib.ones(2, dtype=lib.int64)),
                        {"w": lib.ones(2)}, "text", np.ones(2, np.float32))
        return seen

    got, want = dtypes(mg), dtypes(torch)
    assert got == want
    assert got == {"x": "float16", "pair": ["float64", "int64"], "pair_type": "tuple", "table": {"w": "float16"},
                   "text": "text", "arr": "float32"}


def test_keyword_arguments_are_cast_too():
    seen = {}

    class Scale(mg.autograd.Function):
        @staticmethod
        @mg.amp.custom_fwd(device_type="cpu", cast_inputs=mg.float16)
        def forward(ctx, x, *, factor):
            seen["factor"] = factor.dtype
            return x * factor

        @staticmethod
        def backward(ctx, g):
            return g

    with mg.autocast("cpu", dtype=mg.float16):
        assert Scale.apply(mg.ones(2), factor=mg.tensor(2.0)).dtype == mg.float16
    assert seen["factor"] == mg.float16


def test_no_region_changes_nothing_gradcheck():
    fn, _ = _functions(mg, mg.float32)
    rng = np.random.default_rng(1)
    a = mg.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    b = mg.tensor(rng.standard_normal((4, 2)), requires_grad=True)
    assert fn.apply(a, b).dtype == mg.float64
    assert mg.gradcheck(fn.apply, (a, b))


def test_decorator_forms_and_errors():
    torch = pytest.importorskip("torch")
    with pytest.raises(ValueError) as want:
        torch.amp.custom_fwd(device_type=None)
    with pytest.raises(ValueError) as got:
        mg.amp.custom_fwd(device_type=None)
    assert str(got.value).replace("matgrad", "torch") == str(want.value).replace("matgrad", "torch")
    with pytest.raises(ValueError, match="device_type"):
        mg.amp.custom_bwd(device_type=1)
    with pytest.raises(TypeError, match="device_type"):
        mg.amp.custom_fwd(lambda ctx: None)           # device_type is keyword-only and required, as torch's

    class NoFwdState(mg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        @mg.amp.custom_bwd(device_type="cpu")
        def backward(ctx, g):
            return g * 2

    with pytest.raises(AttributeError, match="custom_fwd"):
        NoFwdState.apply(mg.ones(2, requires_grad=True)).sum().backward()

    class NewStyle(mg.autograd.Function):
        @staticmethod
        @mg.amp.custom_fwd(device_type="cpu")
        def forward(x):
            return x * 2

        @staticmethod
        def setup_context(ctx, inputs, output):
            pass

        @staticmethod
        def backward(ctx, g):
            return g * 2

    with pytest.raises(TypeError, match="forward\\(ctx"):
        NewStyle.apply(mg.ones(2))
    assert set(torch.amp.__all__) <= set(mg.amp.__all__)


def test_deprecated_cuda_spellings_warn_as_torchs():
    torch = pytest.importorskip("torch")
    from matgrad.cuda import amp as cuda_amp

    for lib_amp, name in ((torch.cuda.amp, "torch"), (cuda_amp, "matgrad")):
        with pytest.warns(FutureWarning, match=rf"`{name}.cuda.amp.custom_fwd\(args...\)` is deprecated"):
            fwd = lib_amp.custom_fwd(cast_inputs=(torch if name == "torch" else mg).float32)
        with pytest.warns(FutureWarning, match=rf"`{name}.cuda.amp.custom_bwd\(args...\)` is deprecated"):
            bwd = lib_amp.custom_bwd(lambda ctx, g: g)
        assert callable(fwd) and callable(bwd)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)

        class Double(mg.autograd.Function):
            @staticmethod
            @cuda_amp.custom_fwd
            def forward(ctx, x):
                return x * 2

            @staticmethod
            @cuda_amp.custom_bwd
            def backward(ctx, g):
                return g * 2

    x = mg.ones(3, requires_grad=True)
    Double.apply(x).sum().backward()                   # no CUDA region here: plain forward and backward
    assert x.grad.tolist() == [2.0, 2.0, 2.0]
