"""matgrad.utils.benchmark (torch.utils.benchmark): Timer's counts and structure, Measurement's statistics and
text, Compare's tables, against PyTorch's on the same times where it is installed. Nothing here asserts a speed.
"""
from __future__ import annotations

import numpy as np
import pytest

import matgrad as mg
from matgrad import threads
from matgrad.utils.benchmark import Compare, Measurement, TaskSpec, Timer, select_unit, trim_sigfig


def _counter():
    calls = {"stmt": 0, "setup": 0}

    def stmt():
        calls["stmt"] += 1

    def setup():
        calls["setup"] += 1

    return calls, {"tick": stmt, "prepare": setup}


# --- Timer ----------------------------------------------------------------------------------------------
def test_timeit_runs_the_statement_number_times_after_a_warmup():
    calls, names = _counter()
    m = Timer("tick()", setup="prepare()", globals=names).timeit(number=300)
    assert calls["stmt"] == 300 + 3  # the warm-up: number // 100, at least 2
    assert calls["setup"] == 2  # once for the warm-up run, once for the measured one (as timeit)
    assert isinstance(m, Measurement)
    assert m.number_per_run == 300 and len(m.raw_times) == 1 and m.raw_times[0] > 0
    assert m.times == [m.raw_times[0] / 300]
    assert m.median == m.mean == m.times[0] and m.iqr == 0
    calls["stmt"] = 0
    Timer("tick()", globals=names).timeit(number=5)
    assert calls["stmt"] == 5 + 2


def test_blocked_autorange_times_blocks_of_one_size_until_the_run_time():
    calls, names = _counter()
    seen = []
    m = Timer("tick()", globals=names).blocked_autorange(callback=lambda n, t: seen.append((n, t)),
                                                         min_run_time=0.02)
    n = m.number_per_run
    assert n >= 1 and str(n).rstrip("0") == "1"  # a power of ten
    assert seen == [(n, t) for t in m.raw_times]  # the callback saw every block
    assert sum(m.raw_times) >= 0.02
    assert calls["stmt"] >= n * len(m.raw_times)  # the blocks, after the block size's own trial runs


def test_adaptive_autorange_stops_on_confidence_or_max_run_time():
    calls, names = _counter()
    m = Timer("tick()", globals=names).adaptive_autorange(threshold=0.5, min_run_time=0.001, max_run_time=0.5)
    assert len(m.raw_times) > 3 or sum(m.raw_times) > 0.5
    if sum(m.raw_times) <= 0.5:
        assert m.meets_confidence(0.5)
    m = Timer("tick()", globals=names).adaptive_autorange(threshold=0.0, max_run_time=0.05)  # never confident
    assert sum(m.raw_times) > 0.05


def test_num_threads_is_set_while_measuring_and_restored():
    try:
        before = threads.get_num_threads()
        threads.set_num_threads(before)  # can this NumPy's BLAS be told at all?
    except RuntimeError as e:
        pytest.skip(str(e))
    chosen = list(threads.chosen)
    seen = []
    Timer("seen.append(matgrad.get_num_threads())", globals={"seen": seen}, num_threads=2).timeit(3)
    assert seen and set(seen) == {2}
    assert threads.get_num_threads() == before and threads.chosen == chosen
    seen.clear()
    Timer("seen.append(torch.get_num_threads())", globals={"seen": seen}).blocked_autorange(min_run_time=0.001)
    assert set(seen) == {1}  # one thread by default, as PyTorch's Timer
    assert threads.get_num_threads() == before


def test_statements_see_torch_and_matgrad_and_their_own_globals():
    out = []
    user_globals = {"out": out, "x": mg.ones(3)}
    Timer("out.append(torch.add(x, 1).sum().item() + matgrad.ones(1).item())", globals=user_globals).timeit(2)
    assert set(out) == {7.0}
    assert set(user_globals) == {"out", "x"}  # copied, not changed
    t = Timer("""
        y = x * 2
        out.append(y.sum().item())
    """, setup="""
        x = matgrad.ones(2)
    """, globals={"out": out})
    t.timeit(2)
    assert out[-1] == 4.0
    assert t._task_spec.stmt == "y = x * 2\nout.append(y.sum().item())"


def test_timer_errors_as_torch():
    with pytest.raises(ValueError, match="only a `str` stmt"):
        Timer(lambda: None)
    with pytest.raises(ValueError, match="global_setup is C\\+\\+ only"):
        Timer("pass", global_setup="#include <x>")
    with pytest.raises(ValueError, match="no C\\+\\+ API"):
        Timer("pass", language="cpp")
    with pytest.raises(ValueError, match="Invalid language"):
        Timer("pass", language="rust")
    with pytest.raises(NotImplementedError, match="blocked_autorange"):
        Timer("pass").repeat(3, 10)
    with pytest.raises(NotImplementedError, match="blocked_autorange"):
        Timer("pass").autorange()
    with pytest.raises(ValueError, match="num_threads"):
        Timer("pass", num_threads=0)
    with pytest.raises(NameError):
        Timer("undefined_name + 1").timeit(2)


# --- Measurement ----------------------------------------------------------------------------------------
def test_measurement_statistics_are_of_the_per_execution_times():
    raw = [4.0e-3, 1.0e-3, 3.0e-3, 2.0e-3, 8.0e-3]
    m = Measurement(number_per_run=10, raw_times=raw, task_spec=TaskSpec("f(x)", "pass", label="f"))
    times = np.array(raw) / 10
    assert m.times == pytest.approx(list(times))
    assert m.median == pytest.approx(np.median(times))
    assert m.mean == pytest.approx(times.mean())
    assert m.iqr == pytest.approx(np.percentile(times, 75) - np.percentile(times, 25))
    assert m.label == "f" and m.num_threads == 1 and m.title == "f"
    assert m.has_warnings  # the spread is half the median
    assert 1 <= m.significant_figures <= 4
    text = repr(m).splitlines()
    assert text[1:] == ["f", "  Median: 300.00 us", "  IQR:    200.00 us (200.00 to 400.00)",
                        "  5 measurements, 10 runs per measurement, 1 thread",
                        "  WARNING: Interquartile range is 66.7% of the median measurement.",
                        "           This suggests significant environmental influence."]


def test_merge_joins_replicates_of_one_task():
    spec, other = TaskSpec("a", "pass"), TaskSpec("b", "pass")
    merged = Measurement.merge([Measurement(10, [1e-3, 2e-3], spec), Measurement(1, [5e-4], spec),
                                Measurement(1, [1.0], other)])
    assert [m.task_spec for m in merged] == [spec, other]
    assert merged[0].number_per_run == 1 and merged[0].raw_times == pytest.approx([1e-4, 2e-4, 5e-4])


def _pairs(torch_benchmark=None):
    """The same measurements in matgrad (and PyTorch): two labels, two sub_labels, two descriptions, two
    thread counts, some noisy."""
    rng = np.random.default_rng(0)
    ours, theirs = [], []
    for label in ("add", "mul"):
        for sub in ("float", "int"):
            for desc in ("n=1", "n=100"):
                for th in (1, 4):
                    raw = [float(t) for t in np.abs(rng.normal(1e-3, 3e-4 if sub == "int" else 1e-5,
                                                                size=int(rng.integers(1, 12))))]
                    kw = dict(stmt="x + y", setup="x = 1", label=label, sub_label=sub, description=desc,
                              num_threads=th)
                    ours.append(Measurement(100, list(raw), TaskSpec(**kw)))
                    if torch_benchmark is not None:
                        theirs.append(torch_benchmark.Measurement(100, list(raw), torch_benchmark.TaskSpec(**kw)))
    return ours, theirs


def test_measurement_text_and_statistics_match_torch():
    tb = pytest.importorskip("torch.utils.benchmark")
    ours, theirs = _pairs(tb)
    for a, b in zip(ours, theirs):
        assert repr(a).splitlines()[1:] == repr(b).splitlines()[1:]  # (the first line is the object's address)
        assert a.median == pytest.approx(b.median, rel=1e-12) and a.iqr == pytest.approx(b.iqr, rel=1e-9, abs=1e-15)
        assert a.significant_figures == b.significant_figures and a.has_warnings == b.has_warnings
    for t in [1e-9, 1e-6, 3.3e-5, 0.02, 5.0, 1234.5]:
        assert select_unit(t) == tb.select_unit(t)
        for n in (1, 2, 3, 4):
            assert trim_sigfig(t, n) == tb.trim_sigfig(t, n)


# --- Compare --------------------------------------------------------------------------------------------
def test_compare_lays_out_labels_rows_and_columns():
    ours, _ = _pairs()
    text = str(Compare(ours))
    tables = text.split("\n\n[")
    assert len(tables) == 2 and "- add -" in tables[0] and "- mul -" in tables[1]
    lines = tables[0].splitlines()
    assert "n=1" in lines[1] and "n=100" in lines[1] and lines[1].index("n=1 ") < lines[1].index("n=100")
    assert lines[2].startswith("1 threads: ") and lines[5].startswith("4 threads: ")
    assert [line.split("|")[0].strip() for line in lines[3:5]] == ["float", "int"]
    assert all(line.count("|") == 2 for line in lines[3:5])
    assert "Times are in microseconds (us)." in text
    with pytest.raises(ValueError, match="Measurement"):
        Compare([1.0])


@pytest.mark.parametrize("options", [[], ["trim_significant_figures"], ["colorize"], ["highlight_warnings"],
                                     ["trim_significant_figures", "highlight_warnings", "colorize"]])
def test_compare_text_matches_torch(options):
    tb = pytest.importorskip("torch.utils.benchmark")
    ours, theirs = _pairs(tb)
    a, b = Compare(ours), tb.Compare(theirs)
    for option in options:
        getattr(a, option)()
        getattr(b, option)()
    assert str(a) == str(b)


def test_timer_measurements_go_into_compare(capsys):
    results = [Timer("x * 2", setup=f"x = torch.ones({n})", label="mul", sub_label="ones",
                     description=f"n={n}").timeit(20) for n in (1, 1000)]
    Compare(results).print()
    out = capsys.readouterr().out
    assert "mul" in out and "ones" in out and "n=1 " in out and "n=1000" in out
