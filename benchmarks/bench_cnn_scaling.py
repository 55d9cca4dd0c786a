"""Where the cnn recipe's step gains from a second thread, and where it does not: time per op, by thread count.

    python benchmarks/bench_cnn_scaling.py [--threads 2] [--rounds 9] [--blas-timeout K]

Runs bench_conv.cnn_step (batch 128, AdamW) in one process per configuration: 1 and N threads, each
with glibc returning freed memory to the system (MATGRAD_KEEP_FREED_MEMORY=0, glibc's default) and keeping
it for reuse (matgrad.keep_freed_memory(), as a process does from its first backward pass). Every op's
forward and backward is timed by wrapping them (the whole step's time is printed too: the wrappers cost well under 1%).
Samples alternate between the processes (A B C D, D C B A, ...), so they share the machine's noise.
Prints per op group the median ms per step and the N-thread/1-thread ratio (1.0: no gain; 0.5: halved).

--blas-timeout K also runs the kept-memory processes with OPENBLAS_THREAD_TIMEOUT=K (read when
OpenBLAS loads: 2^K cycles that its idle threads spin before they sleep; OpenBLAS's default is 28). After
a matrix product OpenBLAS's spinning threads take the cores from matgrad's own (matgrad/parallel.py).
"""
from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

#: Op class name -> the group it is reported in.
GROUPS = {"Conv2d": "conv", "Normalize": "batch_norm", "ReLU": "relu", "MaxPool2d": "max_pool"}


def _worker(conn: Any, threads: int, keep: bool, path: list[str]) -> None:
    """Time `number` steps on request; answer (seconds per step, {group: seconds per step})."""
    sys.path[:0] = path
    import bench_conv

    import matgrad as mg
    from matgrad.autograd.op import Op

    if keep:
        mg.keep_freed_memory()
    else:  # the first backward would keep it (memory.keep_for_training)
        os.environ["MATGRAD_KEEP_FREED_MEMORY"] = "0"
    mg.set_num_threads(threads)
    spent: dict[str, float] = defaultdict(float)
    clock = time.perf_counter

    def timed(f: Any, group: str) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            t0 = clock()
            try:
                return f(*args, **kwargs)
            finally:
                spent[group] += clock() - t0
        return call

    todo, seen = list(Op.__subclasses__()), set()
    while todo:
        cls = todo.pop()
        if cls in seen:
            continue
        seen.add(cls)
        todo += cls.__subclasses__()
        for name in ("forward", "backward"):
            if name in cls.__dict__:
                setattr(cls, name, timed(cls.__dict__[name], GROUPS.get(cls.__name__, "other ops")))
    step = bench_conv.cnn_step(mg, "matgrad")
    for _ in range(3):
        step()
    while (number := conn.recv()) is not None:
        spent.clear()
        t0 = clock()
        for _ in range(number):
            step()
        conn.send(((clock() - t0) / number, {k: v / number for k, v in spent.items()}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=9)
    ap.add_argument("--steps", type=int, default=3, help="steps per sample")
    ap.add_argument("--blas-timeout", type=int, help="also run with OPENBLAS_THREAD_TIMEOUT set to this")
    args = ap.parse_args()
    import machine
    import readme

    print(f"machine: {readme.machine_line(machine.describe())}", flush=True)
    configs = [(t, keep, None) for keep in (False, True) for t in (1, args.threads)]
    if args.blas_timeout is not None:
        configs += [(t, True, args.blas_timeout) for t in (1, args.threads)]
    ctx, conns = mp.get_context("spawn"), []
    for threads, keep, timeout in configs:
        saved = os.environ.get("OPENBLAS_THREAD_TIMEOUT")
        if timeout is not None:  # the child reads the environment as it starts
            os.environ["OPENBLAS_THREAD_TIMEOUT"] = str(timeout)
        here, there = ctx.Pipe()
        ctx.Process(target=_worker, args=(there, threads, keep, [str(HERE), str(HERE.parent)]), daemon=True).start()
        if timeout is not None:
            os.environ.pop("OPENBLAS_THREAD_TIMEOUT")
            if saved is not None:
                os.environ["OPENBLAS_THREAD_TIMEOUT"] = saved
        conns.append(here)
    samples: list[list[tuple[float, dict[str, float]]]] = [[] for _ in configs]
    order = list(range(len(configs)))
    for r in range(args.rounds):
        for i in order if r % 2 == 0 else order[::-1]:
            time.sleep(0.15)  # the last process's idle BLAS threads stop spinning first
            conns[i].send(args.steps)
            samples[i].append(conns[i].recv())
    for c in conns:
        c.send(None)

    def med(i: int, group: str | None) -> float:
        return statistics.median(s[0] if group is None else s[1].get(group, 0.0) for s in samples[i]) * 1e3

    groups = ["conv", "batch_norm", "relu", "max_pool", "other ops"]
    names = [f"{t} thr{', kept' if keep else ''}{f', t/o {k}' if k is not None else ''}" for t, keep, k in configs]
    print(f"cnn recipe step, ms per step (median of {args.rounds}), {args.threads} threads against 1:")
    print(f"{'':16}" + "".join(f"{n:>20}" for n in names) + "   (t/o: --blas-timeout)")
    for group in [None] + groups:
        cells = "".join(f"{med(i, group):20.1f}" for i in range(len(configs)))
        ratios = "  ".join(f"{med(i + 1, group) / max(med(i, group), 1e-9):.2f}" for i in range(0, len(configs), 2))
        print(f"{group or 'whole step':16}{cells}   {args.threads}/1: {ratios}")


if __name__ == "__main__":
    main()
