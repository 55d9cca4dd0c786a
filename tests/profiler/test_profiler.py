"""matgrad.profiler (torch.profiler) and matgrad.autograd.profiler (the older API): what is recorded, how it
nests, the schedule's steps against PyTorch's, the table against PyTorch's table code, the trace files, and
that every wrapper is gone after the profile (also after an exception). No test asserts a time beyond the
order and consistency of the times recorded.
"""
from __future__ import annotations

import gzip
import json
import re
import threading
import warnings

import numpy as np
import pytest

import matgrad as mg
from matgrad.autograd import hook_providers
from matgrad.autograd.function import Function
from matgrad.autograd.op import Op
from matgrad.profiler import ProfilerAction, ProfilerActivity, profile, record_function, schedule

PLAIN_APPLY = Op.__dict__["apply"]
PLAIN_FUNCTION_APPLY = Function.__dict__["apply"]
PLAIN_MODULE_CALL = mg.nn.Module.__dict__["__call__"]


def _restored() -> None:
    """Nothing of a profile is left in place: the plain Op.apply, Function.apply, Module.__call__, no
    per-node hook provider in the engine."""
    assert Op.__dict__["apply"] is PLAIN_APPLY
    assert Function.__dict__["apply"] is PLAIN_FUNCTION_APPLY
    assert mg.nn.Module.__dict__["__call__"] is PLAIN_MODULE_CALL
    assert hook_providers.providers == []


def _mlp():
    mg.manual_seed(0)
    model = mg.nn.Sequential(mg.nn.Linear(4, 3), mg.nn.ReLU(), mg.nn.Linear(3, 2))
    x = mg.randn(5, 4)
    y = mg.tensor([0, 1, 1, 0, 1])
    return model, x, y


def _step(model, x, y):
    loss = mg.nn.functional.cross_entropy(model(x), y)
    loss.backward()
    return loss


def _counts(events) -> dict[str, int]:
    return {e.key: e.count for e in events}


def _table_rows(table: str) -> dict[str, list[str]]:
    """A table's rows by name: the columns right of the name, split on their two-space gaps."""
    rows = {}
    for line in table.splitlines():
        parts = [p for p in re.split(r"\s{2,}", line.strip()) if p]
        if len(parts) > 2 and not set(parts[0]) <= {"-"}:
            rows[parts[0]] = parts[1:]
    return rows


# --- what is recorded ---------------------------------------------------------------------------------
def test_mlp_step_table_lists_each_op_with_its_calls_forward_and_backward():
    model, x, y = _mlp()
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        _step(model, x, y)
    _restored()
    counts = _counts(prof.key_averages())
    assert counts == {"Linear": 2, "ReLU": 1, "CrossEntropy": 1,
                      "LinearBackward": 2, "ReLUBackward": 1, "CrossEntropyBackward": 1}
    table = prof.key_averages().table(sort_by="cpu_time_total", row_limit=20)
    header = ["Name", "Self CPU %", "Self CPU", "CPU total %", "CPU total", "CPU time avg", "# of Calls"]
    assert re.split(r"\s{2,}", table.splitlines()[1].strip()) == header
    rows = _table_rows(table)
    assert {name: int(cols[-1]) for name, cols in rows.items() if name != "Name"} == counts
    assert table.splitlines()[-1].startswith("Self CPU time total: ")
    assert len(_table_rows(prof.key_averages().table(row_limit=2))) == 3  # the header and two rows


def test_backward_nodes_are_recorded_once_per_node_as_the_engine_runs_them():
    x = mg.randn(3, 4, requires_grad=True)
    w = mg.randn(4, 4, requires_grad=True)
    with profile() as prof:
        h = (x @ w).tanh()
        loss = (h * h).sum() + h.sum()  # h used twice: its node still runs once
        loss.backward()
    counts = _counts(prof.key_averages())
    assert counts["MatMulBackward"] == 1 and counts["TanhBackward"] == 1
    assert counts["MulBackward"] == 1 and counts["SumBackward"] == 2 and counts["AddBackward"] == 1
    names = [e.name for e in prof.events()]
    backward = [n for n in names if n.endswith("Backward")]
    assert backward[0] == "AddBackward" and backward[-1] == "MatMulBackward"  # the engine's order: newest first


def test_self_time_is_total_less_children_and_never_above_total():
    model, x, y = _mlp()
    with profile(with_modules=True) as prof:
        with record_function("step"):
            _step(model, x, y)
    events = prof.events()
    roots = [e for e in events if e.cpu_parent is None]
    for e in events:
        assert 0 <= e.self_cpu_time_total <= e.cpu_time_total
        assert e.self_cpu_time_total == pytest.approx(e.cpu_time_total - sum(c.cpu_time_total for c in e.cpu_children))
        for c in e.cpu_children:  # a child lies inside its parent
            assert e.time_range.start <= c.time_range.start and c.time_range.end <= e.time_range.end
    # every microsecond counted once: the self times add up to the top-level ranges' totals
    assert events.self_cpu_time_total == pytest.approx(sum(e.cpu_time_total for e in roots))
    for avg in prof.key_averages():
        assert 0 <= avg.self_cpu_time_total <= avg.cpu_time_total
        assert avg.cpu_time == pytest.approx(avg.cpu_time_total / avg.count)


def test_record_function_ranges_nest_and_hold_their_ops():
    x = mg.randn(3, requires_grad=True)

    @record_function("decorated")
    def f(t):
        return t.exp()

    with profile() as prof:
        with record_function("outer"):
            with record_function("inner") as rf:
                y = f(x * 2)
            z = y.sum()
        z.backward()
    assert isinstance(rf, record_function)
    by_name = {e.name: e for e in prof.events()}
    assert by_name["outer"].cpu_parent is None
    assert by_name["inner"].cpu_parent is by_name["outer"]
    assert by_name["Mul"].cpu_parent is by_name["inner"]
    assert by_name["decorated"].cpu_parent is by_name["inner"]
    assert by_name["Exp"].cpu_parent is by_name["decorated"]
    assert by_name["Sum"].cpu_parent is by_name["outer"]
    assert by_name["ExpBackward"].cpu_parent is None  # the backward ran outside the ranges
    assert [c.name for c in by_name["inner"].cpu_children] == ["Mul", "decorated"]
    assert by_name["outer"].is_user_annotation and not by_name["Mul"].is_user_annotation


def test_record_function_outside_a_profile_records_nothing_and_checks_its_name():
    with record_function("nothing"):
        pass
    with profile() as prof:
        mg.ones(2) * 2
    assert [e.name for e in prof.events()] == ["Mul"]
    with pytest.raises(TypeError, match="name must be a str"):
        record_function(3)


def test_with_modules_records_module_calls_named_by_class():
    model, x, y = _mlp()
    with profile(with_modules=True) as prof:
        model(x)
    names = [e.name for e in prof.events()]
    assert names == ["nn.Module: Sequential_0", "nn.Module: Linear_0", "Linear", "nn.Module: ReLU_0", "ReLU",
                     "nn.Module: Linear_1", "Linear"]
    events = prof.events()
    assert events[2].cpu_parent is events[1] and events[1].cpu_parent is events[0]
    with profile() as prof:  # without with_modules, no module ranges
        model(x)
    assert [e.name for e in prof.events()] == ["Linear", "ReLU", "Linear"]
    _restored()


def test_record_shapes_gives_input_shapes_and_groups_by_them():
    model, x, y = _mlp()
    with profile(record_shapes=True) as prof:
        _step(model, x, y)
    linear = [e for e in prof.events() if e.name == "Linear"]
    assert [e.input_shapes for e in linear] == [[[5, 4], [3, 4], [3]], [[5, 3], [2, 3], [2]]]
    grouped = prof.key_averages(group_by_input_shape=True)
    assert sorted(str(e.input_shapes) for e in grouped if e.key == "Linear") == [
        "[[5, 3], [2, 3], [2]]", "[[5, 4], [3, 4], [3]]"]
    assert all(e.input_shapes == "" for e in prof.key_averages())  # not grouped: no shapes, as PyTorch
    table = grouped.table()
    assert "Input Shapes" in table.splitlines()[1] and "[[5, 4], [3, 4], [3]]" in table


def test_profile_memory_counts_new_arrays_and_with_flops_counts_products():
    x = mg.randn(8, 4)
    lin = mg.nn.Linear(4, 3)
    with profile(profile_memory=True, with_flops=True) as prof:
        with record_function("range"):
            out = lin(x)
            view = out[:2]
    by_name = {e.name: e for e in prof.events()}
    assert by_name["Linear"].cpu_memory_usage == out.numpy().nbytes
    assert by_name["Linear"].flops == 2 * 8 * 4 * 3
    assert by_name["range"].self_cpu_memory_usage == 0  # its children's arrays, not its own
    assert by_name["range"].cpu_memory_usage == sum(c.cpu_memory_usage for c in by_name["range"].cpu_children)
    if "Getitem" in by_name or "GetItem" in by_name:
        name = "Getitem" if "Getitem" in by_name else "GetItem"
        assert by_name[name].cpu_memory_usage in (0, view.numpy().nbytes)
    table = prof.key_averages().table()
    assert "CPU Mem" in table and "Self CPU Mem" in table and "Total FLOPs" in table


def test_autograd_function_is_one_event_named_by_its_class():
    class Square(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 2 * x * g

    x = mg.randn(3, requires_grad=True)
    with profile() as prof:
        Square.apply(x).sum().backward()
    _restored()
    counts = _counts(prof.key_averages())
    assert counts["Square"] == 1 and counts["SquareBackward"] == 1
    by_name = {e.name: e for e in prof.events()}
    forward_mul, backward_mul = [e for e in prof.events() if e.name == "Mul"][:2]
    assert forward_mul.cpu_parent is by_name["Square"]  # the ops of its forward, inside it
    assert backward_mul.cpu_parent is by_name["SquareBackward"]  # and those of its backward, inside that


def test_create_graph_backward_ops_nest_inside_their_node():
    x = mg.randn(4, requires_grad=True)
    with profile() as prof:
        y = (x.sin()).sum()
        (g,) = mg.autograd.grad(y, x, create_graph=True)
    sin_backward = [e for e in prof.events() if e.name == "SinBackward"]
    assert len(sin_backward) == 1
    inside = [c.name for c in sin_backward[0].cpu_children]
    assert "Cos" in inside  # d sin = cos, recorded as an op under create_graph


def test_ops_of_another_thread_do_not_nest_into_this_threads_ranges():
    x = mg.randn(3)
    done = threading.Event()
    results = []

    def work():
        results.append(x * 2)
        done.set()

    with profile() as prof:
        with record_function("main"):
            t = threading.Thread(target=work)
            t.start()
            done.wait(30)
            t.join()
    mul = [e for e in prof.events() if e.name == "Mul"]
    main = [e for e in prof.events() if e.name == "main"][0]
    assert len(mul) == 1 and mul[0].thread != main.thread and mul[0].cpu_parent is None


# --- restoring, refusing a second profile ----------------------------------------------------------------
def test_wrappers_are_in_place_only_while_recording():
    _restored()
    with profile(with_modules=True):
        assert Op.__dict__["apply"] is not PLAIN_APPLY
        assert mg.nn.Module.__dict__["__call__"] is not PLAIN_MODULE_CALL
        assert len(hook_providers.providers) == 1
    _restored()
    with mg.autograd.profiler.profile():
        assert Op.__dict__["apply"] is not PLAIN_APPLY
    _restored()


def test_an_exception_inside_the_block_still_restores_everything():
    model, x, y = _mlp()
    ready = []
    with pytest.raises(KeyError, match="boom"):
        with profile(with_modules=True, on_trace_ready=ready.append) as prof:
            _step(model, x, y)
            raise KeyError("boom")
    _restored()
    assert ready == [prof]  # the recorded part is still handed over, as PyTorch's stop() does
    assert _counts(prof.key_averages())["Linear"] == 2
    with pytest.raises(ValueError):
        with mg.autograd.profiler.profile():
            raise ValueError("old API too")
    _restored()
    with profile() as prof:  # and a profile works again afterwards
        mg.ones(2) + 1
    assert _counts(prof.key_averages()) == {"Add": 1}


def test_an_exception_in_a_backward_restores_everything():
    x = mg.randn(3, requires_grad=True)

    class Bad(Function):
        @staticmethod
        def forward(ctx, t):
            return t * 1

        @staticmethod
        def backward(ctx, g):
            raise ArithmeticError("bad backward")

    with pytest.raises(ArithmeticError):
        with profile():
            Bad.apply(x).sum().backward()
    _restored()


def test_a_second_active_profile_is_refused_and_the_first_goes_on():
    x = mg.ones(2)
    with profile() as first:
        x + 1
        for second in (lambda: profile(), lambda: mg.autograd.profiler.profile()):
            with pytest.raises(RuntimeError, match="already enabled"):
                with second():
                    pass
        x * 2
    _restored()
    assert _counts(first.key_averages()) == {"Add": 1, "Mul": 1}
    with mg.autograd.profiler.profile():
        with pytest.raises(RuntimeError, match="already enabled"):
            profile().start()
    _restored()


def test_anomaly_mode_and_a_profile_together_then_both_gone():
    x = mg.tensor([0.0, 1.0], requires_grad=True)
    with profile() as prof:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with np.errstate(all="ignore"), mg.autograd.detect_anomaly():
                assert len(hook_providers.providers) == 2
                with pytest.raises(RuntimeError, match="returned nan values"):
                    (x * 0 / x).sum().backward()
    _restored()
    assert _counts(prof.key_averages())["Div"] == 1
    # anomaly mode switched on inside a profile and left on: the profile's wrapper steps aside later
    with profile():
        mg.autograd.set_detect_anomaly(True)
    mg.autograd.set_detect_anomaly(False)
    mg.ones(1) + 1
    _restored()


def test_a_hook_given_to_the_engine_still_sees_every_node_while_profiling():
    from matgrad.autograd import engine

    x = mg.randn(3, requires_grad=True)
    seen = []
    with profile() as prof:
        y = (x.exp() * 2).sum()
        engine.run_backward([y], [np.ones(())], False, False, hook=lambda node, dy, grads: seen.append(node.name))
    _restored()
    assert seen == ["Sum", "Mul", "Exp"]
    assert [e.name for e in prof.events() if e.name.endswith("Backward")] == [f"{n}Backward" for n in seen]


# --- the schedule ---------------------------------------------------------------------------------------
SCHEDULES = [dict(wait=1, warmup=1, active=2), dict(wait=0, warmup=2, active=1, repeat=3),
             dict(wait=2, warmup=1, active=3, repeat=2, skip_first=3), dict(wait=3, warmup=1, active=1, skip_first=2,
                                                                           skip_first_wait=1)]


@pytest.mark.parametrize("kw", SCHEDULES)
def test_schedule_actions_match_torch(kw):
    torch = pytest.importorskip("torch")
    ours = schedule(**kw)
    theirs = torch.profiler.schedule(**kw)
    assert [ours(s).name for s in range(40)] == [theirs(s).name for s in range(40)]
    assert [a.value for a in ProfilerAction] == [a.value for a in torch.profiler.ProfilerAction]


def test_schedule_rejects_bad_arguments_as_torch():
    with pytest.raises(AssertionError, match="active=0"):
        schedule(wait=1, warmup=1, active=0)
    with pytest.raises(AssertionError, match="non-negative"):
        schedule(wait=1, warmup=1, active=1)(-1)
    with pytest.warns(UserWarning, match="warmup"):
        schedule(wait=1, warmup=0, active=1)


def _run_schedule(lib, kw, steps):
    """Per on_trace_ready call: the step it came at and the ProfilerStep ranges and ops it holds."""
    calls = []

    def ready(prof):
        events = prof.events()
        steps = [e.trace_name for e in events if e.name == "ProfilerStep*"]  # (summed as one name, as PyTorch)
        calls.append((prof.step_num, steps, [e.name for e in events].count(op_name)))

    op_name = "Mul" if lib is mg else "aten::mul"
    x = lib.ones(3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with lib.profiler.profile(schedule=lib.profiler.schedule(**kw), on_trace_ready=ready) as prof:
            for _ in range(steps):
                x * 2
                prof.step()
    return calls


@pytest.mark.parametrize("kw", SCHEDULES[:3])
def test_a_scheduled_profile_records_the_steps_torch_records(kw):
    ours = _run_schedule(mg, kw, 12)
    assert ours, "the schedule had active steps: on_trace_ready was called"
    for step_num, ranges, muls in ours:
        # one op per recorded step, but none in the step the profile ended in (step 12)
        assert muls == len(ranges) - ("ProfilerStep#12" in ranges)
        assert ranges[-1] in (f"ProfilerStep#{step_num - 1}", "ProfilerStep#12")
    torch = pytest.importorskip("torch")
    assert ours == _run_schedule(torch, kw, 12)


def test_nothing_recorded_yet_is_a_clear_error():
    with profile(schedule=schedule(wait=5, warmup=1, active=1)) as prof:
        mg.ones(1) + 1
        with pytest.raises(RuntimeError, match="nothing has been recorded"):
            prof.events()
    with profile() as prof:
        with pytest.raises(RuntimeError, match="still recording"):
            prof.key_averages()
    old = mg.autograd.profiler.profile()
    with pytest.raises(RuntimeError, match="didn't finish"):
        old.key_averages()
    with mg.autograd.profiler.profile(enabled=False) as off:
        mg.ones(1) + 1
    assert off.function_events is None
    _restored()


def test_acc_events_accumulates_the_windows():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with profile(schedule=schedule(wait=0, warmup=0, active=1, repeat=3), acc_events=True) as prof:
            for _ in range(4):
                mg.ones(1) + 1
                prof.step()
    assert _counts(prof.key_averages())["Add"] == 3


def test_activities_and_unsupported_options():
    with pytest.raises(ValueError, match="XPU is not supported"):
        profile(activities=[ProfilerActivity.CPU, ProfilerActivity.XPU])
    with pytest.raises(NotImplementedError, match="experimental_config"):
        profile(experimental_config=object())
    with pytest.raises(ValueError, match="use_cpu=False"):
        mg.autograd.profiler.profile(use_cpu=False)
    with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:  # CUDA: accepted (host time)
        mg.ones(1) + 1
    assert ProfilerActivity.CPU in mg.profiler.supported_activities()
    assert _counts(prof.key_averages()) == {"Add": 1}


# --- files ----------------------------------------------------------------------------------------------
def test_chrome_trace_loads_and_has_the_events(tmp_path):
    model, x, y = _mlp()
    with profile(record_shapes=True) as prof:
        with record_function("step"):
            _step(model, x, y)
    path = tmp_path / "trace.json"
    prof.export_chrome_trace(str(path))
    trace = json.loads(path.read_text())
    complete = [e for e in trace["traceEvents"] if e["ph"] == "X"]
    assert sorted(e["name"] for e in complete) == sorted(e.name for e in prof.events())
    for e in complete:
        assert isinstance(e["ts"], (int, float)) and e["dur"] >= 0
        assert isinstance(e["pid"], int) and isinstance(e["tid"], int)
    step = next(e for e in complete if e["name"] == "step")
    linear = [e for e in complete if e["name"] == "Linear"]
    assert all(step["ts"] <= e["ts"] and e["ts"] + e["dur"] <= step["ts"] + step["dur"] + 1e-3 for e in linear)
    assert linear[0]["args"]["Input Dims"] == [[5, 4], [3, 4], [3]]
    assert {e["cat"] for e in complete} == {"user_annotation", "cpu_op"}
    assert not list(tmp_path.glob(".*.tmp"))  # written through a temp file, then moved into place
    with pytest.raises(FileNotFoundError):
        prof.export_chrome_trace(str(tmp_path / "missing" / "trace.json"))


def test_old_api_chrome_trace_and_table(tmp_path):
    x = mg.randn(3, requires_grad=True)
    with mg.autograd.profiler.profile(record_shapes=True) as prof:
        x.exp().sum().backward()
    assert _counts(prof.key_averages()) == {"Exp": 1, "Sum": 1, "SumBackward": 1, "ExpBackward": 1}
    assert "ExpBackward" in prof.key_averages().table(sort_by="self_cpu_time_total")
    assert prof.self_cpu_time_total == pytest.approx(prof.function_events.self_cpu_time_total)
    assert prof.total_average().count == 4
    prof.export_chrome_trace(str(tmp_path / "old.json"))
    names = [e["name"] for e in json.loads((tmp_path / "old.json").read_text())["traceEvents"] if e["ph"] == "X"]
    assert sorted(names) == ["Exp", "ExpBackward", "Sum", "SumBackward"]


@pytest.mark.parametrize("use_gzip", [False, True])
def test_tensorboard_trace_handler_writes_the_trace_file(tmp_path, use_gzip):
    folder = tmp_path / "tb" / "run"
    handler = mg.profiler.tensorboard_trace_handler(str(folder), worker_name="worker0", use_gzip=use_gzip)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with profile(schedule=schedule(wait=0, warmup=0, active=2, repeat=1), on_trace_ready=handler) as prof:
            for _ in range(3):
                mg.ones(2) * 3
                prof.step()
    files = sorted(p.name for p in folder.iterdir())
    suffix = r"\.pt\.trace\.json" + (r"\.gz" if use_gzip else "")
    assert len(files) == 1 and re.fullmatch(r"worker0\.\d+" + suffix, files[0])
    raw = (folder / files[0]).read_bytes()
    trace = json.loads(gzip.decompress(raw) if use_gzip else raw)
    names = [e["name"] for e in trace["traceEvents"] if e["ph"] == "X"]
    assert names.count("Mul") == 2 and {"ProfilerStep#0", "ProfilerStep#1"} <= set(names)


def test_with_stack_gives_this_files_lines_and_backward_gets_the_forward_stack(tmp_path):
    x = mg.randn(3, requires_grad=True)
    with profile(with_stack=True) as prof:
        y = x.exp()  # the line the stacks must name
        y.sum().backward()
    by_name = {e.name: e for e in prof.events()}
    here = [f for f in by_name["Exp"].stack if "test_profiler.py" in f]
    assert here and here[0].endswith("test_with_stack_gives_this_files_lines_and_backward_gets_the_forward_stack")
    assert by_name["ExpBackward"].stack == by_name["Exp"].stack
    assert "Source Location" in prof.key_averages(group_by_stack_n=2).table()
    prof.export_stacks(str(tmp_path / "stacks.txt"))
    for line in (tmp_path / "stacks.txt").read_text().splitlines():
        frames, value = line.rsplit(" ", 1)
        assert int(value) > 0 and ";" in frames


# --- the table against PyTorch's own table code ------------------------------------------------------------
@pytest.mark.parametrize("kw", [{}, dict(record_shapes=True), dict(profile_memory=True), dict(with_flops=True),
                                dict(with_stack=True)])
def test_table_text_is_torchs_for_the_same_events(kw):
    """PyTorch's _build_table, given matgrad's events, prints the table matgrad prints."""
    torch = pytest.importorskip("torch")
    profiler_util = pytest.importorskip("torch.autograd.profiler_util")
    build = getattr(profiler_util, "_build_table", None)
    if build is None:
        pytest.skip("this PyTorch has no _build_table")
    model, x, y = _mlp()
    with profile(with_modules=True, **kw) as prof:
        with record_function("a range with a name long enough to be cut short in the table's name column"):
            _step(model, x, y)
    shapes, stack_n = kw.get("record_shapes", False), (3 if kw.get("with_stack") else 0)
    for events, extra in [(prof.key_averages(group_by_input_shape=shapes, group_by_stack_n=stack_n), {}),
                          (prof.events(), dict(top_level_events_only=True))]:
        for sort_by in [None, "cpu_time_total", "self_cpu_time_total", "count"]:
            ours = events.table(sort_by=sort_by, row_limit=7, **extra)
            theirs = build(events, sort_by=sort_by, row_limit=7, with_flops=events._with_flops,
                           profile_memory=events._profile_memory, **extra)
            assert ours == theirs
    assert torch is not None
