"""What an explanation holds: the forward steps, the backward steps with their operands, and the totals.

Plain dataclasses, built by `record.explain` and read by the tables (`table.py`), the
pictures (`matgrad.viz`) and the command (`matgrad explain`). Nothing here computes a
gradient; this module only imports what shows values, so every other part can import it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from . import table
from .values import Value, json_ready

if TYPE_CHECKING:
    from ..tensor import Tensor


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
    detail: list[str] = field(default_factory=list)  # per element, how the gradient is routed (softmax)

    @property
    def grads(self) -> dict[str, np.ndarray]:
        """The gradient sent to each input that wants one, by input name."""
        return {o.name: o.grad for o in self.inputs if o.grad is not None}

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index, "op": self.op, "output": self.output,
            "output_shape": list(self.output_shape), "value": self.value.to_dict(),
            "upstream": Value.of(self.upstream).to_dict(), "upstream_from": self.upstream_from,
            "rule": self.rule, "pattern": self.pattern, "sums": self.sums, "detail": self.detail,
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
    symbol: str = ""  # the op's mark in the pictures: '×'
    note: str = ""  # why the value is not finite, where it first stops being so ('' when it is)


#: How the pictures show an explanation: matgrad.viz puts its page ('html') and picture ('svg') here
#: when it loads (the pictures read this module, so this module may not import them).
VIEWS: dict[str, Any] = {}


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
    notes: list[str] = field(default_factory=list)  # values and gradients that are not finite, and why
    samples: dict[str, np.ndarray] = field(default_factory=dict, repr=False)  # name -> values, ≤16×16 (heat maps)

    def name_of(self, t: Tensor) -> str:
        """The name the record uses for tensor `t`."""
        try:
            return self._names[id(t)]
        except KeyError:
            raise KeyError("name_of: this tensor is not part of the explained graph") from None

    def grad_of(self, t: Tensor) -> np.ndarray:
        """The total gradient the record computed for leaf `t`."""
        return self.grads[self.name_of(t)]

    def uses(self, t: Tensor | str) -> list[tuple[Step, np.ndarray]]:
        """Each use of tensor `t` (or its name) in the graph: the step that read it and the gradient
        that step sent it, in the reverse pass's order. They sum to its gradient ("a copy sums"):
        for a weight reused at every time step, these are the time steps' shares of its gradient."""
        name = t if isinstance(t, str) else self.name_of(t)
        return [(s, o.grad) for s in self.steps for o in s.inputs if o.name == name and o.grad is not None]

    def table(self, totals: bool = True) -> str:
        """The reverse pass as a text table, ending with the gradients of the inputs (unless totals=False)."""
        return table.backward_table(self, totals)

    def forward_table(self) -> str:
        """The forward pass as a text table."""
        return table.forward_table(self)

    def __str__(self) -> str:
        return self.forward_table() + "\n\n" + self.table()

    def __repr__(self) -> str:  # a REPL shows the tables, not the fields
        return str(self)

    def _repr_html_(self) -> str | None:
        """Jupyter shows the step-through page inline (self-contained: no network, no external script)."""
        view = VIEWS.get("html")
        return None if view is None else view(self)

    def svg(self) -> Any:
        """The graph as an SVG picture (a str that Jupyter draws: it has `_repr_svg_`)."""
        return VIEWS["svg"](self)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data: value, grads by leaf name, forward and backward steps, notes.

        A number that is not finite (inf, nan) is None, as JSON has no such numbers; the
        notes say which values those are and why.
        """
        return {
            "output": self.output, "value": self.value.to_dict(),
            "grads": {k: json_ready(np.asarray(v, dtype=np.float64).tolist()) for k, v in self.grads.items()},
            "forward": [{"index": f.index, "op": f.op, "output": f.output, "inputs": f.inputs,
                         "value": f.value.to_dict(), "text": f.text} for f in self.forward],
            "steps": [s.to_dict() for s in self.steps],
            "fanout": self.fanout,
            "notes": self.notes,
        }
