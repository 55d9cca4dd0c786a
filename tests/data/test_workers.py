"""DataLoader(num_workers > 0): the same batches as in one process, worker seeds and info, errors with the
worker's traceback, dead workers detected (bounded), persistent workers, shared memory cleaned up.

Every test runs under an alarm (BOUND_S) so that a hang fails the test instead of the run; nothing
asserts on timing.
"""
from __future__ import annotations

import gc
import multiprocessing
import os
import random
import signal
import sys
import time

import numpy as np
import pytest

import matgrad as mg
from matgrad import random as mg_random
from matgrad.data import DataLoader, Dataset, IterableDataset, TensorDataset, get_worker_info
from matgrad.data import worker as worker_mod
from matgrad.random import Generator

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="checks /dev/shm and fork")

BOUND_S = 60


@pytest.fixture(autouse=True)
def bounded():
    """Fail (not hang) a test that runs past BOUND_S; then check it left no segments and no workers."""
    def on_alarm(signum, frame):
        raise TimeoutError(f"test ran past {BOUND_S} s")

    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(BOUND_S)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    gc.collect()
    assert _segments() == []
    assert _workers() == []


def _segments():
    return worker_mod.leftover_segments(f"{worker_mod._SHM_PREFIX}{os.getpid()}_")


def _workers():
    return [p for p in multiprocessing.active_children() if p.name.startswith("DataLoader worker")]


class Squares(Dataset):
    """A plain map-style dataset: each sample made in Python (no fast path)."""

    def __init__(self, n=23, delay=0.0):
        self.n, self.delay = n, delay

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if self.delay:
            time.sleep(self.delay)
        return {"x": np.array([i, -i], dtype=np.float32), "y": i * i, "name": f"s{i}",
                "t": mg.tensor([float(i)] * 3)}


def _plain(batch):
    if isinstance(batch, dict):
        return {k: _plain(v) for k, v in batch.items()}
    if isinstance(batch, (list, tuple)):
        return [_plain(b) for b in batch]
    if isinstance(batch, mg.Tensor):
        return ("T", str(batch.dtype), np.asarray(batch).tolist())
    if isinstance(batch, np.ndarray):
        return ("A", str(batch.dtype), batch.tolist())
    return batch


@pytest.mark.parametrize("kwargs", [
    dict(batch_size=4, shuffle=True, generator=3),
    dict(batch_size=5, drop_last=True),
    dict(batch_size=None),
    dict(batch_size=4, shuffle=True, generator=3, collate_fn=lambda b: [s["y"] for s in b]),
])
def test_same_batches_as_one_process(kwargs):
    one = [_plain(b) for b in DataLoader(Squares(), **kwargs)]
    two = [_plain(b) for b in DataLoader(Squares(), num_workers=2, **kwargs)]
    assert one == two and len(one) > 1


def test_same_batches_tensor_dataset_and_seeded_epochs():
    x = mg.randn(37, 3)
    ds = TensorDataset(x, mg.arange(37))
    a = DataLoader(ds, batch_size=8, shuffle=True, generator=Generator().manual_seed(1))
    b = DataLoader(ds, batch_size=8, shuffle=True, generator=Generator().manual_seed(1), num_workers=2,
                   prefetch_factor=1)
    for _ in range(2):  # the second epoch too: each draws one base seed per epoch, then the order
        assert [_plain(t) for t in a] == [_plain(t) for t in b]
    mg.manual_seed(9)
    first = [_plain(t) for t in DataLoader(ds, batch_size=8, shuffle=True, num_workers=2)]
    mg.manual_seed(9)
    assert [_plain(t) for t in DataLoader(ds, batch_size=8, shuffle=True, num_workers=2)] == first


def test_slow_getitem_with_two_workers():
    loader = DataLoader(Squares(n=16, delay=0.01), batch_size=2, num_workers=2)
    ys = [v for b in loader for v in b["y"].tolist()]
    assert ys == [i * i for i in range(16)]


def test_out_of_order_delivery_gives_every_batch():
    loader = DataLoader(Squares(n=20), batch_size=3, num_workers=2, in_order=False)
    ys = sorted(v for b in loader for v in b["y"].tolist())
    assert ys == sorted(i * i for i in range(20))


class Failing(Dataset):
    def __len__(self):
        return 8

    def __getitem__(self, i):
        if i == 5:
            raise ValueError(f"sample {i} is bad")
        return i


def test_worker_error_raised_with_worker_traceback():
    loader = DataLoader(Failing(), batch_size=2, num_workers=2)
    got = []
    with pytest.raises(ValueError) as info:
        for b in loader:
            got.append(b.tolist())
    text = str(info.value)
    assert got == [[0, 1], [2, 3]]  # batches before the bad one arrive, in order
    assert "Caught ValueError in DataLoader worker process 0." in text
    assert "Traceback (most recent call last)" in text and "ValueError: sample 5 is bad" in text
    assert "in __getitem__" in text and "test_workers.py" in text


class KeyFailing(Failing):
    def __getitem__(self, i):
        if i == 3:
            raise KeyError("k3")
        return i


class Unbuildable(Exception):
    def __init__(self, a, b):
        super().__init__(a, b)


class OddFailing(Failing):
    def __getitem__(self, i):
        raise Unbuildable(1, 2)


def test_worker_error_types():
    with pytest.raises(KeyError) as info:
        list(DataLoader(KeyFailing(), batch_size=2, num_workers=2))
    assert "Caught KeyError in DataLoader worker process 1." in str(info.value)
    with pytest.raises(RuntimeError, match="Caught Unbuildable in DataLoader worker process 0"):
        list(DataLoader(OddFailing(), batch_size=2, num_workers=1))


def test_loader_continues_after_worker_error_like_torch():
    it = iter(DataLoader(Failing(), batch_size=2, num_workers=2))
    assert next(it).tolist() == [0, 1] and next(it).tolist() == [2, 3]
    with pytest.raises(ValueError):
        next(it)
    assert next(it).tolist() == [6, 7]
    with pytest.raises(StopIteration):
        next(it)


class Killing(Dataset):
    def __len__(self):
        return 10

    def __getitem__(self, i):
        if i == 5 and get_worker_info() is not None:
            os.kill(os.getpid(), signal.SIGKILL)
        return i


def test_killed_worker_is_detected():
    loader = DataLoader(Killing(), batch_size=2, num_workers=2)
    with pytest.raises(RuntimeError) as info:
        list(loader)
    text = str(info.value)
    assert "DataLoader worker 0" in text and "exited unexpectedly" in text
    assert "exit code -9" in text and "SIGKILL" in text


def test_worker_killed_from_outside_is_detected():
    loader = DataLoader(Squares(n=40), batch_size=2, num_workers=2, persistent_workers=True)
    it = iter(loader)
    next(it)
    victim = it._pool.processes[1]
    os.kill(victim.pid, signal.SIGKILL)
    with pytest.raises(RuntimeError, match=r"DataLoader worker 1 \(pid \d+\) exited unexpectedly with exit code -9"):
        for _ in it:
            pass
    del it, loader


class Sleepy(Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, i):
        time.sleep(1.0)
        return i


def test_timeout():
    with pytest.raises(RuntimeError, match="DataLoader timed out after 0.2 seconds"):
        list(DataLoader(Sleepy(), batch_size=1, num_workers=1, timeout=0.2))


class Report(Dataset):
    """Each sample says which worker made it and what that worker's generators give."""

    def __len__(self):
        return 8

    def __getitem__(self, i):
        info = get_worker_info()
        return {"id": info.id, "num_workers": info.num_workers, "seed": info.seed, "pid": os.getpid(),
                "same_dataset": info.dataset is self, "init": INIT_MARK.get("value", -1),
                "np": int(np.random.randint(0, 2**31)), "mg": float(mg.rand(1).item()),
                "py": random.random(), "initial_seed": mg_random.initial_seed()}


INIT_MARK: dict = {}


def _init(worker_id):
    INIT_MARK["value"] = 100 + worker_id
    assert get_worker_info().id == worker_id


def _collect(loader):
    return [{k: v.tolist() if hasattr(v, "tolist") else v for k, v in b.items()} for b in loader]


def test_worker_init_fn_and_get_worker_info():
    assert get_worker_info() is None
    batches = _collect(DataLoader(Report(), batch_size=2, num_workers=2, worker_init_fn=_init, generator=5))
    assert [b["id"] for b in batches] == [[0, 0], [1, 1], [0, 0], [1, 1]]  # round robin, in order
    assert all(b["num_workers"] == [2, 2] and b["same_dataset"] == [True, True] for b in batches)
    assert [b["init"][0] for b in batches] == [100, 101, 100, 101]
    seeds = {b["id"][0]: b["seed"][0] for b in batches}
    assert seeds[1] == seeds[0] + 1  # base_seed + worker_id
    assert all(b["initial_seed"] == b["seed"] for b in batches)  # np.random.seed(torch.initial_seed() % 2**32)
    again = _collect(DataLoader(Report(), batch_size=2, num_workers=2, worker_init_fn=_init, generator=5))
    keys = ("seed", "np", "mg", "py")
    assert [[b[k] for k in keys] for b in batches] == [[b[k] for k in keys] for b in again]  # reproducible
    assert batches[0]["mg"] != batches[1]["mg"] and batches[0]["np"] != batches[1]["np"]  # workers differ
    with pytest.raises(RuntimeError, match="Cannot assign attributes"):
        worker_mod.WorkerInfo(id=0).id = 1


def test_worker_info_is_read_only_in_repr():
    info = worker_mod.WorkerInfo(id=1, num_workers=2, seed=3, dataset=None)
    assert repr(info) == "WorkerInfo(id=1, num_workers=2, seed=3, dataset=None)"


def test_persistent_workers_reused_across_epochs():
    loader = DataLoader(Report(), batch_size=2, num_workers=2, persistent_workers=True, generator=1)
    epochs = [_collect(loader) for _ in range(3)]
    pids = [{p for b in e for p in b["pid"]} for e in epochs]
    assert len(pids[0]) == 2 and pids[0] == pids[1] == pids[2]
    assert epochs[0][0]["seed"] == epochs[2][0]["seed"]  # the same workers, the same seeds
    assert iter(loader) is iter(loader)
    fresh = DataLoader(Report(), batch_size=2, num_workers=2, generator=1)
    assert {p for b in _collect(fresh) for p in b["pid"]}.isdisjoint({p for b in _collect(fresh) for p in b["pid"]})
    # an epoch left half-way: the next one is whole, and nothing stale leaks into it
    it = iter(loader)
    next(it)
    assert [b["id"] for b in _collect(loader)] == [[0, 0], [1, 1], [0, 0], [1, 1]]
    del it, loader


def test_persistent_workers_with_shuffle_reproducible():
    x = mg.arange(30)

    def epochs(**kwargs):
        loader = DataLoader(TensorDataset(x), batch_size=4, shuffle=True, generator=Generator().manual_seed(4),
                            **kwargs)
        return [[b[0].tolist() for b in loader] for _ in range(3)]

    one = epochs()
    persistent = epochs(num_workers=2, persistent_workers=True)
    assert persistent[0] == one[0]  # later epochs differ, as in PyTorch: persistent workers draw no new seed
    assert all(sorted(v for b in e for v in b) == list(range(30)) for e in persistent)
    assert epochs(num_workers=2, persistent_workers=True) == persistent
    assert epochs(num_workers=2) == one


class Stream(IterableDataset):
    """0..n-1, shared out between the workers with get_worker_info, as PyTorch's docs show."""

    def __init__(self, n, shard=True):
        self.n, self.shard = n, shard

    def __iter__(self):
        info = get_worker_info()
        if info is None or not self.shard:
            return iter(range(self.n))
        return iter(range(info.id, self.n, info.num_workers))


def test_iterable_dataset_with_workers_matches_torch():
    torch = pytest.importorskip("torch")

    class TorchStream(torch.utils.data.IterableDataset):
        def __init__(self, n, shard=True):
            self.n, self.shard = n, shard

        def __iter__(self):
            info = torch.utils.data.get_worker_info()
            if info is None or not self.shard:
                return iter(range(self.n))
            return iter(range(info.id, self.n, info.num_workers))

    for shard, bs, drop_last in [(True, 2, False), (True, 3, True), (False, 2, False)]:
        ours = [b.tolist() for b in DataLoader(Stream(9, shard), batch_size=bs, drop_last=drop_last, num_workers=2)]
        theirs = [b.tolist() for b in torch.utils.data.DataLoader(TorchStream(9, shard), batch_size=bs,
                                                                  drop_last=drop_last, num_workers=2)]
        assert ours == theirs, (shard, bs, drop_last)
    ours = [int(v) for v in DataLoader(Stream(5), batch_size=None, num_workers=2)]
    assert ours == [0, 1, 2, 3, 4]


def test_iterable_dataset_persistent_workers_restart_their_streams():
    loader = DataLoader(Stream(7), batch_size=2, num_workers=2, persistent_workers=True)
    first = [b.tolist() for b in loader]
    assert sorted(v for b in first for v in b) == list(range(7))
    assert [b.tolist() for b in loader] == first
    del loader


def test_shared_memory_and_workers_cleaned_up():
    prefix = f"{worker_mod._SHM_PREFIX}{os.getpid()}_"
    # an epoch left after one batch, then dropped: the iterator's finalizer stops the workers
    it = iter(DataLoader(Squares(n=40), batch_size=2, num_workers=2, prefetch_factor=4))
    next(it)
    assert it.shm_prefix.startswith(prefix)
    del it
    gc.collect()
    assert _segments() == [] and _workers() == []
    # a persistent loader, dropped between epochs
    loader = DataLoader(Squares(n=10), batch_size=2, num_workers=2, persistent_workers=True)
    list(loader)
    assert len(_workers()) == 2
    del loader
    gc.collect()
    assert _segments() == [] and _workers() == []
    # a segment left by a worker killed mid-batch is unlinked at shutdown
    it = iter(DataLoader(Squares(n=10), batch_size=2, num_workers=1))
    from multiprocessing import shared_memory

    stray = shared_memory.SharedMemory(name=f"{it.shm_prefix}0_999", create=True, size=16)
    stray.close()
    list(it)
    assert _segments() == []


def test_spawn_context():
    loader = DataLoader(Squares(n=6), batch_size=4, num_workers=1, multiprocessing_context="spawn",
                        worker_init_fn=_init)
    assert [_plain(b) for b in loader] == [_plain(b) for b in DataLoader(Squares(n=6), batch_size=4)]


def test_default_context_is_fork_on_linux():
    assert worker_mod.default_context().get_start_method() == "fork"
    with pytest.raises(ValueError, match="multiprocessing_context"):
        DataLoader(Squares(), num_workers=1, multiprocessing_context="nonsense")
