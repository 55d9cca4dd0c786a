"""DataLoader: batches of a dataset, shuffled each epoch; default_collate stacks samples."""
from __future__ import annotations

import collections.abc
import numbers
from typing import Any, Callable, Iterator

import numpy as np

from ..creation import from_numpy
from ..ops.join import stack
from ..tensor import Tensor
from .dataset import _rng


class DataLoader:
    """Iterate over `dataset` in batches of `batch_size`, each sample exactly once per epoch.

    shuffle: a new permutation each epoch, drawn from `generator` (a np.random.Generator or an
    int seed) or else from matgrad's default generator, so `matgrad.manual_seed` fixes the order.
    drop_last: drop the last batch when it is smaller than batch_size.
    collate_fn: turns a list of samples into a batch (default_collate: stacks into Tensors).
    Datasets with a `get_batch` method (TensorDataset, Subset of one, MNIST) are fetched a whole
    batch at a time: one fancy-indexing copy per tensor, not one __getitem__ per sample.
    num_workers and pin_memory are accepted so PyTorch code ports; loading is single-process.
    """

    def __init__(
        self,
        dataset: Any,
        batch_size: int | None = 1,
        shuffle: bool = False,
        drop_last: bool = False,
        collate_fn: Callable[[list], Any] | None = None,
        generator: np.random.Generator | int | None = None,
        num_workers: int = 0,
        pin_memory: bool = False,
    ) -> None:
        if batch_size is not None and (
            not isinstance(batch_size, numbers.Integral) or isinstance(batch_size, bool) or batch_size < 1
        ):
            raise ValueError(f"DataLoader: batch_size should be a positive integer, got {batch_size!r}")
        if batch_size is None and drop_last:
            raise ValueError("DataLoader: batch_size=None (no batching) is incompatible with drop_last")
        if num_workers < 0:
            raise ValueError(f"DataLoader: num_workers must be >= 0, got {num_workers}")
        self.dataset = dataset
        self.batch_size = batch_size
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.collate_fn = collate_fn
        self.num_workers = num_workers
        self.pin_memory = pin_memory
        # an int seed becomes one generator, so epochs differ but a run repeats exactly
        self.generator = None if generator is None else _rng(generator)

    def __len__(self) -> int:
        n = len(self.dataset)
        if self.batch_size is None:
            return n
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def _order(self) -> np.ndarray:
        n = len(self.dataset)
        if not self.shuffle:
            return np.arange(n)
        return _rng(self.generator).permutation(n)

    def __iter__(self) -> Iterator[Any]:
        order = self._order()
        if self.batch_size is None:
            convert = self.collate_fn or default_convert
            for i in order:
                yield convert(self.dataset[int(i)])
            return
        bs, n = self.batch_size, len(order)
        stop = n - n % bs if self.drop_last else n
        get_batch = getattr(self.dataset, "get_batch", None) if self.collate_fn is None else None
        for start in range(0, stop, bs):
            idx = order[start:start + bs]
            batch = get_batch(idx) if get_batch is not None else None
            if batch is None:
                get_batch = None  # the dataset declined: use the sample path for the epoch
                collate = self.collate_fn or default_collate
                batch = collate([self.dataset[int(i)] for i in idx])
            yield batch

    def __repr__(self) -> str:
        return (
            f"DataLoader({type(self.dataset).__name__} of {len(self.dataset)}, batch_size={self.batch_size}, "
            f"shuffle={self.shuffle}, drop_last={self.drop_last})"
        )


def default_convert(sample: Any) -> Any:
    """A sample with its NumPy arrays made Tensors (used when batch_size=None)."""
    if isinstance(sample, np.ndarray) and sample.dtype.kind in "biuf":
        return from_numpy(sample)
    if isinstance(sample, collections.abc.Mapping):
        return {k: default_convert(v) for k, v in sample.items()}
    if isinstance(sample, tuple) and hasattr(sample, "_fields"):
        return type(sample)(*(default_convert(v) for v in sample))
    if isinstance(sample, (list, tuple)):
        return type(sample)(default_convert(v) for v in sample)
    return sample


def default_collate(batch: list) -> Any:
    """Stack a list of samples into a batch, as torch's default_collate.

    Tensors and arrays -> one Tensor with a new first dim; Python floats -> float64,
    ints -> int64, bools -> bool Tensors; strings stay a list; dicts, namedtuples,
    tuples and lists are collated field by field (tuples become lists, as in torch).
    """
    if not batch:
        raise ValueError("default_collate: got an empty batch")
    elem = batch[0]
    if isinstance(elem, Tensor):
        shapes = {tuple(b.shape) for b in batch}
        if len(shapes) != 1:
            raise ValueError(f"default_collate: the samples' tensors differ in shape: {sorted(shapes)}; "
                             "pad them or pass a collate_fn")
        if any(b.requires_grad for b in batch):
            return stack(batch)
        return from_numpy(np.stack([b.data for b in batch]))
    if isinstance(elem, (np.ndarray, np.generic)) and np.asarray(elem).dtype.kind in "biuf":
        shapes = {np.shape(b) for b in batch}
        if len(shapes) != 1:
            raise ValueError(f"default_collate: the samples' arrays differ in shape: {sorted(shapes)}")
        return from_numpy(np.stack([np.asarray(b) for b in batch]))
    if isinstance(elem, bool):
        return from_numpy(np.array(batch, dtype=np.bool_))
    if isinstance(elem, numbers.Integral):
        return from_numpy(np.array(batch, dtype=np.int64))
    if isinstance(elem, numbers.Real):
        return from_numpy(np.array(batch, dtype=np.float64))
    if isinstance(elem, (str, bytes)):
        return list(batch)
    if isinstance(elem, collections.abc.Mapping):
        return {k: default_collate([d[k] for d in batch]) for k in elem}
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return type(elem)(*(default_collate(list(s)) for s in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        sizes = {len(b) for b in batch}
        if len(sizes) != 1:
            raise ValueError(
                f"default_collate: each sample should have the same number of fields, got {sorted(sizes)}"
            )
        return [default_collate(list(s)) for s in zip(*batch)]
    raise TypeError(
        f"default_collate: samples must be Tensors, arrays, numbers, strings, dicts or sequences; "
        f"found {type(elem).__name__}. Pass collate_fn= to batch them yourself."
    )
