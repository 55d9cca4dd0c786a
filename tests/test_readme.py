"""README.md: its test line is the one CI runs, and its figures are generated, each table with its machine."""
from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text()


def _section(title: str) -> str:
    start = README.index(f"## {title}\n")
    end = README.find("\n## ", start + 1)
    return README[start:end if end != -1 else None]


def test_the_test_command_is_one_line_and_ci_runs_exactly_it():
    blocks = re.findall(r"```bash\n(.*?)```", _section("Install and test"), re.S)
    assert blocks, "README: no bash block under 'Install and test'"
    lines = blocks[0].strip().splitlines()
    assert lines == ['pip install -e ".[test]" && python -m pytest']
    ci = (REPO / ".ci" / "run").read_text().splitlines()
    assert lines[0] in ci, ".ci/run must run the README's test line verbatim"


def test_figures_block_is_the_rendering_of_figures_json():
    spec = importlib.util.spec_from_file_location("_bench_readme", REPO / "benchmarks" / "readme.py")
    readme = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(readme)
    block = README[README.index(readme.START) + len(readme.START):README.index(readme.END)].strip("\n")
    figures = json.loads((REPO / "benchmarks" / "figures.json").read_text())
    assert block == readme.render(figures), "run `python benchmarks/run.py --readme --from benchmarks/figures.json`"
    # every table in the block follows a line naming the machine it was measured on
    for run in figures["runs"]:
        assert readme.machine_line(run["machine"]) in block


def test_no_timing_table_outside_the_generated_block():
    outside = README[:README.index("<!-- figures:start -->")] + README[README.index("<!-- figures:end -->"):]
    for line in outside.splitlines():
        if line.startswith("|"):
            assert not re.search(r"seconds|\d\s*(s|ms|µs)\b|per epoch", line), f"hand-typed timing: {line}"
