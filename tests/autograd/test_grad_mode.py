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
