"""DistributedDataParallel: one model per rank, gradients averaged during backward, as PyTorch's DDP.

    dist.init_process_group("mpi")
    model = DistributedDataParallel(model)        # rank 0's weights everywhere
    loss = loss_fn(model(x_shard), y_shard)      # each rank its own share of the global batch
    loss.backward()                               # .grad is now the average over the ranks
    opt.step()                                    # same step on every rank: weights stay identical

How backward overlaps communication (PyTorch's and ChainerMN's design):

- Parameters are packed, in REVERSE registration order (the order backward produces their
  gradients), into buckets of at most `bucket_cap_mb` megabytes (default 25, PyTorch's), one
  dtype per bucket; each bucket owns a flat buffer.
- Each parameter carries a post-accumulate-grad hook. When it fires, the gradient is copied
  into its slot; when a bucket's last slot is filled, the bucket's non-blocking allreduce
  (MPI_Iallreduce, in place) starts, while backward goes on with earlier layers. Buckets start
  in bucket order on every rank (a bucket that fills early waits for the ones before it), so
  all ranks issue the collectives in the same order, as MPI requires.
- At the end of backward (an engine end-of-pass callback) the buckets still unstarted (their
  parameters got no gradient on this rank: they count as zeros) are started, all are waited
  for, and each `.grad` becomes the bucket's sum divided by the world size.

`no_sync()` skips all of this (gradients accumulate locally); the first backward after it
averages the accumulated sums. `broadcast_buffers=True` (default) copies rank 0's buffers
(e.g. BatchNorm running statistics) to every rank at each forward in training, as PyTorch.

`comm_stats` counts, since the last `reset_comm_stats()`: `steps` (synchronized backwards),
`bytes` (allreduced per rank), `wait_s` (seconds blocked at the end of backward waiting for the
allreduces: the part that did NOT overlap), `launch_s` (seconds spent packing and starting).
"""
from __future__ import annotations

import hashlib
import time
from contextlib import contextmanager
from typing import Any, Iterator

import numpy as np

from ... import distributed as dist
from ...autograd import engine
from ...tensor import Tensor
from ..module import Module


class _Bucket:
    __slots__ = ("params", "offsets", "buffer", "ready", "request", "started")

    def __init__(self, params: list, dtype: np.dtype) -> None:
        self.params = params
        sizes = [p.array.size for p in params]
        self.offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64).tolist()
        self.buffer = np.zeros(self.offsets[-1], dtype=dtype)
        self.ready: set[int] = set()
        self.request: Any = None
        self.started = False


def _describe(module: Module) -> list[str]:
    lines = [f"parameter {n} {tuple(p.shape)} {p.dtype}" for n, p in module.named_parameters()]
    lines += [f"buffer {n} {tuple(b.shape)} {b.dtype}" for n, b in module.named_buffers()]
    return lines


class DistributedDataParallel(Module):
    """Wrap `module` for data-parallel training over the ranks of `process_group` (default: all).

    bucket_cap_mb: the size of a gradient bucket in megabytes (default 25, as PyTorch).
    device_ids, output_device, dim, find_unused_parameters, gradient_as_bucket_view: accepted for
    PyTorch's signature; parameters without a gradient on a rank always count as zeros there.
    """

    def __init__(self, module: Module, device_ids: Any = None, output_device: Any = None, dim: int = 0,
                 broadcast_buffers: bool = True, process_group: Any = None, bucket_cap_mb: float | None = None,
                 find_unused_parameters: bool = False, check_reduction: bool = False,
                 gradient_as_bucket_view: bool = False, static_graph: bool = False) -> None:
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"DistributedDataParallel: expected a Module, got {type(module).__name__}")
        comm = dist._comm(process_group)
        self.module = module
        self.broadcast_buffers = broadcast_buffers
        self.bucket_cap_mb = 25.0 if bucket_cap_mb is None else float(bucket_cap_mb)
        self.require_backward_grad_sync = True
        object.__setattr__(self, "_comm", comm)
        self.world_size = comm.Get_size()
        self._check_same_model(comm)
        with_grad = [p for p in module.parameters() if p.requires_grad]
        for t in [*module.parameters(), *module.buffers()]:
            dist.broadcast(t, 0, group=comm)
        self._buckets = self._make_buckets(with_grad)
        self._slot = {id(p): (b, i) for b, bucket in enumerate(self._buckets) for i, p in enumerate(bucket.params)}
        self._next = 0  # the next bucket to start
        self._queued = False
        self._handles = [p.register_post_accumulate_grad_hook(self._grad_ready) for p in with_grad]
        self.reset_comm_stats()

    # -- construction ---------------------------------------------------------------------------
    def _check_same_model(self, comm: Any) -> None:
        lines = _describe(self.module)
        text = "\n".join(lines).encode()
        digest = np.frombuffer(hashlib.sha256(text).digest(), dtype=np.uint8).copy()
        every = np.empty((comm.Get_size(), digest.size), dtype=np.uint8)
        comm.Allgather(digest, every)
        if (every == every[0]).all():
            return
        texts = [t.decode().split("\n") if t else [] for t in dist.gather_bytes(text, comm)]
        ref = texts[0]
        for r, other in enumerate(texts[1:], start=1):
            if other == ref:
                continue
            for i in range(max(len(ref), len(other))):
                a = ref[i] if i < len(ref) else "(nothing)"
                b = other[i] if i < len(other) else "(nothing)"
                if a != b:
                    raise ValueError(
                        f"DistributedDataParallel: the ranks' models differ; rank 0 has {len(ref)} parameters and "
                        f"buffers, rank {r} has {len(other)}; first difference at #{i}: rank 0 has {a}, "
                        f"rank {r} has {b}")
        raise ValueError("DistributedDataParallel: the ranks' models differ")

    def _make_buckets(self, params: list) -> list[_Bucket]:
        cap = self.bucket_cap_mb * 1024 * 1024
        buckets: list[_Bucket] = []
        group: list = []
        nbytes = 0
        for p in reversed(params):
            if group and (p.dtype != group[0].dtype or nbytes + p.array.nbytes > cap):
                buckets.append(_Bucket(group, np.dtype(group[0].dtype)))
                group, nbytes = [], 0
            group.append(p)
            nbytes += p.array.nbytes
        if group:
            buckets.append(_Bucket(group, np.dtype(group[0].dtype)))
        return buckets

    @property
    def bucket_sizes(self) -> list[int]:
        """Bytes per bucket, in the order they are allreduced."""
        return [b.buffer.nbytes for b in self._buckets]

    # -- forward ----------------------------------------------------------------------------------
    def forward(self, *inputs: Any, **kwargs: Any) -> Any:
        if self._next or any(b.ready for b in self._buckets):  # a backward that raised midway: start clean
            self._reset()
        if self.broadcast_buffers and self.training and self.world_size > 1:
            for b in self.module.buffers():
                dist.broadcast(b, 0, group=self._comm)
        return self.module(*inputs, **kwargs)

    @contextmanager
    def no_sync(self) -> Iterator[None]:
        """Backwards inside skip the allreduce: gradients accumulate locally until the next synced one."""
        old = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = old

    # -- backward -----------------------------------------------------------------------------------
    def _grad_ready(self, p: Tensor) -> None:
        if not self.require_backward_grad_sync:
            return
        t0 = time.perf_counter()
        if not self._queued:
            self._queued = True
            engine.queue_callback(self._finish)
        b, i = self._slot[id(p)]
        bucket = self._buckets[b]
        lo, hi = bucket.offsets[i], bucket.offsets[i + 1]
        bucket.buffer[lo:hi] = p.grad.array.reshape(-1)
        bucket.ready.add(i)
        self._start_ready()
        self.comm_stats["launch_s"] += time.perf_counter() - t0

    def _start_ready(self) -> None:
        MPI = dist._mpi()
        buckets = self._buckets
        while self._next < len(buckets) and len(buckets[self._next].ready) == len(buckets[self._next].params):
            self._start(buckets[self._next], MPI)
        # poke MPI's progress engine so started allreduces move while backward computes
        active = [b.request for b in buckets[:self._next] if b.request is not None]
        if active:
            MPI.Request.Testall(active)

    def _start(self, bucket: _Bucket, MPI: Any) -> None:
        bucket.request = self._comm.Iallreduce(MPI.IN_PLACE, bucket.buffer, op=MPI.SUM)
        bucket.started = True
        self._next += 1

    def _finish(self) -> None:
        """End of backward: start what is left (missing gradients as zeros), wait, write the averages."""
        MPI = dist._mpi()
        t0 = time.perf_counter()
        try:
            for bucket in self._buckets[self._next:]:
                for i, p in enumerate(bucket.params):
                    if i not in bucket.ready:
                        lo, hi = bucket.offsets[i], bucket.offsets[i + 1]
                        g = p.grad
                        bucket.buffer[lo:hi] = 0 if g is None else g.array.reshape(-1)
                self._start(bucket, MPI)
            t1 = time.perf_counter()
            MPI.Request.Waitall([b.request for b in self._buckets])
            t2 = time.perf_counter()
            scale = 1.0 / self.world_size
            for bucket in self._buckets:
                for i, p in enumerate(bucket.params):
                    lo, hi = bucket.offsets[i], bucket.offsets[i + 1]
                    avg = (bucket.buffer[lo:hi] * scale).reshape(p.shape)
                    if p.grad is None:
                        p.grad = Tensor(avg.astype(p.dtype, copy=False))
                    else:
                        p.grad.array[...] = avg
            st = self.comm_stats
            st["steps"] += 1
            st["bytes"] += sum(b.buffer.nbytes for b in self._buckets)
            st["launch_s"] += (t1 - t0) + (time.perf_counter() - t2)
            st["wait_s"] += t2 - t1
        finally:
            self._reset()

    def _reset(self) -> None:
        for bucket in self._buckets:
            bucket.ready.clear()
            bucket.request = None
            bucket.started = False
        self._next = 0
        self._queued = False

    def reset_comm_stats(self) -> None:
        self.comm_stats = {"steps": 0, "bytes": 0, "wait_s": 0.0, "launch_s": 0.0}
