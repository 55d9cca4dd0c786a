"""What the autograd machinery costs with warm caches, and after the step's array passes (issue 19, goal 2).

    python benchmarks/bench_cold_calls.py [--rounds 15] [--threads 1]

A step's Python (Module.__call__, the functional checks, Op.apply, the engine, the optimizer's loop) reads
its code objects, dicts and type objects from the CPU's caches. Between those calls the step's NumPy and BLAS
passes stream its arrays through the same caches, so each call may find the interpreter's data evicted.

1. The machinery, warm and cold: matgrad's step (as a user writes it), the captured step and the ops step,
   each minus the graph-free step with the same kernels (`tuned`, benchmarks/mlp.py), per step, interleaved
   (timing.interleaved).
   At 32-16-10 batch 16 every array is a few KB and stays in the nearest caches between calls: the difference
   is the per-call floor of CPython. At the issue's sizes (784-128-10 batch 64, 784-1024-10 batch 32) the same
   calls run between passes over 0.2-3 MB arrays.
2. One small call, cold: nn.ReLU on a 64×128 float32 tensor that requires grad (a Module call, the function,
   Op.apply, one pass), timed alone right after np.add writes 0.25 to 16 MB (reading as many; into a buffer
   kept from call to call: no page faults), after no pass, and after the 784→128 layer's forward product at
   batch 64.

Each row prints the median µs per step (or per call) over the rounds and, for part 2, the ratio to the call
after no pass. Nothing here is a goal: it says where goal 2's machinery goes on the machine at hand.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

import mlp  # noqa: E402
import numpy as np  # noqa: E402
import timing  # noqa: E402

SIZES = (((32, 16, 10), 16), ((784, 128, 10), 64), ((784, 1024, 10), 32))
STEPS = ("matgrad", "captured", "ops", "tuned")
PASS_MB = (0.0, 0.25, 1.0, 4.0, 16.0)


def machinery(rounds: int, threads: int, sizes_batches: tuple = SIZES,
              min_sample_s: float = 0.04) -> dict[str, dict[str, float]]:
    """Part 1: µs per step of each implementation (printed with each minus tuned's), per network and batch."""
    print("1. per step, µs (median of rounds); minus tuned: the machinery")
    result = {}
    for sizes, batch in sizes_batches:
        spec = mlp.Spec(sizes, batch)
        p = mlp.make_problem(spec)
        steps = {name: mlp._cycler(mlp.make_step(name, spec, p, threads), p) for name in STEPS}
        stats = timing.interleaved(steps, repeats=rounds, warmup=20, min_sample_s=min_sample_s)
        med = {name: stats[name].median * 1e6 for name in STEPS}
        label = "-".join(map(str, sizes)) + f" b{batch}"
        cells = ", ".join(f"{name} {med[name]:.1f}" for name in STEPS)
        extra = ", ".join(f"{name} {med[name] - med['tuned']:+.1f}" for name in STEPS[:-1])
        print(f"  {label:18s} {cells}; minus tuned: {extra}", flush=True)
        result[label] = med
    return result


def cold_call(rounds: int, passes_mb: tuple[float, ...] = PASS_MB, calls: int = 200) -> dict[object, float]:
    """Part 2: one nn.ReLU call, µs, alone after a pass of each size (MB; 0: none) and after a forward product."""
    import matgrad
    from matgrad.ops.linear import _affine

    rng = np.random.default_rng(0)
    h = matgrad.tensor(rng.standard_normal((64, 128), dtype=np.float32), requires_grad=True)
    relu = matgrad.nn.ReLU()
    x = rng.random((64, 784), dtype=np.float32)
    w = rng.standard_normal((128, 784), dtype=np.float32) * 0.03
    b = np.zeros(128, np.float32)
    buffers = {mb: (np.ones(int(mb * 2**18), np.float32), np.empty(int(mb * 2**18), np.float32))
               for mb in passes_mb if mb}

    def before(case: object) -> None:
        if case == "product":
            _affine(x, w, b)
        elif case:
            src, dst = buffers[case]  # type: ignore[index]
            np.add(src, 1.0, out=dst)

    cases: list[object] = [0.0, *(mb for mb in passes_mb if mb), "product"]
    times: dict[object, list[float]] = {case: [] for case in cases}
    for _ in range(rounds):
        for case in cases:
            samples = []
            for _ in range(calls):
                before(case)
                start = time.perf_counter()
                relu(h)
                samples.append(time.perf_counter() - start)
            times[case].append(statistics.median(samples) * 1e6)
    med = {case: statistics.median(v) for case, v in times.items()}
    base = med[0.0]
    print("2. nn.ReLU on 64×128 (requires grad), µs a call (median of rounds), after:")
    for case in cases:
        what = "no pass" if case == 0.0 else ("the 784→128 forward product, batch 64" if case == "product"
                                               else f"a pass writing {case:g} MB")
        print(f"  {what:40s} {med[case]:6.2f}  ({med[case] / base:.2f}×)", flush=True)
    return med


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads (1: the steadiest ratios)")
    args = parser.parse_args()
    import machine
    import readme

    import matgrad

    matgrad.set_num_threads(args.threads)
    matgrad.memory.keep_freed_memory()  # as a training process: freed arrays reused, no page faults
    print(f"machine: {readme.machine_line(machine.describe())}", flush=True)
    machinery(args.rounds, args.threads)
    cold_call(args.rounds)


if __name__ == "__main__":
    main()
