"""PNG plots of a run (loss/accuracy curves, --watch statistics, confusion matrix), written atomically.

matplotlib (part of the `[cli]` extra) is imported only here, with the Agg backend (no display
needed). Without it `available()` is False, the plot functions raise PlotsUnavailable, and the
commands write no plots and say once how to get them (MISSING).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from ..files import atomic_write

MISSING = 'writing no plots, as matplotlib cannot be imported; get it with: pip install "matgrad[cli]"'


class PlotsUnavailable(ImportError):
    """matplotlib cannot be imported; the message says how to install it."""


def available() -> bool:
    """Whether matplotlib can be imported (so the plot functions work)."""
    try:
        _pyplot()
    except PlotsUnavailable:
        return False
    return True


def _pyplot() -> Any:
    try:
        import matplotlib

        matplotlib.use("Agg", force=True)
        import matplotlib.pyplot as plt
    except ImportError:
        raise PlotsUnavailable(MISSING) from None
    return plt


def _save(fig: Any, path: str | os.PathLike) -> Path:
    plt = _pyplot()
    try:
        return atomic_write(path, lambda f: fig.savefig(f, format="png", dpi=100, bbox_inches="tight"))
    finally:
        plt.close(fig)


def _ticks() -> Any:
    from matplotlib.ticker import MaxNLocator

    return MaxNLocator


def plot_curves(epochs: list[dict[str, Any]], path: str | os.PathLike, title: str = "") -> Path:
    """Train/test loss and accuracy against epoch."""
    plt = _pyplot()
    MaxNLocator = _ticks()  # noqa: N806 - the class, imported lazily
    x = [e["epoch"] for e in epochs]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    ax1.plot(x, [e["train_loss"] for e in epochs], "o-", label="train")
    ax1.plot(x, [e["test_loss"] for e in epochs], "o-", label="test")
    ax1.set(xlabel="epoch", ylabel="loss", title="loss")
    ax1.legend()
    if all("train_accuracy" in e for e in epochs):
        ax2.plot(x, [100 * e["train_accuracy"] for e in epochs], "o-", label="train")
    ax2.plot(x, [100 * e["test_accuracy"] for e in epochs], "o-", label="test")
    ax2.set(xlabel="epoch", ylabel="accuracy (%)", title="accuracy")
    ax2.legend()
    for ax in (ax1, ax2):
        ax.grid(alpha=0.3)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if title:
        fig.suptitle(title)
    return _save(fig, path)


def plot_watch(history: dict[str, Any], path: str | os.PathLike) -> Path:
    """watch_figure(history) written to `path`."""
    return _save(watch_figure(history), path)


def watch_figure(history: dict[str, Any]) -> Any:
    """Per layer: gradient norm, update/weight ratio (log scale) and dead-ReLU share, by step.

    The x axis is the global step of each sample (watch.py's history), with a dotted line and
    "epoch k" at each epoch's end; a history from an older checkpoint, one value per epoch and no
    "step", is drawn by epoch.

    A recurrent model's history also holds "time_step_grad_norm": a fourth panel then shows the
    gradient norm reaching each time step, one line per epoch (log scale: vanishing gradients
    are the early steps' small values).
    """
    plt = _pyplot()
    MaxNLocator = _ticks()  # noqa: N806 - the class, imported lazily
    steps = {name: per_epoch for name, per_epoch in (history.get("time_step_grad_norm") or {}).items()
             if any(per_epoch)}
    fig, axes = plt.subplots(1, 4 if steps else 3, figsize=(20 if steps else 15, 4))
    if steps:
        ax = axes[3]
        for name, per_epoch in steps.items():
            for epoch, norms in enumerate(per_epoch, 1):
                if norms:
                    ax.plot(range(1, len(norms) + 1), norms, ".-", label=f"{name or 'model'}, epoch {epoch}")
        ax.set(xlabel="time step", title="gradient norm ‖∂L/∂x_t‖ by time step")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_yscale("log")
        ax.legend(fontsize="small")
        ax.grid(alpha=0.3)
    panels = (("grad_norm", "gradient norm ‖dW‖", True), ("update_ratio", "update / weight ‖ΔW‖/‖W‖", True),
              ("dead_relu", "dead ReLU units (%)", False))
    by_step = "step" in history
    xs = list(history.get("step") or [])
    for ax, (key, label, log) in zip(axes[:3], panels):
        for name, values in history.get(key, {}).items():
            ys = [np.nan if v is None else (100 * v if key == "dead_relu" else v) for v in values]
            x = xs[:len(ys)] if by_step else list(range(1, len(ys) + 1))
            ax.plot(x, ys[:len(x)], ".-" if len(x) > 30 else "o-", markersize=3 if len(x) > 30 else 5,
                    label=f"layer {name}" if name else "model")
        ax.set(xlabel="step" if by_step else "epoch", title=label)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        if log and any(ax.get_lines()):
            ax.set_yscale("log")
        if ax.get_lines():
            ax.legend(fontsize="small")
        ax.grid(alpha=0.3)
        if by_step:
            ends = list(history.get("epoch_end") or [])
            for k, end in enumerate(ends, 1):
                ax.axvline(end, color="0.55", linestyle=":", linewidth=1, label="_epoch_end")
                ax.text(end, 0.98, f"epoch {k} ", transform=ax.get_xaxis_transform(), ha="right", va="top",
                        fontsize=7, color="0.4")
            ax.set_xlim(0, max(xs + ends + [1]) * 1.02)
    return fig


def plot_confusion(cm: np.ndarray, path: str | os.PathLike, labels: list[str] | None = None,
                   title: str = "") -> Path:
    """The confusion matrix as a heat map with the counts written in."""
    plt = _pyplot()
    n = cm.shape[0]
    fig, ax = plt.subplots(figsize=(1 + 0.6 * n, 0.8 + 0.6 * n))
    ax.imshow(cm, cmap="Blues")
    labels = labels or [str(i) for i in range(n)]
    ax.set_xticks(range(n), labels, rotation=45, ha="right")
    ax.set_yticks(range(n), labels)
    ax.set(xlabel="predicted", ylabel="true", title=title or "confusion matrix")
    top = cm.max() if cm.size else 0
    for i in range(n):
        for j in range(n):
            ax.text(j, i, str(int(cm[i, j])), ha="center", va="center", fontsize=7,
                    color="white" if cm[i, j] > top / 2 else "black")
    return _save(fig, path)
