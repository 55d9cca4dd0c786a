"""DataLoader: batches of a dataset, in the order of a sampler, loaded here or in worker processes.

default_collate stacks samples into a batch; default_convert makes a sample's arrays Tensors.
The worker processes (num_workers > 0) are in worker.py.
"""
from __future__ import annotations

import collections.abc
import multiprocessing
import numbers
from typing import Any, Callable, Generic, Iterable, Iterator, TypeVar

import numpy as np

from ..creation import from_numpy
from ..ops.join import stack
from ..tensor import Tensor
from .dataset import IterableDataset
from .sampler import BatchSampler, RandomSampler, SequentialSampler, _InfiniteConstantSampler, _own_generator
from .worker import MultiProcessIter, default_context, draw_base_seed, make_fetcher

T_co = TypeVar("T_co", covariant=True)

_FIXED_AFTER_INIT = ("batch_size", "batch_sampler", "sampler", "drop_last", "dataset", "persistent_workers")


class DataLoader(Generic[T_co]):
    """Iterate over `dataset` in batches, as torch.utils.data.DataLoader (same arguments, same order).

    Which indices, in what order: `sampler` (any iterable of indices), else a RandomSampler when
    shuffle, else a SequentialSampler; `batch_sampler` (an iterable of index lists) replaces
    batch_size, shuffle, sampler and drop_last. An IterableDataset takes none of them: its stream is
    cut into batches of batch_size (drop_last drops a short last one). batch_size=None: no batching,
    each sample converted on its own.

    shuffle: a new permutation each epoch, drawn from `generator` (a matgrad.Generator, a
    numpy.random.Generator or an int seed) or else from matgrad's global generator, so
    `matgrad.manual_seed` fixes the order.
    collate_fn: turns a list of samples into a batch (default_collate: stacks into Tensors).
    Datasets with a `get_batch` method (TensorDataset, Subset of one, MNIST) are fetched a whole
    batch at a time when collate_fn is not given: one fancy-indexing copy per tensor, not one
    __getitem__ per sample. A dataset's `__getitems__(indices)`, as in PyTorch, is used next.

    num_workers > 0: batches are made in that many worker processes ('fork' on Linux, else
    'spawn'; `multiprocessing_context` picks another) and come back through shared memory, in
    order (in_order=False: as they are ready). prefetch_factor (default 2) batches per worker are
    in flight. worker_init_fn(worker_id) runs first in each worker; get_worker_info() tells a
    worker its id, num_workers, seed (base_seed + id) and dataset. persistent_workers keeps the
    workers from one epoch to the next. timeout > 0: a RuntimeError when no batch comes within
    that many seconds. A worker's exception is raised here with its traceback; a worker that dies
    is a RuntimeError with its exit code.

    pin_memory=True (and pin_memory_device) is accepted so PyTorch code ports, and changes nothing:
    batches are host NumPy arrays on every machine; move each to the GPU in the loop with
    `x.to(device)` (matgrad's copies to a GPU are synchronous, so page-locked staging would buy
    nothing; on the CPU there is nothing to pin).
    """

    def __init__(
        self,
        dataset: Any,
        batch_size: int | None = 1,
        shuffle: bool | None = None,
        sampler: Iterable | None = None,
        batch_sampler: Iterable | None = None,
        num_workers: int = 0,
        collate_fn: Callable[[list], Any] | None = None,
        pin_memory: bool = False,
        drop_last: bool = False,
        timeout: float = 0,
        worker_init_fn: Callable[[int], None] | None = None,
        multiprocessing_context: Any = None,
        generator: Any = None,
        *,
        prefetch_factor: int | None = None,
        persistent_workers: bool = False,
        pin_memory_device: str = "",
        in_order: bool = True,
    ) -> None:
        if not isinstance(num_workers, numbers.Integral) or isinstance(num_workers, bool):
            raise TypeError(f"num_workers option should be an integer, got {num_workers!r}")
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to disable multiprocessing.")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("prefetch_factor option could only be specified in multiprocessing.let num_workers > 0 "
                             "to enable multiprocessing, otherwise set prefetch_factor to None.")
        if num_workers > 0 and prefetch_factor is None:
            prefetch_factor = 2
        if prefetch_factor is not None and prefetch_factor < 0:
            raise ValueError("prefetch_factor option should be non-negative")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")

        self._is_iterable = isinstance(dataset, IterableDataset)
        if self._is_iterable:
            if shuffle not in {False, None}:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified shuffle option, "
                                 f"but got shuffle={shuffle}")
            if sampler is not None:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified sampler option, "
                                 f"but got sampler={sampler}")
            if batch_sampler is not None:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified batch_sampler option, "
                                 f"but got batch_sampler={batch_sampler}")
        else:
            shuffle = bool(shuffle)
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, "
                                 "and drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually exclusive with drop_last")

        # an int seed becomes one generator, so epochs differ but a run repeats exactly
        generator = _own_generator(generator)
        if sampler is None:
            if self._is_iterable:
                sampler = _InfiniteConstantSampler()
            elif shuffle:
                sampler = RandomSampler(dataset, generator=generator)
            else:
                sampler = SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, bool(drop_last))

        self.dataset = dataset
        self.batch_size = batch_size
        self.drop_last = bool(drop_last)
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.shuffle = bool(shuffle)
        self.num_workers = int(num_workers)
        self.prefetch_factor = prefetch_factor
        self.pin_memory = pin_memory
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.generator = generator
        self.in_order = in_order
        self._fast_batches = collate_fn is None  # get_batch only stands in for the default collation
        self.collate_fn = collate_fn or (default_collate if self._auto_collation else default_convert)
        self.persistent_workers = persistent_workers
        self._iterator: Any = None
        self.__initialized = True

    def __setattr__(self, attr: str, val: Any) -> None:
        if self.__dict__.get("_DataLoader__initialized") and attr in _FIXED_AFTER_INIT:
            raise ValueError(f"{attr} attribute should not be set after {type(self).__name__} is initialized")
        super().__setattr__(attr, val)

    @property
    def multiprocessing_context(self) -> Any:
        return self.__multiprocessing_context

    @multiprocessing_context.setter
    def multiprocessing_context(self, ctx: Any) -> None:
        if isinstance(ctx, str):
            methods = multiprocessing.get_all_start_methods()
            if ctx not in methods:
                raise ValueError(f"multiprocessing_context option should specify a valid start method in "
                                 f"{methods!r}, but got multiprocessing_context={ctx!r}")
            ctx = multiprocessing.get_context(ctx)
        elif ctx is not None and not hasattr(ctx, "Process"):
            raise TypeError(f"multiprocessing_context option should be a valid context object or a string "
                            f"specifying the start method, but got multiprocessing_context={ctx!r}")
        self.__multiprocessing_context = ctx

    def _mp_context(self) -> Any:
        return self.multiprocessing_context or default_context()

    @property
    def _auto_collation(self) -> bool:
        return self.batch_sampler is not None

    @property
    def _index_sampler(self) -> Any:
        return self.batch_sampler if self._auto_collation else self.sampler

    def __len__(self) -> int:
        if self._is_iterable:
            n = len(self.dataset)
            if self.batch_size is not None:
                return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
            return n
        return len(self._index_sampler)

    def _length_or_none(self) -> int | None:
        try:
            return len(self)
        except (TypeError, NotImplementedError):
            return None

    def _get_iterator(self) -> Any:
        base_seed = draw_base_seed(self.generator)  # in either mode, so the sampler's draws are the same
        if self.num_workers == 0:
            return _SingleProcessIter(self)
        return MultiProcessIter(self, base_seed)

    def __iter__(self) -> Iterator[Any]:
        if self.persistent_workers and self.num_workers > 0:
            if self._iterator is None:
                self._iterator = self._get_iterator()
            else:
                self._iterator._reset(self)
            return self._iterator
        return self._get_iterator()

    def __repr__(self) -> str:
        n = self._length_or_none()
        size = f" of {len(self.dataset)}" if not self._is_iterable and n is not None else ""
        return (
            f"DataLoader({type(self.dataset).__name__}{size}, batch_size={self.batch_size}, "
            f"shuffle={self.shuffle}, drop_last={self.drop_last}, num_workers={self.num_workers})"
        )


class _SingleProcessIter:
    """An epoch of a DataLoader with num_workers=0: each batch fetched here, when asked for."""

    def __init__(self, loader: DataLoader) -> None:
        self._sampler_iter = iter(loader._index_sampler)
        self._fetcher = make_fetcher(loader._is_iterable, loader.dataset, loader._auto_collation, loader.collate_fn,
                                     loader.drop_last, loader._fast_batches)
        self._length = loader._length_or_none()

    def __iter__(self) -> _SingleProcessIter:
        return self

    def __next__(self) -> Any:
        index = next(self._sampler_iter)
        try:
            return self._fetcher.fetch(index)
        except StopIteration:  # the iterable dataset ended
            raise StopIteration from None

    def __len__(self) -> int:
        if self._length is None:
            raise TypeError("this DataLoader's dataset has no len()")
        return self._length


def default_convert(data: Any) -> Any:
    """A sample with its NumPy arrays made Tensors (used when batch_size=None); `data`, as PyTorch names it."""
    if isinstance(data, np.ndarray) and data.dtype.kind in "biuf":
        return from_numpy(data)
    if isinstance(data, collections.abc.Mapping):
        return {k: default_convert(v) for k, v in data.items()}
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(v) for v in data))
    if isinstance(data, (list, tuple)):
        return type(data)(default_convert(v) for v in data)
    return data


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
        return from_numpy(np.stack([np.asarray(b) for b in batch]))
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
