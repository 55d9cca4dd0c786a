"""TensorBoard event files of a training run (`matgrad train --logdir DIR`), written by tensorboardX.

Every tag's x axis is the global step: batches trained since the run began (epoch e ends at step
e × steps per epoch). What is written:

- every N steps (`--log-every`, and each epoch's last step): `train/loss` (the mean batch loss,
  weighted by batch size, over the steps since the last point), `train/lr` (the learning rate the
  step used), `train/samples_per_s` (training samples per second since the last point);
- with `--watch`, at the same steps: `watch/grad_norm/<weight>` (‖dW‖), `watch/update_ratio/<weight>`
  (‖ΔW‖/‖W‖) and `watch/dead_relu/<relu>` (share of a ReLU's units dead on the whole batch);
- after each epoch: `epoch/train_loss`, `epoch/train_accuracy`, `test/loss`, `test/accuracy`
  (metrics.json's values), and histograms `weights/<parameter>` and `grads/<parameter>` (the
  gradient of the epoch's last step).

The writer sits behind this one class, so a distributed run can give it to rank 0 alone.
tensorboardX is optional (`pip install "matgrad[tensorboard]"`); without it `available()` is False
and `TensorBoardLog` raises TensorBoardUnavailable with MISSING as its message.
"""
from __future__ import annotations

import importlib.util
import os
import time
from pathlib import Path
from typing import Any, Mapping

import numpy as np

MISSING = ('writing no TensorBoard logs, as tensorboardX is not installed; get it with: '
           'pip install "matgrad[tensorboard]"')


HISTOGRAM_BINS = 64


class TensorBoardUnavailable(ImportError):
    """tensorboardX cannot be imported; the message says how to install it."""


def available() -> bool:
    """Whether tensorboardX is installed."""
    return importlib.util.find_spec("tensorboardX") is not None


class TensorBoardLog:
    """One run's event files in `logdir`.

    `purge_step`: a resumed run passes the first step it will train, so TensorBoard drops the
    points an interrupted run wrote past its last checkpoint (they are trained again).
    """

    def __init__(self, logdir: str | os.PathLike, purge_step: int | None = None) -> None:
        try:
            from tensorboardX import SummaryWriter
        except ImportError:
            raise TensorBoardUnavailable(MISSING) from None
        self.logdir = Path(logdir)
        self.logdir.mkdir(parents=True, exist_ok=True)
        # event files are named by the second they were opened: a run resumed within that second would
        # overwrite the first one's file, so each writer's file gets a suffix of its own
        self.writer = SummaryWriter(logdir=str(self.logdir), purge_step=purge_step, flush_secs=30,
                                    filename_suffix=f".{os.getpid()}.{time.monotonic_ns()}")

    def log_step(self, step: int, *, loss: float, lr: float, samples_per_s: float,
                 watch: Mapping[str, Mapping[str, float]] | None = None) -> None:
        """The scalars of one logged step; `watch` is Watch.latest(): {kind: {layer: value}}."""
        add = self.writer.add_scalar
        add("train/loss", float(loss), step)
        add("train/lr", float(lr), step)
        add("train/samples_per_s", float(samples_per_s), step)
        for kind, layers in (watch or {}).items():
            for layer, value in layers.items():
                add(f"watch/{kind}/{layer}", float(value), step)

    def log_epoch(self, step: int, record: Mapping[str, Any], model: Any) -> None:
        """An epoch's record (metrics.json's) and the histograms of the weights and their gradients."""
        add = self.writer.add_scalar
        for tag, key in (("epoch/train_loss", "train_loss"), ("epoch/train_accuracy", "train_accuracy"),
                         ("test/loss", "test_loss"), ("test/accuracy", "test_accuracy")):
            if record.get(key) is not None:
                add(tag, float(record[key]), step)
        for name, p in model.named_parameters():
            self._histogram(f"weights/{name}", p.array, step)
            if p.grad is not None:
                self._histogram(f"grads/{name}", p.grad.array, step)
        self.writer.flush()

    def _histogram(self, tag: str, values: Any, step: int) -> None:
        """HISTOGRAM_BINS equal bins (tensorboardX's own ~1,500 uneven ones cost ~0.3 s an epoch for the seed MLP).

        Binned in the values' own dtype by one bincount (np.histogram took 8.3 ms on a 784×1024 float32
        weight, this 4.1 ms, AMD EPYC): with the epoch's other histograms that was half the logging's cost.
        """
        a = _finite(values)
        if a.size == 0:
            return
        lo, hi = float(a.min()), float(a.max())
        if hi <= lo:
            lo, hi = lo - 0.5, lo + 0.5
        idx = np.subtract(a, lo, dtype=np.float64 if a.dtype.itemsize > 4 else np.float32)
        idx *= HISTOGRAM_BINS / (hi - lo)
        bins = idx.astype(np.intp)
        np.clip(bins, 0, HISTOGRAM_BINS - 1, out=bins)  # the maximum belongs to the last bin, as np.histogram
        counts = np.bincount(bins, minlength=HISTOGRAM_BINS)
        edges = lo + (hi - lo) * np.arange(1, HISTOGRAM_BINS + 1) / HISTOGRAM_BINS
        self.writer.add_histogram_raw(tag, lo, hi, int(a.size), float(a.sum(dtype=np.float64)),
                                      float(np.dot(a, a)), edges.tolist(), counts.tolist(), step)

    def close(self) -> None:
        self.writer.close()


def _finite(a: Any) -> np.ndarray:
    """The values as a flat float NumPy array (its own float dtype, else float64), non-finite ones left out."""
    if type(a) is not np.ndarray and hasattr(a, "dtype"):  # a GPU's array: binned on the host
        from ..devices import to_host

        a = to_host(a)
    a = np.asarray(a)
    a = (a if a.dtype.kind == "f" else a.astype(np.float64)).ravel()
    return a if np.isfinite(a).all() else a[np.isfinite(a)]
