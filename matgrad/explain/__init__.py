"""The explainer: backprop as a table of steps (upstream × local derivative = gradient sent)."""
from __future__ import annotations

from .record import Explanation, ForwardStep, Operand, Step, explain
from .rules import RULES, Rule, rule_for
from .values import Value

__all__ = ["explain", "Explanation", "Step", "ForwardStep", "Operand", "Value", "RULES", "Rule", "rule_for"]
