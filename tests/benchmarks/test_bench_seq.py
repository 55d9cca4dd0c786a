"""benchmarks/bench_seq.py: each case builds and takes a training step; run.py knows the `seq` section."""
from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCH))

import bench_seq  # noqa: E402


@pytest.mark.parametrize("case", sorted(bench_seq.CASES))
def test_a_matgrad_step_runs_and_lowers_nothing_to_nan(case):
    res = bench_seq.time_steps("matgrad", case, steps=1, warmup=1, threads=1)
    assert len(res["seconds"]) == 1 and math.isfinite(res["first_loss"])
    assert abs(res["first_loss"] - math.log(10)) < 0.5  # ten classes, random start


def test_run_py_has_the_seq_section():
    text = (BENCH / "run.py").read_text(encoding="utf-8")
    assert '"seq"' in text and "bench_seq.bench" in text
