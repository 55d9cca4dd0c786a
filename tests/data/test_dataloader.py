"""DataLoader: each sample once per epoch, reproducible shuffling, drop_last, collation."""
from __future__ import annotations

import collections

import numpy as np
import pytest

import matgrad as mg
from matgrad.data import DataLoader, Dataset, Subset, TensorDataset, default_collate


class Squares(Dataset):
    """A plain map-style dataset (no fast path): sample i is (i as a float array, i*i)."""

    def __len__(self):
        return 10

    def __getitem__(self, i):
        return np.array([i, -i], dtype=np.float32), i * i


def _ids(loader):
    return [int(v) for xb, *_ in loader for v in np.asarray(xb.numpy()).reshape(len(xb), -1)[:, 0]]


@pytest.mark.parametrize("make", [
    lambda: TensorDataset(mg.arange(10, dtype=mg.float32).reshape(10, 1), mg.arange(10)),
    lambda: Squares(),
    lambda: Subset(TensorDataset(mg.arange(20, dtype=mg.float32).reshape(20, 1)), list(range(10))),
])
@pytest.mark.parametrize("shuffle", [False, True])
def test_every_sample_once_per_epoch(make, shuffle):
    loader = DataLoader(make(), batch_size=3, shuffle=shuffle)
    assert len(loader) == 4
    for _ in range(2):
        batches = list(loader)
        assert [len(b[0]) for b in batches] == [3, 3, 3, 1]  # last partial batch kept
        ids = _ids(batches)
        assert sorted(ids) == list(range(10))
        if not shuffle:
            assert ids == list(range(10))


def test_shuffle_reproducible_for_seed_and_new_each_epoch():
    ds = TensorDataset(mg.arange(50, dtype=mg.float32).reshape(50, 1))
    mg.manual_seed(7)
    loader = DataLoader(ds, batch_size=8, shuffle=True)
    first, second = _ids(loader), _ids(loader)
    mg.manual_seed(7)
    assert _ids(loader) == first and _ids(loader) == second
    assert first != second and first != list(range(50))
    a = DataLoader(ds, batch_size=8, shuffle=True, generator=11)
    b = DataLoader(ds, batch_size=8, shuffle=True, generator=np.random.default_rng(11))
    assert _ids(a) == _ids(b)


def test_fast_path_matches_sample_path():
    x = mg.randn(17, 2, 3)
    y = mg.arange(17)
    ds = TensorDataset(x, y)
    fast = list(DataLoader(ds, batch_size=5, shuffle=True, generator=1))
    slow = list(DataLoader(ds, batch_size=5, shuffle=True, generator=1, collate_fn=default_collate))
    for (xf, yf), (xs, ys) in zip(fast, slow):
        assert xf.dtype == xs.dtype == np.float32 and yf.dtype == ys.dtype == np.int64
        np.testing.assert_array_equal(xf.numpy(), xs.numpy())
        np.testing.assert_array_equal(yf.numpy(), ys.numpy())
    xf = fast[0][0]
    xf.array[...] = 0  # a batch is a copy: editing it leaves the dataset alone
    assert np.abs(x.numpy()).sum() > 0


def test_drop_last():
    ds = TensorDataset(mg.arange(10))
    loader = DataLoader(ds, batch_size=4, drop_last=True, shuffle=True)
    assert len(loader) == 2
    batches = list(loader)
    assert [len(b[0]) for b in batches] == [4, 4]
    ids = [int(v) for b in batches for v in b[0].numpy()]
    assert len(set(ids)) == 8


def test_batch_size_none_yields_samples_and_bad_batch_size():
    assert [int(s[1]) for s in DataLoader(Squares(), batch_size=None)][:3] == [0, 1, 4]
    with pytest.raises(ValueError, match="batch_size"):
        DataLoader(Squares(), batch_size=0)


def test_default_collate_structures():
    Pt = collections.namedtuple("Pt", "x y")
    batch = [{"a": mg.tensor([1.0, 2.0]), "b": 3, "c": 0.5, "d": "s", "e": Pt(1, True)},
             {"a": mg.tensor([3.0, 4.0]), "b": 4, "c": 1.5, "d": "t", "e": Pt(2, False)}]
    out = default_collate(batch)
    np.testing.assert_array_equal(out["a"].numpy(), [[1, 2], [3, 4]])
    assert out["b"].dtype == np.int64 and out["b"].tolist() == [3, 4]
    assert out["c"].dtype == np.float64 and out["c"].tolist() == [0.5, 1.5]
    assert out["d"] == ["s", "t"]
    assert isinstance(out["e"], Pt) and out["e"].y.dtype == np.bool_
    assert isinstance(default_collate([(1, 2), (3, 4)]), list)  # tuples become lists, as torch
    with pytest.raises(ValueError, match="differ in shape"):
        default_collate([mg.zeros(2), mg.zeros(3)])
    with pytest.raises(TypeError, match="collate_fn"):
        default_collate([object()])


def test_default_collate_keeps_graph():
    a = mg.tensor([1.0, 2.0], requires_grad=True)
    out = default_collate([a, a * 2])
    out.sum().backward()
    np.testing.assert_allclose(a.grad, [3.0, 3.0])


def test_custom_collate_fn():
    loader = DataLoader(Squares(), batch_size=4, collate_fn=lambda samples: [s[1] for s in samples])
    assert list(loader) == [[0, 1, 4, 9], [16, 25, 36, 49], [64, 81]]


def test_torch_agreement_on_unshuffled_batches():
    torch = pytest.importorskip("torch")
    xs = np.arange(14, dtype=np.float32).reshape(7, 2)
    ys = np.arange(7)
    ours = list(DataLoader(TensorDataset(mg.tensor(xs), mg.tensor(ys)), batch_size=3))
    theirs = list(torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(torch.tensor(xs), torch.tensor(ys)), batch_size=3))
    assert len(ours) == len(theirs) == 3
    for (xo, yo), (xt, yt) in zip(ours, theirs):
        np.testing.assert_array_equal(xo.numpy(), xt.numpy())
        np.testing.assert_array_equal(yo.numpy(), yt.numpy())


def test_subset_of_plain_dataset_uses_sample_path():
    loader = DataLoader(Subset(Squares(), [9, 0, 4]), batch_size=2)
    (xa, ya), (xb, yb) = list(loader)
    assert xa.numpy()[:, 0].tolist() == [9, 0] and ya.tolist() == [81, 0] and yb.tolist() == [16]
