"""Conv2d forward + backward on MNIST-sized layers: matgrad against PyTorch on the CPU.

Two layers of a small MNIST conv net, batch 128, 3×3 kernels, padding 1, with bias:
1→32 channels on 28×28 and 32→64 on 28×28. One call is the forward and the backward
(gradients of input, weight and bias), timed interleaved with PyTorch's on the same
float32 data, PyTorch using as many threads as NumPy's BLAS. Goal: matgrad at least
half PyTorch's throughput (matgrad/torch time <= 2).

    python benchmarks/bench_conv.py [--repeats 7]
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Callable

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

from timing import interleaved, row  # noqa: E402

import matgrad as mg  # noqa: E402

LAYERS = [(128, 1, 32, 28), (128, 32, 64, 28)]  # (batch, in channels, out channels, size)


def _step(lib: Any, x: np.ndarray, w: np.ndarray, b: np.ndarray) -> Callable[[], Any]:
    """One conv2d forward + backward in `lib` (matgrad or torch: the same code, only the module differs)."""
    xt, wt, bt = (lib.tensor(a, requires_grad=True) for a in (x, w, b))

    def step() -> None:
        xt.grad = wt.grad = bt.grad = None
        y = lib.nn.functional.conv2d(xt, wt, bt, padding=1)
        y.backward(lib.ones_like(y))
    return step


def run(repeats: int = 7, quick: bool = False, threads: int | None = None) -> list[dict[str, Any]]:
    """One row per layer: ms per forward+backward for matgrad and torch, and their ratio."""
    threads = threads or mg.get_num_threads()
    try:
        import torch
        torch.set_num_threads(threads)
    except ImportError:
        torch = None
    rng = np.random.default_rng(0)
    rows = []
    for n, cin, cout, size in LAYERS:
        x = rng.standard_normal((n, cin, size, size), dtype=np.float32)
        w = rng.standard_normal((cout, cin, 3, 3), dtype=np.float32) * np.float32(0.1)
        b = rng.standard_normal(cout, dtype=np.float32)
        cases = {"matgrad": _step(mg, x, w, b)}
        if torch is not None:
            cases["torch"] = _step(torch, x, w, b)
        stats = interleaved(cases, repeats=3 if quick else repeats, warmup=1 if quick else 2,
                            min_sample_s=0.05)
        r = row(f"conv2d {cin}→{cout} 3×3, batch {n}, {size}×{size}, fwd+bwd", "ms", stats,
                (("matgrad", "torch"),), scale=1e3, goal="matgrad/torch <= 2.0", threads=threads)
        if "torch" in stats:
            r["throughput_vs_torch"] = stats["torch"].median / stats["matgrad"].median
        rows.append(r)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--json", action="store_true", help="print the rows as JSON")
    args = ap.parse_args()
    rows = run(args.repeats)
    if args.json:
        print(json.dumps(rows, indent=1))
        return
    for r in rows:
        times = ", ".join(f"{k} {v['median']:.1f} ms" for k, v in r["times"].items())
        extra = f"  throughput {r['throughput_vs_torch']:.2f}× torch's" if "throughput_vs_torch" in r else ""
        print(f"{r['name']}: {times}{extra}  (threads {r['threads']})")


if __name__ == "__main__":
    main()
