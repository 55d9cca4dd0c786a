"""Check the collectives and DistributedSampler's coverage on every rank; rank 0 writes the indices."""
import sys

import numpy as np

import matgrad
import matgrad.distributed as dist
from matgrad.utils.data import DataLoader, DistributedSampler, TensorDataset

out = sys.argv[1]
dist.init_process_group("mpi")
assert dist.is_initialized()
rank, world = dist.get_rank(), dist.get_world_size()
R = dist.ReduceOp
base = np.arange(6, dtype=np.float32).reshape(2, 3)
for op, want in [(R.SUM, base * sum(range(1, world + 1))), (R.AVG, base * (world + 1) / 2),
                 (R.MAX, base * world), (R.MIN, base)]:
    t = matgrad.tensor(base * (rank + 1))
    dist.all_reduce(t, op=op)
    assert np.allclose(t.array, want), (op, t.array, want)
t = matgrad.tensor(base * (rank + 1))
dist.all_reduce(t, async_op=True).wait()
assert np.allclose(t.array, base * sum(range(1, world + 1)))
t = matgrad.tensor(np.full(4, rank, dtype=np.int64))
dist.broadcast(t, src=world - 1)
assert (t.array == world - 1).all()
parts = [matgrad.zeros(3) for _ in range(world)]
dist.all_gather(parts, matgrad.tensor(np.full(3, rank, dtype=np.float32)))
assert [int(p.array[0]) for p in parts] == list(range(world))
t = matgrad.tensor(np.ones(3, dtype=np.float32))
dist.reduce(t, dst=0)
assert (t.array == (world if rank == 0 else 1)).all()
nc = matgrad.tensor(np.ones((3, 4), dtype=np.float32)).array[:, ::2]  # not contiguous
dist.all_reduce(matgrad.Tensor(nc))
dist.barrier()

# coverage: 2 epochs, shuffled; n=23 needs padding for 2 and 3 ranks
ds = TensorDataset(matgrad.arange(23))
for drop_last in (False, True):
    sampler = DistributedSampler(ds, shuffle=True, seed=5, drop_last=drop_last)
    for epoch in range(2):
        sampler.set_epoch(epoch)
        mine = np.array([int(b[0].array[0]) for b in DataLoader(ds, batch_size=1, sampler=sampler)], dtype=np.int64)
        assert len(mine) == len(sampler)
        every = np.empty((world, len(mine)), dtype=np.int64)
        dist.get_world_size() and matgrad.distributed._comm().Allgather(mine, every)
        if rank == 0:
            np.save(f"{out}/cover_{int(drop_last)}_{epoch}.npy", every)
dist.destroy_process_group()
