"""The device API (matgrad.device, matgrad.cuda): PyTorch's semantics on a CPU-only build.

Cross-checked against torch.device where PyTorch is installed. Asking for CUDA must always be
a RuntimeError saying no CUDA device is available and how to install the GPU extra, never a
TypeError about dtypes.
"""
from __future__ import annotations

import copy
import pickle
import sys

import numpy as np
import pytest

from matgrad import cuda
from matgrad.devices import (
    CPU,
    check_available,
    cuda_device,
    device,
    is_device_like,
    no_cuda_message,
    parse_to_args,
    resolve,
)

try:
    import torch
except ImportError:
    torch = None

NO_CUDA = "no CUDA device is available"
EXTRA = 'pip install "matgrad[cuda]"'

# The module itself (matgrad.device is the class, as torch.device).
device_module = sys.modules["matgrad.devices"]


def assert_no_cuda(excinfo: pytest.ExceptionInfo) -> None:
    assert excinfo.type is RuntimeError
    msg = str(excinfo.value)
    assert NO_CUDA in msg and EXTRA in msg and "CuPy" in msg


# --- construction, attributes, printing ---------------------------------------------------------

GOOD = [
    (("cpu",), "cpu", None, "cpu", "device(type='cpu')"),
    (("cuda",), "cuda", None, "cuda", "device(type='cuda')"),
    (("cuda:0",), "cuda", 0, "cuda:0", "device(type='cuda', index=0)"),
    (("cuda:12",), "cuda", 12, "cuda:12", "device(type='cuda', index=12)"),
    (("cuda", 1), "cuda", 1, "cuda:1", "device(type='cuda', index=1)"),
    (("cpu:0",), "cpu", 0, "cpu:0", "device(type='cpu', index=0)"),
    (("cpu", None), "cpu", None, "cpu", "device(type='cpu')"),
    (("cuda", np.int64(2)), "cuda", 2, "cuda:2", "device(type='cuda', index=2)"),
]


@pytest.mark.parametrize("args, type_, index, text, rep", GOOD)
def test_construction_attributes_and_printing(args, type_, index, text, rep):
    d = device(*args)
    assert (d.type, d.index, str(d), repr(d), f"{d}") == (type_, index, text, rep, text)
    assert device(d) == d and device(d) is not d
    if torch is not None:
        t = torch.device(*[int(a) if isinstance(a, np.integer) else a for a in args])
        assert (t.type, t.index, str(t), repr(t)) == (type_, index, text, rep)


def test_keywords_and_copying():
    assert device(type="cuda", index=3) == device("cuda:3")
    d = device("cuda:1")
    assert pickle.loads(pickle.dumps(d)) == d
    assert copy.copy(d) is d and copy.deepcopy({"d": d})["d"] == d
    with pytest.raises(AttributeError, match="not writable"):
        d.type = "cpu"
    with pytest.raises(AttributeError, match="not writable"):
        d.index = 0


# --- equality and hashing, as PyTorch ----------------------------------------------------------

PAIRS = [("cpu", "cpu"), ("cpu", "cpu:0"), ("cuda", "cuda:0"), ("cuda:0", "cuda:0"), ("cuda:0", "cuda:1"),
         ("cpu", "cuda")]


@pytest.mark.parametrize("a, b", PAIRS)
def test_equality_between_devices(a, b):
    expected = (a == b)  # the same string, the same device; 'cuda' is not 'cuda:0', as in PyTorch
    assert (device(a) == device(b)) is expected and (device(a) != device(b)) is (not expected)
    assert (hash(device(a)) == hash(device(b))) or not expected
    if torch is not None:
        assert (torch.device(a) == torch.device(b)) is expected


@pytest.mark.parametrize("other", ["cpu", "cuda", "cuda:0", 0, None, 1.5])
def test_a_device_never_equals_a_string_or_number(other):
    """PyTorch: torch.device('cpu') == 'cpu' is False (compare d.type == 'cpu' instead)."""
    d = device("cuda:0") if other == "cuda:0" else device("cpu")
    assert (d == other) is False and (other == d) is False and (d != other) is True
    if torch is not None and other in ("cpu", "cuda:0"):
        assert (torch.device(str(d)) == other) is False


def test_hashable_as_dict_keys_and_in_sets():
    table = {device("cpu"): "c", device("cuda", 0): "g"}
    assert table[device("cpu")] == "c" and table[device("cuda:0")] == "g"
    assert "cpu" not in table  # as PyTorch: strings are not devices
    assert len({device("cuda:0"), device("cuda", 0), device("cuda")}) == 2


# --- bad input ---------------------------------------------------------------------------------

@pytest.mark.parametrize("text, fragment", [
    ("gpu", "unknown device 'gpu'"), ("CUDA", "did you mean 'cuda'"), ("cuda:x", "invalid device string 'cuda:x'"),
    ("cuda:-1", "'cuda:-1'"), ("cuda:01", "'cuda:01'"), ("cuda:", "'cuda:'"), ("cuda:1:2", "'cuda:1:2'"),
    (" cuda", "' cuda'"), ("", "must not be empty"), ("mps", "'mps' device type is not supported"),
])
def test_a_bad_string_is_a_runtime_error_naming_it_and_the_valid_forms(text, fragment):
    with pytest.raises(RuntimeError) as e:
        device(text)
    assert fragment in str(e.value)
    assert "'cpu'" in str(e.value) and "'cuda:N'" in str(e.value)
    if torch is not None and text not in ("mps",):
        with pytest.raises(RuntimeError):
            torch.device(text)


@pytest.mark.parametrize("args, exc, fragment", [
    (("cuda:0", 1), RuntimeError, "already names index 0"),
    (("cuda", -1), RuntimeError, "must not be negative"),
    (("cuda", "0"), TypeError, "index must be an int"),
    (("cuda", 1.0), TypeError, "index must be an int"),
    (("cuda", True), TypeError, "index must be an int"),
    ((None,), TypeError, "needs a device type"),
    ((1.5,), TypeError, "expects a string, a device or an int"),
    ((["cuda"],), TypeError, "expects a string, a device or an int"),
])
def test_bad_arguments(args, exc, fragment):
    with pytest.raises(exc, match=fragment):
        device(*args)


def test_device_of_a_device_with_an_index_is_refused():
    with pytest.raises(TypeError, match="already has its index"):
        device(device("cpu"), 0)


def test_an_int_means_cuda_n_and_there_is_none():
    """torch.device(0) means the accelerator's device 0; with none, PyTorch raises too."""
    with pytest.raises(RuntimeError) as e:
        device(0)
    assert_no_cuda(e)
    assert "cuda:0" in str(e.value)


# --- availability, resolve, .to() arguments ----------------------------------------------------

@pytest.mark.parametrize("spec", ["cuda", "cuda:0", "cuda:3", device("cuda"), device("cuda", 1), 0, 2])
def test_asking_for_cuda_is_the_install_hint_runtime_error(spec):
    with pytest.raises(RuntimeError) as e:
        resolve(spec)
    assert_no_cuda(e)
    assert "matgrad.cuda.is_available()" in str(e.value)  # the portable idiom


@pytest.mark.parametrize("spec", [None, "cpu", "cpu:0", device("cpu"), device("cpu", 0), CPU])
def test_every_cpu_form_resolves_to_the_cpu(spec):
    assert resolve(spec) == CPU == device("cpu")
    assert resolve(spec).index is None  # what a tensor reports, as PyTorch's device(type='cpu')


def test_check_available():
    check_available(device("cpu"))
    check_available(device("cpu", 3))
    with pytest.raises(RuntimeError) as e:
        check_available(device("cuda:1"), hint="(extra words)")
    assert_no_cuda(e)
    assert str(e.value).endswith("(extra words)") and "'cuda:1'" in str(e.value)
    assert NO_CUDA in no_cuda_message("cuda:2") and "'cuda:2'" in no_cuda_message("cuda:2")


def test_the_backend_seam(monkeypatch):
    """A GPU backend fills in cuda_available / cuda_device_count; the checks follow them."""
    for module in (device_module, cuda):  # cuda.py holds the same functions by name
        monkeypatch.setattr(module, "cuda_available", lambda: True)
        monkeypatch.setattr(module, "cuda_device_count", lambda: 2)
    assert resolve("cuda:1") == device("cuda:1") and device(1) == device("cuda:1")
    with pytest.raises(RuntimeError, match=r"CUDA device 2 was asked for .*there are 2 devices \(indices 0 to 1\)"):
        resolve("cuda:2")
    assert cuda.is_available() and cuda.device_count() == 2


def test_cuda_device_for_dot_cuda():
    assert cuda_device() == device("cuda") and cuda_device(1) == device("cuda:1")
    assert cuda_device("cuda:2") == device("cuda", 2) and cuda_device(device("cuda")) == device("cuda")
    with pytest.raises(ValueError, match="expected a cuda device, but got 'cpu'"):
        cuda_device("cpu")
    with pytest.raises(TypeError, match="expects a string, a device or an int"):
        cuda_device(1.5)


@pytest.mark.parametrize("x, expected", [
    ("cpu", True), ("cuda:0", True), (device("cpu"), True), (0, True), (np.int32(1), True),
    ("gpu", True), ("cuda:x", True),  # not dtypes either: device() says what is wrong
    ("float32", False), ("int64", False), (np.float32, False), (np.dtype("float64"), False), (True, False),
    (None, False), (1.5, False),
])
def test_is_device_like(x, expected):
    assert is_device_like(x) is expected


class _FakeTensor:
    dtype = np.dtype("float64")
    shape = (2,)
    device = device("cpu")


@pytest.mark.parametrize("args, kwargs, expected", [
    (("cpu",), {}, (CPU, None, False, False)),
    ((device("cpu"),), {}, (CPU, None, False, False)),
    (("float16",), {}, (None, "float16", False, False)),
    ((np.float64,), {}, (None, np.float64, False, False)),
    (("cpu", np.float32), {}, (CPU, np.float32, False, False)),
    (("cpu", np.float32, True, True), {}, (CPU, np.float32, True, True)),
    ((np.int64, False, True), {}, (None, np.int64, False, True)),
    ((), {"device": "cpu:0", "dtype": np.int8, "non_blocking": True}, (CPU, np.int8, True, False)),
    ((), {"memory_format": None, "copy": True}, (None, None, False, True)),
    ((_FakeTensor(),), {}, (CPU, np.dtype("float64"), False, False)),
    ((np.zeros(2, np.int16),), {"non_blocking": True}, (CPU, np.dtype("int16"), True, False)),
])
def test_parse_to_args_forms(args, kwargs, expected):
    assert parse_to_args(args, kwargs) == expected


@pytest.mark.parametrize("args, kwargs, exc, fragment", [
    (("cuda",), {}, RuntimeError, NO_CUDA),
    ((), {"device": "cuda:0", "dtype": np.float32}, RuntimeError, NO_CUDA),
    (("cuda", np.float32), {}, RuntimeError, NO_CUDA),
    ((0,), {}, RuntimeError, NO_CUDA),
    (("gpu",), {}, RuntimeError, "unknown device 'gpu'"),
    (("cpu",), {"device": "cpu"}, TypeError, "device was given twice"),
    ((np.float32,), {"dtype": np.float64}, TypeError, "dtype was given twice"),
    ((), {"dtype": "cuda"}, TypeError, "is a device, not a dtype"),
    ((), {"colour": 1}, TypeError, "unexpected keyword"),
    (("cpu", np.float32, True, True, True), {}, TypeError, "unexpected positional"),
    ((_FakeTensor(),), {"dtype": np.float16}, TypeError, "come from the other tensor"),
])
def test_parse_to_args_errors(args, kwargs, exc, fragment):
    with pytest.raises(exc, match=fragment):
        parse_to_args(args, kwargs)


def test_with_a_device_block():
    with device("cpu") as d:
        assert d == CPU
    with pytest.raises(RuntimeError) as e:
        with device("cuda"):
            pass
    assert_no_cuda(e)


# --- matgrad.cuda ------------------------------------------------------------------------------

def test_cuda_module_reports_no_gpu():
    assert cuda.is_available() is False and cuda.device_count() == 0 and cuda.is_initialized() is False
    if torch is not None and not torch.cuda.is_available():
        assert cuda.device_count() == torch.cuda.device_count()
    assert cuda.manual_seed(0) is None and cuda.manual_seed_all(123) is None and cuda.manual_seed(1.0) is None
    assert cuda.seed() is None and cuda.seed_all() is None and cuda.empty_cache() is None
    assert cuda.memory_allocated() == cuda.max_memory_allocated() == cuda.memory_reserved() == 0
    assert cuda.max_memory_reserved() == 0 and cuda.reset_peak_memory_stats() is None
    with pytest.raises(TypeError, match="seed must be an int"):
        cuda.manual_seed("a")


@pytest.mark.parametrize("call, name", [
    (lambda: cuda.current_device(), "current_device()"),
    (lambda: cuda.synchronize(), "synchronize()"),
    (lambda: cuda.synchronize("cuda:1"), "synchronize()"),
    (lambda: cuda.get_device_name(), "get_device_name()"),
    (lambda: cuda.get_device_name(0), "get_device_name()"),
    (lambda: cuda.get_device_capability(), "get_device_capability()"),
    (lambda: cuda.get_device_properties(0), "get_device_properties()"),
    (lambda: cuda.set_device(0), "set_device()"),
    (lambda: cuda.init(), "init()"),
])
def test_cuda_functions_that_need_a_gpu_raise_clearly(call, name):
    with pytest.raises(RuntimeError) as e:
        call()
    assert_no_cuda(e)
    assert str(e.value).startswith(f"matgrad.cuda.{name}: ")


def test_cuda_functions_refuse_a_cpu_device():
    with pytest.raises(ValueError, match="expected a cuda device, but got 'cpu'"):
        cuda.set_device("cpu")


def test_the_portable_idiom_picks_the_cpu():
    dev = device("cuda" if cuda.is_available() else "cpu")
    assert dev == CPU and resolve(dev) == CPU


# --- Tensor, where wired -----------------------------------------------------------------------

def test_tensor_to_cuda_is_the_runtime_error_not_a_dtype_type_error():
    import matgrad as mg

    x = mg.zeros(2)
    if not hasattr(x, "device"):
        pytest.skip("Tensor.device is not wired yet")
    assert x.device == CPU and x.to("cpu").device == CPU
    for call in (lambda: x.to("cuda"), lambda: x.to("cuda:0"), lambda: x.to(device("cuda"), np.float32)):
        with pytest.raises(RuntimeError) as e:
            call()
        assert_no_cuda(e)
