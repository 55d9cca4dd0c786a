"""Every differentiable op is explained: a rule in explain/rules.py, or a docstring whose first line
states its local derivative (the explainer shows that line as the op's rule)."""
from __future__ import annotations

import importlib
import inspect
import pkgutil
import re

import matgrad.ops as ops
from matgrad.autograd.op import Op
from matgrad.explain.rules import RULES, rule_for

#: a derivative written out: `dx = ...`, `dA = ...`, `∂y/∂x`, `dy/dx`
DERIVATIVE = re.compile(r"\bd[\w()ᵀ⁻¹₂]*\s*=|∂|\bd\w*/d\w+|No derivative")


def op_classes() -> list[type[Op]]:
    found = []
    for info in pkgutil.iter_modules(ops.__path__):
        module = importlib.import_module(f"matgrad.ops.{info.name}")
        found += [c for c in vars(module).values()
                  if inspect.isclass(c) and issubclass(c, Op) and c is not Op and c.__module__ == module.__name__]
    return found


def test_every_differentiable_op_has_a_rule_or_states_its_derivative():
    unexplained = []
    for op in op_classes():
        if not op.differentiable or op in RULES:
            continue
        first = (op.__doc__ or "").strip().splitlines()[0] if op.__doc__ else ""
        if not DERIVATIVE.search(first):
            unexplained.append(f"{op.__module__}.{op.__name__}: {first!r}")
    assert unexplained == [], "\n".join(unexplained)


def test_the_docstring_rule_is_what_the_explainer_shows():
    from matgrad.ops.unary import Tan

    assert rule_for(object.__new__(Tan)).text  # a rule made from the docstring, never empty
