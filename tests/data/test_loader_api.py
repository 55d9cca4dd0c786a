"""DataLoader's sampler= / batch_sampler= and their errors, iterable datasets, StackDataset, ChainDataset
(single process), compared with PyTorch."""
from __future__ import annotations

import numpy as np
import pytest

import matgrad as mg
from matgrad.data import (
    BatchSampler,
    ChainDataset,
    ConcatDataset,
    DataLoader,
    Dataset,
    IterableDataset,
    RandomSampler,
    SequentialSampler,
    StackDataset,
    SubsetRandomSampler,
    TensorDataset,
    WeightedRandomSampler,
    random_split,
)
from matgrad.random import Generator

torch = pytest.importorskip("torch")
tdata = torch.utils.data


def _plain(batch):
    """A batch as nested Python lists (either library's tensors)."""
    if isinstance(batch, (list, tuple)):
        return [_plain(b) for b in batch]
    if isinstance(batch, dict):
        return {k: _plain(v) for k, v in batch.items()}
    return np.asarray(batch.numpy() if hasattr(batch, "numpy") else batch).tolist()


def _error(fn):
    try:
        fn()
    except Exception as exc:  # noqa: BLE001 - comparing whatever each library raises
        return type(exc).__name__, str(exc)
    return None


class Range(IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        return iter(range(self.n))


class SizedRange(Range):
    def __len__(self):
        return self.n


XS = np.arange(20, dtype=np.float32).reshape(10, 2)
YS = np.arange(10)


def _pair():
    return (TensorDataset(mg.tensor(XS), mg.tensor(YS)),
            tdata.TensorDataset(torch.tensor(XS), torch.tensor(YS)))


@pytest.mark.parametrize("make", [
    lambda lib: dict(sampler=[9, 3, 3, 0, 5]),
    lambda lib: dict(sampler=lib.SequentialSampler(range(10)), batch_size=4, drop_last=True),
    lambda lib: dict(batch_sampler=[[1, 2], [7], [0, 9, 8]]),
    lambda lib: dict(batch_sampler=lib.BatchSampler(range(9, -1, -1), 3, False)),
    lambda lib: dict(sampler=[4, 2, 8], batch_size=None),
    lambda lib: dict(batch_size=None),
])
def test_sampler_and_batch_sampler_match_torch(make):
    ours_ds, torch_ds = _pair()
    ours = DataLoader(ours_ds, **make(mg.data))
    theirs = tdata.DataLoader(torch_ds, **make(tdata))
    assert [_plain(b) for b in ours] == [_plain(b) for b in theirs]
    assert len(ours) == len(theirs)


def test_sampler_with_generator_and_weighted_sampler_in_loader():
    ds, _ = _pair()
    loader = DataLoader(ds, batch_size=4, sampler=RandomSampler(ds, generator=Generator().manual_seed(2)))
    ids = [int(v) for _, y in loader for v in y.numpy()]
    assert sorted(ids) == list(range(10))
    w = WeightedRandomSampler([0.0] * 5 + [1.0] * 5, num_samples=30, generator=1)
    ids = [int(v) for _, y in DataLoader(ds, batch_size=7, sampler=w) for v in y.numpy()]
    assert len(ids) == 30 and set(ids) <= set(range(5, 10))
    sub = SubsetRandomSampler([1, 3, 5], generator=0)
    assert sorted(int(v) for _, y in DataLoader(ds, batch_size=2, sampler=sub) for v in y.numpy()) == [1, 3, 5]


@pytest.mark.parametrize("kwargs", [
    dict(sampler="S", shuffle=True),
    dict(batch_sampler="B", batch_size=3),
    dict(batch_sampler="B", shuffle=True),
    dict(batch_sampler="B", drop_last=True),
    dict(batch_sampler="B", sampler="S"),
    dict(batch_size=None, drop_last=True),
    dict(num_workers=-1),
    dict(prefetch_factor=2),
    dict(persistent_workers=True),
    dict(num_workers=1, prefetch_factor=-1),
    dict(timeout=-1),
    dict(batch_size=0),
    dict(batch_size=-1),
    dict(batch_size=2.5),
])
def test_argument_errors_match_torch(kwargs):
    ours_ds, torch_ds = _pair()

    def fill(lib):
        out = dict(kwargs)
        if out.get("sampler") == "S":
            out["sampler"] = lib.SequentialSampler(range(10))
        if out.get("batch_sampler") == "B":
            out["batch_sampler"] = lib.BatchSampler(range(10), 2, False)
        return out

    mine, theirs = _error(lambda: DataLoader(ours_ds, **fill(mg.data))), _error(
        lambda: tdata.DataLoader(torch_ds, **fill(tdata)))
    assert theirs is not None and mine == theirs


@pytest.mark.parametrize("kwargs", [dict(shuffle=True), dict(sampler=[1]), dict(batch_sampler=[[1]])])
def test_iterable_dataset_refuses_samplers_like_torch(kwargs):
    mine = _error(lambda: DataLoader(Range(5), **kwargs))
    theirs = _error(lambda: tdata.DataLoader(TorchRange(5), **kwargs))
    assert theirs is not None and mine == theirs


def test_attributes_fixed_after_init():
    loader = DataLoader(_pair()[0], batch_size=2)
    for attr in ("batch_size", "sampler", "dataset", "drop_last", "batch_sampler", "persistent_workers"):
        with pytest.raises(ValueError, match=f"{attr} attribute should not be set after DataLoader is initialized"):
            setattr(loader, attr, 3)
    loader.num_workers = 0
    loader.collate_fn = lambda b: b  # allowed, as in torch


class TorchRange(tdata.IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        return iter(range(self.n))


@pytest.mark.parametrize("batch_size,drop_last", [(2, False), (2, True), (5, False), (7, True), (None, False)])
def test_iterable_dataset_batches_match_torch(batch_size, drop_last):
    ours = [_plain(b) for b in DataLoader(Range(5), batch_size=batch_size, drop_last=drop_last)]
    theirs = [_plain(b) for b in tdata.DataLoader(TorchRange(5), batch_size=batch_size, drop_last=drop_last)]
    assert ours == theirs


def test_iterable_dataset_len():
    with pytest.raises(TypeError):
        len(DataLoader(Range(5), batch_size=2))
    assert len(DataLoader(SizedRange(5), batch_size=2)) == 3
    assert len(DataLoader(SizedRange(5), batch_size=2, drop_last=True)) == 2
    with pytest.raises(NotImplementedError):
        iter(IterableDataset())


def test_chain_dataset():
    chained = ChainDataset([Range(3), Range(2)])
    assert list(chained) == [0, 1, 2, 0, 1]
    assert list(Range(2) + Range(2)) == [0, 1, 0, 1]
    assert len(ChainDataset([SizedRange(3), SizedRange(4)])) == 7
    with pytest.raises(TypeError):
        len(chained)
    with pytest.raises(TypeError, match="ChainDataset only supports IterableDataset"):
        list(ChainDataset([_pair()[0]]))
    with pytest.raises(TypeError, match="ConcatDataset does not support IterableDataset"):
        ConcatDataset([Range(3)])
    assert [_plain(b) for b in DataLoader(chained, batch_size=2)] == [[0, 1], [2, 0], [1]]


class Counted(Dataset):
    """Records whether the loader used __getitems__."""

    def __init__(self):
        self.calls = []

    def __len__(self):
        return 6

    def __getitem__(self, i):
        return i * 10

    def __getitems__(self, indices):
        self.calls.append(list(indices))
        return [i * 10 for i in indices]


def test_stack_dataset_tuple_and_dict_forms_match_torch():
    ours = StackDataset(TensorDataset(mg.arange(6)), Counted())
    theirs = tdata.StackDataset(tdata.TensorDataset(torch.arange(6)), Counted())
    assert _plain(ours[3]) == _plain(theirs[3]) == [[3], 30] and len(ours) == len(theirs) == 6
    assert _plain(next(iter(DataLoader(ours, batch_size=6)))) == _plain(next(iter(tdata.DataLoader(theirs,
                                                                                                  batch_size=6))))
    a, b = Counted(), Counted()
    named = StackDataset(x=a, y=b)
    assert named[2] == {"x": 20, "y": 20} and len(named) == 6
    batches = list(DataLoader(named, batch_size=4))
    assert [_plain(bt) for bt in batches] == [{"x": [0, 10, 20, 30], "y": [0, 10, 20, 30]},
                                              {"x": [40, 50], "y": [40, 50]}]
    assert a.calls == [[0, 1, 2, 3], [4, 5]]  # the parents' __getitems__, once per batch
    tup = StackDataset(Counted(), Counted())
    assert tup[1] == (10, 10)
    assert tup.__getitems__([1, 2]) == tdata.StackDataset(Counted(), Counted()).__getitems__([1, 2])


@pytest.mark.parametrize("args,kwargs", [((), {}), (("A",), {"a": "A"}), (("A", "B"), {})])
def test_stack_dataset_errors_match_torch(args, kwargs):
    mine_ds = {"A": Counted(), "B": TensorDataset(mg.arange(3))}
    torch_ds = {"A": Counted(), "B": tdata.TensorDataset(torch.arange(3))}
    mine = _error(lambda: StackDataset(*[mine_ds[a] for a in args], **{k: mine_ds[v] for k, v in kwargs.items()}))
    theirs = _error(lambda: tdata.StackDataset(*[torch_ds[a] for a in args],
                                               **{k: torch_ds[v] for k, v in kwargs.items()}))
    assert mine is not None and theirs is not None
    assert mine[0] == theirs[0] and mine[1].startswith(theirs[1])


def test_getitems_used_by_loader():
    ds = Counted()
    assert [_plain(b) for b in DataLoader(ds, batch_size=4)] == [[0, 10, 20, 30], [40, 50]]
    assert ds.calls == [[0, 1, 2, 3], [4, 5]]


def test_generator_object_in_loader_and_random_split():
    ds, _ = _pair()

    def order(g):
        return [int(v) for _, y in DataLoader(ds, batch_size=3, shuffle=True, generator=g) for v in y.numpy()]

    assert order(Generator().manual_seed(5)) == order(Generator().manual_seed(5))
    g = Generator().manual_seed(5)
    loader = DataLoader(ds, batch_size=3, shuffle=True, generator=g)
    first = [int(v) for _, y in loader for v in y.numpy()]
    second = [int(v) for _, y in loader for v in y.numpy()]
    assert sorted(first) == sorted(second) == list(range(10)) and first != second  # one stream across epochs
    a = [list(p.indices) for p in random_split(ds, [0.7, 0.3], generator=Generator().manual_seed(42))]
    b = [list(p.indices) for p in random_split(ds, [0.7, 0.3], generator=Generator().manual_seed(42))]
    assert a == b and [len(p) for p in a] == [7, 3]
    assert sorted(a[0] + a[1]) == list(range(10))


def test_len_of_dataset_without_len_is_a_type_error():
    class NoLen(Dataset):
        def __getitem__(self, i):
            return i

    with pytest.raises(TypeError):
        len(NoLen())
    with pytest.raises(NotImplementedError):  # still, as before
        len(NoLen())


def test_batch_sampler_and_sequential_sampler_in_loader_use_fast_path():
    ds, _ = _pair()
    loader = DataLoader(ds, batch_sampler=BatchSampler(SequentialSampler(ds), 4, drop_last=False))
    assert [len(y) for _, y in loader] == [4, 4, 2]


def test_default_convert_takes_its_argument_as_data_as_pytorch():
    from matgrad.utils.data import default_convert

    out = default_convert(data={"x": np.array([1, 2]), "y": [np.array([0.5])]})
    assert isinstance(out["x"], mg.Tensor) and out["x"].tolist() == [1, 2]
    assert isinstance(out["y"][0], mg.Tensor) and out["y"][0].tolist() == [0.5]
    assert default_convert(data="text") == "text"
