"""explain(): run the reverse pass and keep a record of every step, as the seeds draw it.

Each step is one node of the graph, visited in reverse: its forward value, the gradient
that arrived from above (upstream), the local derivative rule, and the gradient sent to
each input = upstream × local derivative ("a layer multiplies"). A tensor that feeds
several nodes gets one gradient from each, and the record says where they are summed
("a branch sums").
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..autograd.engine import run_backward, topological_order
from ..tensor import Tensor
from .formulas import formula, paren
from .rules import rule_for
from .values import Value, num, shape_str

#: How the forward pass of common ops is written, operands by position.
INFIX = {
    "Add": "{0} + {1}", "Sub": "{0} − {1}", "Mul": "{0} · {1}", "Div": "{0} / {1}", "Neg": "−{0}",
    "Pow": "{0}^{1}", "MatMul": "{0} @ {1}", "Exp": "exp({0})", "Log": "log({0})", "Sqrt": "sqrt({0})",
    "Abs": "|{0}|", "Sin": "sin({0})", "Cos": "cos({0})", "Tanh": "tanh({0})", "Sigmoid": "σ({0})",
    "ReLU": "relu({0})", "Maximum": "max({0}, {1})", "Minimum": "min({0}, {1})", "Sum": "sum({0})",
    "Mean": "mean({0})", "AMax": "max({0})", "AMin": "min({0})", "Softmax": "softmax({0})",
    "LogSoftmax": "log_softmax({0})", "Reshape": "reshape({0})", "Permute": "permute({0})",
    "Expand": "expand({0})", "GetItem": "{0}[…]",
}


@dataclass
class Operand:
    """One input of a step and the gradient the step sends it."""

    name: str
    shape: tuple[int, ...]
    value: Value
    requires_grad: bool
    grad: np.ndarray | None  # ∂out/∂input from this step alone, summed to the input's shape
    local: Any = None  # the local derivative (elementwise ops), as numbers
    local_symbol: str = ""  # ... and as a formula of the operands' names
    summed_axes: tuple[int, ...] = ()  # broadcast axes summed away to reach the input's shape
    formula: str = ""  # the step's arithmetic for this input


@dataclass
class Step:
    """One node of the reverse pass (index 1 is the first node visited, next to the output)."""

    index: int
    op: str
    output: str
    output_shape: tuple[int, ...]
    value: Value  # the node's forward value
    inputs: list[Operand]
    upstream: np.ndarray  # ∂out/∂(this node's output), the sum of what its consumers sent
    upstream_from: list[int]  # steps whose gradients were summed into the upstream (0 = the seed)
    rule: str  # the local derivative rule in words
    pattern: str  # the gradient-flow pattern: add distributes, multiply swaps, max routes ...
    params: dict[str, Any] = field(default_factory=dict)
    sums: list[str] = field(default_factory=list)  # leaves whose gradient sum completes here

    @property
    def grads(self) -> dict[str, np.ndarray]:
        """The gradient sent to each input that wants one, by input name."""
        return {o.name: o.grad for o in self.inputs if o.grad is not None}

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index, "op": self.op, "output": self.output,
            "output_shape": list(self.output_shape), "value": self.value.to_dict(),
            "upstream": Value.of(self.upstream).to_dict(), "upstream_from": self.upstream_from,
            "rule": self.rule, "pattern": self.pattern, "sums": self.sums,
            "inputs": [
                {"name": o.name, "shape": list(o.shape), "value": o.value.to_dict(),
                 "requires_grad": o.requires_grad, "formula": o.formula,
                 "grad": None if o.grad is None else Value.of(o.grad).to_dict()}
                for o in self.inputs
            ],
        }


@dataclass
class ForwardStep:
    """One node of the forward pass, in the order it was computed."""

    index: int
    op: str
    output: str
    inputs: list[str]
    value: Value
    text: str  # e.g. 'u = b · c = 3 · 2 = 6'


@dataclass
class Explanation:
    """The record of one reverse pass: forward steps, backward steps, and the leaves' gradients."""

    output: str
    value: Value
    forward: list[ForwardStep]
    steps: list[Step]  # in reverse order, as the engine visited them
    grads: dict[str, np.ndarray]  # total gradient of every leaf that requires grad
    leaves: dict[str, Value]
    fanout: dict[str, list[int]]  # tensors fed to several nodes -> the steps whose gradients sum
    tensors: dict[str, Value] = field(default_factory=dict)  # every tensor of the graph, by name
    kinds: dict[str, str] = field(default_factory=dict)  # name -> 'input', 'constant', 'result', 'output'
    _names: dict[int, str] = field(default_factory=dict, repr=False)

    def name_of(self, t: Tensor) -> str:
        """The name the record uses for tensor `t`."""
        try:
            return self._names[id(t)]
        except KeyError:
            raise KeyError("name_of: this tensor is not part of the explained graph") from None

    def grad_of(self, t: Tensor) -> np.ndarray:
        """The total gradient the record computed for leaf `t`."""
        return self.grads[self.name_of(t)]

    def table(self) -> str:
        from .table import backward_table

        return backward_table(self)

    def forward_table(self) -> str:
        from .table import forward_table

        return forward_table(self)

    def __str__(self) -> str:
        return self.forward_table() + "\n\n" + self.table()

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data: value, grads by leaf name, forward and backward steps."""
        return {
            "output": self.output, "value": self.value.to_dict(),
            "grads": {k: np.asarray(v).tolist() for k, v in self.grads.items()},
            "forward": [{"index": f.index, "op": f.op, "output": f.output, "inputs": f.inputs,
                         "value": f.value.to_dict(), "text": f.text} for f in self.forward],
            "steps": [s.to_dict() for s in self.steps],
            "fanout": self.fanout,
        }


class _Namer:
    """Names for tensors: their `.name`, else numbers for scalar constants, else t1, t2 ..."""

    def __init__(self) -> None:
        self.names: dict[int, str] = {}
        self.used: set[str] = set()
        self.counts = {"t": 0, "x": 0, "c": 0}

    def _unique(self, base: str) -> str:
        name, k = base, 2
        while name in self.used:
            name, k = f"{base}_{k}", k + 1
        self.used.add(name)
        return name

    def _auto(self, prefix: str) -> str:
        while True:
            self.counts[prefix] += 1
            name = f"{prefix}{self.counts[prefix]}"
            if name not in self.used:
                self.used.add(name)
                return name

    def name(self, t: Tensor, kind: str) -> str:
        got = self.names.get(id(t))
        if got is None:
            if t.name:
                got = self._unique(str(t.name))
            elif kind == "c" and t.data.size == 1:
                got = num(t.data.item())  # constants read as their value: 3 · v
                got = f"({got})" if got.startswith("-") else got
            else:
                got = self._auto(kind)
            self.names[id(t)] = got
        return got


def _sum_to(g: np.ndarray, shape: tuple[int, ...]) -> tuple[np.ndarray, tuple[int, ...]]:
    """Sum a gradient back to an input's shape (as the engine does); also the axes summed."""
    if g.shape == shape:
        return g, ()
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, s in enumerate(shape) if s == 1 and g.shape[lead + i] != 1
    )
    return np.sum(g, axis=axes, keepdims=True).reshape(shape), axes


def _params(node: Any) -> dict[str, Any]:
    skip = {"parents", "needs_input_grad", "out", "xp"}
    out = {}
    for k, v in vars(node).items():
        if k in skip or k.startswith("_"):
            continue
        out[k] = v if isinstance(v, (int, float, str, bool, tuple, type(None))) else repr(v)[:60]
    return out


def explain(
    output: Tensor,
    retain_graph: bool = False,
    print_table: bool = True,
    gradient: Any = None,
    name: str | None = None,
    accumulate: bool = True,
) -> Explanation:
    """Backpropagate from `output` (into `.grad`, as backward does) and record every step.

    With accumulate=False no `.grad` is touched (as autograd.grad): the pictures use this.

    Returns an Explanation: `.steps` in reverse order, `.grads` by leaf name, and
    `.table()` the printed table (printed here unless print_table=False). Tensors are
    named by their `.name`; others get t1, t2 ... (results), x1 ... (leaves), c1 ...
    """
    if not isinstance(output, Tensor):
        raise TypeError(f"explain: expected a Tensor, got {type(output).__name__}")
    if output.grad_fn is None:
        raise RuntimeError(
            "explain: this tensor was not computed from tensors that require grad, so there is "
            "no graph to explain; create the inputs with requires_grad=True"
        )
    if gradient is None:
        if output.data.size != 1:
            raise RuntimeError(
                f"explain: the output has shape {output.shape}; pass `gradient` of that shape, or "
                "explain a one-element tensor (e.g. out.sum())"
            )
        seed = np.ones(output.shape, output.dtype)
    else:
        seed = np.asarray(gradient.data if isinstance(gradient, Tensor) else gradient, output.dtype)
        if seed.shape != output.shape:
            raise RuntimeError(
                f"explain: gradient of shape {seed.shape} for an output of shape {output.shape}"
            )

    # The graph as the forward pass left it: nodes, their inputs and their outputs.
    nodes = topological_order([output.grad_fn])  # each node before the nodes it reads
    parents_of = {id(n): tuple(n.parents) for n in nodes}
    out_of: dict[int, Tensor] = {id(output.grad_fn): output}
    for n in nodes:
        for p in n.parents:
            if p.grad_fn is not None:
                out_of.setdefault(id(p.grad_fn), p)
    namer = _Namer()
    root_name = name or output.name or "out"
    namer.names[id(output)] = namer._unique(root_name)
    forward_nodes = nodes[::-1]
    for n in forward_nodes:  # leaves first, in the order they are read
        for p in n.parents:
            if p.grad_fn is None:
                namer.name(p, "x" if p.requires_grad else "c")
    for n in forward_nodes:
        namer.name(out_of[id(n)], "t")
    names = namer.names
    uses: dict[int, int] = {}
    for n in nodes:
        for p, need in zip(n.parents, n.needs_input_grad):
            if need:
                uses[id(p)] = uses.get(id(p), 0) + 1

    forward = []
    for i, n in enumerate(forward_nodes, 1):
        y = out_of[id(n)]
        ins = [names[id(p)] for p in parents_of[id(n)]]
        fmt = INFIX.get(n.name, n.name + "(" + ", ".join(f"{{{k}}}" for k in range(len(ins))) + ")")
        if n.name == "PowScalar":
            fmt = "{0}^" + num(getattr(n, "p", float("nan")))
        try:
            expr = fmt.format(*ins)
        except IndexError:
            expr = f"{n.name}({', '.join(ins)})"
        text = f"{names[id(y)]} = {expr}"
        small = all(p.data.size == 1 for p in parents_of[id(n)]) and y.data.size == 1
        if small:
            vals = [paren(p.data.item()) for p in parents_of[id(n)]]
            try:
                numeric = fmt.format(*vals)
            except IndexError:
                numeric = ""
            if numeric and numeric != expr:
                text += f" = {numeric}"
        text += f" = {Value.of(y.data)}" if small else f"  ({shape_str(y.shape)})"
        forward.append(ForwardStep(i, n.name, names[id(y)], ins, Value.of(y.data), text))

    captured: list[tuple[Any, np.ndarray, list[Any]]] = []

    def hook(node: Any, dy: Any, grads: tuple) -> None:
        # copies: the engine may later add into these very arrays (accumulating .grad)
        captured.append((node, np.array(dy, copy=True),
                         [None if g is None else np.array(g, copy=True) for g in grads]))

    leaf_inputs = [t for t in {id(p): p for n in nodes for p in parents_of[id(n)]}.values()
                   if t.grad_fn is None and t.requires_grad]
    run_backward([output], [seed], retain_graph, False, inputs=None if accumulate else leaf_inputs, hook=hook)

    out_name = names[id(output)]
    d_out = f"∂{out_name}/∂"
    steps: list[Step] = []
    arrived: dict[int, list[tuple[int, np.ndarray]]] = {}  # id(tensor) -> (step, grad) contributions
    arrived[id(output)] = [(0, seed)]
    for k, (node, dy, grads) in enumerate(captured, 1):
        parents = parents_of[id(node)]
        y = out_of[id(node)]
        yname = names[id(y)]
        rule = rule_for(node)
        xs = [p.data for p in parents]
        pnames = [names[id(p)] for p in parents]
        try:
            locals_ = rule.local(pnames, xs, y.data, node) if rule.local else None
        except Exception:  # noqa: BLE001 - an odd op must not break the explanation
            locals_ = None
        operands = []
        for i, p in enumerate(parents):
            g = grads[i] if i < len(grads) else None
            op_ = Operand(pnames[i], tuple(p.shape), Value.of(p.data), bool(p.requires_grad), None)
            if g is not None and node.needs_input_grad[i]:
                fitted, axes = _sum_to(np.asarray(g), tuple(p.shape))
                op_.grad = fitted.astype(p.data.dtype, copy=False)
                op_.summed_axes = axes
                if locals_ is not None:
                    op_.local_symbol, op_.local = locals_[i]
                op_.formula = formula(node, rule, i, parents, pnames, y, yname, dy, g, op_, d_out)
                arrived.setdefault(id(p), []).append((k, op_.grad))
            operands.append(op_)
        upstream_from = [s for s, _ in arrived.get(id(y), [])]
        steps.append(Step(k, node.name, yname, tuple(y.shape), Value.of(y.data), operands, dy,
                          upstream_from, rule.text, rule.pattern, _params(node)))

    grads: dict[str, np.ndarray] = {}
    leaves: dict[str, Value] = {}
    fanout: dict[str, list[int]] = {}
    tensors = {id(p): p for n in nodes for p in parents_of[id(n)]}
    for tid, contribs in arrived.items():
        if len(contribs) > 1:
            fanout[names[tid]] = [s for s, _ in contribs]
        t = tensors.get(tid)
        if t is None or t.grad_fn is not None:
            continue
        total = contribs[0][1].copy()
        for _, g in contribs[1:]:
            total = total + g
        grads[names[tid]] = total
        leaves[names[tid]] = Value.of(t.data)
        if len(contribs) > 1:
            last = contribs[-1][0]
            parts = " + ".join(str(Value.of(g)) for _, g in contribs) if total.size == 1 else ""
            where = ", ".join(str(s) for s, _ in contribs)
            arithmetic = f": {parts} = {Value.of(total)}" if parts else ""
            steps[last - 1].sums.append(
                f"{d_out}{names[tid]}: a copy sums the gradients from steps {where}{arithmetic}"
            )
    order = {nm: k for k, nm in enumerate(names.values())}  # leaves in the order the forward read them
    grads = dict(sorted(grads.items(), key=lambda kv: order.get(kv[0], 0)))
    leaves = dict(sorted(leaves.items(), key=lambda kv: order.get(kv[0], 0)))
    all_values: dict[str, Value] = {}
    kinds: dict[str, str] = {}
    for t in list(tensors.values()) + [output]:
        nm = names[id(t)]
        all_values[nm] = Value.of(t.data)
        kinds[nm] = ("output" if t is output else "result" if t.grad_fn is not None
                     else "input" if t.requires_grad else "constant")
    exp = Explanation(out_name, Value.of(output.data), forward, steps, grads, leaves, fanout, all_values,
                      kinds, dict(names))
    if print_table:
        print(exp)
    return exp
