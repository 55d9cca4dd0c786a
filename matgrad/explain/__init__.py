"""The explainer: backprop as a table of steps (upstream × local derivative = gradient sent)."""
from __future__ import annotations

import sys
from typing import Any

from .model import Explanation, ForwardStep, Operand, Step
from .record import explain
from .rules import RULES, Rule, rule_for
from .values import Value

__all__ = ["explain", "Explanation", "Step", "ForwardStep", "Operand", "Value", "RULES", "Rule", "rule_for"]


class _CallableModule(sys.modules[__name__].__class__):
    """`matgrad.explain(output)` works even though `matgrad.explain` is also this package."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return explain(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
