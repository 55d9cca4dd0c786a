"""The cnn recipe's step apart from its convolutions: each op's forward + backward at the step's real shapes.

    python benchmarks/bench_cnn_parts.py [--against REV] [--rounds 15] [--threads 1] [--only bn,relu,pool,step]

At batch 128 the cnn's blocks see (128, 32, 28, 28), (128, 64, 14, 14) and (128, 128, 7, 7) float32
activations, laid out as the conv gives them ((C, N, H, W) in memory), and so are their gradients
(a conv's input gradient), but for the last pool's, which comes from Flatten in C order. Per shape: BatchNorm2d in
training (batch_norm forward + backward, running stats updated), ReLU and MaxPool2d(2), each forward
+ backward through the ops; then the whole step (bench_conv.cnn_step). With --against REV that
revision's matgrad is exported next to this one (as benchmarks/ab.py does) and every case alternates
new, old, old, new ... in one process, so both share the machine's noise: prints medians in ms and the
median of the per-round ratios new/old.
"""
from __future__ import annotations

import argparse
import importlib
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

import bench_conv  # noqa: E402

SHAPES = [(128, 32, 28, 28), (128, 64, 14, 14), (128, 128, 7, 7)]


def _activation(shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    """A float32 (N, C, H, W) array laid out as a conv's output, (C, N, H, W) in memory."""
    n, c, h, w = shape
    return rng.standard_normal((c, n, h, w), dtype=np.float32).transpose(1, 0, 2, 3)


def _case(lib, what: str, shape: tuple[int, ...]) -> Callable[[], None]:
    """forward + backward of one op of the cnn's blocks in `lib`, on fresh-looking but fixed data."""
    rng = np.random.default_rng(0)
    x = lib.from_numpy(_activation(shape, rng)).requires_grad_()  # (lib.tensor would copy it to C order)
    dy_shape = shape if what != "pool" else shape[:2] + (shape[2] // 2, shape[3] // 2)
    dy = _activation(dy_shape, rng)
    if what == "pool" and shape[2] < 14:  # the last pool's gradient comes from Flatten: in C order
        dy = np.ascontiguousarray(dy)
    dy = lib.from_numpy(dy)
    if what == "bn":
        mod = lib.nn.BatchNorm2d(shape[1])
    elif what == "relu":
        mod = lib.nn.ReLU()
    elif what == "pool":
        mod = lib.nn.MaxPool2d(2)
    else:
        raise ValueError(what)

    def step() -> None:
        x.grad = None
        for p in mod.parameters():
            p.grad = None
        mod(x).backward(dy)
    return step


def _time(fn: Callable[[], None], reps: int) -> float:
    t0 = time.perf_counter()
    for _ in range(reps):
        fn()
    return (time.perf_counter() - t0) / reps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", help="an earlier revision to compare with (exported as ab.py does)")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--only", default="bn,relu,pool,step", help="comma-separated: bn, relu, pool, step")
    args = parser.parse_args()

    import matgrad

    matgrad.set_num_threads(args.threads)
    libs = ["matgrad"]
    with tempfile.TemporaryDirectory() as tmp:
        if args.against:
            import ab

            name = ab.export_old(args.against, Path(tmp))
            sys.path.insert(0, tmp)
            importlib.import_module(name)
            libs.append(name)
        only = args.only.split(",")
        cases: list[tuple[str, Callable[[str], Callable[[], None]], int]] = []
        for what in ("bn", "relu", "pool"):
            if what in only:
                for shape in SHAPES:
                    cases.append((f"{what} {shape}",
                                  lambda lib, w=what, s=shape: _case(importlib.import_module(lib), w, s), 5))
        if "step" in only:
            cases.append(("cnn step b128", lambda lib: bench_conv.cnn_step(importlib.import_module(lib), lib), 1))
        print(f"{args.threads} thread(s), {args.rounds} rounds; ms per forward + backward, median"
              + (f"; new/old: median of per-round ratios against {libs[1]}" if len(libs) > 1 else ""))
        for label, make, reps in cases:
            fns = {lib: make(lib) for lib in libs}
            for fn in fns.values():
                fn()
                fn()
            times: dict[str, list[float]] = {lib: [] for lib in libs}
            for r in range(args.rounds):
                for lib in (libs if r % 2 else libs[::-1]):
                    times[lib].append(_time(fns[lib], reps) * 1e3)
            line = f"  {label:28s} new {statistics.median(times['matgrad']):7.2f}"
            if len(libs) > 1:
                ratio = [a / b for a, b in zip(times["matgrad"], times[libs[1]])]
                line += (f"  old {statistics.median(times[libs[1]]):7.2f}  new/old {statistics.median(ratio):.3f}"
                         f" (faster in {sum(q < 1 for q in ratio)}/{len(ratio)})")
            print(line, flush=True)


if __name__ == "__main__":
    main()
