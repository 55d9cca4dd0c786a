"""explain(): the record agrees with backward's .grad, step by step and in total."""
from __future__ import annotations

import numpy as np
import pytest

import matgrad as mg
from matgrad.autograd.op import Op
from matgrad.explain import RULES, explain, rule_for
from matgrad.kernels import sum_to


def _leaf(rng: np.random.Generator, shape: tuple[int, ...], name: str, positive: bool = False) -> mg.Tensor:
    a = rng.standard_normal(shape)
    if positive:
        a = np.abs(a) + 0.5
    return mg.Tensor(a, requires_grad=True, name=name)


# Graphs as functions of a dict of leaves, covering every op family and the tricky cases:
# matmul with broadcasting batch dims, a bias broadcast, a tensor reused several times.
GRAPHS = {
    "mlp_broadcast": (
        {"X": (2, 3, 4), "W": (4, 5), "b": (5,)},
        lambda t: (mg.tanh(t["X"] @ t["W"] + t["b"]) * t["b"]).sum(),
    ),
    "reuse": (
        {"x": (3, 4), "y": (4,)},
        lambda t: ((t["x"] * t["x"] + t["x"] / (1 + t["y"] ** 2)) * t["x"]).mean() + t["x"].sum(),
    ),
    "vector_matmul": (
        {"v": (4,), "M": (4, 3), "u": (3,)},
        lambda t: (t["v"] @ t["M"]) @ t["u"] + (t["M"] @ t["u"]).sum() * 0.5,
    ),
    "unary_chain": (
        {"p": (5,)},
        lambda t: (mg.log(t["p"]) + mg.sqrt(t["p"]) + mg.exp(-t["p"]) + mg.sin(t["p"]) * mg.cos(t["p"])
                   + mg.sigmoid(t["p"]) - abs(t["p"] - 1.3) + mg.relu(t["p"] - 1)).sum(),
    ),
    "reductions": (
        {"a": (3, 4)},
        lambda t: t["a"].amax(dim=1).sum() + t["a"].max() - t["a"].min(dim=0).values.sum()
        + t["a"].var() + t["a"].logsumexp(dim=0).sum(),
    ),
    "softmax_shapes": (
        {"z": (2, 3, 4), "k": (4,)},
        lambda t: (mg.softmax(t["z"], dim=-1) * t["k"]).sum()
        + mg.log_softmax(t["z"].reshape(6, 4), dim=1)[1:4].sum()
        + t["z"].permute(2, 0, 1)[0].sum()
        + mg.cat([t["z"][0], t["k"].expand(3, 4)], dim=0).pow(2).sum(),
    ),
    "max_min_pow": (
        {"a": (3,), "b": (3,)},
        lambda t: (mg.maximum(t["a"], t["b"]) * mg.minimum(t["a"], 0.2) + t["a"] ** t["b"]).sum(),
    ),
}
POSITIVE = {"unary_chain", "max_min_pow"}


def _build(name: str, seed: int) -> tuple[mg.Tensor, dict[str, mg.Tensor]]:
    shapes, fn = GRAPHS[name]
    rng = np.random.default_rng(seed)
    leaves = {k: _leaf(rng, s, k, positive=name in POSITIVE) for k, s in shapes.items()}
    return fn(leaves), leaves


@pytest.mark.parametrize("name", sorted(GRAPHS))
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_record_agrees_with_backward(name: str, seed: int) -> None:
    out, leaves = _build(name, seed)
    exp = explain(out, print_table=False, accumulate=True)  # fills .grad, as backward does
    out2, leaves2 = _build(name, seed)
    out2.backward()
    assert exp.value.values == pytest.approx(out2.item())
    assert set(exp.grads) == set(leaves)
    for k, t in leaves2.items():
        np.testing.assert_allclose(exp.grads[k], t.grad, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(leaves[k].grad, t.grad, rtol=1e-12, atol=1e-12)
    # step by step: each elementwise gradient is upstream ⊙ local derivative, summed to shape
    for s in exp.steps:
        assert s.rule and s.pattern
        for o in s.inputs:
            if o.grad is None:
                continue
            assert o.grad.shape == o.shape
            assert o.formula
            if o.local is not None:
                raw = s.upstream * np.asarray(o.local)
                raw = np.broadcast_to(raw, np.broadcast_shapes(raw.shape, s.upstream.shape))
                np.testing.assert_allclose(sum_to(raw, o.shape), o.grad, rtol=1e-10, atol=1e-12)


def test_reused_tensor_is_summed_and_named() -> None:
    x = mg.Tensor(np.array([1.0, 2.0]), requires_grad=True, name="x")
    y = (x * 3 + x * x).sum()
    exp = explain(y, print_table=False)
    np.testing.assert_allclose(exp.grads["x"], 3 + 2 * np.array([1.0, 2.0]))
    assert len(exp.fanout["x"]) == 3  # from x*3 and twice from x*x
    last = max(exp.fanout["x"])
    assert any("a copy sums" in t for t in exp.steps[last - 1].sums)


def test_intermediate_fanout_sums_upstream() -> None:
    a = mg.Tensor(np.float64(2.0), requires_grad=True, name="a")
    u = a * 3
    u.name = "u"
    J = u * u + u
    exp = explain(J, print_table=False, name="J")
    step_u = next(s for s in exp.steps if s.output == "u")
    assert len(step_u.upstream_from) == 3
    assert float(step_u.upstream) == pytest.approx(2 * 6 + 1)
    assert float(exp.grads["a"]) == pytest.approx(39)


def test_matrix_view_shapes() -> None:
    X = mg.Tensor(np.ones((256, 784)), requires_grad=True, name="X")
    W = mg.Tensor(np.full((784, 1024), 0.01), requires_grad=True, name="W")
    Y = X @ W
    Y.name = "Y"
    exp = explain(Y.sum(), print_table=False)
    mm = next(s for s in exp.steps if s.op == "MatMul")
    formulas = {o.name: o.formula for o in mm.inputs}
    assert formulas["W"] == "dW (784×1024) = Xᵀ (784×256) · dY (256×1024)"
    assert formulas["X"] == "dX (256×784) = dY (256×1024) · Wᵀ (1024×784)"
    assert mm.value.values is None and mm.value.shape == (256, 1024)  # big: statistics only
    assert mm.value.mean == pytest.approx(7.84)


def test_scalar_formula_and_table() -> None:
    a, b, c = (mg.Tensor(np.float64(v), requires_grad=True, name=n) for n, v in zip("abc", (5, 3, 2)))
    u = b * c
    u.name = "u"
    J = 3 * (a + u)
    J.name = "J"
    exp = explain(J, print_table=False)
    step_u = next(s for s in exp.steps if s.output == "u")
    assert step_u.inputs[0].formula == "∂J/∂b = ∂J/∂u · c = 3 · 2 = 6"
    assert step_u.pattern.startswith("multiply swaps")
    table = exp.table()
    assert table.index("J") < table.index("∂J/∂b = ∂J/∂u · c")  # reverse order: output first
    assert [s.index for s in exp.steps] == [1, 2, 3]
    assert "u = b · c = 3 · 2 = 6" in exp.forward_table()
    d = exp.to_dict()
    assert d["grads"] == {"a": 3.0, "b": 6.0, "c": 9.0}


def test_accumulate_false_leaves_grad_alone_and_prints(capsys: pytest.CaptureFixture) -> None:
    x = mg.Tensor(np.array([1.0, -2.0]), requires_grad=True, name="x")
    y = (x.relu() * 2).sum()
    exp = explain(y, retain_graph=True, accumulate=False)
    assert x.grad is None
    np.testing.assert_allclose(exp.grad_of(x), [2.0, 0.0])
    assert "Reverse pass" in capsys.readouterr().out
    y.backward()  # the graph was retained
    np.testing.assert_allclose(x.grad, [2.0, 0.0])


def test_errors_are_clear() -> None:
    with pytest.raises(RuntimeError, match="no graph"):
        explain(mg.tensor([1.0]), print_table=False)
    x = mg.Tensor(np.ones(3), requires_grad=True)
    with pytest.raises(RuntimeError, match="shape"):
        explain(x * 2, print_table=False)
    with pytest.raises(TypeError, match="Tensor"):
        explain(3.0)  # type: ignore[arg-type]


def test_every_op_has_a_rule() -> None:
    import matgrad.ops  # noqa: F401 - registers every op class

    def subclasses(cls: type) -> list[type]:
        out = []
        for c in cls.__subclasses__():
            out += [c, *subclasses(c)]
        return out

    ops = {c.__name__: c for c in subclasses(Op) if c.__module__.startswith("matgrad.ops")}
    core = ["Add", "Sub", "Mul", "Div", "Neg", "PowScalar", "Pow", "MatMul", "Exp", "Log", "Sqrt", "Abs",
            "Sin", "Cos", "Tanh", "Sigmoid", "ReLU", "Sum", "Mean", "AMax", "AMin", "SelectAlong", "Maximum",
            "Minimum", "Softmax", "LogSoftmax", "Reshape", "Permute", "Expand", "GetItem", "Cat"]
    assert set(core) <= {op.__name__ for op in RULES}
    for name, cls in ops.items():  # others fall back to their docstring's first line
        rule = rule_for(cls.__new__(cls))
        assert rule.text and rule.pattern, name


TORCH_GRAPHS = {  # the same formulas, written once for matgrad and PyTorch (M is the module)
    "mlp_broadcast": lambda t, M: (M.tanh(t["X"] @ t["W"] + t["b"]) * t["b"]).sum(),
    "reuse": lambda t, M: ((t["x"] * t["x"] + t["x"] / (1 + t["y"] ** 2)) * t["x"]).mean() + t["x"].sum(),
    "softmax_shapes": lambda t, M: (M.softmax(t["z"], dim=-1) * t["k"]).sum()
    + M.log_softmax(t["z"].reshape(6, 4), dim=1)[1:4].sum() + t["z"].permute(2, 0, 1)[0].amax(),
}


@pytest.mark.parametrize("name", sorted(TORCH_GRAPHS))
def test_record_agrees_with_pytorch(name: str) -> None:
    torch = pytest.importorskip("torch")
    shapes = GRAPHS[name][0]
    rng = np.random.default_rng(7)
    arrays = {k: rng.standard_normal(s) for k, s in shapes.items()}
    ours = {k: mg.Tensor(a.copy(), requires_grad=True, name=k) for k, a in arrays.items()}
    theirs = {k: torch.tensor(a, requires_grad=True) for k, a in arrays.items()}
    exp = explain(TORCH_GRAPHS[name](ours, mg), print_table=False)
    out = TORCH_GRAPHS[name](theirs, torch)
    out.backward()
    assert float(exp.value.values) == pytest.approx(out.item(), rel=1e-12)
    for k, t in theirs.items():
        np.testing.assert_allclose(exp.grads[k], t.grad.numpy(), rtol=1e-10, atol=1e-12)


def _random_program(seed: int, data: dict[str, np.ndarray] | None = None) -> tuple[mg.Tensor, dict]:
    """A random DAG over a few leaves: broadcasting, matmul, and tensors reused at random."""
    rng = np.random.default_rng(seed)
    shapes = {"p0": (3, 4), "p1": (3, 4), "v": (4,), "M": (4, 4)}
    arrays = {k: rng.standard_normal(s) for k, s in shapes.items()}
    arrays.update(data or {})
    leaves = {k: mg.Tensor(a.copy(), requires_grad=True, name=k) for k, a in arrays.items()}
    pool = [leaves["p0"], leaves["p1"], leaves["v"]]
    ops = [
        lambda a, b: a + b, lambda a, b: a * b, lambda a, b: a - b, lambda a, b: a / (1 + b * b),
        lambda a, b: mg.tanh(a) * b, lambda a, b: mg.sigmoid(a) + mg.relu(b), lambda a, b: mg.maximum(a, b),
        lambda a, b: a @ leaves["M"] * 0.5, lambda a, b: mg.exp(-a * a) * b,
        lambda a, b: (a * b).sum(dim=-1, keepdim=True),
    ]
    for _ in range(10):
        a, b = (pool[int(k)] for k in rng.integers(len(pool), size=2))
        pool.append(ops[int(rng.integers(len(ops)))](a, b))
    out = sum(t.sum() for t in pool[-4:])
    return out, leaves


def _finite_difference(seed: int, name: str, base: dict[str, np.ndarray], h: float = 1e-6) -> np.ndarray:
    fd = np.zeros_like(base[name])
    with mg.no_grad():
        for idx in np.ndindex(fd.shape):
            vals = []
            for step in (h, -h):
                a = base[name].copy()
                a[idx] += step
                vals.append(_random_program(seed, {name: a})[0].item())
            fd[idx] = (vals[0] - vals[1]) / (2 * h)
    return fd


@pytest.mark.parametrize("seed", range(20))
def test_random_programs_agree_with_backward(seed: int) -> None:
    out, leaves = _random_program(seed)
    base = {k: t.array.copy() for k, t in leaves.items()}
    exp = explain(out, print_table=False, accumulate=False)
    out2, leaves2 = _random_program(seed)
    out2.backward()
    for k, t in leaves2.items():
        if t.grad is None:  # this program never used it
            assert k not in exp.grads
            continue
        assert leaves[k].grad is None  # accumulate=False
        # the record is right (finite differences referee), and backward's .grad must match it
        np.testing.assert_allclose(exp.grads[k], _finite_difference(seed, k, base), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(
            t.grad, exp.grads[k], rtol=1e-12, atol=1e-12,
            err_msg=f"backward's .grad of {k} differs from the explain record (which matches finite "
                    "differences): e.g. p + (p + p) reused, see the engine's leaf-gradient aliasing",
        )


def _divide_by_zero() -> tuple[mg.Tensor, mg.Tensor, mg.Tensor]:
    a = mg.Tensor(np.float64(1.0), requires_grad=True, name="a")
    b = mg.Tensor(np.float64(0.0), requires_grad=True, name="b")
    with np.errstate(divide="ignore"):  # the user's own forward pass: not the explainer's to silence
        J = a / b + a
    return J, a, b


def test_values_that_are_not_finite_are_noted_not_warned() -> None:
    import json
    import warnings

    J, a, b = _divide_by_zero()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the reverse pass and the rules divide by zero too: silently
        exp = explain(J, print_table=False, name="J")
    assert float(exp.grads["b"]) == -np.inf
    notes = "\n".join(exp.notes)
    assert "division by zero" in notes and "∂J/∂b = -inf is not finite" in notes
    assert next(f for f in exp.forward if f.op == "Div").note.startswith("not finite (division by zero)")
    assert "∂J/∂b = -inf  (not finite: not defined at this point)" in exp.table()
    d = json.loads(json.dumps(exp.to_dict(), allow_nan=False))  # valid JSON: inf is null there
    assert d["grads"]["b"] is None and d["value"]["values"] is None and d["notes"] == exp.notes


def test_counts_are_singular_for_one() -> None:
    x = mg.Tensor(np.float64(2.0), requires_grad=True, name="x")
    exp = explain(x * 3, print_table=False)
    assert exp.forward_table().startswith("Forward pass (1 node);")
    assert exp.table().startswith("Reverse pass (1 step,")
