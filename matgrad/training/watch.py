"""`--watch`: per layer, sampled every N steps (`--log-every`), gradient norms, update-to-weight ratios and dead ReLUs.

- gradient norm ‖dW‖ of each weight at the sampled step;
- update ratio ‖ΔW‖/‖W‖ of that step (how far one step moves a layer; ~1e-3 is healthy);
- dead ReLUs: the share of a ReLU's units that output 0 for every sample of that step's batch;
- for a recurrent model (a module with `time_step_grad_norms()`, as the lstm recipe's), the
  gradient norm that reaches each time step, averaged over the epoch: backprop through time,
  where vanishing gradients show as small norms at the early steps (averaged over the epoch's samples).

The steps sampled are the run's first, every N-th and each epoch's last (so even an epoch shorter
than N steps has points). The history is plain JSON (metrics.json, checkpoints):
{"every": N, "step": [global step of each sample], "epoch_end": [global step ending each epoch],
"grad_norm": {layer: [one value per sample]}, "update_ratio": {...}, "dead_relu": {...}}.
Checkpoints written before held one value per epoch and no "step": they are read as samples at
each epoch's end (`upgrade`), so a resumed run continues their curves.
"""
from __future__ import annotations

from typing import Any

import numpy as np


class Watch:
    """Collects the statistics during training; `end_epoch()` closes one epoch's averages."""

    def __init__(self, model: Any, history: dict[str, Any] | None = None, every: int = 50,
                 steps_per_epoch: int = 1) -> None:
        from .. import nn

        self.weights = [(name, m.weight) for name, m in model.named_modules()
                        if getattr(m, "weight", None) is not None and not isinstance(m, nn.ReLU)]
        # a recurrent layer's weights (nn.LSTM's weight_ih_l0, weight_hh_l0, ...) are listed by their full name
        self._full_names = {f"{name}.{p}" if name else p for name, m in model.named_modules()
                            if getattr(m, "weight", None) is None
                            for p, _ in m.named_parameters(recurse=False) if p.startswith("weight_")}
        self.weights += [(name, p) for name, p in model.named_parameters() if name in self._full_names]
        self.relus = [(name, m) for name, m in model.named_modules() if isinstance(m, nn.ReLU)]
        self.sequences = [(name, m) for name, m in model.named_modules() if hasattr(m, "time_step_grad_norms")]
        self.history: dict[str, Any] = history or {
            "grad_norm": {n: [] for n, _ in self.weights},
            "update_ratio": {n: [] for n, _ in self.weights},
            "dead_relu": {n: [] for n, _ in self.relus},
        }
        self.history = upgrade(self.history, steps_per_epoch)
        self.history["every"] = int(every)
        self._epoch_first = len(self.history["step"])  # index of this epoch's first sample
        self.epoch_means: dict[str, dict[str, float | None]] = {}
        if self.sequences:
            self.history.setdefault("time_step_grad_norm", {n: [] for n, _ in self.sequences})
        for _, m in self.sequences:
            m.watch_time_steps = True
        self._reset()
        self._before: list[np.ndarray] = []
        self._handles = [m.register_forward_hook(self._recorder(name)) for name, m in self.relus]

    def _reset(self) -> None:
        self._grad = {n: [] for n, _ in self.weights}
        self._ratio = {n: [] for n, _ in self.weights}
        self._dead = {n: [] for n, _ in self.relus}
        self._time: dict[str, list[list[float]]] = {n: [] for n, _ in getattr(self, "sequences", [])}

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
                self._grad[name].append(float(np.linalg.norm(w.grad.array.astype(np.float64))))
        self._before = [w.array.copy() for _, w in self.weights]
        for name, m in self.sequences:
            norms = m.time_step_grad_norms()
            if norms is not None:
                self._time[name].append(norms)

    def after_step(self, step: int | None = None) -> None:
        """After optimizer.step(): the size of the update relative to the weights; closes the sample at `step`."""
        for (name, w), old in zip(self.weights, self._before):
            norm = float(np.linalg.norm(old.astype(np.float64)))
            delta = float(np.linalg.norm((w.array - old).astype(np.float64)))
            self._ratio[name].append(delta / norm if norm > 0 else float("nan"))
        self._before = []
        h = self.history
        h["step"].append(int(step if step is not None else (h["step"][-1] + 1 if h["step"] else 1)))
        for key, values in (("grad_norm", self._grad), ("update_ratio", self._ratio), ("dead_relu", self._dead)):
            for name, vals in values.items():
                series = h[key].setdefault(name, [])
                series.extend([None] * (len(h["step"]) - 1 - len(series)))  # a layer new to an old history
                series.append(float(np.mean(vals)) if vals else None)
                vals.clear()

    def latest(self) -> dict[str, dict[str, float]]:
        """The last sample's values by kind and layer label (for TensorBoard), None values left out."""
        out: dict[str, dict[str, float]] = {}
        for key in ("grad_norm", "update_ratio", "dead_relu"):
            out[key] = {self.label(name, key): v[-1] for name, v in self.history[key].items()
                        if v and v[-1] is not None}
        return out

    def label(self, name: str, key: str = "grad_norm") -> str:
        """How a layer is named: "0.weight" for a weight, "1" for a ReLU, the full name of an LSTM weight."""
        if key == "dead_relu" or name in self._full_names:
            return name or "model"
        return f"{name or 'model'}.weight"

    def end_epoch(self, step: int | None = None) -> dict[str, Any]:
        """Mark the epoch's end (global `step`) and average its samples (epoch_means); returns the history."""
        h, first = self.history, self._epoch_first
        h["epoch_end"].append(int(step if step is not None else (h["step"][-1] if h["step"] else 0)))
        self.epoch_means = {}
        for key in ("grad_norm", "update_ratio", "dead_relu"):
            self.epoch_means[key] = {}
            for name, values in h[key].items():
                vals = [v for v in values[first:] if v is not None]
                self.epoch_means[key][name] = float(np.mean(vals)) if vals else None
        self._epoch_first = len(h["step"])
        for name, rows in self._time.items():
            mean = np.mean(np.array(rows, dtype=np.float64), axis=0).tolist() if rows else None
            self.history["time_step_grad_norm"].setdefault(name, []).append(mean)
        self._reset()
        return self.history

    def summary(self) -> str:
        """The last epoch's values (the mean of its samples), one line per layer."""
        lines = []
        means = self.epoch_means or {"grad_norm": {}, "update_ratio": {}, "dead_relu": {}}
        for name, _ in self.weights:
            g, r = means["grad_norm"].get(name), means["update_ratio"].get(name)
            lines.append(f"    {self.label(name)}  grad norm {_fmt(g)}  update/weight {_fmt(r)}")
        for name, _ in self.relus:
            d = means["dead_relu"].get(name)
            lines.append(f"    {name} (ReLU)  dead units {'-' if d is None else f'{d:.1%}'}")
        for name, _ in self.sequences:
            g = self.history["time_step_grad_norm"][name][-1]
            if g:
                lines.append(f"    {name or 'model'}  gradient norm by time step: step 1 {_fmt(g[0])} ... "
                             f"step {len(g)} {_fmt(g[-1])} (first/last {_fmt(g[0] / g[-1] if g[-1] else None)})")
        return "\n".join(lines)

    def close(self) -> None:
        """Take the recording hooks off the ReLUs."""
        for h in self._handles:
            h.remove()
        self._handles = []
        for _, m in self.sequences:
            m.watch_time_steps = False


def upgrade(history: dict[str, Any], steps_per_epoch: int) -> dict[str, Any]:
    """A watch history in the per-step format; an old per-epoch one becomes samples at each epoch's end."""
    if "step" in history:
        history.setdefault("epoch_end", [])
        return history
    n = max((len(v) for key in ("grad_norm", "update_ratio", "dead_relu")
             for v in (history.get(key) or {}).values()), default=0)
    ends = [(e + 1) * steps_per_epoch for e in range(n)]
    out = dict(history)
    out.update({"step": list(ends), "epoch_end": list(ends)})
    for key in ("grad_norm", "update_ratio", "dead_relu"):
        out[key] = {name: list(v) + [None] * (n - len(v)) for name, v in (history.get(key) or {}).items()}
    return out


def _fmt(x: float | None) -> str:
    return "-" if x is None else f"{x:.3g}"
