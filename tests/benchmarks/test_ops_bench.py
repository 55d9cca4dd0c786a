"""benchmarks/ops.py: one library's cases in one process, and the per-process driver's JSON line."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCH))

import ops  # noqa: E402


@pytest.mark.parametrize("lib", ["matgrad", "numpy"])
def test_every_small_case_is_timed_in_this_process(lib):
    res = ops.time_here(lib, "small", threads=1, quick=True)
    assert set(res) == set(ops.SMALL)
    assert all(len(s) == 3 and all(t > 0 for t in s) for s in res.values())


def test_a_process_prints_one_json_line_of_samples():
    out = subprocess.run([sys.executable, str(BENCH / "ops.py"), "--lib", "matgrad", "--size", "small", "--quick"],
                         capture_output=True, text=True, timeout=300, check=True).stdout
    res = json.loads(out.strip().splitlines()[-1])
    assert set(res) == set(ops.SMALL) and all(len(s) == 3 for s in res.values())
