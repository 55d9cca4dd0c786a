"""matgrad.autocast against torch.autocast("cpu", dtype=float16): a small model's outputs have
torch's dtypes and values (to float16's rounding), its gradients torch's dtypes; the context
manager, decorator, nesting and enabled=False; the CPU-without-dtype error (matgrad has no
bfloat16); CUDA's lists on the CuPy-like test device; and nothing changes with autocast off."""
from __future__ import annotations

import contextlib
import threading
import warnings

import numpy as np
import pytest

import matgrad as mg
from matgrad import _autocast, nn
from matgrad.nn import functional as F

F16 = dict(dtype=mg.float16)



@pytest.fixture(autouse=True)
def _no_autocast_left():
    yield
    assert not _autocast.on and not mg.is_autocast_enabled("cpu") and not mg.is_autocast_enabled("cuda")


def _data():
    rng = np.random.default_rng(0)
    return dict(x=rng.standard_normal((4, 2, 6, 6)).astype(np.float32),
                k=(rng.standard_normal((3, 2, 3, 3)) * 0.3).astype(np.float32),
                w=(rng.standard_normal((5, 27)) * 0.2).astype(np.float32),
                b=rng.standard_normal(5).astype(np.float32), t=np.array([0, 1, 4, 2]))


def _model(lib, Fn, region, d):
    """conv2d → relu → max_pool → linear → softmax / log_softmax / cross_entropy; outputs and grads."""
    K, W, B = (lib.tensor(d[n], requires_grad=True) for n in ("k", "w", "b"))
    with region:
        h = Fn.conv2d(lib.tensor(d["x"]), K, padding=1)
        z = Fn.linear(Fn.max_pool2d(Fn.relu(h), 2).reshape(4, -1), W, B)
        s, ls = Fn.softmax(z, -1), Fn.log_softmax(z, -1)
        loss = Fn.cross_entropy(z, lib.tensor(d["t"]))
        mse = Fn.mse_loss(z, lib.zeros(4, 5))
    (loss + mse).backward()
    return [a.detach().numpy() for a in (h, z, s, ls, loss, mse, K.grad, W.grad, B.grad)]


def _close_to_half_rounding(got: np.ndarray, want: np.ndarray) -> None:
    """Equal to a few float16 steps (2⁻¹⁰ relative) of the largest value: the order of sums differs."""
    np.testing.assert_allclose(got.astype(np.float64), want.astype(np.float64), rtol=0,
                               atol=4e-3 * max(1.0, float(np.abs(want).max())))


def test_small_model_matches_torch_cpu_autocast_float16():
    torch = pytest.importorskip("torch")
    d = _data()
    got = _model(mg, F, mg.autocast("cpu", dtype=mg.float16), d)
    want = _model(torch, torch.nn.functional, torch.autocast("cpu", dtype=torch.float16), d)
    # conv, linear: float16; softmax, log_softmax: float16 too (torch's CPU list leaves them alone);
    # cross_entropy, mse_loss: float32; the gradients reach the float32 parameters in float32
    assert [g.dtype for g in got] == [w.dtype for w in want]
    assert [str(g.dtype) for g in got] == ["float16"] * 4 + ["float32"] * 5
    for g, w in zip(got, want):
        _close_to_half_rounding(g, w)


def test_lists_on_cpu_match_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((2, 3, 4)).astype(np.float32), rng.standard_normal((2, 4, 3)).astype(np.float32)
    m = rng.standard_normal((3, 3)).astype(np.float32)
    img, k1 = rng.standard_normal((1, 2, 8)).astype(np.float32), rng.standard_normal((3, 2, 3)).astype(np.float32)
    vol, k3 = rng.standard_normal((1, 2, 3, 4, 4)).astype(np.float32), rng.standard_normal((2, 2, 1, 2, 2)).astype(
        np.float32)
    p = rng.uniform(0.1, 0.9, (3, 3)).astype(np.float32)
    cases = {
        "matmul": lambda L, Fn, t: t(a) @ t(b),
        "mm": lambda L, Fn, t: L.mm(t(a[0]), t(b[0])),
        "bmm": lambda L, Fn, t: L.bmm(t(a), t(b)),
        "addmm": lambda L, Fn, t: L.addmm(t(m), t(a[0]), t(b[0])),
        "baddbmm": lambda L, Fn, t: L.baddbmm(t(m), t(a), t(b)),
        "addbmm": lambda L, Fn, t: L.addbmm(t(m), t(a), t(b)),
        "conv1d": lambda L, Fn, t: Fn.conv1d(t(img), t(k1)),
        "conv_transpose1d": lambda L, Fn, t: Fn.conv_transpose1d(t(img), t(k1).transpose(0, 1)),
        "conv3d": lambda L, Fn, t: Fn.conv3d(t(vol), t(k3)),
        "conv_transpose3d": lambda L, Fn, t: Fn.conv_transpose3d(t(vol), t(k3)),
        "sdpa": lambda L, Fn, t: Fn.scaled_dot_product_attention(t(a), t(a), t(a)),
        "prelu": lambda L, Fn, t: Fn.prelu(t(a), t(m[0])),
        "dot (not listed)": lambda L, Fn, t: L.dot(t(m[0]), t(m[1])),
        "vdot (not listed)": lambda L, Fn, t: L.vdot(t(m[0]), t(m[1])),
        "mv (CUDA's list only)": lambda L, Fn, t: L.mv(t(m), t(m[0])),
        "addmv (CUDA's list only)": lambda L, Fn, t: L.addmv(t(m[1]), t(m), t(m[0])),
        "addr (CUDA's list only)": lambda L, Fn, t: L.addr(t(m), t(m[0]), t(m[1])),
        "tensordot (through mm)": lambda L, Fn, t: L.tensordot(t(a[0]), t(b[0]), 1),
        "layer_norm": lambda L, Fn, t: Fn.layer_norm(t(a).half(), (4,)),
        "group_norm": lambda L, Fn, t: Fn.group_norm(t(a).half(), 1),
        "l1_loss": lambda L, Fn, t: Fn.l1_loss(t(m).half(), t(p)),
        "smooth_l1_loss": lambda L, Fn, t: Fn.smooth_l1_loss(t(m).half(), t(p)),
        "huber_loss": lambda L, Fn, t: Fn.huber_loss(t(m).half(), t(p)),
        "kl_div": lambda L, Fn, t: Fn.kl_div(t(m).half(), t(p), reduction="batchmean"),
        "nll_loss": lambda L, Fn, t: Fn.nll_loss(t(m).half(), L.tensor([0, 2, 1])),
        "bce": lambda L, Fn, t: Fn.binary_cross_entropy(t(p).half(), t(p)),
        "bce_with_logits": lambda L, Fn, t: Fn.binary_cross_entropy_with_logits(t(m).half(), t(p)),
        "add (not listed)": lambda L, Fn, t: t(m).half() + t(m),
        "relu (not listed)": lambda L, Fn, t: Fn.relu(t(m).half()),
        "float64 linear": lambda L, Fn, t: Fn.linear(t(m).double(), t(m).double()),
        "softmax with dtype": lambda L, Fn, t: Fn.softmax(t(m).half(), -1, dtype=L.float32),
    }
    for name, fn in cases.items():
        with mg.autocast("cpu", dtype=mg.float16):
            got = fn(mg, F, mg.tensor)
        with torch.autocast("cpu", dtype=torch.float16):
            want = fn(torch, torch.nn.functional, torch.tensor)
        assert str(got.dtype).split(".")[-1] == str(want.dtype).split(".")[-1], name
        _close_to_half_rounding(got.detach().numpy(), want.detach().numpy())


@pytest.mark.parametrize("name, shape, dtype", [
    ("RNNCell", (5, 4), mg.float16), ("LSTMCell", (5, 4), mg.float32), ("GRUCell", (5, 4), mg.float32),
    ("RNN", (6, 2, 4), mg.float16), ("GRU", (6, 2, 4), mg.float32),
])
def test_recurrent_layers_match_torch_cpu_autocast(name, shape, dtype):
    """Their gate products are linear layers under CPU autocast: RNNCell's and nn.RNN's h in float16; LSTMCell's c
    and the GRU's h mix in the float32 state, so float32, as in torch."""
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    want_mod, got_mod = getattr(torch.nn, name)(4, 3), getattr(nn, name)(4, 3)
    with mg.no_grad():
        for key, p in want_mod.named_parameters():
            getattr(got_mod, key).copy_(mg.tensor(p.detach().numpy()))
    x = np.random.default_rng(2).standard_normal(shape).astype(np.float32)
    with torch.autocast("cpu", dtype=torch.float16):
        want = want_mod(torch.tensor(x))
    with mg.autocast("cpu", dtype=mg.float16):
        got = got_mod(mg.tensor(x))
    if len(shape) == 3:  # a sequence module: (output, h_n)
        want, got = want[0], got[0]
    want, got = (want, got) if isinstance(want, tuple) else ((want,), (got,))
    for g, w in zip(got, want):
        assert str(g.dtype).split(".")[-1] == str(w.dtype).split(".")[-1]
        _close_to_half_rounding(g.detach().numpy(), w.detach().numpy())
    assert got[0].dtype == dtype


def test_nn_modules_are_autocast():
    torch = pytest.importorskip("torch")
    mg.manual_seed(0)
    conv, lin = nn.Conv2d(2, 3, 3), nn.Linear(12, 4)
    tconv, tlin = torch.nn.Conv2d(2, 3, 3), torch.nn.Linear(12, 4)
    with torch.no_grad():
        for src, dst in ((conv, tconv), (lin, tlin)):
            for (_, ps), (_, pd) in zip(src.named_parameters(), dst.named_parameters()):
                pd.copy_(torch.tensor(ps.detach().numpy()))
    x = np.random.default_rng(2).standard_normal((2, 2, 4, 4)).astype(np.float32)
    with mg.autocast("cpu", dtype=mg.float16):
        h = conv(mg.tensor(x))
        z = nn.ReLU()(lin(h.reshape(2, -1)))
        loss = nn.CrossEntropyLoss()(z, mg.tensor([1, 3]))
    with torch.autocast("cpu", dtype=torch.float16):
        th = tconv(torch.tensor(x))
        tz = torch.nn.ReLU()(tlin(th.reshape(2, -1)))
        tloss = torch.nn.CrossEntropyLoss()(tz, torch.tensor([1, 3]))
    loss.backward()
    tloss.backward()
    assert (h.dtype, z.dtype, loss.dtype) == (mg.float16, mg.float16, mg.float32)
    assert (th.dtype, tz.dtype, tloss.dtype) == (torch.float16, torch.float16, torch.float32)
    for m_, t_ in ((conv, tconv), (lin, tlin)):
        for (_, pm), (_, pt) in zip(m_.named_parameters(), t_.named_parameters()):
            assert pm.grad.dtype == mg.float32 and pt.grad.dtype == torch.float32
            _close_to_half_rounding(pm.grad.numpy(), pt.grad.numpy())


def test_cast_is_differentiable_and_float64_is_left_alone():
    w = mg.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    with mg.autocast("cpu", dtype=mg.float16):
        y = F.linear(mg.tensor([[1.0, -1.0]]), w)
    assert y.dtype == mg.float16
    y.sum().backward()
    assert w.grad.dtype == mg.float32  # back through the recorded cast, as torch's
    np.testing.assert_array_equal(w.grad.numpy(), [[1.0, -1.0], [1.0, -1.0]])
    # float64 inputs are not eligible (torch's rule): exact float64 gradients, finite differences agree
    rng = np.random.default_rng(3)
    x, wt, b = (mg.tensor(rng.standard_normal(s), dtype=mg.float64, requires_grad=True)
                for s in ((2, 3, 4), (5, 4), (5,)))
    with mg.autocast("cpu", dtype=mg.float16):
        assert mg.autograd.gradcheck(lambda *a: F.softmax(F.linear(*a), -1), (x, wt, b))
        assert F.cross_entropy(F.linear(x, wt, b)[:, 0], mg.tensor([1, 2])).dtype == mg.float64


def test_off_changes_nothing():
    d = _data()
    before = _model(mg, F, mg.autocast("cpu", dtype=mg.float16, enabled=False), d)
    with mg.autocast("cpu", dtype=mg.float16):
        pass
    after = _model(mg, F, mg.autocast("cpu", dtype=mg.float16, enabled=False), d)
    plain = _model(mg, F, contextlib.nullcontext(), d)
    for a, b, c in zip(before, after, plain):
        assert a.dtype == np.float32
        np.testing.assert_array_equal(a, c)
        np.testing.assert_array_equal(b, c)


def test_state_nesting_and_decorator():
    assert not mg.is_autocast_enabled() and mg.get_autocast_dtype("cuda") == mg.float16
    assert mg.get_autocast_dtype("cpu") is None  # torch: bfloat16, which matgrad lacks
    x = mg.ones(2, 2)
    with mg.autocast("cpu", dtype=mg.float16) as region:
        assert isinstance(region, mg.autocast) and _autocast.on
        assert mg.is_autocast_enabled("cpu") and not mg.is_autocast_enabled()  # no argument: CUDA's, as torch
        assert mg.get_autocast_dtype("cpu") == mg.float16
        with mg.autocast("cpu", enabled=False):  # the dtype carries over, as torch's
            assert not mg.is_autocast_enabled("cpu") and mg.get_autocast_dtype("cpu") == mg.float16
            assert (x @ x).dtype == mg.float32
        with mg.autocast("cpu"):  # nested without a dtype: the enclosing region's
            assert (x @ x).dtype == mg.float16
        assert (x @ x).dtype == mg.float16
    assert mg.get_autocast_dtype("cpu") is None and (x @ x).dtype == mg.float32

    @mg.autocast("cpu", dtype=mg.float16)
    def forward(a):
        """Doc kept."""
        return a @ a

    assert forward(x).dtype == mg.float16 and forward.__doc__ == "Doc kept." and not _autocast.on
    with pytest.raises(ZeroDivisionError):
        with mg.autocast("cpu", dtype=mg.float16):
            raise ZeroDivisionError  # the region is left, and its state restored, on an exception
    assert mg.amp.autocast is mg.autocast and mg.amp.is_autocast_available("cpu")
    assert not mg.amp.is_autocast_available("xla")


def test_errors_and_warnings():
    with pytest.raises(RuntimeError, match=r"dtype=matgrad.float16"):
        mg.autocast("cpu")
    mg.autocast("cpu", enabled=False)  # fine: nothing to cast to
    with pytest.raises(ValueError, match="device_type"):
        mg.autocast(0)
    with pytest.raises(RuntimeError, match="unsupported autocast device_type 'xla'"):
        mg.autocast("xla")
    with pytest.raises(TypeError, match="requires a callable"):
        mg.autocast("cpu", dtype=mg.float16)(3)
    with pytest.raises(RuntimeError, match="expected a device type"):
        mg.is_autocast_enabled("tpu")
    with pytest.warns(UserWarning, match="CPU autocast, but the target dtype is not supported"):
        region = mg.autocast("cpu", dtype=mg.float32)
    with region:
        assert not mg.is_autocast_enabled("cpu")
    if not mg.cuda.is_available():
        with pytest.warns(UserWarning, match="CUDA is not available. Disabling autocast"):
            assert not mg.autocast("cuda")._enabled
        with pytest.warns(FutureWarning, match=r"matgrad.cuda.amp.autocast\(args...\)` is deprecated"):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                from matgrad.cuda.amp import autocast as old

                region = old()
        assert isinstance(region, mg.autocast) and region.device == "cuda" and region.fast_dtype == mg.float16


def test_state_is_per_thread():
    seen = []
    with mg.autocast("cpu", dtype=mg.float16):
        t = threading.Thread(target=lambda: seen.append((mg.is_autocast_enabled("cpu"),
                                                         (mg.ones(2, 2) @ mg.ones(2, 2)).dtype)))
        t.start()
        t.join()
    assert seen == [(False, mg.float32)]


def test_cuda_lists_on_the_test_device(cuda):
    x = mg.tensor(np.random.default_rng(4).standard_normal((3, 4)).astype(np.float32)).to(cuda)
    w = mg.tensor(np.ones((2, 4), np.float32), requires_grad=True).to(cuda).detach().requires_grad_()
    cpu = mg.ones(2, 2)
    with mg.autocast("cuda"):  # float16 by default on CUDA
        assert mg.is_autocast_enabled() and not mg.is_autocast_enabled("cpu")
        z = F.linear(x, w)
        s = F.softmax(z, -1)  # on CUDA's float32 list (not on the CPU's)
        ln = F.layer_norm(z, (2,))
        assert (cpu @ cpu).dtype == mg.float32  # a CPU tensor in a CUDA region is not cast
        v = x[0]
        lowered = (mg.mv(x.T, x[:, 0]), mg.addmv(v, x.T @ x, v), mg.addr(x.T @ x, v, v))  # on CUDA's list only
        assert [t.dtype for t in lowered] == [mg.float16] * 3
        assert mg.dot(v, v).dtype == mg.vdot(v, v).dtype == mg.float32  # on neither list
        hc = nn.LSTMCell(4, 3).to(cuda)(x)  # CUDA autocast casts every argument of lstm_cell, its state too
        assert [t.dtype for t in hc] == [mg.float16] * 2
        with pytest.raises(RuntimeError, match="unsafe to autocast"):
            F.binary_cross_entropy(s, s.detach())
    assert (z.dtype, s.dtype, ln.dtype) == (mg.float16, mg.float32, mg.float32)
    assert z.device == cuda and s.device == cuda
    s.sum().backward()
    assert w.grad.dtype == mg.float32 and w.grad.device == cuda
    with pytest.warns(FutureWarning):
        with mg.cuda.amp.autocast():
            assert (x @ x.T).dtype == mg.float16
