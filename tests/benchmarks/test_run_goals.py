"""benchmarks/run.py's goals: each row's goals judged on its ratio of medians, each named by the issue that sets it,
and the open speed issue's (19) summed up under the table. No benchmark runs here: rows stand in."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCH))

import timing  # noqa: E402

from tests.benchmarks import load_bench  # noqa: E402

run = load_bench("run")
user_epoch = load_bench("user_epoch")
bench_conv = load_bench("bench_conv")


def _row(name, ratios, goal=None, paired=None, unit="s/epoch"):
    r = {"name": name, "unit": unit, "times": {}, "ratios": ratios, "ratios_paired": paired or {}}
    if goal is not None:
        r["goal"] = goal
    return r


def test_a_goal_is_judged_on_the_ratio_of_medians_with_its_source():
    r = _row("MLP 784-128-10 b64", {"matgrad/numpy": 1.41, "matgrad/torch": 0.65}, paired={"matgrad/numpy": 1.44},
             goal=["matgrad/torch <= 0.5 [issue 6]", "matgrad/numpy <= 1.0 [issue 19, goal 2]"])
    first, second = timing.judge(r)
    assert (first["ratio"], first["bound"], first["source"], first["value"], first["met"]) == (
        "matgrad/torch", 0.5, "issue 6", 0.65, False)
    assert (second["source"], second["value"], second["paired"], second["met"]) == ("issue 19, goal 2", 1.41, 1.44,
                                                                                    False)
    assert timing.judge(_row("x", {"matgrad/torch": 1.0}, goal="matgrad/torch <= 1.0"))[0]["met"] is True  # bound met
    assert timing.judge(_row("x", {"matgrad/torch": 1.0001}, goal="matgrad/torch <= 1.0"))[0]["met"] is False


def test_a_goal_without_its_ratio_is_not_judged_and_a_malformed_one_says_so():
    (v,) = timing.judge(_row("x", {}, goal="matgrad/torch <= 1.0 [issue 19, goal 1]"))
    assert v["value"] is None and v["met"] is None  # PyTorch not installed: n/a, not met nor missed
    assert timing.judge(_row("x", {})) == []
    with pytest.raises(ValueError, match="NUM/DEN <= BOUND"):
        timing.judge(_row("x", {"matgrad/torch": 1.0}, goal="matgrad/torch < 1.0"))


def test_the_printed_line_says_met_missed_or_n_a_for_each_goal():
    r = _row("r", {"matgrad/torch": 0.9, "matgrad/tuned": 1.2},
             goal=["matgrad/torch <= 1.0 [issue 19, goal 3]", "matgrad/tuned <= 1.08 [issue 19, goal 3]",
                   "matgrad/numpy <= 1.0 [issue 19, goal 2]"])
    assert run._goal_met(r) == ("  goal matgrad/torch <= 1.0 [issue 19, goal 3]: met"
                                "  goal matgrad/tuned <= 1.08 [issue 19, goal 3]: MISSED"
                                "  goal matgrad/numpy <= 1.0 [issue 19, goal 2]: n/a")


def test_ops_and_memory_rows_get_their_issues_goals_and_add_none():
    results = {
        "ops": [_row("add 1000×1000", {"matgrad/numpy": 3.2}), _row("relu 1000×1000", {"matgrad/numpy": 1.1}),
                _row("mul 8×8", {"matgrad/torch": 1.2})],
        "epoch": [_row("peak RSS (process) b256, 60000 synthetic samples", {"matgrad/torch": 0.5}, unit="MB"),
                  _row("peak RSS (process) b128, 12800 synthetic samples, cnn", {"matgrad/torch": 0.42}, unit="MB"),
                  _row("epoch b128, 12800 synthetic samples, cnn", {"matgrad/torch": 1.6}, unit="s")],
    }
    run._add_goals(results)
    add, relu, small = results["ops"]
    assert "goal" not in add and "verdicts" not in add  # issue 19 withdrew issue 6's add goal
    assert relu["goal"] == "matgrad/numpy <= 1.2 [issue 6]" and relu["verdicts"][0]["met"] is True
    assert small["goal"] == "matgrad/torch <= 1.5 [issue 6]"
    mlp_peak, cnn_peak, seconds = results["epoch"]
    assert mlp_peak["goal"].endswith("[issue 6]")
    assert cnn_peak["goal"] == "matgrad/torch <= 1.0 [issue 19, goal 4]" and cnn_peak["verdicts"][0]["met"] is True
    assert "goal" not in seconds


def test_issue_19s_goals_are_summed_up_under_the_table():
    results = {
        "overhead": [_row("MLP 784-128-10 b64", {"matgrad/numpy": 1.41, "matgrad/torch": 0.65},
                          paired={"matgrad/numpy": 1.44}, goal=run.MLP_GOALS["small"])],
        "loader": [_row("user epoch 784-1024-10 b32, synthetic", {"matgrad/torch": 0.93},
                        goal=user_epoch.CONFIGS["seed-b32"][1])],
        "seq": [_row("vit recipe", {"matgrad/torch": 1.28}, goal="matgrad/torch <= 2.0 [issue 20]", unit="ms")],
    }
    run._add_goals(results)
    lines = run.goal_summary(results)
    assert lines == [
        "issue 19, goal 2: MLP 784-128-10 b64 (overhead): matgrad/numpy 1.410 (paired 1.440), goal <= 1: MISSED",
        "issue 19, goal 3: user epoch 784-1024-10 b32, synthetic (loader): matgrad/torch 0.930, goal <= 1: met",
    ]
    text = run.table(results, {"cores_usable": 2, "versions": {}, "threads": 2, "blas": {}, "cpu": "test CPU"})
    assert "== issue 19's goals in this run ==" in text
    assert text.rstrip().endswith(lines[-1])
    assert "goal matgrad/torch <= 2.0 [issue 20]: met" in text  # other issues' goals stay on their rows


def test_every_goal_of_issue_19_is_on_some_row():
    """Goal 1 on the conv rows (bench_conv), 2 and 3 on the MLP rows, 3 per process on the loader rows, 4 on the
    cnn epoch's memory: each parses, and names its goal."""
    goals = [g for gs in run.MLP_GOALS.values() for g in gs]
    goals += [g for _, gs in user_epoch.CONFIGS.values() for g in gs]
    goals += ["matgrad/torch <= 1.0 [issue 19, goal 4]"]  # as _add_goals gives the cnn epoch's memory rows
    goals += [g for gs in bench_conv._GOALS.values() for g in gs]
    assert set(bench_conv._GOALS) == {"bwd", "cnn"}  # fwd+bwd layers and the step; forward alone has no goal
    assert {timing.GOAL.fullmatch(g)["ratio"] for g in bench_conv._GOALS["cnn"]} == {"command/torch", "matgrad/torch"}
    sources = {timing.GOAL.fullmatch(g)["source"] for g in goals}
    named = {n for s in sources for n in range(1, 5) if f"issue 19, goal {n}" in s}
    assert named == {1, 2, 3, 4}
    assert "matgrad/tuned <= 1.08 [issue 19, goal 3]" in run.MLP_GOALS["b256"] + run.MLP_GOALS["b32"]
    assert "matgrad/numpy <= 1.0 [issue 19, goal 2]" in run.MLP_GOALS["small"]
