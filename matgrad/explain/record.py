"""explain(): run the reverse pass and keep a record of every step, as the seeds draw it.

Each step is one node of the graph, visited in reverse: its forward value, the gradient
that arrived from above (upstream), the local derivative rule, and the gradient sent to
each input = upstream × local derivative ("a layer multiplies"). A tensor that feeds
several nodes gets one gradient from each, and the record says where they are summed
("a branch sums").

The work is done in stages, one function each: read the graph, name its tensors, write
the forward pass, run the reverse pass and record its steps, sum the gradients of
tensors used more than once (fan-out), and note every value that is not finite.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..autograd.capture import CapturedGraph
from ..autograd.engine import run_backward, topological_order
from ..kernels import broadcast_axes, sum_to
from ..ops.arithmetic import Div, Pow, PowScalar
from ..ops.unary import Log
from ..tensor import Tensor
from .formulas import formula, paren
from .model import Explanation, ForwardStep, Operand, Step
from .replay import replay
from .rules import rule_for
from .values import SMALL, Value, finite, num, sample, shape_str

#: Why an op's output stops being finite when its inputs are finite and one of them is 0.
_AT_ZERO = {Div: "division by zero", Log: "the log of 0", PowScalar: "a negative power of 0",
            Pow: "a negative power of 0"}


@dataclass
class Graph:
    """The graph as the forward pass left it (read before the reverse pass frees it)."""

    output: Tensor
    nodes: list[Any]  # each node before the nodes it reads: the reverse pass's order
    parents: dict[int, tuple[Tensor, ...]]  # id(node) -> its inputs
    out_of: dict[int, Tensor]  # id(node) -> its output
    read: dict[int, Tensor]  # id(tensor) -> every tensor some node reads

    @classmethod
    def of(cls, output: Tensor) -> Graph:
        nodes = topological_order([output.grad_fn])
        parents = {id(n): tuple(n.parents) for n in nodes}
        out_of: dict[int, Tensor] = {id(output.grad_fn): output}
        for n in nodes:
            for p, fn in zip(n.parents, n.parent_fns):  # the node that made p when n was recorded
                if fn is not None:
                    out_of.setdefault(id(fn), p)
        read = {id(p): p for n in nodes for p in parents[id(n)]}
        return cls(output, nodes, parents, out_of, read)

    @property
    def forward_nodes(self) -> list[Any]:
        """The nodes in the order the forward pass computed them."""
        return self.nodes[::-1]

    def leaves_wanting_grad(self) -> list[Tensor]:
        return [t for t in self.read.values() if t.grad_fn is None and t.requires_grad]


# --- naming --------------------------------------------------------------------------------------------

class _Namer:
    """Names for tensors: their `.name`, else numbers for scalar constants, else t1, t2 ..."""

    def __init__(self) -> None:
        self.names: dict[int, str] = {}
        self.used: set[str] = set()
        self.counts = {"t": 0, "x": 0, "c": 0}

    def unique(self, base: str) -> str:
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
                got = self.unique(str(t.name))
            elif kind == "c" and t.array.size == 1:
                got = num(t.array.item())  # constants read as their value: 3 · v
                got = f"({got})" if got.startswith("-") else got
            else:
                got = self._auto(kind)
            self.names[id(t)] = got
        return got


def leaves_as_read(graph: Graph) -> list[Tensor]:
    """The leaves in the order the formula reads them, left to right: 3·(a + b·c) gives 3, a, b, c."""
    out: list[Tensor] = []
    seen: set[int] = set()
    stack: list[tuple[Any, Any]] = [(graph.output.grad_fn, None)]  # (node, None) or (None, leaf)
    while stack:
        n, leaf = stack.pop()
        key = id(n if leaf is None else leaf)
        if key in seen:
            continue
        seen.add(key)
        if leaf is not None:
            out.append(leaf)
            continue
        parents = graph.parents[id(n)]
        below = [(None, p) if fn is None else (fn, None)
                 for p, fn in zip(parents, n.parent_fns or (None,) * len(parents))
                 if (fn is None and p.grad_fn is None) or (fn is not None and id(fn) in graph.parents)]
        stack.extend(reversed(below))
    return out


def name_tensors(graph: Graph, root_name: str) -> dict[int, str]:
    """id(tensor) -> its name: the output first, then leaves as the formula reads (left to right), then results."""
    namer = _Namer()
    namer.names[id(graph.output)] = namer.unique(root_name)
    for p in leaves_as_read(graph):
        namer.name(p, "x" if p.requires_grad else "c")
    for n in graph.forward_nodes:
        namer.name(graph.out_of[id(n)], "t")
    return namer.names


# --- the forward pass ----------------------------------------------------------------------------------

def why_not_finite(node: Any, xs: list[np.ndarray], y: np.ndarray) -> str:
    """In words, why `node` made a value that is not finite out of finite inputs."""
    if np.isnan(y).any():
        return "an operation with no value here, such as 0/0, inf − inf or a point outside the function's domain"
    if type(node) in _AT_ZERO and any((np.asarray(x) == 0).any() for x in xs):
        return _AT_ZERO[type(node)]
    return f"overflow: too large for {y.dtype}"


def forward_text(node: Any, names: list[str], parents: tuple[Tensor, ...], y: Tensor, yname: str) -> str:
    """'u = b · c = 3 · 2 = 6' for scalars; 'u = b @ c  (2×3)' for tensors."""
    rule = rule_for(node)
    expr = rule.forward_text(node, names)
    text = f"{yname} = {expr}"
    small = all(p.array.size == 1 for p in parents) and y.array.size == 1
    if not small:
        return text + f"  ({shape_str(y.shape)})"
    numeric = rule.forward_text(node, [paren(p.array.item()) for p in parents])
    if numeric != expr:
        text += f" = {numeric}"
    return text + f" = {Value.of(y.array)}"


def forward_steps(graph: Graph, names: dict[int, str]) -> list[ForwardStep]:
    """Each node in the order computed, with its value; where a value first stops being finite, why."""
    steps = []
    for i, n in enumerate(graph.forward_nodes, 1):
        y, parents = graph.out_of[id(n)], graph.parents[id(n)]
        ins = [names[id(p)] for p in parents]
        note = ""
        if not finite(y.array) and all(finite(p.array) for p in parents):
            note = f"not finite ({why_not_finite(n, [p.array for p in parents], y.array)}): not defined at this point"
        steps.append(ForwardStep(i, n.name, names[id(y)], ins, Value.of(y.array),
                                 forward_text(n, ins, parents, y, names[id(y)]), rule_for(n).symbol, note))
    return steps


# --- the reverse pass ----------------------------------------------------------------------------------

Captured = list[tuple[Any, np.ndarray, list[Any]]]


def run_reverse_pass(graph: Graph, seed: np.ndarray, retain_graph: bool, accumulate: bool) -> Captured:
    """Run the engine's reverse pass from the output; what each node received and sent, in visiting order."""
    captured: Captured = []

    def hook(node: Any, dy: Any, grads: tuple) -> None:
        # copies: the engine may later add into these very arrays (accumulating .grad)
        captured.append((node, np.array(dy, copy=True),
                         [None if g is None else np.array(g, copy=True) for g in grads]))

    inputs = None if accumulate else graph.leaves_wanting_grad()
    run_backward([graph.output], [seed], retain_graph, False, inputs=inputs, hook=hook)
    return captured


def _local_derivatives(node: Any, pnames: list[str], parents: tuple[Tensor, ...], y: Tensor) -> list | None:
    rule = rule_for(node)
    if rule.local is None:
        return None
    try:
        return rule.local(pnames, [p.array for p in parents], y.array, node)
    except Exception:  # noqa: BLE001 - an odd op must not break the explanation
        return None


def backward_step(k: int, node: Any, dy: np.ndarray, grads: list[Any], graph: Graph, names: dict[int, str],
                  d_out: str, upstream_from: list[int]) -> Step:
    """One node of the reverse pass: upstream × local derivative, summed to each input's shape."""
    parents, y = graph.parents[id(node)], graph.out_of[id(node)]
    yname = names[id(y)]
    rule = rule_for(node)
    pnames = [names[id(p)] for p in parents]
    locals_ = _local_derivatives(node, pnames, parents, y)
    operands = []
    for i, p in enumerate(parents):
        g = grads[i] if i < len(grads) else None
        op_ = Operand(pnames[i], tuple(p.shape), Value.of(p.array), bool(p.requires_grad), None)
        if g is not None and node.needs_input_grad[i]:
            g = np.asarray(g)
            op_.grad = sum_to(g, tuple(p.shape)).astype(p.array.dtype, copy=False)  # as the engine does
            op_.summed_axes = broadcast_axes(g.shape, tuple(p.shape)) if g.shape != tuple(p.shape) else ()
            if locals_ is not None:
                op_.local_symbol, op_.local = locals_[i]
            op_.formula = formula(node, rule, i, parents, pnames, y, yname, dy, g, op_, d_out)
        operands.append(op_)
    detail: list[str] = []
    if rule.detail is not None and y.array.size <= SMALL and any(o.grad is not None for o in operands):
        try:
            detail = rule.detail(pnames, [p.array for p in parents], y.array, dy, node, yname)
        except Exception:  # noqa: BLE001 - an odd op must not break the explanation
            detail = []
    text = rule.text
    if _PLACEHOLDERS & set(names.values()):  # the user has a u or v of their own: use the node's names
        text = own_names(text, pnames)
    return Step(k, node.name, yname, tuple(y.shape), Value.of(y.array), operands, dy, upstream_from,
                text, rule.pattern, _params(node), detail=detail)


#: The names the rules give a node's inputs (u, then v), so no rule reads like one of the user's tensors.
_PLACEHOLDERS = {"u", "v"}
_PLACEHOLDER = re.compile(r"(?<![A-Za-z])(d?)([uv])(?![A-Za-z])")


def own_names(text: str, pnames: list[str]) -> str:
    """A rule written with u, v, rewritten with the node's own input names: 'd(t1+b)/dt1 = 1'."""
    sub = dict(zip("uv", pnames))
    return _PLACEHOLDER.sub(lambda m: m.group(1) + sub.get(m.group(2), m.group(2)), text)


def backward_steps(graph: Graph, names: dict[int, str], captured: Captured, seed: np.ndarray,
                   d_out: str) -> tuple[list[Step], dict[int, list[tuple[int, np.ndarray]]]]:
    """The steps in the order visited, and for each tensor the (step, gradient) sent to it."""
    steps: list[Step] = []
    arrived: dict[int, list[tuple[int, np.ndarray]]] = {id(graph.output): [(0, seed)]}
    for k, (node, dy, grads) in enumerate(captured, 1):
        y = graph.out_of[id(node)]
        upstream_from = [s for s, _ in arrived.get(id(y), [])]
        step = backward_step(k, node, dy, grads, graph, names, d_out, upstream_from)
        for p, o in zip(graph.parents[id(node)], step.inputs):
            if o.grad is not None:
                arrived.setdefault(id(p), []).append((k, o.grad))
        steps.append(step)
    return steps, arrived


def _params(node: Any) -> dict[str, Any]:
    skip = {"parents", "needs_input_grad", "out", "xp",  # the graph's bookkeeping, not the op's parameters
            "parent_fns", "seq", "params", "leaves", "out_name", "pre_hooks", "post_hooks", "retained"}
    out = {}
    for k, v in vars(node).items():
        if k in skip or k.startswith("_"):
            continue
        out[k] = v if isinstance(v, (int, float, str, bool, tuple, type(None))) else repr(v)[:60]
    return out


# --- fan-out: a copy sums ------------------------------------------------------------------------------

def fan_out(graph: Graph, names: dict[int, str], steps: list[Step], arrived: dict[int, list[tuple[int, np.ndarray]]],
            d_out: str) -> tuple[dict[str, np.ndarray], dict[str, list[int]]]:
    """Each leaf's total gradient, and the tensors fed to several nodes with the steps that sum.

    The step where a leaf's last gradient arrives says so, with the sum written out for scalars.
    """
    grads: dict[str, np.ndarray] = {}
    fanout: dict[str, list[int]] = {}
    for tid, contribs in arrived.items():
        if len(contribs) > 1:
            fanout[names[tid]] = [s for s, _ in contribs]
        t = graph.read.get(tid)
        if t is None or t.grad_fn is not None:
            continue
        total = contribs[0][1].copy()
        for _, g in contribs[1:]:
            total = total + g
        grads[names[tid]] = total
        if len(contribs) > 1:
            parts = " + ".join(str(Value.of(g)) for _, g in contribs) if total.size == 1 else ""
            where = ", ".join(str(s) for s, _ in contribs)
            arithmetic = f": {parts} = {Value.of(total)}" if parts else ""
            steps[contribs[-1][0] - 1].sums.append(
                f"{d_out}{names[tid]}: a copy sums the gradients from steps {where}{arithmetic}"
            )
    return grads, fanout


# --- values that are not finite ------------------------------------------------------------------------

def notes_on_values(graph: Graph, names: dict[int, str], forward: list[ForwardStep], grads: dict[str, np.ndarray],
                    d_out: str) -> list[str]:
    """A sentence for each value that is not finite where it starts, and each such gradient of an input."""
    notes = []
    for t in graph.read.values():
        if t.grad_fn is None and not finite(t.array):
            kind = "input" if t.requires_grad else "constant"
            name, value = names[id(t)], str(Value.of(t.array))
            shown = name if name.strip("()") == value else f"{name} = {value}"
            notes.append(f"the {kind} {shown} is not finite: nothing computed from it is defined")
    for n, f in zip(graph.forward_nodes, forward):
        if f.note:
            y, xs = graph.out_of[id(n)].array, [p.array for p in graph.parents[id(n)]]
            notes.append(f"{f.output} = {f.value} is not finite ({why_not_finite(n, xs, y)}): it is not defined "
                         "at this point, nor is anything computed from it")
    for k, g in grads.items():
        if not finite(g):
            notes.append(f"{d_out}{k} = {Value.of(g)} is not finite: the gradient is not defined at this point")
    return notes


# --- the whole record ----------------------------------------------------------------------------------

def _seed(output: Any, gradient: Any) -> np.ndarray:
    """The gradient the reverse pass starts from, or a clear error about the output."""
    if not isinstance(output, Tensor):
        raise TypeError(f"explain: expected a Tensor, got {type(output).__name__}")
    if output.grad_fn is None:
        raise RuntimeError(
            "explain: this tensor was not computed from tensors that require grad, so there is "
            "no graph to explain; create the inputs with requires_grad=True"
        )
    if gradient is None:
        if output.array.size != 1:
            raise RuntimeError(
                f"explain: the output has shape {output.shape}; pass `gradient` of that shape, or "
                "explain a one-element tensor (e.g. out.sum())"
            )
        return np.ones(output.shape, output.dtype)
    seed = np.asarray(gradient.array if isinstance(gradient, Tensor) else gradient, output.dtype)
    if seed.shape != output.shape:
        raise RuntimeError(f"explain: gradient of shape {seed.shape} for an output of shape {output.shape}")
    return seed


def explain(
    output: Tensor,
    retain_graph: bool = True,
    print_table: bool = True,
    gradient: Any = None,
    name: str | None = None,
    accumulate: bool = False,
) -> Explanation:
    """Run a reverse pass of its own from `output` and record every step; no `.grad` is touched.

    Explaining is looking, so by default it changes nothing: `.grad` stays as it was (as
    autograd.grad) and the graph is kept, so `backward()` still works afterwards. With
    accumulate=True the gradients also go into `.grad`, as backward does; with
    retain_graph=False the graph is freed afterwards, as backward frees it. After a
    backward() that freed the graph, the forward is run again from the leaves it kept, so
    the record is the same (a user autograd.Function in the graph cannot be re-run: an error says so).

    Returns an Explanation: `.steps` in reverse order, `.grads` by leaf name, and
    `.table()` the printed table (printed here unless print_table=False). Tensors are
    named by their `.name`; others get t1, t2 ... (results), x1 ... (leaves), c1 ...
    A value or gradient that is not finite (inf, nan) is not defined at that point: the
    record's `.notes` say which and why, instead of NumPy's floating-point warnings.
    """
    if isinstance(output, Tensor) and isinstance(output.grad_fn, CapturedGraph):
        raise RuntimeError("explain: this loss comes from a captured step's replay (matgrad.autograd.capture), one "
                           "node for the whole step; call the step's function itself (uncaptured) to explain it")
    if isinstance(output, Tensor) and type(output.array) is not np.ndarray and output.grad_fn is not None:
        if accumulate:
            raise NotImplementedError("explain(accumulate=True) on a GPU graph: explain() reads the values on the "
                                      "host; call backward() for the gradients in .grad")
        # a GPU graph: rebuilt on the host from host copies of its leaves, where the values are read and shown
        try:
            output = replay(output, to_host=True)
        except RuntimeError as e:
            raise RuntimeError(str(e).replace("backward() has already freed this graph, and it cannot be rebuilt",
                                              "a GPU graph is explained on the host, so it must be rebuilt there")
                               ) from None
        if isinstance(gradient, Tensor):
            gradient = gradient.cpu()
    seed = _seed(output, gradient)
    try:
        graph = Graph.of(output)
    except RuntimeError as e:
        if "a second time" not in str(e):
            raise
        # backward() freed the values: run the forward again from the leaves it kept (explain/replay.py)
        graph = Graph.of(replay(output))
        output = graph.output
    names = name_tensors(graph, name or output.name or "out")
    out_name = names[id(output)]
    d_out = f"∂{out_name}/∂"
    with np.errstate(all="ignore"):  # what is not finite is reported in the notes, in words
        forward = forward_steps(graph, names)
        captured = run_reverse_pass(graph, seed, retain_graph, accumulate)
        steps, arrived = backward_steps(graph, names, captured, seed, d_out)
        grads, fanout = fan_out(graph, names, steps, arrived, d_out)
        notes = notes_on_values(graph, names, forward, grads, d_out)

    order = {nm: k for k, nm in enumerate(names.values())}  # leaves in the order the forward read them
    grads = dict(sorted(grads.items(), key=lambda kv: order.get(kv[0], 0)))
    leaves = {k: Value.of(t.array) for t in graph.read.values() if (k := names[id(t)]) in grads}
    leaves = dict(sorted(leaves.items(), key=lambda kv: order.get(kv[0], 0)))
    tensors: dict[str, Value] = {}
    kinds: dict[str, str] = {}
    for t in [*graph.read.values(), output]:
        nm = names[id(t)]
        tensors[nm] = Value.of(t.array)
        kinds[nm] = ("output" if t is output else "result" if t.grad_fn is not None
                     else "input" if t.requires_grad else "constant")
    samples = {names[id(t)]: sample(t.array) for t in [*graph.read.values(), output] if t.array.size > 1}
    exp = Explanation(out_name, Value.of(output.array), forward, steps, grads, leaves, fanout, tensors, kinds,
                      dict(names), notes, samples)
    if print_table:
        print(exp)
    return exp
