"""Helpers for op tests: finite differences and PyTorch (when installed) in one call, and
a float comparison whose tolerance does not depend on the CPU.

    check_op(lambda a, b: a * b, (3, 1, 4), (5, 4))

builds float64 inputs of those shapes, runs gradcheck (and gradgradcheck with
second=True) and, if torch is importable, runs the same lambda on torch tensors and
compares values and gradients to 1e-6 relative. The lambda must only use operators
and methods that matgrad and torch share; pass `torch_fn` where the names differ.

    assert_close(got, want, rtol=1e-5)

is assert_allclose with an absolute floor sized to the values (see its docstring).
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

import matgrad as mg

try:
    import torch
except ImportError:  # the comparisons skip cleanly without PyTorch
    torch = None


def assert_close(actual: Any, desired: Any, rtol: float, atol: float = 0.0, scale: float | None = None,
                 err_msg: str = "") -> None:
    """assert_allclose(actual, desired, rtol, atol + rtol * scale); scale defaults to max|desired|.

    A float result carries rounding of the size of the values it was computed from, not of
    itself: a mean of signed float32 values that lands near 0, or a sum that cancels, is off
    by a few units in the last place of its *inputs*, and by how many depends on the CPU
    (NumPy's SIMD width sets the summation order, OpenBLAS picks a kernel per CPU). rtol alone
    then holds on one machine and fails on the next. So every element may differ by rtol of
    the array's scale as well as of itself; pass `scale` (e.g. max|inputs|) when the values
    are much smaller than what they were computed from.
    """
    if scale is None:
        want = np.abs(np.asarray(desired, dtype=np.float64))
        want = want[np.isfinite(want)]
        scale = float(want.max()) if want.size else 0.0
    np.testing.assert_allclose(actual, desired, rtol=rtol, atol=atol + rtol * scale, err_msg=err_msg)


def make_inputs(shapes: Sequence[Any], seed: int = 0, positive: bool = False) -> list[np.ndarray]:
    """Random float64 arrays of the given shapes (a shape may also be a ready array)."""
    rng = np.random.default_rng(seed)
    out = []
    for s in shapes:
        if isinstance(s, np.ndarray):
            out.append(s.astype(np.float64))
            continue
        a = rng.standard_normal(s)
        out.append(np.abs(a) + 0.5 if positive else a)
    return out


def _to_list(x: Any) -> list[Any]:
    return list(x) if isinstance(x, (tuple, list)) else [x]


def compare_torch(fn: Callable[..., Any], arrays: Sequence[np.ndarray], torch_fn: Callable[..., Any] | None = None,
                  rtol: float = 1e-6, atol: float = 1e-9) -> None:
    """Forward values and gradients of fn in matgrad and in PyTorch must agree (float64)."""
    if torch is None:
        return
    xs = [mg.tensor(a, dtype=mg.float64, requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays]
    outs = _to_list(fn(*xs))
    touts = _to_list((torch_fn or fn)(*ts))
    assert len(outs) == len(touts)
    rng = np.random.default_rng(1)
    seeds = [rng.standard_normal(o.shape) for o in outs]
    for o, t in zip(outs, touts):
        np.testing.assert_allclose(
            o.array, t.detach().numpy(), rtol=rtol, atol=atol, err_msg="forward differs from torch"
        )
    loss = sum((o * mg.tensor(s, dtype=mg.float64)).sum() for o, s in zip(outs, seeds))
    tloss = sum((t * torch.tensor(s, dtype=torch.float64)).sum() for t, s in zip(touts, seeds))
    loss.backward()
    tloss.backward()
    for i, (x, t) in enumerate(zip(xs, ts)):
        tg = None if t.grad is None else t.grad.numpy()
        if tg is None:
            assert x.grad is None or np.allclose(x.grad, 0), f"input {i}: torch has no gradient, matgrad does"
            continue
        assert x.grad is not None, f"input {i}: matgrad has no gradient, torch does"
        np.testing.assert_allclose(
            x.grad, tg, rtol=rtol, atol=atol, err_msg=f"gradient of input {i} differs from torch"
        )


def check_op(fn: Callable[..., Any], *shapes: Any, torch_fn: Callable[..., Any] | None = None,
             positive: bool = False, second: bool = True, seed: int = 0, use_torch: bool = True) -> None:
    """Gradcheck (first and, with `second`, second order) and PyTorch agreement for fn."""
    arrays = make_inputs(shapes, seed=seed, positive=positive)
    xs = [mg.tensor(a, dtype=mg.float64, requires_grad=True) for a in arrays]
    assert mg.gradcheck(fn, xs)
    if second:
        assert mg.gradgradcheck(fn, xs)
    if use_torch:
        compare_torch(fn, arrays, torch_fn)
