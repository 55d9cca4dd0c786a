"""Samplers: the order in which a DataLoader visits a dataset's indices (torch.utils.data's samplers).

    Sampler                          base: iterate indices (subclass and define __iter__, and __len__)
    SequentialSampler(data_source)   0, 1, ..., len-1
    RandomSampler(data_source, replacement=False, num_samples=None, generator=None)
    SubsetRandomSampler(indices, generator=None)          the given indices, shuffled
    WeightedRandomSampler(weights, num_samples, replacement=True, generator=None)
    BatchSampler(sampler, batch_size, drop_last)          lists of batch_size indices

`generator`: a matgrad.Generator, a numpy.random.Generator, an int seed (one generator made from
it, so epochs differ but a run repeats) or None: the global generator, which matgrad.manual_seed
makes reproducible. A new order is drawn each time a sampler is iterated (each epoch).
"""
from __future__ import annotations

import numbers
from typing import Any, Generic, Iterable, Iterator, Sequence, TypeVar

import numpy as np

from ..random import Generator, numpy_generator

T_co = TypeVar("T_co", covariant=True)


def _own_generator(generator: Any) -> Any:
    """The generator a sampler keeps: an int seed becomes one NumPy Generator; others are checked."""
    if generator is None or isinstance(generator, (Generator, np.random.Generator)):
        return generator
    return numpy_generator(generator)


def _positive_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool) and value > 0


class Sampler(Generic[T_co]):
    """Base class of samplers: `__iter__` yields indices (or lists of them), `__len__` counts them."""

    def __init__(self, data_source: Any = None) -> None:
        pass  # accepted and ignored, as in PyTorch (where it is deprecated)

    def __iter__(self) -> Iterator[T_co]:
        raise NotImplementedError


class SequentialSampler(Sampler[int]):
    """Indices 0, 1, ..., len(data_source) - 1, in order."""

    def __init__(self, data_source: Any) -> None:
        self.data_source = data_source

    def _order(self) -> np.ndarray:
        return np.arange(len(self.data_source))

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(Sampler[int]):
    """Random indices of data_source: a fresh permutation each epoch, or draws with replacement.

    num_samples (default len(data_source)): how many indices per epoch. Without replacement and
    num_samples > len, whole permutations follow each other (then part of one), as in PyTorch.
    """

    def __init__(self, data_source: Any, replacement: bool = False, num_samples: int | None = None,
                 generator: Any = None) -> None:
        if not isinstance(replacement, bool):
            raise TypeError(f"replacement should be a boolean value, but got replacement={replacement}")
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = _own_generator(generator)
        if not _positive_int(self.num_samples):
            raise ValueError(f"num_samples should be a positive integer value, but got num_samples={self.num_samples}")

    @property
    def num_samples(self) -> int:
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def _order(self) -> np.ndarray:
        """This epoch's indices, drawn now (one array)."""
        n, k = len(self.data_source), int(self.num_samples)
        rng = numpy_generator(self.generator)
        if self.replacement:
            return rng.integers(0, n, size=k, dtype=np.int64)
        full, rest = divmod(k, n)
        parts = [rng.permutation(n) for _ in range(full)]
        if rest:
            parts.append(rng.permutation(n)[:rest])
        return parts[0] if len(parts) == 1 else np.concatenate(parts)

    def __iter__(self) -> Iterator[int]:
        yield from self._order().tolist()

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(Sampler[int]):
    """The given indices in a random order (a new one each epoch), without replacement."""

    def __init__(self, indices: Sequence[int], generator: Any = None) -> None:
        self.indices = indices
        self.generator = _own_generator(generator)

    def __iter__(self) -> Iterator[int]:
        for i in numpy_generator(self.generator).permutation(len(self.indices)).tolist():
            yield self.indices[i]

    def __len__(self) -> int:
        return len(self.indices)


class WeightedRandomSampler(Sampler[int]):
    """num_samples indices drawn with probability proportional to `weights` (which need not sum to 1).

    The weights are checked when drawing, as PyTorch's multinomial does: a negative or NaN weight,
    an infinite one, or an all-zero set is a RuntimeError; so is asking, without replacement, for
    more samples than there are weights (zero-weight indices come last, once the others are used up).
    """

    def __init__(self, weights: Sequence[float], num_samples: int, replacement: bool = True,
                 generator: Any = None) -> None:
        if not _positive_int(num_samples):
            raise ValueError(f"num_samples should be a positive integer value, but got num_samples={num_samples}")
        if not isinstance(replacement, bool):
            raise ValueError(f"replacement should be a boolean value, but got replacement={replacement}")
        w = np.asarray(weights, dtype=np.float64)
        if w.ndim != 1:
            raise ValueError(f"weights should be a 1d sequence but given weights have shape {tuple(w.shape)}")
        self.weights = w
        self.num_samples = int(num_samples)
        self.replacement = replacement
        self.generator = _own_generator(generator)

    def _order(self) -> np.ndarray:
        w, k = self.weights, self.num_samples
        if not self.replacement and k > w.size:
            raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without replacement")
        if not (w >= 0).all():  # NaN fails this too, as in PyTorch
            raise RuntimeError("invalid multinomial distribution (encountering probability entry < 0)")
        if not np.isfinite(w).all():
            raise RuntimeError("invalid multinomial distribution (encountering probability entry = infinity or NaN)")
        total = w.sum()
        if not total > 0:
            raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
        rng = numpy_generator(self.generator)
        if self.replacement:
            return rng.choice(w.size, size=k, replace=True, p=w / total)
        # without replacement: the k smallest of Exp(1) / w (Efraimidis-Spirakis), as PyTorch's multinomial;
        # zero weights come last (key inf), lowest index first, once the others are used up
        keys = np.full(w.size, np.inf)
        np.divide(rng.standard_exponential(w.size), w, out=keys, where=w > 0)
        return np.argsort(keys, kind="stable")[:k]

    def __iter__(self) -> Iterator[int]:
        yield from self._order().tolist()

    def __len__(self) -> int:
        return self.num_samples


def _whole_order(sampler: Any) -> np.ndarray | None:
    """The epoch's indices as one array, for the built-in samplers (not subclasses that iterate otherwise)."""
    kind = type(sampler)
    if kind in (SequentialSampler, RandomSampler, WeightedRandomSampler):
        return sampler._order()
    if kind is range:
        return np.arange(sampler.start, sampler.stop, sampler.step)
    return None


class BatchSampler(Sampler[list]):
    """Lists of batch_size indices from `sampler` (any iterable of indices); drop_last drops a short last one."""

    def __init__(self, sampler: Iterable[int], batch_size: int, drop_last: bool) -> None:
        if not _positive_int(batch_size):
            raise ValueError(f"batch_size should be a positive integer value, but got batch_size={batch_size}")
        if not isinstance(drop_last, bool):
            raise ValueError(f"drop_last should be a boolean value, but got drop_last={drop_last}")
        self.sampler = sampler
        self.batch_size = int(batch_size)
        self.drop_last = drop_last

    def __iter__(self) -> Iterator[list]:
        bs = self.batch_size
        order = _whole_order(self.sampler)
        if order is not None:  # the built-in samplers: slice one array instead of a loop per index
            n = len(order)
            stop = n - n % bs if self.drop_last else n
            for start in range(0, stop, bs):
                yield order[start:start + bs].tolist()
            return
        batch: list = []
        for idx in self.sampler:
            batch.append(idx)
            if len(batch) == bs:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self) -> int:
        n = len(self.sampler)  # type: ignore[arg-type]
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)


class _InfiniteConstantSampler(Sampler[None]):
    """None forever: the placeholder indices of an IterableDataset (its batches end when it does)."""

    def __iter__(self) -> Iterator[None]:
        while True:
            yield None
