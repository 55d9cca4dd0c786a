"""Shared by the issue-20 tests: a matgrad module and a torch module with the same weights must agree on
outputs and on the gradients of every input and every parameter."""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

import matgrad as mg
from tests.helpers import assert_close


def compare_modules(ours: Any, theirs: Any, arrays: list[np.ndarray], dtype: str = "float64",
                    call: Callable[..., Any] | None = None, kwargs: dict | None = None, tol: float | None = None,
                    train: bool = False) -> None:
    """Load theirs' state_dict into ours; run both on `arrays` (+ kwargs: numpy arrays become tensors of
    either library, no grad); compare the first output, then input and parameter gradients."""
    import torch

    tdt = getattr(torch, dtype)
    theirs = theirs.to(tdt)
    ours = ours.to(getattr(mg, dtype))
    theirs.train(train)
    ours.train(train)
    tsd = theirs.state_dict()
    assert list(ours.state_dict()) == list(tsd)
    ours.load_state_dict({k: mg.tensor(v.detach().numpy()) for k, v in tsd.items()})
    mx = [mg.tensor(a.astype(dtype), requires_grad=True) for a in arrays]
    tx = [torch.tensor(a.astype(dtype), requires_grad=True) for a in arrays]
    kwargs = kwargs or {}
    mk = {k: mg.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    tk = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    call = call or (lambda m, xs, kw: m(*xs, **kw))
    y, ty = call(ours, mx, mk), call(theirs, tx, tk)
    if isinstance(ty, tuple):
        y, ty = y[0], ty[0]
    rtol = tol if tol is not None else (1e-9 if dtype == "float64" else 1e-4)
    atol = rtol * 10
    assert y.array.dtype == np.dtype(dtype)
    assert_close(y.array, ty.detach().numpy(), rtol=rtol, atol=atol, err_msg="output")
    seed = np.random.default_rng(7).standard_normal(y.shape).astype(dtype)
    (y * mg.tensor(seed)).sum().backward()
    (ty * torch.tensor(seed)).sum().backward()
    for i, (a, b) in enumerate(zip(mx, tx)):
        assert_close(a.grad.array, b.grad.numpy(), rtol=rtol * 10, atol=atol * 10, err_msg=f"input {i}")
    tp = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        g = tp[name].grad
        if g is None:
            assert p.grad is None or not np.any(p.grad.array), name
            continue
        assert_close(p.grad.array, g.numpy(), rtol=rtol * 10, atol=atol * 10, err_msg=name)
