"""matgrad.backends (torch.backends' flags, accepted with no effect), the determinism/matmul-precision
switches, matgrad.compile and matgrad.compiler: defaults, read-back, errors against torch's."""
from __future__ import annotations

import importlib
import warnings

import numpy as np
import pytest

import matgrad as mg
from matgrad import nn

try:
    import torch
except ImportError:
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch not installed")


@pytest.fixture(autouse=True)
def _restore_flags():
    """Every test leaves the global settings as it found them."""
    cudnn = mg.backends.cudnn
    saved = (cudnn.enabled, cudnn.benchmark, cudnn.deterministic, cudnn.allow_tf32, mg.get_float32_matmul_precision(),
             mg.are_deterministic_algorithms_enabled(), mg.is_deterministic_algorithms_warn_only_enabled())
    yield
    cudnn.enabled, cudnn.benchmark, cudnn.deterministic, cudnn.allow_tf32 = saved[:4]
    mg.set_float32_matmul_precision(saved[4])
    mg.use_deterministic_algorithms(saved[5], warn_only=saved[6])


def test_import_forms_of_ported_scripts():
    cudnn = importlib.import_module("matgrad.backends.cudnn")
    assert cudnn is mg.backends.cudnn
    import matgrad.backends.cuda as cuda_backend
    assert cuda_backend.matmul is mg.backends.cuda.matmul


def test_cudnn_flags_default_set_and_read_back():
    cudnn = mg.backends.cudnn
    assert (cudnn.enabled, cudnn.benchmark, cudnn.deterministic, cudnn.allow_tf32) == (True, False, False, True)
    cudnn.benchmark = True
    cudnn.deterministic = True
    assert cudnn.benchmark and cudnn.deterministic
    assert cudnn.is_available() is False and cudnn.version() is None
    with cudnn.flags(enabled=False, benchmark=False, deterministic=True):
        assert (cudnn.enabled, cudnn.benchmark) == (False, False)
    assert (cudnn.enabled, cudnn.benchmark) == (True, True)


@needs_torch
@pytest.mark.parametrize("name", ["enabled", "benchmark", "deterministic", "allow_tf32"])
def test_cudnn_flag_refuses_non_bool_as_torch(name):
    with pytest.raises(RuntimeError) as theirs:
        setattr(torch.backends.cudnn, name, "yes")
    with pytest.raises(RuntimeError) as ours:
        setattr(mg.backends.cudnn, name, "yes")
    assert str(ours.value) == str(theirs.value)


def test_flags_have_no_effect_on_results():
    mg.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(2, 3, 3), nn.ReLU(), nn.Flatten(), nn.Linear(12, 2))
    x = mg.randn(4, 2, 4, 4)
    before = model(x).numpy().copy()
    mg.backends.cudnn.benchmark = True
    mg.backends.cudnn.deterministic = True
    mg.backends.cuda.matmul.allow_tf32 = True
    mg.set_float32_matmul_precision("medium")
    mg.use_deterministic_algorithms(True)
    assert np.array_equal(model(x).numpy(), before)


@needs_torch
def test_matmul_precision_and_allow_tf32_agree_as_in_torch():
    saved = (torch.get_float32_matmul_precision(), torch.backends.cuda.matmul.allow_tf32)
    try:
        seen = []
        for lib in (torch, mg):
            lib.backends.cuda.matmul.allow_tf32 = True
            row = [lib.get_float32_matmul_precision()]
            lib.set_float32_matmul_precision("medium")
            row.append(lib.backends.cuda.matmul.allow_tf32)
            lib.set_float32_matmul_precision("highest")
            row += [lib.backends.cuda.matmul.allow_tf32, lib.get_float32_matmul_precision()]
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                lib.set_float32_matmul_precision("bogus")
            row += [lib.get_float32_matmul_precision(), len(caught)]
            seen.append(row)
        assert seen[0] == seen[1] == ["high", True, False, "highest", "highest", 1]
        with pytest.raises(AttributeError, match="Unknown attribute nothing"):
            mg.backends.cuda.matmul.nothing = 1
    finally:
        torch.set_float32_matmul_precision(saved[0])
        torch.backends.cuda.matmul.allow_tf32 = saved[1]


@needs_torch
def test_deterministic_switches_match_torch():
    try:
        for debug_mode in ("warn", 2, "default", 1, 0):
            torch.set_deterministic_debug_mode(debug_mode)
            mg.set_deterministic_debug_mode(debug_mode)
            for name in ("are_deterministic_algorithms_enabled", "is_deterministic_algorithms_warn_only_enabled",
                         "get_deterministic_debug_mode"):
                assert getattr(mg, name)() == getattr(torch, name)(), (debug_mode, name)
        for call in (lambda lib: lib.use_deterministic_algorithms("yes"),
                     lambda lib: lib.set_deterministic_debug_mode("loud"),
                     lambda lib: lib.set_deterministic_debug_mode(3),
                     lambda lib: lib.set_deterministic_debug_mode(1.5)):
            with pytest.raises(Exception) as theirs:
                call(torch)
            with pytest.raises(theirs.type) as ours:
                call(mg)
            assert str(ours.value) == str(theirs.value)
    finally:
        torch.use_deterministic_algorithms(False)


def test_use_deterministic_algorithms_read_back():
    mg.use_deterministic_algorithms(True, warn_only=True)
    assert mg.are_deterministic_algorithms_enabled() and mg.is_deterministic_algorithms_warn_only_enabled()
    mg.use_deterministic_algorithms(False)
    assert not mg.are_deterministic_algorithms_enabled() and mg.get_deterministic_debug_mode() == 0


def test_other_backends_report_what_is_true_of_matgrad():
    assert mg.backends.mps.is_available() is False and mg.backends.mps.is_built() is False
    assert mg.backends.mkldnn.is_available() is False and mg.backends.openmp.is_available() is False
    assert isinstance(mg.backends.mkl.is_available(), bool)
    assert isinstance(mg.backends.cuda.is_built(), bool)
    mg.backends.cuda.enable_flash_sdp(False)
    assert mg.backends.cuda.flash_sdp_enabled() is False
    mg.backends.cuda.enable_flash_sdp(True)
    with pytest.raises(RuntimeError, match="expects a bool"):
        mg.backends.cuda.enable_math_sdp("no")


def test_cpu_capability_from_numpy_features(monkeypatch):
    cpu = mg.backends.cpu
    assert cpu.get_cpu_capability() in ("AVX512", "AVX2", "VSX", "ZVECTOR", "DEFAULT")
    cases = [({"AVX2": True, "FMA3": True}, "AVX2"),
             ({"AVX2": True, "FMA3": True, "AVX512F": True, "AVX512BW": True, "AVX512VL": True, "AVX512DQ": True},
              "AVX512"),
             ({"SSE42": True}, "DEFAULT"), ({"VSX": True}, "VSX"), ({}, "DEFAULT")]
    for features, expected in cases:
        monkeypatch.setattr(cpu, "_cpu_features", lambda f=features: f)
        assert cpu.get_cpu_capability() == expected


@needs_torch
def test_cpu_capability_agrees_with_torch_on_x86():
    feats = mg.backends.cpu._cpu_features()
    if not feats.get("AVX2"):
        pytest.skip("not an AVX2 x86 CPU")
    ours, theirs = mg.backends.cpu.get_cpu_capability(), torch.backends.cpu.get_cpu_capability()
    assert ours == theirs or {ours, theirs} == {"AVX2", "AVX512"}  # torch may cap AVX512 to AVX2 by policy


def test_compile_returns_the_model_itself():
    model = nn.Linear(3, 2)
    assert mg.compile(model) is model
    assert mg.compile(model, mode="max-autotune", fullgraph=True, dynamic=False) is model
    assert mg.compile(model, backend="eager", mode="anything") is model

    def step(x):
        return x * 2

    assert mg.compile(step) is step

    @mg.compile
    def f(x):
        return x + 1

    @mg.compile(mode="reduce-overhead")
    def g(x):
        return x - 1

    assert f(mg.tensor(1.0)).item() == 2.0 and g(mg.tensor(1.0)).item() == 0.0
    assert f.__name__ == "f" and g.__name__ == "g"


@needs_torch
@pytest.mark.parametrize("kwargs", [{"mode": "fastest"}, {"mode": "default", "options": {"x": 1}}])
def test_compile_errors_match_torch(kwargs):
    with pytest.raises(RuntimeError) as theirs:
        torch.compile(lambda x: x, **kwargs)
    with pytest.raises(RuntimeError) as ours:
        mg.compile(lambda x: x, **kwargs)
    assert str(ours.value) == str(theirs.value)


@needs_torch
def test_compile_of_non_callable_and_none_match_torch():
    for call in (lambda lib: lib.compile(1), lambda lib: lib.compile()(None)):
        with pytest.raises(Exception) as theirs:
            call(torch)
        with pytest.raises(theirs.type) as ours:
            call(mg)
        assert str(ours.value) == str(theirs.value)


def test_compiler_namespace():
    assert mg.compiler.is_compiling() is False and mg.compiler.is_dynamo_compiling() is False

    def fn(x):
        return x

    assert mg.compiler.disable(fn) is fn
    assert mg.compiler.disable(recursive=False)(fn) is fn
    assert mg.compiler.compile is mg.compile
    assert mg.compiler.reset() is None


def test_compile_is_not_exported_by_star_import():
    namespace: dict = {}
    exec("from matgrad import *", namespace)
    assert namespace.get("compile", compile) is compile  # Python's builtin stays untouched
