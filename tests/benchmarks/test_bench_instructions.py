"""benchmarks/bench_instructions.py: its reading of callgrind's output and its argument checks.

Valgrind itself is never run here (each count takes a minute under it); callgrind_annotate's text stands in.
"""
from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"
spec = importlib.util.spec_from_file_location("_bench_instructions", BENCH / "bench_instructions.py")
bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)

ANNOTATE = """\
--------------------------------------------------------------------------------
Ir
--------------------------------------------------------------------------------
1,125,538,979 (100.0%)  PROGRAM TOTALS

--------------------------------------------------------------------------------
Ir                    file:function
--------------------------------------------------------------------------------
240,676,170 (21.38%)  ???:sgemm_kernel_HASWELL [/x/libscipy_openblas64_.so]
 82,362,843 ( 7.32%)  /b/Python/ceval.c:_PyEval_EvalFrameDefault'2 [/x/libpython3.11.so.1.0]
  8,537,290 ( 0.76%)  ???:FLOAT_multiply_X86_V3 [/x/_multiarray_umath.so]
  1,000,000 ( 0.09%)  ???:sgemm_kernel_HASWELL [/y/another_copy.so]
"""


def _annotated(monkeypatch, texts):
    calls = iter(texts)
    monkeypatch.setattr(bench.subprocess, "run",
                        lambda *a, **k: subprocess.CompletedProcess(a, 0, stdout=next(calls), stderr=""))


def test_functions_are_read_from_callgrind_annotate_and_summed_by_name(monkeypatch):
    _annotated(monkeypatch, [ANNOTATE])
    found = bench.per_function(Path("x"))
    assert found["sgemm_kernel_HASWELL"] == 241_676_170  # the same function in two libraries: one row
    assert found["_PyEval_EvalFrameDefault'2"] == 82_362_843
    assert found["FLOAT_multiply_X86_V3"] == 8_537_290
    assert "PROGRAM TOTALS" not in found and len(found) == 3


def test_a_step_is_the_run_with_steps_less_the_run_without(monkeypatch):
    without = ANNOTATE.replace("240,676,170", "140,676,170").replace("82,362,843", "2,362,843")
    _annotated(monkeypatch, [without, ANNOTATE])
    per_step = bench._step_functions(Path("base"), Path("total"), 50)
    assert per_step["sgemm_kernel_HASWELL"] == 2_000_000
    assert per_step["_PyEval_EvalFrameDefault'2"] == 1_600_000
    assert per_step["FLOAT_multiply_X86_V3"] == 0


def test_diff_must_name_two_of_the_counted_steps(monkeypatch):
    monkeypatch.setattr(bench.shutil, "which", lambda name: "/usr/bin/valgrind")
    monkeypatch.setattr(sys, "argv", ["bench_instructions.py", "--impls", "numpy,ops", "--diff", "numpy,captured"])
    with pytest.raises(SystemExit, match="--diff takes two of --impls"):
        bench.main()


def test_without_valgrind_it_says_what_to_install(monkeypatch):
    monkeypatch.setattr(bench.shutil, "which", lambda name: None)
    monkeypatch.setattr(sys, "argv", ["bench_instructions.py"])
    with pytest.raises(SystemExit, match="needs valgrind"):
        bench.main()
