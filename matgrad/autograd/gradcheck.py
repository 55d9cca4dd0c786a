"""Numeric gradient checks: analytic gradients against central differences, in float64."""
from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from ..tensor import Tensor
from .api import grad as autograd_grad


class GradcheckError(RuntimeError):
    """An analytic gradient disagrees with the numeric one (a RuntimeError, as PyTorch's)."""


def _as_tuple(x: Any) -> tuple[Any, ...]:
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _projection(outs: Sequence[Any], seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(o.shape) for o in outs]


def gradcheck(
    fn: Callable[..., Any],
    inputs: Any,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
    seed: int = 0,
) -> bool:
    """Check fn's backward: for L = Σ vᵢ·outᵢ (v random), dL/dx analytic vs (L(x+ε) - L(x-ε)) / 2ε.

    Inputs that require grad must be float64. On a mismatch it reports the input, the
    index, and the analytic and numeric values.
    """
    ins = _as_tuple(inputs)
    diff = [i for i, t in enumerate(ins) if isinstance(t, Tensor) and t.requires_grad]
    if not diff:
        raise ValueError("gradcheck: no input requires grad, so there is nothing to check")
    for i in diff:
        if ins[i].dtype != np.float64:
            raise ValueError(
                f"gradcheck: input {i} is {ins[i].dtype}; finite differences need float64 "
                "(make it with dtype=matgrad.float64)"
            )
    outs = [o for o in _as_tuple(fn(*ins)) if isinstance(o, Tensor) and o.requires_grad]
    if not outs:
        raise ValueError("gradcheck: fn's outputs do not depend on any input that requires grad")
    vs = _projection(outs, seed)

    def loss() -> float:
        res = [o for o in _as_tuple(fn(*ins)) if isinstance(o, Tensor)]  # with grad: fn may need it
        res = [o for o in res if o.dtype.kind == "f"][: len(vs)]
        return float(sum(np.sum(o.array * v) for o, v in zip(res, vs)))

    analytic = autograd_grad(
        outs, [ins[i] for i in diff], grad_outputs=[Tensor(v, dtype=o.dtype) for v, o in zip(vs, outs)],
        allow_unused=True,
    )
    for i, a in zip(diff, analytic):
        x = ins[i].array
        a = np.zeros_like(x) if a is None else a.array
        numeric = np.zeros_like(x)
        flat = x.reshape(-1)  # a view: nudging it nudges the input
        for k in range(flat.size):
            old = flat[k]
            flat[k] = old + eps
            hi = loss()
            flat[k] = old - eps
            lo = loss()
            flat[k] = old
            numeric.reshape(-1)[k] = (hi - lo) / (2 * eps)
        bad = ~np.isclose(a, numeric, rtol=rtol, atol=atol, equal_nan=True)
        if bad.any():
            if not raise_exception:
                return False
            idx = tuple(int(j) for j in np.argwhere(bad)[0])
            raise GradcheckError(
                f"gradcheck: gradient of input {i} (shape {x.shape}) is wrong at index {idx}: "
                f"analytic {a[idx]!r}, numeric {numeric[idx]!r} "
                f"({int(bad.sum())} of {bad.size} elements differ beyond atol={atol}, rtol={rtol})"
            )
    return True


def gradgradcheck(
    fn: Callable[..., Any],
    inputs: Any,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
    seed: int = 0,
) -> bool:
    """Check second derivatives: gradcheck of x ↦ d(Σ v·fn(x))/dx built with create_graph=True."""
    ins = _as_tuple(inputs)
    outs = [o for o in _as_tuple(fn(*ins)) if isinstance(o, Tensor) and o.requires_grad]
    vs = [Tensor(v, dtype=o.dtype) for v, o in zip(_projection(outs, seed + 1), outs)]

    def first_grads(*xs: Any) -> tuple[Any, ...]:
        ys = [o for o in _as_tuple(fn(*xs)) if isinstance(o, Tensor) and o.requires_grad]
        gs = autograd_grad(ys, [x for x in xs if isinstance(x, Tensor) and x.requires_grad],
                           grad_outputs=vs, create_graph=True, allow_unused=True)
        return tuple(g for g in gs if g is not None and g.requires_grad)

    if not first_grads(*ins):
        return True  # fn is linear in every input: its second derivative is zero everywhere
    return gradcheck(first_grads, ins, eps, atol, rtol, raise_exception, seed)
