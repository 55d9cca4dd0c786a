"""matgrad.memory's measurement: one training step with its weights and momentum on 4 KB pages or on 2 MiB pages.

    python benchmarks/bench_huge_pages.py [--threads N] [--rounds R] [--batch B]

The step is mlp.py's `same` step (the seed MLP 784-1024-10 with matgrad's kernels and PyTorch's
Sigmoid + BCELoss arithmetic, momentum by BLAS), timed in three parts: forward (through the loss
and its gradient), backward (the weight gradients) and the momentum update. Only where its four
weights and four momentum buffers lie differs between the cases, each its own mapping:
  small  advised MADV_NOHUGEPAGE: 4 KB pages, whatever the heap around them holds
  huge   as matgrad.memory.empty places them: 2 MiB aligned, advised MADV_HUGEPAGE
Each case is built twice (two sets of arrays per placement), and the four alternate A B B A ...,
so they share the machine's noise. Prints the median µs per part, and the ratio of the whole
step's per-round medians huge/small. Needs Linux with transparent huge pages (madvise or always).
"""
from __future__ import annotations

import argparse
import mmap
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Callable

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]


def _threads_first() -> None:
    """--threads must reach BLAS before NumPy loads it."""
    if "--threads" in sys.argv:
        n = sys.argv[sys.argv.index("--threads") + 1]
        for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[var] = n


_threads_first()

import machine  # noqa: E402
import mlp  # noqa: E402
import numpy as np  # noqa: E402
import readme  # noqa: E402

from matgrad import blas, memory  # noqa: E402


def small_pages(a: np.ndarray) -> np.ndarray:
    """A copy of `a` in a mapping of its own, advised to stay on 4 KB pages."""
    block = mmap.mmap(-1, max(a.nbytes, 1), flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    block.madvise(mmap.MADV_NOHUGEPAGE)
    out = np.frombuffer(block, np.uint8)[:a.nbytes].view(a.dtype).reshape(a.shape)
    out[...] = a
    return out


def make_step(p: mlp.Problem, place: Callable[[np.ndarray], np.ndarray]) -> tuple[Callable[..., None], list[float]]:
    """The `same` step over arrays placed by `place`, and its running [forward, backward, update] seconds."""
    params = [place(a) for a in (p.w1, p.b1, p.w2, p.b2)]
    velocity = [place(np.zeros_like(a)) for a in params]
    w1, b1, w2, b2 = params
    parts = [0.0, 0.0, 0.0]
    clock = time.perf_counter

    def step(x: np.ndarray, y: np.ndarray) -> None:
        t0 = clock()
        h = np.matmul(x, w1.T)
        h += b1
        h = np.clip(h, 0, np.inf)
        z = np.matmul(h, w2.T)
        z += b2
        _, dz = mlp._sigmoid_bce_as_pytorch(z, y)
        t1 = clock()
        dw2, db2 = np.matmul(dz.T, h), dz.sum(0)
        dh = np.matmul(dz, w2)
        np.multiply(dh, h > 0, out=dh)
        dw1, db1 = np.matmul(dh.T, x), dh.sum(0)
        t2 = clock()
        for w, g, v in zip(params, (dw1, db1, dw2, db2), velocity):
            blas.axpby(1.0, g, mlp.MOMENTUM, v)
            blas.axpy(-mlp.LR, v, w)
        parts[0] += t1 - t0
        parts[1] += t2 - t1
        parts[2] += clock() - t2

    return step, parts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=None, help="BLAS threads (read before NumPy loads)")
    parser.add_argument("--rounds", type=int, default=25)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--steps", type=int, default=40, help="steps per sample")
    args = parser.parse_args()
    if not memory._huge_pages_offered():
        sys.exit("bench_huge_pages: this system offers no transparent huge pages (Linux, THP madvise or always)")
    spec = mlp.Spec(batch=args.batch)
    p = mlp.make_problem(spec)
    cases: dict[str, tuple[Callable[..., None], list[float]]] = {}
    for copy in ("1", "2"):
        cases["small " + copy] = make_step(p, small_pages)
        cases["huge " + copy] = make_step(p, memory.copy)
    samples: dict[str, list[list[float]]] = {name: [] for name in cases}
    for r in range(args.rounds + 1):
        order = list(cases) if r % 2 else list(cases)[::-1]
        for name in order:
            step, parts = cases[name]
            parts[:] = [0.0, 0.0, 0.0]
            for i in range(args.steps):
                step(p.xs[i % len(p.xs)], p.ys[i % len(p.ys)])
            if r:  # round 0 warms up
                samples[name].append([t / args.steps * 1e6 for t in parts])
    print(f"machine: {readme.machine_line(machine.describe())}")
    print(f"seed MLP {spec.label}, `same` step; µs, medians of {args.rounds} rounds of {args.steps} steps")
    print(f"  {'case':8s} {'forward':>9s} {'backward':>9s} {'update':>9s} {'step':>9s}")
    whole = {}
    for name, rows in samples.items():
        cols = list(zip(*rows))
        whole[name] = [sum(row) for row in rows]
        print(f"  {name:8s} " + " ".join(f"{statistics.median(c):9.1f}" for c in cols)
              + f" {statistics.median(whole[name]):9.1f}")
    for copy in ("1", "2"):
        ratio = statistics.median(h / s for h, s in zip(whole["huge " + copy], whole["small " + copy]))
        print(f"  step huge {copy} / small {copy}: {ratio:.3f} (paired)")


if __name__ == "__main__":
    main()
