"""TensorDataset, Subset, ConcatDataset and random_split."""
from __future__ import annotations

import numpy as np
import pytest

import matgrad as mg
from matgrad.data import ConcatDataset, Dataset, Subset, TensorDataset, random_split


def test_tensor_dataset_rows():
    x = mg.arange(12).reshape(4, 3)
    y = mg.tensor([10, 11, 12, 13])
    ds = TensorDataset(x, y)
    assert len(ds) == 4
    xi, yi = ds[2]
    np.testing.assert_array_equal(xi.numpy(), [6, 7, 8])
    assert yi.item() == 12


def test_tensor_dataset_size_mismatch_names_sizes():
    with pytest.raises(ValueError, match=r"\[4, 3\]"):
        TensorDataset(mg.zeros(4, 2), mg.zeros(3))
    with pytest.raises(ValueError, match="at least one"):
        TensorDataset()
    with pytest.raises(ValueError, match="0-d"):
        TensorDataset(mg.tensor(1.0))


def test_subset_maps_indices_and_checks_range():
    ds = TensorDataset(mg.arange(10))
    sub = Subset(ds, [7, 2, -1])
    assert len(sub) == 3
    assert [sub[i][0].item() for i in range(3)] == [7, 2, 9]
    with pytest.raises(IndexError, match="index 10 is out of range for a dataset of 10"):
        Subset(ds, [1, 10])


def test_concat_dataset():
    a, b = TensorDataset(mg.arange(3)), TensorDataset(mg.arange(10, 12))
    cat = ConcatDataset([a, b])
    assert len(cat) == 5
    assert [cat[i][0].item() for i in range(5)] == [0, 1, 2, 10, 11]
    assert cat[-1][0].item() == 11
    assert len(a + b) == 5
    with pytest.raises(IndexError):
        cat[5]


def test_base_dataset_requires_methods():
    with pytest.raises(NotImplementedError):
        len(Dataset())


@pytest.mark.parametrize("lengths,expected", [([7, 3], [7, 3]), ([0.7, 0.3], [7, 3]),
                                              ([0.5, 0.25, 0.25], [6, 2, 2])])
def test_random_split_partitions(lengths, expected):
    ds = TensorDataset(mg.arange(10))
    parts = random_split(ds, lengths)
    assert [len(p) for p in parts] == expected
    seen = sorted(p[i][0].item() for p in parts for i in range(len(p)))
    assert seen == list(range(10))  # disjoint and complete


def test_random_split_reproducible():
    ds = TensorDataset(mg.arange(20))
    mg.manual_seed(3)
    a = [int(i) for i in random_split(ds, [10, 10])[0].indices]
    mg.manual_seed(3)
    b = [int(i) for i in random_split(ds, [10, 10])[0].indices]
    c = [int(i) for i in random_split(ds, [10, 10], generator=np.random.default_rng(3))[0].indices]
    d = [int(i) for i in random_split(ds, [10, 10], generator=3)[0].indices]
    assert a == b and c == d
    assert a != list(range(10))


def test_random_split_bad_lengths():
    ds = TensorDataset(mg.arange(10))
    with pytest.raises(ValueError, match="sum of input lengths"):
        random_split(ds, [5, 4])
    with pytest.raises(ValueError, match="fractions must sum to 1"):
        random_split(ds, [0.5, 0.2])


@pytest.mark.parametrize("n,fractions", [(10, [0.5, 0.25, 0.25]), (11, [0.3, 0.3, 0.4]), (7, [0.1, 0.9])])
def test_random_split_fraction_lengths_match_torch(n, fractions):
    torch = pytest.importorskip("torch")
    ours = [len(p) for p in random_split(TensorDataset(mg.arange(n)), fractions)]
    theirs = [len(p) for p in torch.utils.data.random_split(range(n), fractions)]
    assert ours == theirs
