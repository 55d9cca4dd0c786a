"""DistributedSampler: each rank's share of a dataset's indices, as torch.utils.data.distributed's.

Every epoch the indices (shuffled with seed + epoch when `shuffle`, so all ranks draw the same
permutation; call `set_epoch(e)` before each epoch) are padded by repeating the first ones until
their count divides by num_replicas (or, with drop_last, cut to the largest multiple), and rank r
takes positions r, r + num_replicas, ...: every sample goes to exactly one rank per epoch (a
padded one to two), and every rank gets the same count, so the ranks' steps line up.
"""
from __future__ import annotations

import math
from typing import Any, Iterator

import numpy as np

from .sampler import Sampler


class DistributedSampler(Sampler[int]):
    """Indices of `dataset` for rank `rank` of `num_replicas` (both default to the process group's)."""

    def __init__(self, dataset: Any, num_replicas: int | None = None, rank: int | None = None, shuffle: bool = True,
                 seed: int = 0, drop_last: bool = False) -> None:
        if num_replicas is None or rank is None:
            from .. import distributed as dist  # same layer; imported late to keep data free of MPI
            if not dist.is_initialized():
                raise RuntimeError("DistributedSampler: give num_replicas and rank, or call "
                                   "matgrad.distributed.init_process_group() first")
            num_replicas = dist.get_world_size() if num_replicas is None else num_replicas
            rank = dist.get_rank() if rank is None else rank
        if num_replicas < 1:
            raise ValueError(f"DistributedSampler: num_replicas should be positive, got {num_replicas}")
        if rank >= num_replicas or rank < 0:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval [0, {num_replicas - 1}]")
        self.dataset, self.num_replicas, self.rank = dataset, num_replicas, rank
        self.epoch, self.drop_last, self.shuffle, self.seed = 0, drop_last, shuffle, seed
        n = len(dataset)
        if drop_last and n % num_replicas != 0:
            self.num_samples = math.ceil((n - num_replicas) / num_replicas)
        else:
            self.num_samples = math.ceil(n / num_replicas)
        self.total_size = self.num_samples * num_replicas

    def __iter__(self) -> Iterator[int]:
        n = len(self.dataset)
        if self.shuffle:
            indices = np.random.default_rng(self.seed + self.epoch).permutation(n)
        else:
            indices = np.arange(n)
        if not self.drop_last:
            pad = self.total_size - n
            if pad > 0:
                indices = np.concatenate([indices, np.resize(indices, pad)])
        else:
            indices = indices[:self.total_size]
        return iter(indices[self.rank:self.total_size:self.num_replicas].tolist())

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """The epoch's number: with shuffle, each epoch draws its own order (the same on every rank)."""
        self.epoch = epoch
