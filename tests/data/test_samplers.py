"""Samplers, compared with PyTorch's in behaviour: counts, coverage, replacement, weights, batching, errors."""
from __future__ import annotations

import collections

import numpy as np
import pytest

import matgrad as mg
from matgrad.data import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)
from matgrad.random import Generator  # also matgrad.Generator once exported

torch = pytest.importorskip("torch")
tdata = torch.utils.data


def _error(fn):
    """(type name, message) of what fn() raises, or None."""
    try:
        fn()
    except Exception as exc:  # noqa: BLE001 - comparing whatever each library raises
        return type(exc).__name__, str(exc)
    return None


def _same_error(ours, theirs):
    mine, torchs = _error(ours), _error(theirs)
    assert torchs is not None and mine is not None, (mine, torchs)
    assert mine == torchs


def test_sequential_sampler_matches_torch():
    for n in (0, 1, 7):
        assert list(SequentialSampler(range(n))) == list(tdata.SequentialSampler(range(n)))
        assert len(SequentialSampler(range(n))) == n


@pytest.mark.parametrize("n", [1, 5, 12])
def test_random_sampler_is_a_permutation_each_epoch(n):
    s = RandomSampler(range(n), generator=Generator().manual_seed(0))
    epochs = [list(s) for _ in range(4)]
    assert all(sorted(e) == list(range(n)) for e in epochs)
    assert len(s) == n == len(tdata.RandomSampler(range(n)))
    if n > 4:
        assert len({tuple(e) for e in epochs}) > 1  # a new order each epoch


@pytest.mark.parametrize("n,k", [(3, 7), (5, 5), (5, 2), (4, 12)])
def test_random_sampler_num_samples_without_replacement_counts_like_torch(n, k):
    ours = collections.Counter(RandomSampler(range(n), num_samples=k, generator=1))
    g = torch.Generator().manual_seed(1)
    theirs = collections.Counter(tdata.RandomSampler(range(n), num_samples=k, generator=g))
    # whole permutations, then part of one: every index k // n or k // n + 1 times, as torch
    assert sorted(ours.values()) == sorted(theirs.values())
    assert sum(ours.values()) == k and set(ours) <= set(range(n))
    assert len(RandomSampler(range(n), num_samples=k)) == k


def test_random_sampler_with_replacement():
    s = RandomSampler(range(4), replacement=True, num_samples=400, generator=Generator().manual_seed(5))
    draws = list(s)
    t = list(tdata.RandomSampler(range(4), replacement=True, num_samples=400))
    assert len(draws) == len(t) == len(s) == 400
    assert set(draws) == set(t) == {0, 1, 2, 3}  # 400 draws of 4 values: every value, many repeats
    assert all(isinstance(i, int) for i in draws)


def test_random_sampler_seeded_reproducible_and_global_seed():
    a = list(RandomSampler(range(30), generator=Generator().manual_seed(3)))
    b = list(RandomSampler(range(30), generator=Generator().manual_seed(3)))
    c = list(RandomSampler(range(30), generator=np.random.default_rng(3)))
    assert a == b and a != list(range(30)) and sorted(c) == list(range(30))
    mg.manual_seed(11)
    first = list(RandomSampler(range(30)))
    mg.manual_seed(11)
    assert list(RandomSampler(range(30))) == first


@pytest.mark.parametrize("kwargs", [dict(replacement=1), dict(num_samples=0), dict(num_samples=1.0),
                                    dict(num_samples=-2)])
def test_random_sampler_errors_match_torch(kwargs):
    _same_error(lambda: RandomSampler(range(5), **kwargs), lambda: tdata.RandomSampler(range(5), **kwargs))
    _same_error(lambda: RandomSampler([]), lambda: tdata.RandomSampler([]))


def test_subset_random_sampler():
    idx = [10, 20, 30, 40, 50]
    s = SubsetRandomSampler(idx, generator=Generator().manual_seed(0))
    epochs = [list(s) for _ in range(3)]
    assert all(sorted(e) == idx for e in epochs)
    assert len(s) == len(tdata.SubsetRandomSampler(idx)) == 5
    assert sorted(tdata.SubsetRandomSampler(idx)) == sorted(s)


def test_weighted_sampler_distribution():
    weights = [1.0, 2.0, 3.0, 4.0]
    n = 20000
    ours = np.bincount(list(WeightedRandomSampler(weights, n, generator=Generator().manual_seed(0))),
                       minlength=4) / n
    theirs = np.bincount(list(tdata.WeightedRandomSampler(weights, n, generator=torch.Generator().manual_seed(0))),
                         minlength=4) / n
    expected = np.array(weights) / sum(weights)
    # 20000 draws: the standard error of each share is at most 0.0035; 0.02 is about six of them
    np.testing.assert_allclose(ours, expected, atol=0.02)
    np.testing.assert_allclose(theirs, expected, atol=0.02)


def test_weighted_sampler_zero_weight_never_drawn_and_tensor_weights():
    draws = list(WeightedRandomSampler(mg.tensor([0.0, 1.0, 0.0, 3.0]), 500, generator=2))
    assert set(draws) == {1, 3} and len(draws) == 500


def test_weighted_sampler_without_replacement():
    s = WeightedRandomSampler([5.0, 1.0, 1.0, 1.0, 1.0], 5, replacement=False, generator=Generator().manual_seed(1))
    for _ in range(5):
        assert sorted(s) == [0, 1, 2, 3, 4]
    firsts = collections.Counter(next(iter(WeightedRandomSampler([5.0, 1.0, 1.0, 1.0, 1.0], 2, replacement=False,
                                                                  generator=g))) for g in range(400))
    assert firsts[0] > 150  # weight 5 of 9: drawn first about 56% of the time
    # more samples than non-zero weights: the zero-weight indices follow, as torch's multinomial
    ours = list(WeightedRandomSampler([1, 0, 0], 2, replacement=False, generator=0))
    theirs = list(tdata.WeightedRandomSampler([1, 0, 0], 2, replacement=False))
    assert ours[0] == theirs[0] == 0 and len(set(ours)) == 2


@pytest.mark.parametrize("args", [
    dict(weights=[1, 2], num_samples=0),
    dict(weights=[[1, 2]], num_samples=1),
    dict(weights=[1, 2], num_samples=1, replacement=1),
])
def test_weighted_sampler_construction_errors_match_torch(args):
    _same_error(lambda: WeightedRandomSampler(**args), lambda: tdata.WeightedRandomSampler(**args))


@pytest.mark.parametrize("args", [
    dict(weights=[1, 2], num_samples=3, replacement=False),
    dict(weights=[1, -2], num_samples=3),
    dict(weights=[0, 0], num_samples=3),
    dict(weights=[1, float("nan")], num_samples=3),
    dict(weights=[1, float("inf")], num_samples=3),
])
def test_weighted_sampler_draw_errors_match_torch(args):
    _same_error(lambda: list(WeightedRandomSampler(**args)), lambda: list(tdata.WeightedRandomSampler(**args)))


class EveryOther(Sampler[int]):
    """A user sampler: iterated, not sliced."""

    def __init__(self, n):
        self.n = n

    def __iter__(self):
        return iter(range(0, self.n, 2))

    def __len__(self):
        return (self.n + 1) // 2


@pytest.mark.parametrize("n", [0, 1, 7, 8])
@pytest.mark.parametrize("bs", [1, 3, 8, 10])
@pytest.mark.parametrize("drop_last", [False, True])
def test_batch_sampler_matches_torch(n, bs, drop_last):
    for ours_s, torch_s in [
        (SequentialSampler(range(n)), tdata.SequentialSampler(range(n))),
        (range(n), range(n)),
        (list(range(n))[::-1], list(range(n))[::-1]),
        (EveryOther(n), EveryOther(n)),
    ]:
        ours, theirs = BatchSampler(ours_s, bs, drop_last), tdata.BatchSampler(torch_s, bs, drop_last)
        assert list(ours) == list(theirs)
        assert len(ours) == len(theirs)
        assert all(type(b) is list for b in ours)


def test_batch_sampler_over_random_sampler():
    bs = BatchSampler(RandomSampler(range(10), generator=4), 3, drop_last=True)
    batches = list(bs)
    assert [len(b) for b in batches] == [3, 3, 3] and len(bs) == 3
    assert len({i for b in batches for i in b}) == 9
    assert all(isinstance(i, int) for b in batches for i in b)


@pytest.mark.parametrize("args", [(0, False), (True, False), (2, 1), (2.0, False), (-1, False)])
def test_batch_sampler_errors_match_torch(args):
    _same_error(lambda: BatchSampler(range(5), *args), lambda: tdata.BatchSampler(range(5), *args))


def test_sampler_base_class():
    with pytest.raises(NotImplementedError):
        iter(Sampler())
    with pytest.raises(TypeError):
        len(Sampler())
    assert list(EveryOther(5)) == [0, 2, 4]
