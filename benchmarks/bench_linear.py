"""Linear's forward product two ways, issue 19: Y = X·Wᵀ as rows, or Yᵀ = W·Xᵀ transposed back by the bias add.

    python benchmarks/bench_linear.py [--threads 1,2] [--repeats 7] [--dtype float32] [--rows 8,32,64,128,256]

matgrad's nn.Linear keeps W as (out, in), as PyTorch does, so Y = X·Wᵀ is an "NT" GEMM with Y
written row by row. OpenBLAS can also write the same numbers out-major: Yᵀ = W·Xᵀ, a GEMM on the
same two operands with the other output layout. Then `np.add(Yᵀ.T, b, out=Y)` adds the bias and lays
Y out as rows in one pass, the pass the bias add makes anyway (without a bias, one copy).
ops/linear.py `_affine` picks the second way for the shapes where it won here (`_out_major`). This
script times both, interleaved, for a grid of (rows, in, out) and prints out-major / rows as paired
medians: below 1 the out-major way is faster. Rerun it on a new CPU or BLAS before trusting the rule.
"""
from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

import machine  # noqa: E402
import readme  # noqa: E402
import timing  # noqa: E402

SIZES = ((784, 128), (784, 1024), (1024, 10), (128, 10), (512, 512), (1024, 1024), (64, 256), (256, 64),
         (256, 1024), (1024, 256))
ROWS = (8, 32, 64, 128, 256)


def cases(rows: int, n_in: int, n_out: int, dtype: str) -> dict[str, object]:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((rows, n_in)).astype(dtype)
    w = rng.standard_normal((n_out, n_in)).astype(dtype)
    b = rng.standard_normal(n_out).astype(dtype)

    def by_rows() -> np.ndarray:
        y = np.matmul(x, w.T)
        y += b
        return y

    def out_major() -> np.ndarray:
        y = np.empty((rows, n_out), dtype)
        return np.add(np.matmul(w, x.T).T, b, out=y)

    return {"rows": by_rows, "out-major": out_major}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", default="1,2", help="BLAS thread counts to try, e.g. 1,2")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--dtype", default="float32")
    parser.add_argument("--rows", default=",".join(map(str, ROWS)), help="the grid's row counts, e.g. 8,16,32")
    args = parser.parse_args()
    import matgrad

    rows_grid = [int(r) for r in args.rows.split(",")]
    print(f"machine: {readme.machine_line(machine.describe())}", flush=True)
    for threads in (int(t) for t in args.threads.split(",")):
        print(f"\n{threads} BLAS thread(s), {args.dtype}: out-major / rows, paired median (rows' median in µs)")
        print("in→out".ljust(11) + "".join(f"rows {r}".rjust(17) for r in rows_grid))
        matgrad.set_num_threads(threads)  # NumPy's BLAS, which both ways call
        for n_in, n_out in SIZES:
            line = f"{n_in}→{n_out}".ljust(11)
            for rows in rows_grid:
                st = timing.interleaved(cases(rows, n_in, n_out, args.dtype), repeats=args.repeats,
                                        min_sample_s=0.01)
                ratio = timing.paired_ratio(st["out-major"], st["rows"])
                line += f"{ratio:.2f} ({statistics.median(st['rows'].samples) * 1e6:.0f})".rjust(17)
            print(line, flush=True)


if __name__ == "__main__":
    main()
