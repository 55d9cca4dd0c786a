"""Train a small model data-parallel for 50 steps; each rank saves its final weights.

    [mpiexec -n N] python train.py OUT_DIR OPTIMIZER(sgd|adamw) [--syncbn] [--accumulate]

The global batch B=24 is split into N contiguous shards; without mpiexec it is one process on
the whole batch (the reference).
"""
import sys

import numpy as np

import matgrad
import matgrad.distributed as dist
import matgrad.nn as nn
from matgrad.nn.parallel import DistributedDataParallel as DDP

out, opt_name = sys.argv[1], sys.argv[2]
syncbn, accumulate = "--syncbn" in sys.argv, "--accumulate" in sys.argv
dist.init_process_group("mpi")
rank, world = dist.get_rank(), dist.get_world_size()

rng = np.random.default_rng(0)
B, STEPS = 24, 50
X = rng.standard_normal((STEPS, B, 10)).astype(np.float32)
Y = rng.integers(0, 5, (STEPS, B))

matgrad.manual_seed(1 + rank)  # different on purpose: DDP must broadcast rank 0's weights
layers = [nn.Linear(10, 32)] + ([nn.BatchNorm1d(32)] if syncbn else []) + [nn.ReLU(), nn.Linear(32, 5)]
model = nn.Sequential(*layers)
if world > 1:
    if syncbn:
        model = nn.SyncBatchNorm.convert_sync_batchnorm(model)
    model = DDP(model, bucket_cap_mb=0.001)  # ~1 KB buckets: several buckets, several Iallreduces
params = list(model.parameters())
if opt_name == "sgd":
    opt = matgrad.optim.SGD(params, lr=0.1, momentum=0.9)
else:
    opt = matgrad.optim.AdamW(params, lr=0.01, weight_decay=0.01)
loss_fn = nn.CrossEntropyLoss()
share = B // world
lo, hi = rank * share, (rank + 1) * share
for s in range(STEPS):
    x, y = matgrad.tensor(X[s, lo:hi]), matgrad.tensor(Y[s, lo:hi])
    opt.zero_grad()
    if accumulate and world > 1:  # two micro-batches, the first under no_sync
        half = share // 2
        with model.no_sync():
            (loss_fn(model(x[:half]), y[:half]) * (half / share)).backward()
        (loss_fn(model(x[half:]), y[half:]) * ((share - half) / share)).backward()
    else:
        loss_fn(model(x), y).backward()
    opt.step()
inner = model.module if world > 1 else model
state = {k: v.array for k, v in inner.state_dict().items()}
np.savez(f"{out}/rank{rank}.npz", **state)
if world > 1:
    assert model.comm_stats["steps"] == STEPS, model.comm_stats
    assert len(model.bucket_sizes) > 1, model.bucket_sizes
