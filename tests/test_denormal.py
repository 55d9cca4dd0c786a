"""matgrad.set_flush_denormal (matgrad/denormal.py): subnormal floats flushed to zero on this thread, matgrad's
worker threads and OpenBLAS's, as torch.set_flush_denormal; off again, everything as before."""
from __future__ import annotations

import platform
import sys

import numpy as np
import pytest

import matgrad as mg
from matgrad import denormal, parallel, threads

SUPPORTED = sys.platform.startswith("linux") and platform.machine().lower() in ("x86_64", "amd64", "aarch64",
                                                                               "arm64")
needs_mode = pytest.mark.skipif(not SUPPORTED, reason="flush-to-zero is set through glibc on x86-64 or AArch64")
SUB32 = np.float32(1e-39)  # below float32's smallest normal, 1.18e-38
SUB64 = 1e-310  # below float64's, 2.2e-308


@pytest.fixture
def flushing():
    """Flush-to-zero on for the test, and off again whatever happens (it is per thread: other tests run here)."""
    try:
        yield mg.set_flush_denormal(True)
    finally:
        mg.set_flush_denormal(False)


def _blas_subnormal_product(n: int = 512) -> np.ndarray:
    """A matrix product whose every entry is subnormal: a sum of n subnormal products of normal floats."""
    b = np.full((n, n), 1e-21, np.float32)
    return b @ b  # each entry n·1e-42, about 5e-40


def _on_a_pool_thread(fn):
    """fn() run by one of matgrad.parallel's threads (not this one); its result."""
    out = []
    pool = parallel._get_pool(1)
    job = parallel._Job(lambda i: out.append(fn()), 1)
    pool.jobs.put(job)
    job.finished.acquire()
    return out[0]


@needs_mode
def test_flush_on_makes_subnormals_zero(flushing):
    assert flushing is True
    assert denormal.get_flush_denormal()
    assert (np.array([SUB32], np.float32) * np.float32(1))[0] == 0
    assert (np.array([SUB64]) * 1.0)[0] == 0
    assert SUB64 * 1.0 == 0.0  # Python's own float arithmetic too, as under PyTorch's mode
    x = mg.tensor([1e-39, 1.0, -2e-39], dtype=mg.float32)
    np.testing.assert_array_equal((x * 1).numpy(), [0.0, 1.0, 0.0])


@needs_mode
def test_flush_off_again_computes_subnormals():
    assert mg.set_flush_denormal(True) is True
    assert mg.set_flush_denormal(False) is True
    assert not denormal.get_flush_denormal()
    assert (np.array([SUB32], np.float32) * np.float32(1))[0] == SUB32
    assert SUB64 * 1.0 == SUB64
    assert np.all(_blas_subnormal_product() != 0)  # every BLAS thread computes them again


@needs_mode
def test_every_blas_thread_flushes(flushing):
    before = threads.get_num_threads()
    try:
        mg.set_num_threads(2)
        mg.set_flush_denormal(True)  # (again, with two BLAS threads: each is started from here)
        assert np.all(_blas_subnormal_product() == 0)  # no block of the product left to a thread that computes them
    finally:
        mg.set_num_threads(before)


@needs_mode
def test_matgrads_worker_threads_take_the_mode(flushing):
    before = threads.get_num_threads()
    try:
        mg.set_num_threads(2)
        mg.set_flush_denormal(True)
        assert _on_a_pool_thread(denormal.get_flush_denormal) is True
        assert _on_a_pool_thread(lambda: float((np.array([SUB32], np.float32) * np.float32(1))[0])) == 0.0
        mg.set_flush_denormal(False)
        assert _on_a_pool_thread(denormal.get_flush_denormal) is False
    finally:
        mg.set_num_threads(before)


@needs_mode
def test_training_step_is_the_same_but_for_subnormals(flushing):
    """A step whose numbers stay normal gives bit for bit the same result with the mode on."""
    def step():
        mg.manual_seed(0)
        lin = mg.nn.Linear(5, 3)
        opt = mg.optim.SGD(lin.parameters(), lr=0.1, momentum=0.9)
        x = mg.randn(4, 5)
        for _ in range(3):
            opt.zero_grad()
            lin(x).pow(2).mean().backward()
            opt.step()
        return lin.weight.detach().numpy().copy()

    flushed = step()
    mg.set_flush_denormal(False)
    np.testing.assert_array_equal(flushed, step())


def test_mode_must_be_a_bool_as_torch():
    for bad in (1, 1.0, "x", None):
        with pytest.raises(RuntimeError, match="expects a bool"):
            mg.set_flush_denormal(bad)


def test_unsupported_platforms_answer_false(monkeypatch):
    monkeypatch.setattr(denormal, "_control", lambda: None)
    assert mg.set_flush_denormal(True) is False
    assert not denormal.get_flush_denormal()


@needs_mode
def test_same_answer_and_effect_as_torch(flushing):
    torch = pytest.importorskip("torch")
    try:
        assert torch.set_flush_denormal(True) is True
        t = torch.tensor([1e-39, 1.0], dtype=torch.float32) * 1
        m = mg.tensor([1e-39, 1.0], dtype=mg.float32) * 1
        np.testing.assert_array_equal(m.numpy(), t.numpy())
    finally:
        torch.set_flush_denormal(False)
