"""DistributedDataParallel step time, allreduce time and overlap: `mpiexec -n N python benchmarks/ddp.py`.

The seed MLP (784 -> 1024 -> 10, 3.25 MB of float32 gradients), SGD, global batch 256 split over
the ranks, random data; OPENBLAS_NUM_THREADS=1 per rank. Prints (rank 0) one JSON line:
step_ms (forward + backward + step), allreduce_ms (the same gradients allreduced blocking, alone),
wait_ms (per step, blocked at the end of backward: the part not overlapped), overlap (1 - wait/allreduce).
"""
import json
import os
import sys
import time

import numpy as np

import matgrad
import matgrad.distributed as dist
import matgrad.nn as nn
from matgrad.models.mlp import seed_mlp
from matgrad.nn.parallel import DistributedDataParallel as DDP

dist.init_process_group("mpi")
rank, world = dist.get_rank(), dist.get_world_size()
cap = float(sys.argv[1]) if len(sys.argv) > 1 else 25.0
B, WARM, STEPS = 256, 10, 40
model = seed_mlp((1, 28, 28), 10)
ddp = DDP(model, bucket_cap_mb=cap)
opt = matgrad.optim.SGD(ddp.parameters(), lr=0.01, momentum=0.9)
loss_fn = nn.CrossEntropyLoss()
rng = np.random.default_rng(rank)
x = matgrad.tensor(rng.standard_normal((B // world, 784)).astype(np.float32))
y = matgrad.tensor(rng.integers(0, 10, B // world))


def step():
    opt.zero_grad()
    loss_fn(ddp(x), y).backward()
    opt.step()


for _ in range(WARM):
    step()
dist.barrier()
ddp.reset_comm_stats()
t0 = time.perf_counter()
for _ in range(STEPS):
    step()
dist.barrier()
step_s = (time.perf_counter() - t0) / STEPS
st = ddp.comm_stats
from mpi4py import MPI  # noqa: E402

bufs = [np.ones(n // 4, np.float32) for n in ddp.bucket_sizes]
dist.barrier()
t0 = time.perf_counter()
for _ in range(STEPS):
    for b in bufs:
        MPI.COMM_WORLD.Allreduce(MPI.IN_PLACE, b)
allreduce_s = (time.perf_counter() - t0) / STEPS
wait_s = st["wait_s"] / STEPS
if rank == 0:
    print(json.dumps({
        "ranks": world, "bucket_cap_mb": cap, "buckets": len(bufs), "grad_mb": round(sum(ddp.bucket_sizes) / 1e6, 2),
        "step_ms": round(step_s * 1e3, 2), "allreduce_ms": round(allreduce_s * 1e3, 3),
        "wait_ms": round(wait_s * 1e3, 3), "launch_ms": round(st["launch_s"] / STEPS * 1e3, 3),
        "overlap": round(max(0.0, 1 - wait_s / allreduce_s), 2) if allreduce_s > 0 and world > 1 else None,
        "blas_threads": os.environ.get("OPENBLAS_NUM_THREADS"),
    }))
