"""matgrad.threads: the thread count, and OpenBLAS's idle threads' timeout set at run time."""
from __future__ import annotations

import os

import numpy as np
import pytest

from matgrad import threads


def _restore(timeout: int | None, env: str | None) -> None:
    """OpenBLAS's thread timeout and OPENBLAS_THREAD_TIMEOUT as they were before a test changed them."""
    if timeout is not None:
        threads.set_blas_thread_timeout(timeout)
    if env is None:
        os.environ.pop("OPENBLAS_THREAD_TIMEOUT", None)
    else:
        os.environ["OPENBLAS_THREAD_TIMEOUT"] = env


@pytest.mark.parametrize("k", [3, 31, -1])
def test_a_timeout_outside_openblas_range_is_refused_with_the_range(k: int) -> None:
    with pytest.raises(ValueError, match="between 4 and 30"):
        threads.set_blas_thread_timeout(k)


def test_the_timeout_set_at_run_time_is_the_one_openblas_threads_use_and_products_stay_exact() -> None:
    before = threads.get_blas_thread_timeout()
    if before is None:
        pytest.skip("NumPy's BLAS is not an OpenBLAS that exposes its thread timeout")
    env = os.environ.get("OPENBLAS_THREAD_TIMEOUT")
    count = threads.get_num_threads()
    rng = np.random.default_rng(0)
    a, b = rng.random((300, 200)), rng.random((200, 250))
    expected = a @ b
    try:
        if not threads.set_blas_thread_timeout(16):
            pytest.skip("this OpenBLAS does not export what restarting its threads needs (openblas_read_env)")
        assert threads.get_blas_thread_timeout() == 16
        assert threads.get_num_threads() == count  # the threads restart as many as before
        assert np.array_equal(a @ b, expected)  # the restarted threads compute what the old ones did
        assert threads.set_blas_thread_timeout(20) is True
        assert threads.get_blas_thread_timeout() == 20
        assert np.array_equal(a @ b, expected)
    finally:
        _restore(before, env)
    assert threads.get_blas_thread_timeout() == before


def test_without_openblas_nothing_changes_and_it_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(threads, "_openblas", lambda: None)
    monkeypatch.delenv("OPENBLAS_THREAD_TIMEOUT", raising=False)
    assert threads.set_blas_thread_timeout(16) is False
    assert threads.get_blas_thread_timeout() is None
    assert "OPENBLAS_THREAD_TIMEOUT" not in os.environ


# --- conv_blas_timeout: the first convolution on the CPU -----------------------------------------------------

@pytest.fixture
def fresh(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """conv_blas_timeout as in a new process, two BLAS threads, no OPENBLAS_THREAD_TIMEOUT; the timeouts it sets."""
    calls: list[int] = []
    monkeypatch.setattr(threads, "_conv_timeout_done", False)
    monkeypatch.setattr(threads, "set_blas_thread_timeout", lambda k: calls.append(k) or True)
    monkeypatch.setattr(threads, "get_num_threads", lambda: 2)
    monkeypatch.delenv("OPENBLAS_THREAD_TIMEOUT", raising=False)
    return calls


def _conv() -> None:
    import matgrad as mg

    x = mg.randn(2, 3, 8, 8, requires_grad=True)
    mg.nn.functional.conv2d(x, mg.randn(4, 3, 3, 3), padding=1).sum().backward()


def test_the_first_convolution_has_openblas_threads_sleep_soon_once(fresh: list[int]) -> None:
    _conv()
    assert fresh == [threads.CONV_BLAS_TIMEOUT]
    _conv()
    import matgrad as mg

    mg.nn.functional.conv_transpose2d(mg.randn(1, 4, 5, 5), mg.randn(4, 2, 3, 3))
    assert fresh == [threads.CONV_BLAS_TIMEOUT]  # decided once per process


def test_a_transposed_convolution_first_does_it_too(fresh: list[int]) -> None:
    import matgrad as mg

    mg.nn.functional.conv_transpose1d(mg.randn(1, 4, 5), mg.randn(4, 2, 3))
    assert fresh == [threads.CONV_BLAS_TIMEOUT]


def test_no_convolution_leaves_openblas_as_it_is(fresh: list[int]) -> None:
    import matgrad as mg

    model = mg.nn.Sequential(mg.nn.Linear(8, 8), mg.nn.ReLU(), mg.nn.Linear(8, 2))
    model(mg.randn(4, 8)).sum().backward()
    assert fresh == []


def test_the_users_own_timeout_and_one_thread_are_kept(fresh: list[int], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENBLAS_THREAD_TIMEOUT", "28")
    _conv()
    assert fresh == []
    monkeypatch.delenv("OPENBLAS_THREAD_TIMEOUT")
    monkeypatch.setattr(threads, "_conv_timeout_done", False)
    monkeypatch.setattr(threads, "get_num_threads", lambda: 1)
    _conv()
    assert fresh == []


def test_other_python_threads_leave_openblas_as_it_is(fresh: list[int]) -> None:
    """Stopping OpenBLAS's threads while another thread may be inside a product could break that product."""
    import threading

    release = threading.Event()
    other = threading.Thread(target=release.wait, name="user-thread")
    other.start()
    try:
        assert not threads._alone()
        _conv()
    finally:
        release.set()
        other.join()
    assert fresh == []


def test_a_convolution_off_the_main_thread_leaves_openblas_as_it_is(fresh: list[int]) -> None:
    import threading

    seen: list[bool] = []
    worker = threading.Thread(target=lambda: seen.append(threads.conv_blas_timeout()))
    worker.start()
    worker.join()
    assert seen == [False] and fresh == []


def test_the_first_convolution_really_sets_the_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    before = threads.get_blas_thread_timeout()
    if before is None or threads.get_num_threads() < 2 or not threads._alone():
        pytest.skip("needs NumPy's OpenBLAS with its thread timeout, two BLAS threads and no other Python thread")
    env = os.environ.get("OPENBLAS_THREAD_TIMEOUT")
    monkeypatch.setattr(threads, "_conv_timeout_done", False)
    monkeypatch.delenv("OPENBLAS_THREAD_TIMEOUT", raising=False)
    try:
        _conv()
        assert threads.get_blas_thread_timeout() == threads.CONV_BLAS_TIMEOUT
        assert threads.conv_blas_timeout() is True
    finally:
        _restore(before, env)
