"""Datasets: map-style (indexable, with a length) and iterable; TensorDataset, Subset, ConcatDataset,
StackDataset, ChainDataset, random_split."""
from __future__ import annotations

import bisect
import math
from typing import Any, Generic, Iterable, Iterator, Sequence, TypeVar

import numpy as np

from ..creation import from_numpy
from ..random import numpy_generator
from ..tensor import Tensor

T_co = TypeVar("T_co", covariant=True)


class _NoLength(TypeError, NotImplementedError):
    """len() of a dataset without __len__: a TypeError, as PyTorch's, and a NotImplementedError."""


class Dataset(Generic[T_co]):
    """A map-style dataset: `ds[i]` is sample i, `len(ds)` the number of samples.

    Subclasses implement `__getitem__` and `__len__`. A subclass may also offer
    `get_batch(indices) -> list[Tensor]` (the batch as default collate would build it);
    DataLoader then fetches a whole batch at once instead of sample by sample. Or, as in
    PyTorch, `__getitems__(indices) -> list of samples`, which DataLoader then collates.
    """

    def __getitem__(self, index: Any) -> T_co:
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__")

    def __len__(self) -> int:
        raise _NoLength(f"object of type '{type(self).__name__}' has no len(): it does not implement __len__")

    def __add__(self, other: Dataset) -> ConcatDataset:
        return ConcatDataset([self, other])


class IterableDataset(Dataset[T_co], Iterable[T_co]):
    """A dataset that is a stream: subclasses implement `__iter__` (a DataLoader then takes no sampler).

    With num_workers > 0 each worker iterates its own copy; shard the stream in `__iter__` with
    `get_worker_info()` (id, num_workers), or every worker yields every sample.
    `a + b` chains two such datasets (ChainDataset).
    """

    def __iter__(self) -> Iterator[T_co]:
        raise NotImplementedError(f"{type(self).__name__} must implement __iter__")

    def __add__(self, other: Dataset) -> ChainDataset:  # type: ignore[override]
        return ChainDataset([self, other])


class ChainDataset(IterableDataset):
    """Iterable datasets one after another (chained lazily, as itertools.chain)."""

    def __init__(self, datasets: Iterable[Any]) -> None:
        self.datasets = datasets

    def _checked(self) -> Iterator[Any]:
        for d in self.datasets:
            if not isinstance(d, IterableDataset):
                raise TypeError(f"ChainDataset only supports IterableDataset, got {type(d).__name__}")
            yield d

    def __iter__(self) -> Iterator[Any]:
        for d in self._checked():
            yield from d

    def __len__(self) -> int:
        return sum(len(d) for d in self._checked())


class StackDataset(Dataset):
    """Datasets side by side: sample i is `(a[i], b[i], ...)` for StackDataset(a, b, ...), or
    `{"x": a[i], "y": b[i]}` for StackDataset(x=a, y=b). All must have the same length.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if args and kwargs:
            raise ValueError("Supported either ``tuple``- (via ``args``) or``dict``- (via ``kwargs``) like "
                             "input/output, but both types are given.")
        if not args and not kwargs:
            raise ValueError("At least one dataset should be passed")
        parts = list(args) if args else list(kwargs.values())
        self._length = len(parts[0])
        lengths = [len(d) for d in parts]
        if any(n != self._length for n in lengths):
            raise ValueError(f"Size mismatch between datasets: lengths {lengths}")
        self.datasets: tuple | dict = tuple(args) if args else dict(kwargs)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(self.datasets, dict):
            return {k: d[index] for k, d in self.datasets.items()}
        return tuple(d[index] for d in self.datasets)

    def __getitems__(self, indices: list) -> list:
        """The samples `indices`, each parent asked once (through its __getitems__ where it has one)."""
        named = self.datasets.items() if isinstance(self.datasets, dict) else enumerate(self.datasets)
        columns = {}
        for key, d in named:
            getitems = getattr(d, "__getitems__", None)
            items = getitems(indices) if callable(getitems) else [d[i] for i in indices]
            if len(items) != len(indices):
                raise ValueError(f"Nested dataset's output size mismatch. Expected {len(indices)}, got {len(items)}")
            columns[key] = items
        if isinstance(self.datasets, dict):
            return [{k: col[j] for k, col in columns.items()} for j in range(len(indices))]
        return [tuple(col[j] for col in columns.values()) for j in range(len(indices))]

    def __len__(self) -> int:
        return self._length


class TensorDataset(Dataset):
    """Samples are rows of tensors: `ds[i] = (t[i] for t in tensors)`; all share their first dim."""

    def __init__(self, *tensors: Any) -> None:
        if not tensors:
            raise ValueError("TensorDataset needs at least one tensor, e.g. TensorDataset(X, y)")
        ts = tuple(t if isinstance(t, Tensor) else from_numpy(np.asarray(t)) for t in tensors)
        for i, t in enumerate(ts):
            if t.ndim == 0:
                raise ValueError(f"TensorDataset: tensor {i} is 0-d; each tensor needs a first (sample) dim")
        sizes = [t.shape[0] for t in ts]
        if len(set(sizes)) != 1:
            shapes = ", ".join(f"tensor {i}: {tuple(t.shape)}" for i, t in enumerate(ts))
            raise ValueError(
                f"TensorDataset: size mismatch between tensors: first dims {sizes} differ ({shapes}); "
                "every tensor needs one row per sample"
            )
        self.tensors = ts

    def __getitem__(self, index: Any) -> tuple[Tensor, ...]:
        return tuple(t[index] for t in self.tensors)

    def __len__(self) -> int:
        return self.tensors[0].shape[0]

    def get_batch(self, indices: np.ndarray) -> list[Tensor] | None:
        """The rows `indices` of every tensor, one gathering copy each (no graph)."""
        if any(t.requires_grad for t in self.tensors):
            return None  # the sample path keeps the graph to such tensors
        # np.take is fancy indexing's row gather without its general machinery: ~20% faster
        return [from_numpy(np.take(np.asarray(t), indices, axis=0)) for t in self.tensors]


class Subset(Dataset):
    """The samples `indices` of `dataset`, in that order: `Subset(ds, idx)[i] = ds[idx[i]]`."""

    def __init__(self, dataset: Any, indices: Sequence[int]) -> None:
        idx = np.asarray(indices)
        if idx.ndim != 1 or (idx.size and idx.dtype.kind not in "iu"):
            raise TypeError(
                f"Subset: indices must be a 1-d sequence of ints, got {idx.dtype} of shape {idx.shape}"
            )
        idx = idx.astype(np.int64, copy=False)
        n = len(dataset)
        if idx.size and (idx.min() < -n or idx.max() >= n):
            bad = idx[(idx < -n) | (idx >= n)][0]
            raise IndexError(f"Subset: index {bad} is out of range for a dataset of {n} samples")
        self.dataset = dataset
        self.indices = indices
        self._index = np.where(idx < 0, idx + n, idx)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, (list, np.ndarray)):
            return [self.dataset[int(self._index[i])] for i in index]
        return self.dataset[int(self._index[index])]

    def __getitems__(self, indices: list) -> list:
        """The samples `indices` (through the parent's __getitems__ where it has one)."""
        mapped = [int(self._index[i]) for i in indices]
        getitems = getattr(self.dataset, "__getitems__", None)
        return getitems(mapped) if callable(getitems) else [self.dataset[i] for i in mapped]

    def __len__(self) -> int:
        return len(self._index)

    def get_batch(self, indices: np.ndarray) -> list[Tensor] | None:
        """The parent's fast batch at the mapped indices, if the parent has one."""
        getter = getattr(self.dataset, "get_batch", None)
        return getter(self._index[indices]) if getter is not None else None


class ConcatDataset(Dataset):
    """Datasets one after another: indices run through the first, then the second, ..."""

    def __init__(self, datasets: Sequence[Any]) -> None:
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: datasets should not be an empty list")
        for d in self.datasets:
            if isinstance(d, IterableDataset):
                raise TypeError("ConcatDataset does not support IterableDataset (chain them with ChainDataset)")
        self.cumulative_sizes = list(np.cumsum([len(d) for d in self.datasets]).tolist())

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, index: int) -> Any:
        n = len(self)
        if not -n <= index < n:
            raise IndexError(f"ConcatDataset: index {index} is out of range for {n} samples")
        if index < 0:
            index += n
        d = bisect.bisect_right(self.cumulative_sizes, index)
        start = self.cumulative_sizes[d - 1] if d else 0
        return self.datasets[d][index - start]


def _split_lengths(n: int, lengths: Sequence[float]) -> list[int]:
    """Integer lengths from `lengths`; fractions summing to 1 are scaled to n as torch does."""
    lengths = list(lengths)
    if any(x < 0 for x in lengths):
        raise ValueError(f"random_split: lengths must not be negative, got {lengths}")
    integral = all(float(x).is_integer() for x in lengths)
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1 and not integral:
        counts = [int(math.floor(n * f)) for f in lengths]
        for i in range(n - sum(counts)):  # hand the remainder out round-robin, like torch
            counts[i % len(counts)] += 1
        return counts
    if not integral:
        raise ValueError(f"random_split: fractions must sum to 1, got {lengths} (sum {sum(lengths)})")
    counts = [int(x) for x in lengths]
    if sum(counts) != n:
        raise ValueError(
            f"random_split: sum of input lengths {counts} is {sum(counts)}, but the dataset has {n} samples"
        )
    return counts


def random_split(
    dataset: Any, lengths: Sequence[float], generator: np.random.Generator | int | None = None
) -> list[Subset]:
    """Split `dataset` into non-overlapping random Subsets of the given lengths (or fractions).

    The permutation is drawn from `generator` (a matgrad.Generator, a np.random.Generator or a
    seed), else from matgrad's default generator, so `matgrad.manual_seed` makes the split
    reproducible; `generator=matgrad.Generator().manual_seed(42)` fixes it on its own.
    """
    n = len(dataset)
    counts = _split_lengths(n, lengths)
    rng = _rng(generator)
    perm = rng.permutation(n)
    out, start = [], 0
    for c in counts:
        out.append(Subset(dataset, perm[start:start + c]))
        start += c
    return out


def _rng(generator: Any) -> np.random.Generator:
    """The generator to draw from: the one given, one seeded by an int, or matgrad's default."""
    return numpy_generator(generator)
