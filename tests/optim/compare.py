"""Run a matgrad optimizer and its PyTorch twin on the same problem; return both trajectories.

Each side computes its gradient from its own current parameters with the same formula,
    g_k = 0.5·(p − target) + 0.1·noise_k,
so any difference in the update rule shows up and grows over the steps.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

import matgrad as mg
from matgrad import optim
from tests.helpers import assert_close

try:
    import torch
except ImportError:  # the comparisons skip cleanly without PyTorch
    torch = None

SHAPES = ((3, 4), (4,))


def initial_arrays(dtype: Any = np.float64, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s).astype(dtype) for s in SHAPES]


def gradient(p: np.ndarray, k: int, i: int) -> np.ndarray:
    """The k-th step's gradient for parameter i at value p (same dtype as p)."""
    rng = np.random.default_rng(1000 * k + i)
    target = np.linspace(-1, 1, p.size).reshape(p.shape)
    return (0.5 * (p - target) + 0.1 * rng.standard_normal(p.shape)).astype(p.dtype)


def _groups(params: Sequence[Any], groups: Sequence[dict[str, Any]] | None) -> Any:
    if groups is None:
        return list(params)
    return [{"params": [p], **opts} for p, opts in zip(params, groups)]


def run_matgrad(cls: type, arrays: Sequence[np.ndarray], kwargs: dict[str, Any], steps: int,
                groups: Sequence[dict[str, Any]] | None = None) -> list[list[np.ndarray]]:
    """Parameter values after each of `steps` steps."""
    params = [mg.tensor(a.copy(), requires_grad=True) for a in arrays]
    opt = cls(_groups(params, groups), **kwargs)
    out = []
    for k in range(steps):
        for i, p in enumerate(params):
            p.grad = gradient(p.array, k, i)
        opt.step()
        out.append([p.array.copy() for p in params])
    return out


def run_torch(name: str, arrays: Sequence[np.ndarray], kwargs: dict[str, Any], steps: int,
              groups: Sequence[dict[str, Any]] | None = None) -> list[list[np.ndarray]]:
    params = [torch.tensor(a.copy(), requires_grad=True) for a in arrays]
    opt = getattr(torch.optim, name)(_groups(params, groups), foreach=False, **kwargs)
    out = []
    for k in range(steps):
        for i, p in enumerate(params):
            p.grad = torch.from_numpy(gradient(p.detach().numpy(), k, i))
        opt.step()
        out.append([p.detach().numpy().copy() for p in params])
    return out


def assert_matches_torch(cls: type, kwargs: dict[str, Any], steps: int = 8, dtype: Any = np.float64,
                         groups: Sequence[dict[str, Any]] | None = None) -> None:
    """matgrad's trajectory equals torch's: to 1e-10 in float64, to float32 rounding in float32."""
    if torch is None:
        import pytest
        pytest.skip("PyTorch not installed")
    arrays = initial_arrays(dtype)
    mine = run_matgrad(cls, arrays, kwargs, steps, groups)
    theirs = run_torch(cls.__name__, arrays, kwargs, steps, groups)
    rtol, atol = (1e-10, 1e-12) if dtype == np.float64 else (2e-5, 2e-6)
    for k, (ps, ts) in enumerate(zip(mine, theirs)):
        for i, (p, t) in enumerate(zip(ps, ts)):
            assert p.dtype == np.dtype(dtype), f"step {k} param {i}: dtype became {p.dtype}"
            # an element near 0 carries the rounding of the parameter's scale, not its own
            assert_close(p, t, rtol=rtol, atol=atol, err_msg=f"{cls.__name__}({kwargs}) step {k} param {i}")
    # the run moved the parameters: a no-op optimizer cannot pass
    assert not np.allclose(mine[-1][0], arrays[0])


def buffers(opt: optim.Optimizer) -> dict[tuple[int, str], int]:
    """id() of every array in the optimizer's state, by (parameter index, key)."""
    out = {}
    for i, s in opt.state_dict()["state"].items():
        for key, v in s.items():
            if isinstance(v, np.ndarray):
                out[(i, key)] = id(v)
    return out


def check_in_place(opt: optim.Optimizer, params: Sequence[mg.Tensor], steps: int = 4) -> None:
    """Steps update p.data and the state arrays in place: the same objects every step."""
    data_ids = [id(p.array) for p in params]
    seen = None
    for k in range(steps):
        for i, p in enumerate(params):
            p.grad = gradient(p.array, k, i)
        before = [p.array.copy() for p in params]
        opt.step()
        assert [id(p.array) for p in params] == data_ids, "step() rebound p.data to a new array"
        assert not np.array_equal(before[0], params[0].array), "step() did not change the parameter"
        ids = buffers(opt)
        assert ids, "the optimizer keeps no state arrays"
        if seen is not None:
            assert ids == seen, "step() replaced state buffers with new arrays"
        seen = ids
