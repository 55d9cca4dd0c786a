"""Property tests: random broadcastable shapes and random op compositions, against
finite differences (float64) and, where installed, PyTorch."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, mutually_broadcastable_shapes

import matgrad as mg
from tests.helpers import compare_torch

SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])

BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / (b * b + 1),
    "maximum": lambda a, b: a.maximum(b),
    "minimum": lambda a, b: a.minimum(b),
    "where": lambda a, b: (a * b).where(a > b, b),
    "pow": lambda a, b: (a * a + 0.5) ** b,
}
UNARY = {
    "exp": lambda x: (x * 0.5).exp(), "tanh": lambda x: x.tanh(), "sigmoid": lambda x: x.sigmoid(),
    "sin": lambda x: x.sin(), "square": lambda x: x * x, "log": lambda x: (x * x + 1).log(),
    "sqrt": lambda x: (x * x + 1).sqrt(), "neg": lambda x: -x, "softplus": lambda x: mg.softplus(x)
    if isinstance(x, mg.Tensor) else __import__("torch").nn.functional.softplus(x),
    "scalar": lambda x: 2.0 - x / 3.0,
}


def _arrays(seed, *shapes):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s) + 0.05 * rng.random(s) for s in shapes]  # no exact ties


def _gradcheck(fn, arrays):
    xs = [mg.tensor(a, dtype=mg.float64, requires_grad=True) for a in arrays]
    assert mg.gradcheck(fn, xs, atol=1e-5, rtol=1e-3)


@SETTINGS
@given(shapes=mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3),
       op=st.sampled_from(sorted(BINARY)), seed=st.integers(0, 2**16))
def test_binary_ops_broadcast_and_sum_grads_back(shapes, op, seed):
    a, b = _arrays(seed, *shapes.input_shapes)
    fn = BINARY[op]
    out = fn(mg.tensor(a), mg.tensor(b))
    assert out.shape == shapes.result_shape
    _gradcheck(fn, [a, b])
    compare_torch(fn, [a, b])


@SETTINGS
@given(shape=array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=3),
       ops=st.lists(st.sampled_from(sorted(UNARY)), min_size=1, max_size=5),
       reduce=st.sampled_from(["sum", "mean", "logsumexp", "softmax", "amax", "none"]),
       seed=st.integers(0, 2**16))
def test_random_compositions(shape, ops, reduce, seed):
    (a,) = _arrays(seed, shape)

    def fn(x):
        y = x
        for name in ops:
            y = UNARY[name](y) + y  # reuse y: a diamond at every step
        if reduce == "none":
            return y
        return getattr(y, reduce)(-1)  # dim -1 is valid for 0-d tensors too

    # exp∘exp∘… overflows float64 (and a finite difference of e^(e^x) means nothing): keep the
    # compositions whose values stay in a range where numeric gradients are well conditioned.
    out = fn(mg.tensor(a)).array
    assume(np.all(np.isfinite(out)) and np.abs(out).max() < 1e4)
    _gradcheck(fn, [a])
    compare_torch(fn, [a])


@SETTINGS
@given(shape=array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=4), data=st.data())
def test_reductions_over_random_dims(shape, data):
    (a,) = _arrays(data.draw(st.integers(0, 2**16)), shape)
    dims = data.draw(st.lists(st.integers(-len(shape), len(shape) - 1), min_size=1, max_size=len(shape),
                              unique_by=lambda d: d % len(shape)))
    keep = data.draw(st.booleans())
    name = data.draw(st.sampled_from(["sum", "mean", "var", "std", "logsumexp", "amax", "amin"]))
    if name in ("var", "std") and np.prod([shape[d] for d in dims]) < 2:
        return
    fn = lambda x: getattr(x, name)(tuple(dims), keepdim=keep)  # noqa: E731
    expected = {"sum": np.sum, "mean": np.mean, "amax": np.max, "amin": np.min}.get(name)
    if expected is not None:
        np.testing.assert_allclose(fn(mg.tensor(a)).array, expected(a, axis=tuple(dims), keepdims=keep))
    _gradcheck(fn, [a])
    compare_torch(fn, [a])


@SETTINGS
@given(shapes=mutually_broadcastable_shapes(min_dims=0, max_dims=2, max_side=3,
                                            signature="(m,n),(n,p)->(m,p)"), seed=st.integers(0, 2**16))
def test_batched_matmul_broadcasts(shapes, seed):
    a, b = _arrays(seed, *shapes.input_shapes)
    fn = lambda x, y: x @ y  # noqa: E731
    assert fn(mg.tensor(a), mg.tensor(b)).shape == shapes.result_shape
    _gradcheck(fn, [a, b])
    compare_torch(fn, [a, b])


@pytest.mark.parametrize("n", [3])
def test_accumulation_equals_sum_of_separate_backwards(n):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((2, 3))
    x = mg.tensor(a, requires_grad=True)
    total = np.zeros_like(a)
    for k in range(n):
        y = ((x * (k + 1)).tanh() ** 2).sum()
        y.backward()
        xk = mg.tensor(a, requires_grad=True)
        ((xk * (k + 1)).tanh() ** 2).sum().backward()
        total += xk.grad
    np.testing.assert_allclose(x.grad, total)


POOL_OPS = [
    lambda a, b: a + b, lambda a, b: a * b, lambda a, b: a - b, lambda a, b: a / (1 + b * b),
    lambda a, b: a.tanh() * b, lambda a, b: a.sigmoid() + b.relu(), lambda a, b: a.maximum(b),
    lambda a, b: (a * b).sum(-1, keepdim=True), lambda a, b: (-a * a).exp() * b,
    lambda a, b: a + 1.5 * b.sin(),
]


@SETTINGS
@given(program=st.lists(st.tuples(st.integers(0, 99), st.integers(0, 99), st.integers(0, len(POOL_OPS) - 1)),
                        min_size=1, max_size=12),
       seed=st.integers(0, 2**16))
def test_random_dags_with_reused_nodes(program, seed):
    """A random DAG over three broadcastable leaves, nodes reused at random (diamonds, fan-out)."""
    arrays = _arrays(seed, (3, 4), (4,), ())

    def fn(*leaves):
        pool = list(leaves)
        for i, j, k in program:
            pool.append(POOL_OPS[k](pool[i % len(pool)], pool[j % len(pool)]))
        return sum(t.sum() for t in pool[-3:])

    _gradcheck(fn, arrays)
    compare_torch(fn, arrays)
