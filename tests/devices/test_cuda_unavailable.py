"""Without a usable GPU, matgrad says why in one sentence: CuPy missing, or CuPy present but no driver.

A stand-in `cupy` package (in a temporary folder put first on sys.path) plays "installed, but the
CUDA runtime finds no device", the case of a CUDA-less laptop that installed the GPU extra.
"""
from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import matgrad as mg
from matgrad import devices

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def fresh_lookup():
    """Forget which CUDA backend was found, so the next question looks again; restore after."""
    before = devices.set_cuda_backend(None)
    devices._cuda[2] = False  # not looked yet
    try:
        yield
    finally:
        devices.restore_cuda_backend(before)


def test_without_cupy_the_error_says_what_to_install(fresh_lookup, monkeypatch):
    monkeypatch.setitem(sys.modules, "cupy", None)  # import cupy raises ImportError
    assert not mg.cuda.is_available()
    with pytest.raises(RuntimeError, match=r'CuPy is not installed: pip install "matgrad\[cuda\]"'):
        mg.ones(2).to("cuda")
    with pytest.raises(RuntimeError, match="no CUDA device is available"):
        mg.zeros(2, device="cuda")


BROKEN_CUPY = """
__version__ = "14.0.0"
class _Runtime:
    @staticmethod
    def getDeviceCount():
        raise RuntimeError("cudaErrorInsufficientDriver: CUDA driver version is insufficient")
class cuda:
    runtime = _Runtime
"""


def test_cupy_without_a_driver_is_named_and_import_still_works(tmp_path):
    (tmp_path / "cupy").mkdir()
    (tmp_path / "cupy" / "__init__.py").write_text(textwrap.dedent(BROKEN_CUPY))
    code = textwrap.dedent("""
        import matgrad as mg
        print("available", mg.cuda.is_available())
        try:
            mg.ones(2).cuda()
        except RuntimeError as e:
            print("error", e)
    """)
    env = {"PYTHONPATH": f"{tmp_path}:{ROOT}", "PATH": "/usr/bin:/bin"}
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert res.returncode == 0, res.stderr
    assert "Traceback" not in res.stderr
    assert "available False" in res.stdout
    assert "CuPy 14.0.0 is installed but found no usable NVIDIA GPU or driver" in res.stdout
    assert "cudaErrorInsufficientDriver" in res.stdout
