"""matgrad.multiprocessing: the standard library's names, spawn/start_processes with PyTorch's semantics
(fn(i, *args) per process; a child's exception raised in the parent with its traceback), tensors that
cross process boundaries as pickled NumPy arrays, and the sharing-strategy settings.

The worker functions sit at this module's top level, as spawn needs (the child imports them by name).
"""
from __future__ import annotations

import importlib
import multiprocessing as std_mp
import os
import pickle
import warnings

import numpy as np
import pytest

import matgrad as mg
import matgrad.multiprocessing as mp

spawn_module = importlib.import_module("matgrad.multiprocessing.spawn")  # the attribute `spawn` is the function


# --- workers (run in the children) ----------------------------------------------------------------------------
def _send_scaled(i, queue, base):
    """Child i sends (i, base * (i + 1)) back: a tensor in (through args) and a tensor out (through the queue)."""
    queue.put((i, base * (i + 1)))


def _save_tensor(i, folder):
    mg.save({"rank": i, "t": mg.full((2, 2), float(i), dtype=mg.float64)}, os.path.join(folder, f"rank{i}.pt"))


def _fail_on_rank_1(i):
    if i == 1:
        raise ValueError(f"rank {i} failed on purpose")


def _exit_with_3(i):
    os._exit(3)


def _nothing(i):
    pass


# --- spawn ------------------------------------------------------------------------------------------------------
def test_spawn_runs_fn_with_its_index_and_tensors_cross_as_copies():
    ctx = mp.get_context("spawn")
    queue = ctx.SimpleQueue()
    base = mg.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=mg.float64)
    assert mp.spawn(_send_scaled, args=(queue, base), nprocs=2) is None  # join=True returns None, as torch
    got = dict(queue.get() for _ in range(2))
    assert sorted(got) == [0, 1]
    for i, t in got.items():
        assert type(t) is mg.Tensor and t.dtype == mg.float64
        np.testing.assert_array_equal(t.numpy(), base.numpy() * (i + 1))
    np.testing.assert_array_equal(base.numpy(), [[1.0, 2.0], [3.0, 4.0]])  # the parent's tensor is untouched


def test_spawned_processes_each_write_a_file(tmp_path):
    mp.spawn(_save_tensor, args=(str(tmp_path),), nprocs=2)
    for i in range(2):
        saved = mg.load(str(tmp_path / f"rank{i}.pt"))
        assert saved["rank"] == i
        np.testing.assert_array_equal(saved["t"].numpy(), np.full((2, 2), float(i)))


def test_a_failing_child_raises_in_the_parent_with_its_traceback():
    with pytest.raises(mp.ProcessRaisedException) as info:
        mp.spawn(_fail_on_rank_1, nprocs=2)
    err = info.value
    assert err.error_index == 1 and isinstance(err.error_pid, int)
    text = str(err)
    assert "-- Process 1 terminated with the following error:" in text
    assert "Traceback (most recent call last)" in text
    assert "ValueError: rank 1 failed on purpose" in text
    assert isinstance(err, mp.ProcessException)


def test_a_child_that_exits_without_raising_gives_its_exit_code():
    with pytest.raises(mp.ProcessExitedException, match="process 0 terminated with exit code 3") as info:
        mp.start_processes(_exit_with_3, nprocs=1, start_method="spawn")
    assert info.value.exit_code == 3 and info.value.error_index == 0 and info.value.signal_name is None


def test_join_false_returns_the_process_context():
    context = mp.spawn(_nothing, nprocs=2, join=False)
    assert isinstance(context, mp.ProcessContext)
    assert len(context.pids()) == 2 and all(isinstance(p, int) for p in context.pids())
    while not context.join(timeout=30):
        pass
    assert all(p.exitcode == 0 for p in context.processes)
    assert context.join() is True  # nothing left to wait for


def test_spawn_warns_for_another_start_method_and_spawns_anyway(monkeypatch):
    calls = []
    monkeypatch.setattr(spawn_module, "start_processes", lambda *a, **k: calls.append((a, k)))
    with pytest.warns(FutureWarning, match="only supports start_method=spawn"):
        mp.spawn(_nothing, (1,), 3, True, False, start_method="fork")
    assert calls == [((_nothing, (1,), 3, True, False), {"start_method": "spawn"})]


def test_process_exceptions_pickle_with_their_fields():
    raised = pickle.loads(pickle.dumps(mp.ProcessRaisedException("msg", 1, 123)))
    assert (type(raised), raised.msg, raised.error_index, raised.error_pid) == (mp.ProcessRaisedException, "msg", 1,
                                                                                123)
    exited = pickle.loads(pickle.dumps(mp.ProcessExitedException("m", 0, 9, -15, "SIGTERM")))
    assert (exited.exit_code, exited.signal_name, exited.error_pid) == (-15, "SIGTERM", 9)


def test_spawn_context_is_the_old_name_and_warns():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ctx = mp.SpawnContext([], [])
    assert isinstance(ctx, mp.ProcessContext) and ctx.join() is True
    assert any("renamed to ProcessContext" in str(w.message) for w in caught)


# --- names and settings -----------------------------------------------------------------------------------------
def test_the_standard_librarys_names_are_the_same_objects():
    for name in std_mp.__all__:
        assert name in mp.__all__, name
        assert getattr(mp, name) is getattr(std_mp, name), name


def test_sharing_strategy_is_checked_and_recorded():
    assert mp.get_all_sharing_strategies() == {"file_descriptor", "file_system"}  # Linux, as the brief's machine
    old = mp.get_sharing_strategy()
    assert old == "file_descriptor"
    try:
        mp.set_sharing_strategy("file_system")
        assert mp.get_sharing_strategy() == "file_system"
        with pytest.raises(AssertionError, match="invalid sharing strategy 'shm'"):
            mp.set_sharing_strategy("shm")
        assert mp.get_sharing_strategy() == "file_system"
    finally:
        mp.set_sharing_strategy(old)


def test_matches_torch_multiprocessing_names_and_defaults():
    torch_mp = pytest.importorskip("torch.multiprocessing")
    assert sorted(mp.__all__) == sorted(torch_mp.__all__)
    # torch's shared-memory reducers: matgrad copies tensors (pickled as NumPy arrays), so it has none
    skip = {"init_reductions": "torch's shared-memory tensor reducers", "reductions": "the module holding them",
            "torch": "torch itself", "sys": "Python's sys, imported there"}
    missing = [n for n in dir(torch_mp) if not n.startswith("_") and n not in skip and not hasattr(mp, n)]
    assert missing == []
    assert mp.get_sharing_strategy() == torch_mp.get_sharing_strategy()
    assert mp.get_all_sharing_strategies() == torch_mp.get_all_sharing_strategies()
    assert mp.ENV_VAR_PARALLEL_START == torch_mp.ENV_VAR_PARALLEL_START


def test_is_a_subpackage_only():
    assert mg.multiprocessing is mp
    assert "multiprocessing" not in mg.__all__ and not hasattr(mg, "spawn")
