"""Freed memory kept for reuse (matgrad.keep_freed_memory) or given back to the system, as glibc does by default.

    python benchmarks/bench_freed_memory.py [--threads 2] [--rounds 7] [--only cnn,mlp32,mlp256,lstm,vit]

glibc's malloc hands large arrays back to the system when they are freed (mmap above a threshold it
raises up to 32 MiB, and trimming the heap's free top), so a training step that makes the same large
arrays every step takes a page fault on each of their pages again. A process's first backward pass
calls keep_freed_memory() (memory.keep_for_training) unless MATGRAD_KEEP_FREED_MEMORY=0; the `matgrad`
command calls it first thing. Each case runs in a fresh process per sample (bench_blas_timeout.py's
child: its workloads, its OpenBLAS left as a script leaves it, so a convolution sets its own thread
timeout), "returned" (MATGRAD_KEEP_FREED_MEMORY=0: glibc's defaults) and "kept" alternating (A B B A ...).
Prints per setting the median ms per step, minor page faults per step and system (kernel) ms per step,
and the median of the per-round ratios kept/returned: below 1, keeping freed memory helps.
"""
from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

import bench_blas_timeout  # noqa: E402

SETTINGS = ("returned", "kept")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--only", default="cnn,mlp32,mlp256,lstm,vit", help="of cnn, mlp32, mlp256, lstm, vit")
    args = parser.parse_args()
    import machine
    import readme

    print(f"machine: {readme.machine_line(machine.describe())}", flush=True)
    for case in args.only.split(","):
        rows: dict[str, list[tuple[float, float, float]]] = {s: [] for s in SETTINGS}
        for r in range(args.rounds):
            for s in SETTINGS if r % 2 == 0 else SETTINGS[::-1]:
                rows[s].append(bench_blas_timeout.sample(s, case, args.threads, 20))
        line = [f"  {case}:"]
        for s in SETTINGS:
            ms, faults, sys_ms = (statistics.median(col) for col in zip(*rows[s]))
            line.append(f"{s} {ms:.2f} ms ({faults:.0f} faults, {sys_ms:.1f} ms in the kernel a step);")
        paired = statistics.median(k[0] / s[0] for k, s in zip(rows["kept"], rows["returned"]))
        print(" ".join(line), f"paired kept/returned {paired:.3f} ({args.rounds} rounds)", flush=True)


if __name__ == "__main__":
    main()
