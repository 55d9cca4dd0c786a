"""Rank 1 fails (`raise`, or `kill` itself) while the others wait in a collective; `mismatch`: models differ."""
import os
import signal
import sys
import time

import numpy as np

import matgrad
import matgrad.distributed as dist
import matgrad.nn as nn
from matgrad.nn.parallel import DistributedDataParallel as DDP

dist.init_process_group("mpi")
rank = dist.get_rank()
mode = sys.argv[1]
if mode == "mismatch":
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3 if rank != 1 else 2))
    DDP(model)
    raise SystemExit("DDP accepted different models")
if rank == 1:
    time.sleep(0.5)
    if mode == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    raise ValueError("rank one broke on purpose")
t = matgrad.tensor(np.ones(3, dtype=np.float32))
dist.all_reduce(t)  # never completes: rank 1 is gone
time.sleep(60)
