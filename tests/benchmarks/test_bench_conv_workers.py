"""benchmarks/bench_conv.py's worker processes: each library apart from the others, and each row apart from
the rows before it (a step timed beside other models' arrays read 1.06-1.07x PyTorch's, 0.83-0.96x alone)."""
from __future__ import annotations

import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCH))

import bench_conv  # noqa: E402


def test_each_library_has_a_process_of_its_own_and_the_comparisons_share_one():
    procs = {lib: bench_conv.process_for(f"{lib}:cnn") for lib in
             ("matgrad", "command", "torch", "matgrad_abc1234", "im2col", "gemm", "floor")}
    assert procs["im2col"] == procs["gemm"] == procs["floor"] == "aux"
    own = [procs[lib] for lib in ("matgrad", "command", "torch", "matgrad_abc1234")]
    assert len(set(own)) == 4 and "aux" not in own
    assert bench_conv.process_for("gemm:128,32,64,28,bwd") == "aux"  # a layer's case: the same split


def test_a_worker_frees_the_last_rows_cases_when_a_new_row_starts():
    cases = {"matgrad:128,1,32,28,fwd": object()}
    assert not bench_conv._new_row(cases, "matgrad:128,1,32,28,fwd")
    assert not bench_conv._new_row(cases, "im2col:128,1,32,28,fwd")  # the same row, another library
    assert bench_conv._new_row(cases, "matgrad:128,1,32,28,bwd")
    assert bench_conv._new_row(cases, "matgrad:cnn")
    assert not bench_conv._new_row({}, "matgrad:cnn")
