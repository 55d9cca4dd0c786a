"""matgrad.version, matgrad.cpu and matgrad.accelerator: torch.version, torch.cpu and torch.accelerator, checked
against torch's CPU build where torch is installed, and on the CuPy-like test device (the `cuda` fixture)."""
from __future__ import annotations

import numpy as np
import pytest

import matgrad as mg


def _torch():
    return pytest.importorskip("torch")


# --- version ----------------------------------------------------------------------------------------------------

def test_version_module():
    v = mg.version
    assert v.__version__ == mg.__version__
    assert (v.hip, v.rocm, v.xpu, v.git_version, v.debug) == (None, None, None, "unknown", False)
    assert v.cuda is None or (mg.cuda.is_available() and isinstance(v.cuda, str))
    if not mg.cuda.is_available():
        assert v.cuda is None
    from matgrad.version import cuda, debug  # noqa: F401 - the lazy attribute is importable by name

    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        v.nope  # noqa: B018
    torch = _torch()
    assert {"__version__", "cuda", "hip", "git_version", "debug"} <= set(dir(torch.version))
    assert type(torch.version.debug) is type(v.debug)


def test_version_cuda_is_none_on_a_device_that_is_not_cupy(cuda):
    assert mg.cuda.is_available() and mg.version.cuda is None


# --- cpu --------------------------------------------------------------------------------------------------------

def test_cpu_functions_match_torch():
    c = mg.cpu
    got = (c.is_available(), c.is_initialized(), c.device_count(), c.current_device(), c.synchronize(),
           c.synchronize("cuda"), c.set_device("cpu"))
    assert got == (True, True, 1, "cpu", None, None, None)
    torch = _torch()
    t = torch.cpu
    assert got == (t.is_available(), t.is_initialized(), t.device_count(), t.current_device(), t.synchronize(),
                   t.synchronize("cuda"), t.set_device("cpu"))
    assert set(t.__all__) - {"get_capabilities"} <= set(dir(c))


def test_cpu_streams_and_events_are_no_ops_that_select():
    c = mg.cpu
    default = c.current_stream()
    assert isinstance(default, c.Stream) and c.current_stream("cpu") is default
    s = c.Stream(priority=0)
    assert (s.wait_stream(default), s.record_event(), s.wait_event(c.Event())) == (None, None, None)
    e = c.Event()
    assert e.query() is True and (e.record(), e.synchronize(), e.wait(s)) == (None, None, None)
    with c.stream(s):
        assert c.current_stream() is s
        with c.StreamContext(None):  # None leaves the selection as it is
            assert c.current_stream() is s
    assert c.current_stream() is default
    with pytest.raises(ValueError), c.stream(s):
        raise ValueError("restored even so")
    assert c.current_stream() is default


def test_cpu_amp_autocast_is_the_deprecated_cpu_autocast():
    with pytest.warns(FutureWarning, match=r"matgrad.cpu.amp.autocast\(args...\)` is deprecated"):
        ac = mg.cpu.amp.autocast(dtype=mg.float16)
    assert isinstance(ac, mg.amp.autocast) and ac.device == "cpu" and ac.fast_dtype == mg.float16
    w = mg.ones(3, 4)
    with ac:
        assert mg.is_autocast_enabled("cpu") and mg.get_autocast_dtype("cpu") == mg.float16
        assert mg.nn.functional.linear(mg.ones(2, 4), w).dtype == mg.float16
    assert not mg.is_autocast_enabled("cpu")
    with pytest.warns(FutureWarning), pytest.raises(RuntimeError, match="bfloat16"):
        mg.cpu.amp.autocast()  # torch's CPU default is bfloat16, which matgrad lacks
    with pytest.warns(FutureWarning):
        off = mg.cpu.amp.autocast(enabled=False)
    with off:
        assert not mg.is_autocast_enabled("cpu")
    from matgrad.cpu.amp import autocast  # noqa: F401 - torch's import path works
    torch = _torch()
    with pytest.warns(FutureWarning, match=r"torch.cpu.amp.autocast\(args...\)` is deprecated"):
        torch.cpu.amp.autocast()


def test_cpu_amp_grad_scaler_is_deprecated():
    with pytest.warns(FutureWarning, match=r"matgrad.cpu.amp.GradScaler\(args...\)` is deprecated"):
        scaler = mg.cpu.amp.GradScaler(init_scale=4.0)
    assert isinstance(scaler, mg.amp.GradScaler) and scaler.get_scale() == 4.0
    torch = _torch()
    with pytest.warns(FutureWarning, match="torch.cpu.amp.GradScaler"):
        torch.cpu.amp.GradScaler()


# --- accelerator ------------------------------------------------------------------------------------------------

def test_accelerator_without_one_matches_torchs_cpu_build():
    if mg.cuda.is_available():
        pytest.skip("a GPU is there: see the test device test")
    a = mg.accelerator
    got = (a.is_available(), a.current_accelerator(), a.current_accelerator(check_available=True), a.device_count())
    assert got == (False, None, None, 0)
    for call in (a.current_device_index, lambda: a.set_device_index(0), a.synchronize):
        with pytest.raises(RuntimeError, match="Cannot access accelerator device when none is available"):
            call()
    torch = _torch()
    if torch.accelerator.is_available():
        return
    t = torch.accelerator
    assert got == (t.is_available(), t.current_accelerator(), t.current_accelerator(check_available=True),
                   t.device_count())
    for call in (t.current_device_index, lambda: t.set_device_index(0), t.synchronize):
        with pytest.raises(RuntimeError, match="Cannot access accelerator device when none is available"):
            call()


def test_accelerator_on_the_test_device(cuda):
    a = mg.accelerator
    assert a.is_available() and a.device_count() == mg.cuda.device_count() == 1
    assert a.current_accelerator() == mg.device("cuda") and a.current_accelerator(True).type == "cuda"
    assert a.current_device_index() == 0
    a.set_device_index(0)
    a.set_device_index(-1)  # does nothing, as torch's
    a.set_device_index(mg.device("cuda", 0))
    assert a.current_device_index() == 0
    a.synchronize()
    a.synchronize("cuda:0")
    dev = a.current_accelerator() or mg.device("cpu")  # the portable line
    x = mg.tensor(np.arange(3.0)).to(dev)
    assert x.device.type == "cuda"
    np.testing.assert_array_equal(x.cpu().numpy(), np.arange(3.0))


def test_device_modules_by_type_name():
    """`getattr(matgrad, device.type)` is matgrad.cpu or matgrad.cuda, as torch's device-agnostic code uses."""
    for kind, module in (("cpu", mg.cpu), ("cuda", mg.cuda)):
        assert getattr(mg, mg.device(kind).type) is module
