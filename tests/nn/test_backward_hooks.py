"""Module.register_full_backward_hook / register_full_backward_pre_hook: PyTorch's order, values and replacements."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import matgrad as mg


def _program(lib, inputs_need_grad):
    lin = lib.nn.Linear(3, 2)
    with lib.no_grad():
        lin.weight.copy_(lib.tensor([[1.0, 2.0, 3.0], [-1.0, 0.5, 2.0]]))
        lin.bias.fill_(0.1)
    log = []

    def pre(module, grad_output):
        log.append(("pre", [g.tolist() for g in grad_output]))

    def full(module, grad_input, grad_output):
        assert module is lin
        log.append(("full", [None if g is None else g.tolist() for g in grad_input],
                    [g.tolist() for g in grad_output]))
        return tuple(None if g is None else g * 2 for g in grad_input)  # doubles what reaches x

    lin.register_full_backward_pre_hook(pre)
    handle = lin.register_full_backward_hook(full)
    x = lib.tensor([[1.0, 2.0, 3.0]], requires_grad=inputs_need_grad)
    (lin(x) ** 2).sum().backward()
    handle.remove()
    (lin(x) ** 2).sum().backward()  # the full hook is gone; the pre-hook runs again
    return log, (x.grad.tolist() if inputs_need_grad else None), lin.weight.grad.tolist()


@pytest.mark.parametrize("inputs_need_grad", [True, False])
def test_backward_hooks_match_torch(inputs_need_grad):
    torch = pytest.importorskip("torch")
    mine = _program(mg, inputs_need_grad)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch warns when no input needs a gradient
        theirs = _program(torch, inputs_need_grad)
    assert [entry[0] for entry in mine[0]] == [entry[0] for entry in theirs[0]]  # same hooks, same order
    for a, b in zip(mine[0], theirs[0]):
        for x, y in zip(a[1:], b[1:]):
            for gx, gy in zip(x, y):
                assert (gx is None) == (gy is None)
                if gx is not None:
                    np.testing.assert_allclose(gx, gy, rtol=1e-6)
    if inputs_need_grad:
        np.testing.assert_allclose(mine[1], theirs[1], rtol=1e-6)
    else:
        assert mine[1] is None
    np.testing.assert_allclose(mine[2], theirs[2], rtol=1e-6)


def test_backward_hook_values_by_hand():
    """grad_output = dL/dy = 2y; grad_input = grad_output·W; the hook's doubled grad_input reaches x."""
    log, xgrad, _ = _program(mg, True)
    y = [1 * 1 + 2 * 2 + 3 * 3 + 0.1, -1 + 1 + 6 + 0.1]  # x·Wᵀ + b
    go = [2 * y[0], 2 * y[1]]
    gi = [go[0] * 1 + go[1] * -1, go[0] * 2 + go[1] * 0.5, go[0] * 3 + go[1] * 2]
    assert log[1][1][0][0] == pytest.approx(gi, rel=1e-6)
    assert xgrad[0] == pytest.approx([2 * g + g for g in gi], rel=1e-6)  # doubled once, plain once


def test_a_hook_returning_the_wrong_count_is_refused():
    lin = mg.nn.Linear(2, 2)
    lin.register_full_backward_hook(lambda m, gi, go: (gi[0], gi[0]))
    x = mg.ones(1, 2, requires_grad=True)
    with pytest.raises(RuntimeError, match="returned 2 values for grad_input, expected 1"):
        lin(x).sum().backward()
