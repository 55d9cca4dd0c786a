"""The whole op table on the CuPy-like test device: every row's values, gradients and gradients of
gradients equal the CPU's, and everything stays on the device.

A row that falls back to NumPy somewhere fails here with the test device's TypeError ("Implicit
conversion to a NumPy array is not allowed", or a NumPy array meeting a device array), as it
would on a real GPU with CuPy. Rows run inside `with matgrad.device("cuda"):`, so the constants
and indices a row makes with matgrad's factories land on the device too, as in PyTorch.
"""
from __future__ import annotations

import importlib

import numpy as np
import pytest

import matgrad as mg
from tests.helpers import make_inputs

TABLES = ["tests.ops.test_op_table", "tests.ops.test_op_table_math", "tests.ops.test_op_table_nn",
          "tests.ops.test_op_table_index"]


def _rows() -> list:
    rows = []
    for name in TABLES:
        try:
            mod = importlib.import_module(name)
        except pytest.skip.Exception:  # a table that needs PyTorch for its rows' definitions
            continue
        rows += [pytest.param(r.values[0], r.values[-2], r.values[-1], id=f"{name.rsplit('_', 1)[-1]}-{r.id}")
                 for r in mod.ROWS]  # (fn, [torch_fn,] shapes, options)
    return rows


def _host(t: mg.Tensor | None) -> np.ndarray | None:
    return None if t is None else t.cpu().numpy()


def _run(fn, arrays: list[np.ndarray], second: bool, on_device: bool):
    """(outputs, gradients, gradients of gradients) as host arrays; the device's are checked to stay there."""
    where = mg.device("cuda") if on_device else mg.device("cpu")
    with where:
        xs = [mg.tensor(a, dtype=mg.float64, requires_grad=True) for a in arrays]
        outs = fn(*xs)
        outs = list(outs) if isinstance(outs, (tuple, list)) else [outs]
        for o in outs:
            assert o.device.type == where.type, f"an output is on {o.device}, not on {where}"
        rng = np.random.default_rng(1)
        diff = [o for o in outs if o.requires_grad]
        grads = ggs = [None] * len(xs)
        if diff:
            y = sum((o * mg.tensor(rng.standard_normal(o.shape), dtype=mg.float64)).sum() for o in diff)
            grads = list(mg.autograd.grad(y, xs, create_graph=second, allow_unused=True))
            for g in grads:
                assert g is None or g.device.type == where.type, f"a gradient is on {g.device}, not on {where}"
            live = [g for g in grads if g is not None and g.requires_grad]
            if second and live:
                z = sum((g * mg.tensor(rng.standard_normal(g.shape), dtype=mg.float64)).sum() for g in live)
                ggs = list(mg.autograd.grad(z, xs, allow_unused=True))
    return [_host(o.detach()) for o in outs], [_host(g) for g in grads], [_host(g) for g in ggs]


@pytest.mark.parametrize("fn, shapes, opts", _rows())
def test_op_on_the_test_device(fn, shapes, opts, cuda):
    arrays = make_inputs(shapes, positive=opts.get("positive", False))
    second = opts.get("second", True)
    cpu = _run(fn, arrays, second, on_device=False)
    dev = _run(fn, arrays, second, on_device=True)
    for what, a, b in zip(("output", "gradient", "gradient of gradient"), cpu, dev):
        for i, (x, y) in enumerate(zip(a, b)):
            only = "only the device" if x is None else "only the CPU"
            assert (x is None) == (y is None), f"{what} {i}: {only} has one"
            if x is not None:
                np.testing.assert_allclose(y, x, rtol=1e-10, atol=1e-12, err_msg=f"{what} {i} differs on the device")
