"""matgrad.parallel's measurements: large elementwise ops on all threads against one, in one process.

    python benchmarks/bench_parallel.py [--threads 2] [--rounds 15] [--against HEAD] [--sizes]

Ops: forward + backward of issue 19's 1000×1000 float32 cases (exp, relu, tanh, sigmoid,
softmax) and the cnn recipe's activations (batch_norm, relu, max_pool2d at batch 128). Cases,
alternating A B B A ... so all share the machine's noise:
  threaded  this checkout at --threads (matgrad.parallel cuts the large arrays)
  one       this checkout with matgrad.parallel held to one thread (the plain NumPy calls; BLAS keeps --threads)
  old       with --against REV: that revision's matgrad (exported as benchmarks/ab.py does)
Prints each case's median ms and the median of the per-round ratios to `one` (or `old`).
--sizes: the break-even behind parallel.MIN_SIZE: relu and exp forward alone, cut or not, from 16K elements up.
"""
from __future__ import annotations

import argparse
import importlib
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

CASES: dict[str, tuple[tuple[int, ...], Callable[[Any, Any], Any]]] = {
    "exp 1000×1000": ((1000, 1000), lambda lib, x: x.exp()),
    "relu 1000×1000": ((1000, 1000), lambda lib, x: x.relu()),
    "tanh 1000×1000": ((1000, 1000), lambda lib, x: x.tanh()),
    "sigmoid 1000×1000": ((1000, 1000), lambda lib, x: x.sigmoid()),
    "softmax 1000×1000": ((1000, 1000), lambda lib, x: lib.nn.functional.softmax(x, dim=-1)),
    "batch_norm 128×32×28×28": ((128, 32, 28, 28), lambda lib, x: lib.nn.functional.batch_norm(
        x, None, None, lib.ones(x.shape[1]), lib.zeros(x.shape[1]), training=True)),
    "relu 128×32×28×28": ((128, 32, 28, 28), lambda lib, x: x.relu()),
    "max_pool2d 128×32×28×28": ((128, 32, 28, 28), lambda lib, x: lib.nn.functional.max_pool2d(x, 2)),
    "batch_norm 128×64×14×14": ((128, 64, 14, 14), lambda lib, x: lib.nn.functional.batch_norm(
        x, None, None, lib.ones(x.shape[1]), lib.zeros(x.shape[1]), training=True)),
    "max_pool2d 128×64×14×14": ((128, 64, 14, 14), lambda lib, x: lib.nn.functional.max_pool2d(x, 2)),
    "batch_norm 128×128×7×7": ((128, 128, 7, 7), lambda lib, x: lib.nn.functional.batch_norm(
        x, None, None, lib.ones(x.shape[1]), lib.zeros(x.shape[1]), training=True)),
    "max_pool2d 128×128×7×7": ((128, 128, 7, 7), lambda lib, x: lib.nn.functional.max_pool2d(x, 2)),
}


def _step(lib: Any, shape: tuple[int, ...], op: Callable[[Any, Any], Any]) -> Callable[[], None]:
    rng = np.random.default_rng(0)
    x = lib.tensor(rng.standard_normal(shape, dtype=np.float32), requires_grad=True)
    dy = lib.tensor(rng.standard_normal(op(lib, x).shape, dtype=np.float32))

    def step() -> None:
        x.grad = None
        op(lib, x).backward(dy)
    return step


def _one_thread(fn: Callable[[], None]) -> Callable[[], None]:
    """fn with matgrad.parallel held to one thread (the BLAS keeps its own)."""
    from matgrad import threads

    def step() -> None:
        saved = threads.chosen[:]
        threads.chosen[:] = [1]
        try:
            fn()
        finally:
            threads.chosen[:] = saved
    return step


def interleaved(steps: dict[str, Callable[[], None]], rounds: int, min_s: float = 0.03) -> dict[str, list[float]]:
    """Seconds per call of each step, `rounds` samples each, in A B B A order."""
    for fn in steps.values():
        fn()
    reps = {k: max(1, int(min_s / _time(fn, 1))) for k, fn in steps.items()}
    times: dict[str, list[float]] = {k: [] for k in steps}
    for r in range(rounds):
        for k in (list(steps) if r % 2 == 0 else list(steps)[::-1]):
            times[k].append(_time(steps[k], reps[k]))
    return times


def _time(fn: Callable[[], None], n: int) -> float:
    t0 = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - t0) / n


def report(times: dict[str, list[float]], base: str) -> str:
    parts = []
    for k, t in times.items():
        text = f"{k} {statistics.median(t) * 1e3:7.3f} ms"
        if k != base:
            ratio = [a / b for a, b in zip(t, times[base])]
            won = sum(x < 1 for x in ratio)
            text += f" ({statistics.median(ratio):.2f}× {base}, faster in {won}/{len(ratio)})"
        parts.append(text)
    return "  ".join(parts)


def sizes(rounds: int) -> None:
    """relu and exp forward at growing sizes, cut or not: where cutting starts to pay."""
    from matgrad import parallel

    saved = parallel.MIN_SIZE, parallel.MIN_SIZE_HEAVY
    parallel.MIN_SIZE = parallel.MIN_SIZE_HEAVY = 0
    try:
        for n in (1 << 15, 1 << 16, 1 << 17, 1 << 18, 1 << 19, 1 << 20, 1 << 21, 1 << 22):
            x = np.random.default_rng(0).standard_normal(n, dtype=np.float32)
            for name, fn in (("relu", lambda x, out=None: np.clip(x, 0, np.inf, out=out)), ("exp", np.exp)):
                steps = {"cut": lambda fn=fn, x=x: parallel.elementwise(fn, x), "plain": lambda fn=fn, x=x: fn(x)}
                print(f"  {name} {n:8d}: {report(interleaved(steps, rounds, 0.01), 'plain')}", flush=True)
    finally:
        parallel.MIN_SIZE, parallel.MIN_SIZE_HEAVY = saved


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--against", help="an earlier revision to compare with (e.g. HEAD)")
    parser.add_argument("--sizes", action="store_true", help="the break-even of parallel.MIN_SIZE")
    parser.add_argument("--only", help="cases whose name contains this")
    args = parser.parse_args()

    import matgrad

    matgrad.set_num_threads(args.threads)
    print(f"{args.threads} thread(s), {args.rounds} rounds; forward + backward, median ms per call", flush=True)
    if args.sizes:
        sizes(args.rounds)
        return
    with tempfile.TemporaryDirectory() as tmp:
        libs = {"threaded": matgrad}
        if args.against:
            from ab import export_old

            name = export_old(args.against, Path(tmp))
            sys.path.insert(0, tmp)
            libs["old"] = importlib.import_module(name)
        for case, (shape, op) in CASES.items():
            if args.only and args.only not in case:
                continue
            steps = {k: _step(lib, shape, op) for k, lib in libs.items()}
            steps["one"] = _one_thread(_step(matgrad, shape, op))
            times = interleaved(steps, args.rounds)
            print(f"  {case:26s} {report(times, 'old' if args.against else 'one')}", flush=True)


if __name__ == "__main__":
    main()
