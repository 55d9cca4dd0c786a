"""What needs no mpiexec: DistributedSampler's arithmetic, the engine's end-of-backward callback."""
from __future__ import annotations

import numpy as np
import pytest

import matgrad
from matgrad.autograd import engine
from matgrad.utils.data import DistributedSampler


@pytest.mark.parametrize("n", [1, 7, 10, 23])
@pytest.mark.parametrize("replicas", [1, 2, 3, 4])
@pytest.mark.parametrize("drop_last", [False, True])
def test_sampler_matches_torch_without_shuffle(n, replicas, drop_last):
    torch_sampler = pytest.importorskip("torch.utils.data.distributed").DistributedSampler
    for rank in range(replicas):
        ours = DistributedSampler(range(n), num_replicas=replicas, rank=rank, shuffle=False, drop_last=drop_last)
        theirs = torch_sampler(range(n), num_replicas=replicas, rank=rank, shuffle=False, drop_last=drop_last)
        assert list(ours) == list(theirs) and len(ours) == len(theirs)


def test_sampler_shuffles_the_same_on_every_rank_and_per_epoch():
    shards = [DistributedSampler(range(20), num_replicas=3, rank=r, seed=4) for r in range(3)]
    first = [list(s) for s in shards]
    assert sorted(sum(first, [])) == sorted(list(range(20)) + [first[0][0]])  # one padded sample
    for s in shards:
        s.set_epoch(1)
    assert [list(s) for s in shards] != first


def test_sampler_checks_its_arguments():
    with pytest.raises(ValueError, match="Invalid rank 3"):
        DistributedSampler(range(5), num_replicas=3, rank=3)
    with pytest.raises(RuntimeError, match="init_process_group"):
        DistributedSampler(range(5))


def test_queue_callback_runs_once_after_the_outermost_backward():
    w = matgrad.tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    calls = []

    def hook(t):
        calls.append("hook")
        engine.queue_callback(lambda: calls.append(("end", t.grad.array.sum().item())))
    with w.register_post_accumulate_grad_hook(hook):
        (w * 2).sum().backward()
    assert calls == ["hook", ("end", 6.0)]
    with pytest.raises(RuntimeError, match="no backward pass is running"):
        engine.queue_callback(lambda: None)
