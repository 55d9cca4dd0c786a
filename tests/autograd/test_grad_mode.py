"""no_grad / enable_grad / set_grad_enabled as context managers and decorators."""
from __future__ import annotations

import matgrad as mg


def test_no_grad_context_records_nothing():
    x = mg.tensor([1.0], requires_grad=True)
    with mg.no_grad():
        y = x * 2
        assert not mg.is_grad_enabled()
    assert mg.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None


def test_no_grad_decorator_and_enable_grad_inside():
    x = mg.tensor([1.0], requires_grad=True)

    @mg.no_grad()
    def f(t):
        with mg.enable_grad():
            inner = t * 2
        return t * 2, inner

    out, inner = f(x)
    assert not out.requires_grad
    assert inner.requires_grad
    assert mg.is_grad_enabled()


def test_enable_grad_decorator_inside_no_grad():
    x = mg.tensor([1.0], requires_grad=True)

    @mg.enable_grad()
    def f(t):
        return t * 2

    with mg.no_grad():
        assert f(x).requires_grad


def test_no_grad_restores_mode_after_an_exception():
    try:
        with mg.no_grad():
            raise ValueError
    except ValueError:
        pass
    assert mg.is_grad_enabled()


def test_set_grad_enabled():
    mg.set_grad_enabled(False)
    try:
        assert not (mg.tensor([1.0], requires_grad=True) * 2).requires_grad
    finally:
        mg.set_grad_enabled(True)
    assert mg.is_grad_enabled()


def test_grad_mode_is_per_thread():
    """One thread inside no_grad never stops another from recording (PyTorch's grad mode is thread-local)."""
    import threading

    x = mg.tensor([1.0], requires_grad=True)
    inside, release = threading.Event(), threading.Event()
    seen = {}

    def inference():
        with mg.no_grad():
            inside.set()
            release.wait(10)
            seen["worker"] = (x * 2).requires_grad
        seen["worker_after"] = mg.is_grad_enabled()

    t = threading.Thread(target=inference)
    t.start()
    assert inside.wait(10)
    y = x * 2  # the main thread records while the worker sits in no_grad
    release.set()
    t.join(10)
    assert y.grad_fn is not None and mg.is_grad_enabled()
    assert seen == {"worker": False, "worker_after": True}


def test_many_threads_enter_and_leave_grad_modes_concurrently():
    import threading

    errors = []
    barrier = threading.Barrier(8)

    def work(k):
        x = mg.tensor([1.0], requires_grad=True)
        barrier.wait(10)
        for i in range(200):
            mode = (i + k) % 2 == 0
            with mg.set_grad_enabled(mode):
                if (x * 2).requires_grad != mode or mg.is_grad_enabled() != mode:
                    errors.append((k, i))
            if not mg.is_grad_enabled():
                errors.append((k, i, "left off"))

    threads = [threading.Thread(target=work, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []


def test_a_new_thread_starts_with_recording_on():
    import threading

    seen = []
    with mg.no_grad():
        t = threading.Thread(target=lambda: seen.append(mg.is_grad_enabled()))
        t.start()
        t.join(10)
    assert seen == [True]


def test_inference_mode_and_decorators_without_parentheses():
    x = mg.tensor([1.0], requires_grad=True)
    with mg.inference_mode():
        assert mg.is_inference_mode_enabled() and not mg.is_grad_enabled()
        assert (x * 2).grad_fn is None
    assert not mg.is_inference_mode_enabled() and mg.is_grad_enabled()
    with mg.inference_mode(False):
        assert (x * 2).grad_fn is not None

    @mg.no_grad
    def f(t):
        return t * 2

    @mg.inference_mode
    def g(t):
        return t * 2

    assert f(x).grad_fn is None and g(x).grad_fn is None
    assert f.__name__ == "f"
