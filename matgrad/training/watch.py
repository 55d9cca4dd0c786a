"""`--watch`: per layer and epoch, gradient norms, update-to-weight ratios and dead ReLUs.

- gradient norm ‖dW‖ of each weight, averaged over the epoch's steps;
- update ratio ‖ΔW‖/‖W‖ of each step (how far one step moves a layer; ~1e-3 is healthy),
  averaged over the epoch;
- dead ReLUs: the share of a ReLU's units that output 0 for every sample of a batch,
  averaged over the epoch's batches.
"""
from __future__ import annotations

from typing import Any

import numpy as np


class Watch:
    """Collects the statistics during training; `end_epoch()` closes one epoch's averages."""

    def __init__(self, model: Any, history: dict[str, Any] | None = None) -> None:
        from .. import nn

        self.weights = [(name, m.weight) for name, m in model.named_modules()
                        if getattr(m, "weight", None) is not None and not isinstance(m, nn.ReLU)]
        self.relus = [(name, m) for name, m in model.named_modules() if isinstance(m, nn.ReLU)]
        self.history: dict[str, Any] = history or {
            "grad_norm": {n: [] for n, _ in self.weights},
            "update_ratio": {n: [] for n, _ in self.weights},
            "dead_relu": {n: [] for n, _ in self.relus},
        }
        self._reset()
        self._before: list[np.ndarray] = []
        self._handles = [m.register_forward_hook(self._recorder(name)) for name, m in self.relus]

    def _reset(self) -> None:
        self._grad = {n: [] for n, _ in self.weights}
        self._ratio = {n: [] for n, _ in self.weights}
        self._dead = {n: [] for n, _ in self.relus}

    def _recorder(self, name: str) -> Any:
        def record(module: Any, inputs: Any, out: Any) -> None:
            if self.training_step:  # not during evaluation
                a = out.array.reshape(out.array.shape[0], -1)
                self._dead[name].append(float((a <= 0).all(axis=0).mean()))
        return record

    training_step = False

    def before_step(self) -> None:
        """After backward, before optimizer.step(): record gradients, keep the weights."""
        for name, w in self.weights:
            if w.grad is not None:
                self._grad[name].append(float(np.linalg.norm(np.asarray(w.grad, dtype=np.float64))))
        self._before = [w.array.copy() for _, w in self.weights]

    def after_step(self) -> None:
        """After optimizer.step(): the size of the update relative to the weights."""
        for (name, w), old in zip(self.weights, self._before):
            norm = float(np.linalg.norm(old.astype(np.float64)))
            delta = float(np.linalg.norm((w.array - old).astype(np.float64)))
            self._ratio[name].append(delta / norm if norm > 0 else float("nan"))

    def end_epoch(self) -> dict[str, Any]:
        """Average this epoch's values into the history; returns the history."""
        collected = (("grad_norm", self._grad), ("update_ratio", self._ratio), ("dead_relu", self._dead))
        for key, values in collected:
            for name, vals in values.items():
                self.history[key].setdefault(name, []).append(float(np.mean(vals)) if vals else None)
        self._reset()
        return self.history

    def summary(self) -> str:
        """The last epoch's values, one line per layer."""
        lines = []
        for name, _ in self.weights:
            g, r = self.history["grad_norm"][name][-1], self.history["update_ratio"][name][-1]
            lines.append(f"    {name or 'model'}.weight  grad norm {_fmt(g)}  update/weight {_fmt(r)}")
        for name, _ in self.relus:
            d = self.history["dead_relu"][name][-1]
            lines.append(f"    {name} (ReLU)  dead units {'-' if d is None else f'{d:.1%}'}")
        return "\n".join(lines)

    def close(self) -> None:
        """Take the recording hooks off the ReLUs."""
        for h in self._handles:
            h.remove()
        self._handles = []


def _fmt(x: float | None) -> str:
    return "-" if x is None else f"{x:.3g}"
