"""Run matgrad's benchmarks: one table of times and ratios, and the same as JSON.

    python benchmarks/run.py [--quick] [--only SECTION[,SECTION]] [--json PATH]
    python benchmarks/run.py --readme [--from FIGURES_JSON]

Sections: mlp (the seed MLP step at batch 256), overhead (batch 32, and a 784-128-10 net
at batch 64), epoch (a full epoch per library in its own process, with peak memory),
loader (whole epochs written as each library's user would, data loader included),
ops (8×8 and 1000×1000 op microbenchmarks), conv (benchmarks/bench_conv.py), seq (an LSTM and a
Transformer encoder layer training step, each library in its own process: bench_seq.py) and recipes
(`matgrad train` of each recipe: test accuracy and seconds per epoch). Ratios are matgrad's
median over the other's: below 1 means matgrad is faster. See benchmarks/README.md.

--readme runs the README's sections (recipes, loader), saves them with the machine they ran
on to benchmarks/figures.json and rewrites README.md's figures block from that file; with
--from it only re-renders the block from a saved file (see readme.py).
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable


def _threads_from_argv(argv: list[str]) -> str | None:
    for i, arg in enumerate(argv):
        if arg == "--threads" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--threads="):
            return arg.split("=", 1)[1]
    return None


# BLAS reads its thread count when NumPy is first imported, so --threads must act first
# (the epoch's subprocesses inherit it too).
if (_n := _threads_from_argv(sys.argv[1:])) is not None:
    for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[_var] = _n

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]  # `import timing` here, `import matgrad` from the repo

import bench_conv  # noqa: E402
import bench_seq  # noqa: E402
import epoch  # noqa: E402
import machine  # noqa: E402
import mlp  # noqa: E402
import ops  # noqa: E402
import readme  # noqa: E402
import recipes  # noqa: E402
import user_epoch  # noqa: E402
from timing import interleaved, judge, row  # noqa: E402

SECTIONS = ("mlp", "overhead", "epoch", "loader", "ops", "conv", "seq", "recipes")
README_SECTIONS = ("recipes", "loader")  # the README's figures
FIGURES = HERE / "figures.json"  # what the README's figures block is rendered from (committed)
README = HERE.parent / "README.md"
IMPLS = ("matgrad", "captured", "command", "torch", "mygrad", "numpy", "tuned", "same", "floor")
ELEMENTWISE = ("add ", "mul ", "exp ", "relu ", "sigmoid ", "tanh ", "where(")
#: The open speed issue: its goals get a summary of their own under the table.
OPEN_ISSUE = "issue 19"
#: The MLP step rows' goals: issue 6's (ended, blocked; kept to compare with) and issue 19's goals 2 and 3,
#: judged in one process, where both sides are NumPy (goal 3 against PyTorch is judged per process: `loader`).
MLP_GOALS = {
    "b256": ["matgrad/floor <= 1.15 [issue 6]", "matgrad/tuned <= 1.08 [issue 19, goal 3]"],
    "b32": ["matgrad/torch <= 0.714 [issue 6]", "matgrad/tuned <= 1.08 [issue 19, goal 3]"],
    "small": ["matgrad/torch <= 0.5 [issue 6]", "matgrad/numpy <= 1.0 [issue 19, goal 2]"],
}

Row = dict[str, Any]


def _has(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def mlp_rows(specs: list[tuple[mlp.Spec, list[str]]], threads: int, quick: bool) -> list[Row]:
    """One row per network/batch: seconds per 60,000-sample epoch, from the median step."""
    rows = []
    for spec, goals in specs:
        # the same weights and batches must give every library the same losses
        losses = mlp.first_losses(spec, threads)
        print(f"  {spec.label}: first two losses " + ", ".join(
            f"{lib} {a:.6f} {b:.6f}" for lib, (a, b) in losses.items()), flush=True)
        stats = interleaved(mlp.implementations(spec, threads), repeats=3 if quick else 11,
                            warmup=3, min_sample_s=0.03 if quick else 0.1)
        steps = spec.steps_per_epoch()
        r = row(f"MLP {spec.label}", "s/epoch", stats,
                (("matgrad", "torch"), ("matgrad", "mygrad"), ("matgrad", "numpy"), ("captured", "numpy"),
                 ("captured", "matgrad"), ("matgrad", "tuned"), ("matgrad", "same"), ("captured", "same"),
                 ("captured", "ops"), ("ops", "same"), ("same", "numpy"),
                 ("ops", "numpy"),  # the ops with nothing around them: what no work on the machinery can beat
                 ("matgrad", "floor"), ("tuned", "floor")),
                scale=steps, goal=goals, first_losses=losses)
        r["ms_per_step"] = {k: s.median * 1e3 for k, s in stats.items()}
        rows.append(r)
    return rows


def run_sections(only: list[str], quick: bool, threads: int, data: str | None = None) -> dict[str, list[Row]]:
    libs = ["matgrad"] + (["torch"] if _has("torch") else []) + ["numpy"]
    plan: dict[str, Callable[[], list[Row]]] = {
        "mlp": lambda: mlp_rows([(mlp.Spec(), MLP_GOALS["b256"])], threads, quick),
        "overhead": lambda: mlp_rows([(mlp.Spec(batch=32), MLP_GOALS["b32"]),
                                      (mlp.Spec((784, 128, 10), 64), MLP_GOALS["small"])],
                                     threads, quick),
        # the seed MLP's whole epoch; then the cnn's memory (issue 19, goal 4) over 100 steps, where its peak is set
        "epoch": lambda: (epoch.bench(libs, threads, quick)
                          + epoch.bench([lib for lib in libs if lib != "numpy"], threads, quick, batch=128,
                                        model="cnn", samples=12_800)),
        "loader": lambda: user_epoch.bench(threads, quick),
        "ops": lambda: ops.bench("small", threads, quick) + ops.bench("large", threads, quick),
        "conv": lambda: bench_conv.run(quick=quick, threads=threads),
        "seq": lambda: bench_seq.bench(threads, quick),
        "recipes": lambda: recipes.bench(threads, quick, data),
    }
    results = {}
    for name in only:
        print(f"[{name}]", flush=True)
        t0 = time.perf_counter()
        results[name] = plan[name]()
        print(f"[{name}] {time.perf_counter() - t0:.0f} s", flush=True)
    _add_goals(results)
    return results


def _add_goals(results: dict[str, list[Row]]) -> None:
    """Mark the ops and memory rows with the goals issues 6 and 19 set (where not already given one), then
    judge every row's goals (its "verdicts" in the JSON)."""
    for r in results.get("ops", []):
        if r["name"].endswith("8×8"):
            r.setdefault("goal", "matgrad/torch <= 1.5 [issue 6]")
        elif r["name"].startswith(ELEMENTWISE) and not r["name"].startswith("add "):  # issue 19 withdrew add's
            r.setdefault("goal", "matgrad/numpy <= 1.2 [issue 6]")
    for r in results.get("epoch", []):
        if r["unit"] == "MB":  # the seed MLP's epoch (issue 6), the cnn's (issue 19, goal 4)
            r.setdefault("goal", "matgrad/torch <= 1.0 [issue 19, goal 4]" if r["name"].endswith(", cnn")
                         else "matgrad/torch <= 1.0 [issue 6]")
    for rows in results.values():
        for r in rows:
            if r.get("goal"):
                r["verdicts"] = judge(r)


def _verdict(v: dict[str, Any]) -> str:
    return "n/a" if v["met"] is None else "met" if v["met"] else "MISSED"


def _goal_met(r: Row) -> str:
    return "".join(f"  goal {v['goal']}: {_verdict(v)}" for v in r.get("verdicts") or judge(r))


def goal_summary(results: dict[str, list[Row]], issue: str = OPEN_ISSUE) -> list[str]:
    """One line per goal of the open speed issue that this run measured: the row, its ratio of medians
    (and paired), the bound, met or not."""
    lines = []
    for section, rows in results.items():
        for r in rows:
            for v in r.get("verdicts") or judge(r):
                if issue in (v["source"] or ""):
                    value = "-" if v["value"] is None else f"{v['value']:.3f}"  # 1.083 is not 1.08
                    paired = "" if v["paired"] is None else f" (paired {v['paired']:.3f})"
                    lines.append(f"{v['source']}: {r['name']} ({section}): {v['ratio']} {value}{paired}, "
                                 f"goal <= {v['bound']:g}: {_verdict(v)}")
    return lines


def _fmt(t: dict[str, float] | None) -> str:
    if t is None:
        return "-"
    def num(x: float) -> str:
        return f"{x:.3g}" if abs(x) < 1000 else f"{x:.0f}"
    return f"{num(t['median'])} [{num(t['min'])}-{num(t['max'])}]"


def table(results: dict[str, list[Row]], info: dict[str, Any]) -> str:
    """The results as text: medians with [min-max] per implementation, then the ratios."""
    lines = [
        f"machine: {readme.machine_line(info)}",
        f"cores usable {info['cores_usable']}, load average {info.get('load_average_1min', 0):.1f}; "
        + "versions: " + ", ".join(f"{k} {v}" for k, v in info["versions"].items()),
    ]
    for section, rows in results.items():
        impls = [i for i in IMPLS if any(i in r["times"] for r in rows)]
        width = max([len(r["name"]) for r in rows] + [10])
        lines += ["", f"== {section} ==  (median [min-max]; ratio of medians = matgrad / other, < 1 faster; "
                      "paired = median of per-round ratios)",
                  f"{'':{width}}  {'unit':7} " + "".join(f"{i:>24}" for i in impls)]
        for r in rows:
            cells = "".join(f"{_fmt(r['times'].get(i)):>24}" for i in impls)
            lines.append(f"{r['name']:{width}}  {r['unit']:7} {cells}")
            mins, paired = r.get("ratios_of_min", {}), r.get("ratios_paired", {})
            ratios = "  ".join(
                f"{k} {v:.2f}" + (f" (of mins {mins[k]:.2f}" if k in mins else "")
                + (f", paired {paired[k]:.2f}" if k in paired else "") + (")" if k in mins else "")
                for k, v in r["ratios"].items())
            if ratios or r.get("goal"):
                lines.append(f"{'':{width}}  {'':7} {ratios}{_goal_met(r)}")
            if "test_accuracy" in r:
                lines.append(f"{'':{width}}  {'':7} test accuracy {r['test_accuracy']:.2%} after {r['epochs']} epochs")
            if "skipped" in r:
                lines.append(f"{'':{width}}  {'':7} not run: {r['skipped']}")
            if "raw" in r:
                lines.append(f"{'':{width}}  {r['raw']!r:.300}")
    summary = goal_summary(results)
    if summary:
        lines += ["", f"== {OPEN_ISSUE}'s goals in this run ==  (judged on the ratio of medians)", *summary]
    return "\n".join(lines)


def write_json(path: Path, payload: dict[str, Any]) -> None:
    """Atomically: a temporary file in the same folder, then os.replace."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(payload, f, indent=1, default=str)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="matgrad benchmarks (see benchmarks/README.md)")
    parser.add_argument("--quick", action="store_true", help="fewer repeats, a tenth of an epoch (< 1 min)")
    parser.add_argument("--only", default=",".join(SECTIONS),
                        help=f"comma-separated sections out of {', '.join(SECTIONS)}")
    parser.add_argument("--threads", type=int, default=None,
                        help="threads for NumPy's BLAS and PyTorch alike (default: BLAS's own count); "
                             "1 gives steadier ratios on a busy machine")
    parser.add_argument("--json", type=Path, default=None,
                        help="where to write the results (default benchmarks/results/latest.json; "
                             "with --readme, benchmarks/figures.json)")
    parser.add_argument("--data", metavar="DIR", help="MNIST / Fashion-MNIST for the recipes section "
                        "(default: where `matgrad train` finds them, else ../shared/data beside the repo)")
    parser.add_argument("--readme", action="store_true",
                        help=f"run the README's sections ({', '.join(README_SECTIONS)}), save them and "
                             "rewrite README.md's figures block")
    parser.add_argument("--from", dest="from_json", type=Path, metavar="FIGURES_JSON",
                        help="with --readme: measure nothing, render the block from this saved file")
    parser.add_argument("--readme-file", type=Path, default=README, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.from_json is not None:
        if not args.readme:
            parser.error("--from goes with --readme")
        changed = readme.update(args.readme_file, args.from_json)
        print(f"{args.readme_file}: figures block {'rewritten' if changed else 'already up to date'} "
              f"from {args.from_json}")
        return
    if args.readme and args.quick:
        parser.error("--readme measures the full figures; --quick ones are not for the README")
    only = list(README_SECTIONS) if args.readme else [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = [s for s in only if s not in SECTIONS]
    if unknown:
        parser.error(f"unknown section(s) {', '.join(unknown)}; choose from {', '.join(SECTIONS)}")
    out_json = args.json or (FIGURES if args.readme else HERE / "results" / "latest.json")

    info = machine.describe()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    info["load_average_1min"] = load
    if load > (info["cores_usable"] or 1) and info["threads"] > 1:
        print(f"note: the load average ({load:.1f}) exceeds the {info['cores_usable']} usable cores; "
              "multithreaded BLAS stalls badly when its threads are descheduled, so times will "
              "wander. --threads 1 gives steadier ratios here.")
    t0 = time.perf_counter()
    results = run_sections(only, args.quick, info["threads"], args.data)
    text = table(results, info)
    print("\n" + text)
    payload = {"machine": info, "quick": args.quick, "seconds": time.perf_counter() - t0,
               "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "results": results}
    write_json(out_json, {"runs": [payload]} if args.readme else payload)
    print(f"\nwritten to {out_json} ({time.perf_counter() - t0:.0f} s in all)")
    if args.readme:
        readme.update(args.readme_file, out_json)
        print(f"{args.readme_file}: figures block rewritten from {out_json}")


if __name__ == "__main__":
    main()
