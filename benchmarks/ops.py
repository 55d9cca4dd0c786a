"""Per-op microbenchmarks: one op forward and backward, matgrad against PyTorch and NumPy.

Small (8×8) inputs measure the fixed cost per op, the Python machinery around the
arithmetic; 1000×1000 inputs measure whether that machinery adds array work (copies,
casts, extra temporaries) beyond what bare NumPy needs for the same forward + backward.

Each case is one op written once for both libraries (`lib` is matgrad or torch; their
method names agree), plus the bare NumPy expressions doing the same forward+backward
work, with every gradient materialised as an array of its input's shape, as a `.grad`
must be (a gradient that already has that shape, like add's, is passed on as is).

Each library runs in its own process (`python benchmarks/ops.py --lib L --size S` prints one
JSON line), alternating over rounds, as issue 19 judges every goal: in one process PyTorch's
OpenMP threads spin after each of its calls and slow the other libraries' threads (matgrad's
two-thread elementwise ops read no faster than one thread there, 2026-12-03).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
from timing import Stats, interleaved, row

HERE = Path(__file__).resolve().parent
LIBS = ("matgrad", "torch", "numpy")


@dataclass(frozen=True)
class Case:
    name: str
    n_inputs: int
    op: Callable[[Any, Any, Any], Any]  # (lib, a, b) -> output
    ref: Callable[[np.ndarray, np.ndarray, Any], object]  # (a, b, dy): forward + backward


def _materialise(dy: np.ndarray, shape: tuple[int, ...], scale: float = 1.0) -> np.ndarray:
    out = np.empty(shape, np.float32)
    out[...] = dy[:, None] * np.float32(scale) if np.ndim(dy) else dy * np.float32(scale)
    return out


def _ref_max(a: np.ndarray, b: np.ndarray, dy: np.ndarray) -> None:
    i = np.expand_dims(a.argmax(1), 1)
    np.take_along_axis(a, i, 1)
    da = np.zeros_like(a)
    np.put_along_axis(da, i, dy[:, None], 1)


def _ref_softmax(a: np.ndarray, b: np.ndarray, dy: np.ndarray) -> None:
    e = np.exp(a - a.max(-1, keepdims=True))
    y = e / e.sum(-1, keepdims=True)
    y * (dy - (dy * y).sum(-1, keepdims=True))


def _ref_getitem(a: np.ndarray, b: np.ndarray, dy: np.ndarray) -> None:
    a[2:6]
    da = np.zeros_like(a)
    da[2:6] = dy


def _ref_where(a: np.ndarray, b: np.ndarray, dy: np.ndarray) -> None:
    c = a > 0
    np.where(c, a, b)
    np.where(c, dy, 0)  # da
    np.where(c, 0, dy)  # db


def _ref_chain(a: np.ndarray, b: np.ndarray, dy: np.ndarray) -> None:
    y = np.maximum(a @ b + b, 0)
    dz = dy * (y > 0)
    dz @ b.T  # da
    a.T @ dz + dz  # db


CASES = {
    "add": Case("add", 2, lambda lib, a, b: a + b, lambda a, b, dy: (a + b, dy, dy)),
    "mul": Case("mul", 2, lambda lib, a, b: a * b, lambda a, b, dy: (a * b, dy * b, dy * a)),
    "matmul": Case("matmul", 2, lambda lib, a, b: a @ b,
                   lambda a, b, dy: (a @ b, dy @ b.T, a.T @ dy)),
    "exp": Case("exp", 1, lambda lib, a, b: a.exp(), lambda a, b, dy: dy * np.exp(a)),
    "relu": Case("relu", 1, lambda lib, a, b: a.relu(),
                 lambda a, b, dy: (np.maximum(a, 0), dy * (a > 0))),
    "sigmoid": Case("sigmoid", 1, lambda lib, a, b: a.sigmoid(),
                    lambda a, b, dy: (lambda y: dy * y * (1 - y))(1 / (1 + np.exp(-a)))),
    "tanh": Case("tanh", 1, lambda lib, a, b: a.tanh(),
                 lambda a, b, dy: (lambda y: dy * (1 - y * y))(np.tanh(a))),
    "sum": Case("sum (all)", 1, lambda lib, a, b: a.sum(),
                lambda a, b, dy: (a.sum(), _materialise(dy, a.shape))),
    "sum1": Case("sum (dim 1)", 1, lambda lib, a, b: a.sum(dim=1),
                 lambda a, b, dy: (a.sum(1), _materialise(dy, a.shape))),
    "mean1": Case("mean (dim 1)", 1, lambda lib, a, b: a.mean(dim=1),
                  lambda a, b, dy: (a.mean(1), _materialise(dy, a.shape, 1 / a.shape[1]))),
    "max1": Case("max (dim 1)", 1, lambda lib, a, b: a.max(dim=1)[0], _ref_max),
    "softmax": Case("softmax (dim -1)", 1, lambda lib, a, b: lib.softmax(a, dim=-1), _ref_softmax),
    # attention over a few tokens: the vit recipe's scores are rows of 16
    "softmax16": Case("softmax (rows of 16)", 1, lambda lib, a, b: lib.softmax(a.reshape(-1, 16), dim=-1),
                      lambda a, b, dy: _ref_softmax(a.reshape(-1, 16), b, dy)),
    "getitem": Case("getitem [2:6]", 1, lambda lib, a, b: a[2:6], _ref_getitem),
    "chain": Case("chain relu(a@b+b)", 2, lambda lib, a, b: (a @ b + b).relu(), _ref_chain),
    "where": Case("where(a>0, a, b)", 2, lambda lib, a, b: lib.where(a > 0, a, b), _ref_where),
}

SMALL = ("add", "mul", "matmul", "relu", "sigmoid", "sum", "softmax", "getitem", "chain")
LARGE = ("add", "mul", "exp", "relu", "sigmoid", "tanh", "sum1", "mean1", "max1", "softmax", "softmax16",
         "where", "matmul")


def _lib_call(lib: Any, to_tensor: Callable[[np.ndarray], Any], case: Case,
              arrays: list[np.ndarray]) -> Callable[[], None]:
    """One forward + backward of `case` in matgrad or torch, resetting .grad each time."""
    leaves = [to_tensor(x) for x in arrays[: case.n_inputs]]
    a, b = leaves[0], leaves[-1]
    out = case.op(lib, a, b)
    seed = None if out.ndim == 0 else to_tensor(np.ones(out.shape, np.float32), grad=False)

    def call() -> None:
        for t in leaves:
            t.grad = None
        case.op(lib, a, b).backward(seed)

    return call


def _impl(lib: str, case: Case, shape: tuple[int, int], threads: int, seed: int = 0) -> Callable[[], None]:
    """One library's forward + backward of `case` on the inputs every process draws alike."""
    import matgrad

    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal(shape, dtype=np.float32) for _ in range(2)]
    if lib == "matgrad":
        matgrad.set_num_threads(threads)
        return _lib_call(matgrad, lambda x, grad=True: matgrad.tensor(x.copy(), requires_grad=grad), case, arrays)
    if lib == "torch":
        import torch

        torch.set_num_threads(threads)
        return _lib_call(torch, lambda x, grad=True: torch.tensor(x, requires_grad=grad), case, arrays)
    # as matgrad's process keeps freed memory from its first backward (matgrad.memory): the same array work,
    # without page faults on every fresh 4 MB array that glibc would hand back to the system
    matgrad.memory.keep_freed_memory()
    a, b = arrays
    with matgrad.no_grad():
        out_shape = case.op(matgrad, matgrad.tensor(a), matgrad.tensor(b)).shape
    dy = np.ones(out_shape, np.float32)
    return lambda: case.ref(a, b, dy)


def _plan(size: str, quick: bool) -> tuple[tuple[str, ...], tuple[int, int], str, float, float]:
    """The cases, shape, unit, scale and least sample length of a size."""
    if size == "small":
        return SMALL, (8, 8), "µs", 1e6, 0.003 if quick else 0.02
    return LARGE, (1000, 1000), "ms", 1e3, 0.005 if quick else 0.03


def time_here(lib: str, size: str, threads: int, quick: bool = False) -> dict[str, list[float]]:
    """In this process, one library: each case's samples, seconds per call."""
    names, shape, _, _, min_sample = _plan(size, quick)
    out = {}
    for key in names:
        stats = interleaved({lib: _impl(lib, CASES[key], shape, threads)}, repeats=3 if quick else 5,
                            warmup=1 if quick else 2, min_sample_s=min_sample)
        out[key] = list(stats[lib].samples)
    return out


def _run_process(lib: str, size: str, threads: int, quick: bool) -> dict[str, list[float]]:
    cmd = [sys.executable, str(HERE / "ops.py"), "--lib", lib, "--size", size, "--threads", str(threads)]
    env = {**os.environ, **{v: str(threads) for v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, (str(HERE.parent), env.get("PYTHONPATH"))))  # this checkout
    proc = subprocess.run(cmd + (["--quick"] if quick else []), capture_output=True, text=True, timeout=1800, env=env)
    if proc.returncode != 0:
        raise RuntimeError(f"ops.py --lib {lib} --size {size} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def bench(size: str, threads: int, quick: bool = False) -> list[dict[str, object]]:
    """Rows for the small (8×8, µs per call) or large (1000×1000, ms per call) ops: each library in its own
    process, alternating (3 rounds; 1 with `quick`), each process timing every case; a library's sample of a
    round is the median of that process's samples, so `paired` pairs the libraries round by round."""
    import importlib.util

    names, shape, unit, scale, _ = _plan(size, quick)
    libs = [lib for lib in LIBS if lib != "torch" or importlib.util.find_spec("torch")]
    per_round: dict[str, list[dict[str, list[float]]]] = {lib: [] for lib in libs}
    for r in range(1 if quick else 3):
        for lib in libs if r % 2 == 0 else libs[::-1]:
            per_round[lib].append(_run_process(lib, size, threads, quick))
        print(f"    {size} ops, round {r + 1}: done", flush=True)
    rows = []
    for key in names:
        stats = {}
        for lib in libs:
            samples = [s for res in per_round[lib] for s in res[key]]
            medians = tuple(statistics.median(res[key]) for res in per_round[lib])
            stats[lib] = Stats(statistics.median(samples), min(samples), max(samples), len(samples), 1, medians)
        rows.append(row(f"{CASES[key].name} {shape[0]}×{shape[1]}", unit, stats,
                        (("matgrad", "torch"), ("matgrad", "numpy")), scale=scale))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description="time one library's ops in this process (JSON out); "
                                             "run.py --only ops runs them all")
    ap.add_argument("--lib", choices=LIBS, required=True)
    ap.add_argument("--size", choices=("small", "large"), default="small")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    print(json.dumps(time_here(args.lib, args.size, args.threads, args.quick)))


if __name__ == "__main__":
    main()
