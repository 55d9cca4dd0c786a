"""Profile matgrad's training step (or one small op) to see where the time goes.

    python benchmarks/profile_step.py [--net seed|small] [--batch N] [--steps N]
                                      [--op add|mul|...] [--cprofile]

Uses pyinstrument (a dev tool: pip install pyinstrument) when present, else cProfile.
Run with --threads 1 style env (OPENBLAS_NUM_THREADS=1) for steadier pictures.
"""
from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

import mlp  # noqa: E402
import ops  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--net", choices=["seed", "small"], default="seed")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--op", choices=sorted(ops.CASES), help="profile one 8×8 op instead")
    parser.add_argument("--cprofile", action="store_true", help="cProfile even if pyinstrument is there")
    args = parser.parse_args()

    if args.op:
        fn = ops._impls(ops.CASES[args.op], (8, 8), threads=1)["matgrad"]
        what = f"{args.op} 8×8 forward+backward"
    else:
        sizes = (784, 1024, 10) if args.net == "seed" else (784, 128, 10)
        spec = mlp.Spec(sizes, args.batch)
        problem = mlp.make_problem(spec)
        fn = mlp._cycler(mlp.make_step("matgrad", spec, problem, 1), problem)
        what = f"matgrad step {spec.label}"
    for _ in range(10):
        fn()
    print(f"profiling {args.steps} × {what}")
    try:
        if args.cprofile:
            raise ImportError
        from pyinstrument import Profiler
    except ImportError:
        prof = cProfile.Profile()
        prof.enable()
        for _ in range(args.steps):
            fn()
        prof.disable()
        pstats.Stats(prof).sort_stats("tottime").print_stats(25)
        return
    profiler = Profiler(interval=0.0002)
    profiler.start()
    for _ in range(args.steps):
        fn()
    profiler.stop()
    print(profiler.output_text(unicode=True, color=False, show_all=False))


if __name__ == "__main__":
    main()
