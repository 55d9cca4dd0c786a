"""What TensorBoard logging costs a training step: the seed recipe with and without `--logdir`.

    python benchmarks/bench_tensorboard.py [--rounds R] [--steps S] [--every N]

Two Trainers of the seed recipe (784 -> 1024 ReLU -> 10 sigmoid, BCE, SGD momentum 0.9, batch 256,
float32) on the same synthetic MNIST-shaped batches; one writes TensorBoard event files
(train/loss, train/lr, train/samples_per_s every N steps, default 50, as `matgrad train` does), the
other writes none. Each round times one S-step "epoch" (default 100 steps) of each, in alternating
order (A B, B A, ...), so both share the machine's drift; the logging arm's time also includes
the per-epoch scalars and the weight and gradient histograms (written once per S steps here, so
more often than in a real 235-step MNIST epoch: the figure is an upper bound). Prints the median
ms per step of each arm and the median of the per-round ratios, with the machine.
No --watch in either arm: --watch's own statistics cost the same with or without TensorBoard.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

import machine  # noqa: E402

from matgrad import models  # noqa: E402
from matgrad.training.config import TrainConfig  # noqa: E402
from matgrad.training.tensorboard import TensorBoardLog  # noqa: E402
from matgrad.training.trainer import Trainer  # noqa: E402


def make_trainer(steps: int, every: int, out: Path, logdir: Path | None) -> Trainer:
    cfg = TrainConfig.for_new_run(models.get("mlp"), dataset="mnist", input_shape=(1, 28, 28), num_classes=10,
                                  log_every=every)
    rng = np.random.default_rng(0)
    n = steps * cfg.batch_size
    X = rng.random((n, 784), dtype=np.float32)
    y = rng.integers(0, 10, n)
    data = (X, y, X[:100], y[:100])  # a tiny test set: the evaluation is the same in both arms
    t = Trainer(cfg, data, out, log=lambda s: None, progress=False)
    if logdir is not None:
        t.tb = TensorBoardLog(logdir)
    return t


def one_epoch(t: Trainer) -> float:
    """Seconds per step of one pass, plus (when logging) the epoch's scalars and histograms."""
    start = time.perf_counter()
    record = t.train_epoch()
    t.epoch += 1
    if t.tb is not None:
        t.tb.log_epoch(t.epoch * t.steps_per_epoch, record, t.model)
    return (time.perf_counter() - start) / t.steps_per_epoch


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=10)
    p.add_argument("--steps", type=int, default=100)
    p.add_argument("--every", type=int, default=50)
    a = p.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        off = make_trainer(a.steps, a.every, Path(tmp) / "off", None)
        on = make_trainer(a.steps, a.every, Path(tmp) / "on", Path(tmp) / "on" / "tb")
        one_epoch(off), one_epoch(on)  # warm-up
        t_off, t_on, ratios = [], [], []
        for r in range(a.rounds):
            pair = (off, on) if r % 2 == 0 else (on, off)
            times = {id(t): one_epoch(t) for t in pair}
            t_off.append(times[id(off)])
            t_on.append(times[id(on)])
            ratios.append(t_on[-1] / t_off[-1])
        calls = logging_calls(on, a.steps, a.every, a.rounds)
        on.tb.close()
    info = machine.describe()
    print(f"machine: {info['cpu']}, {info['cores_usable']} usable cores, {info['threads']} BLAS threads, "
          f"{info['platform']}")
    print(f"seed step (784-1024-10, batch 256), {a.rounds} rounds of {a.steps} steps, logging every {a.every}:")
    print(f"  without TensorBoard {1e3 * statistics.median(t_off):.2f} ms/step, "
          f"with {1e3 * statistics.median(t_on):.2f} ms/step")
    print(f"  overhead: median per-round ratio {statistics.median(ratios) - 1:+.2%} "
          f"(ratios {min(ratios) - 1:+.1%} .. {max(ratios) - 1:+.1%})")
    epoch = statistics.median(t_off) * a.steps
    print(f"  the logging calls alone (timed apart from the steps, so the machine's drift does not enter): "
          f"{1e3 * calls:.1f} ms per {a.steps}-step epoch = {calls / epoch:+.2%} of the epoch without TensorBoard")


def logging_calls(t: Trainer, steps: int, every: int, rounds: int) -> float:
    """Median seconds of one epoch's TensorBoard calls: the step scalars every `every` steps, then the
    epoch's scalars and histograms, as Trainer makes them (on the trained model's real weights and grads)."""
    record = {"train_loss": 0.5, "test_loss": 0.4, "test_acc": 0.9, "seconds": 1.0}
    times = []
    for r in range(rounds):
        start = time.perf_counter()
        for s in range(every, steps + 1, every):
            t.tb.log_step(r * steps + s, loss=0.5, lr=0.1, samples_per_s=25000.0)
        t.tb.log_epoch((r + 1) * steps, record, t.model)
        t.tb.writer.flush()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


if __name__ == "__main__":
    main()
