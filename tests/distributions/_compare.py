"""The comparison the distribution test files make: a method's value and its parameter gradients, matgrad's against
torch's (`evaluate` computes them in either library, `assert_matches_torch` compares)."""
from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from tests.helpers import assert_close


def assert_matches_torch(got: Any, ggrads: Sequence[Any], want: Any, tgrads: Sequence[Any], rtol: float, atol: float,
                         what: str) -> None:
    """Equal values (and dtypes); each parameter's gradient equal (to rtol·10), or absent (or zero) in both."""
    assert got.dtype == want.dtype
    assert_close(got, want, rtol=rtol, atol=atol, err_msg=what)
    for i, (g, t) in enumerate(zip(ggrads, tgrads)):
        if t is None or not np.any(t):
            assert g is None or not np.any(g), f"param {i}: torch has no gradient"
            continue
        assert g is not None, f"param {i}: matgrad has no gradient"
        assert_close(g, t, rtol=rtol * 10, atol=atol, err_msg=f"gradient of param {i} of {what}")


def evaluate(lib: Any, build: Callable[..., Any], params: Sequence[Any], method: str, dtype: Any, value: Any = None,
             q: Any = None) -> tuple[np.ndarray, list[Any]]:
    """(output, [parameter gradients]) of one method of the distribution `build(*params)`, in matgrad or torch
    (`lib`), the params made leaves of `dtype`. The gradient is of Σ seed·output over the output's finite entries,
    with the same seed in both libraries; a method whose output has no graph (torch's Geometric.mode) gives none."""
    ps = [lib.tensor(np.ascontiguousarray(p), dtype=dtype, requires_grad=True) for p in params]
    d = build(*ps)
    if method in ("log_prob", "cdf", "log_survival_function"):
        out = getattr(d, method)(lib.tensor(value, dtype=dtype))
    elif method == "icdf":
        out = d.icdf(lib.tensor(q, dtype=dtype))
    elif method == "entropy":
        out = d.entropy()
    else:
        out = getattr(d, method)
    values = np.asarray(out.detach().numpy())
    if out.requires_grad:
        seed = np.random.default_rng(1).standard_normal(values.shape)
        finite = lib.tensor(np.isfinite(values))
        (lib.where(finite, out, 0.0) * lib.tensor(seed, dtype=dtype)).sum().backward()
    return values, [None if p.grad is None else np.asarray(p.grad.detach().numpy()) for p in ps]
