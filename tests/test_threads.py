"""matgrad.threads: the thread count, and OpenBLAS's idle threads' timeout set at run time."""
from __future__ import annotations

import os

import numpy as np
import pytest

from matgrad import threads


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
        threads.set_blas_thread_timeout(before)
        if env is None:
            os.environ.pop("OPENBLAS_THREAD_TIMEOUT", None)
        else:
            os.environ["OPENBLAS_THREAD_TIMEOUT"] = env
    assert threads.get_blas_thread_timeout() == before


def test_without_openblas_nothing_changes_and_it_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(threads, "_openblas", lambda: None)
    monkeypatch.delenv("OPENBLAS_THREAD_TIMEOUT", raising=False)
    assert threads.set_blas_thread_timeout(16) is False
    assert threads.get_blas_thread_timeout() is None
    assert "OPENBLAS_THREAD_TIMEOUT" not in os.environ
