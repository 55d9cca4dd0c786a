"""benchmarks/bench_cold_calls.py: every step it compares runs, and both parts report a time for every case."""
from __future__ import annotations

import math
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCH))

import bench_cold_calls  # noqa: E402


def _positive(values) -> bool:
    return all(math.isfinite(v) and v > 0 for v in values)


def test_machinery_times_each_step_at_each_size(capsys):
    sizes = (((16, 8, 4), 4), ((32, 16, 10), 8))
    result = bench_cold_calls.machinery(rounds=1, threads=1, sizes_batches=sizes, min_sample_s=0.001)
    assert list(result) == ["16-8-4 b4", "32-16-10 b8"]
    for med in result.values():
        assert list(med) == list(bench_cold_calls.STEPS) and _positive(med.values())
    out = capsys.readouterr().out
    assert "minus tuned: matgrad" in out and "32-16-10 b8" in out


def test_cold_call_times_the_call_after_each_pass(capsys):
    med = bench_cold_calls.cold_call(rounds=1, passes_mb=(0.0, 0.25), calls=3)
    assert list(med) == [0.0, 0.25, "product"] and _positive(med.values())
    out = capsys.readouterr().out
    assert "no pass" in out and "a pass writing 0.25 MB" in out and "forward product" in out
