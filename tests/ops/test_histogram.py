"""histogram and histogramdd: PyTorch's bins (equal bins over a range or the data's, or given edges), edges,
weights, density and errors; compared with PyTorch where installed, and with NumPy's histogram (the same rules)."""
from __future__ import annotations

import numpy as np
import pytest

import matgrad as mg
from tests.helpers import assert_close

try:
    import torch
except ImportError:
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="compares with PyTorch")
# no element on an interior edge of the computed bins below: PyTorch computes float32 edges with the CPU's vector
# width (torch.linspace), so one that lands on an edge may go either way on another CPU
DATA = np.array([1.0, 2.0, 1.0, 2.5, 4.0, -1.0, 0.3, 3.0], dtype=np.float32)


def _check_against_torch(mine, theirs):
    assert_close(mine.hist.array, theirs.hist.numpy(), rtol=1e-6)
    edges = mine.bin_edges if isinstance(mine.bin_edges, tuple) else (mine.bin_edges,)
    want = theirs.bin_edges if isinstance(theirs.bin_edges, tuple) else (theirs.bin_edges,)
    assert len(edges) == len(want)
    for e, w in zip(edges, want):
        assert e.dtype == mg.float32 if w.dtype == torch.float32 else e.dtype == mg.float64
        assert_close(e.array, w.numpy(), rtol=1e-6)


HISTOGRAMS = [  # (dtype, bins: int or edges, keyword arguments)
    ("float32", 4, {}),
    ("float64", 3, {}),
    ("float32", 4, {"range": (0.0, 3.0)}),
    ("float32", 4, {"range": (0, 3), "density": True}),
    ("float64", 5, {"weight": True}),
    ("float64", 3, {"range": (0.0, 3.0), "weight": True, "density": True}),
    ("float32", 3, {"range": (1.0, 1.0)}),  # an empty range is widened by 0.5 each way
    ("float32", [0.0, 1.0, 2.5, 4.0], {}),
    ("float64", [0.0, 1.0, 2.5, 4.0], {"density": True, "weight": True}),
    ("float32", [0.0, 1.0, 1.0, 4.0], {}),  # a zero-width bin
]


@needs_torch
@pytest.mark.parametrize("dtype,bins,kwargs", HISTOGRAMS)
def test_histogram_matches_torch(dtype, bins, kwargs):
    kwargs = dict(kwargs)
    x, tx = mg.tensor(DATA, dtype=dtype), torch.tensor(DATA, dtype=getattr(torch, dtype))
    if kwargs.pop("weight", False):
        w = np.arange(1.0, DATA.size + 1)
        kwargs["weight"] = mg.tensor(w, dtype=dtype)
        tkw = dict(kwargs, weight=torch.tensor(w, dtype=getattr(torch, dtype)))
    else:
        tkw = kwargs
    mb = bins if isinstance(bins, int) else mg.tensor(bins, dtype=dtype)
    tb = bins if isinstance(bins, int) else torch.tensor(bins, dtype=getattr(torch, dtype))
    mine = mg.histogram(x, mb, **kwargs)
    _check_against_torch(mine, torch.histogram(tx, tb, **tkw))
    _check_against_torch(x.histogram(mb, **kwargs), tx.histogram(tb, **tkw))


@needs_torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_histogram_many_bins_matches_torch(dtype):
    x = np.random.default_rng(1).standard_normal(500).astype(dtype)
    mine, theirs = mg.histogram(mg.tensor(x), 100), torch.histogram(torch.tensor(x), 100)
    gap = np.abs(x[:, None] - theirs.bin_edges.numpy()[None, 1:-1]).min()
    assert gap > 1e-5  # the premise: no element near an interior edge (see DATA)
    _check_against_torch(mine, theirs)


def test_histogram_agrees_with_numpy_and_names_its_fields():
    x = np.random.default_rng(0).standard_normal(1000)
    for bins in (7, 50):
        hist, edges = mg.histogram(mg.tensor(x, dtype=mg.float64), bins)
        want_hist, want_edges = np.histogram(x, bins)
        np.testing.assert_array_equal(hist.array, want_hist)
        assert_close(edges.array, want_edges, rtol=1e-12)
    out = mg.histogram(mg.tensor(DATA), 4)
    assert type(out).__name__ == "histogram" and out._fields == ("hist", "bin_edges")
    assert out.hist.dtype == mg.float32 and out.hist.sum().item() == DATA.size  # every element, min and max too


def test_histogram_leaves_out_what_is_outside_and_keeps_the_right_edge():
    x = mg.tensor([1.0, float("inf"), 2.0, 3.0, -5.0])
    hist, edges = mg.histogram(x, 2, range=(0.0, 3.0))
    assert hist.tolist() == [1.0, 2.0] and edges.tolist() == [0.0, 1.5, 3.0]
    assert mg.histogram(mg.ones(2, 3), 2, weight=mg.ones(3, 2)).hist.tolist() == [0.0, 6.0]  # any shapes, same count
    assert mg.histogram(mg.tensor([]), 3).bin_edges.tolist() == pytest.approx([0.0, 1 / 3, 2 / 3, 1.0])


@pytest.mark.parametrize("call,error,match", [
    (lambda: mg.histogram(mg.tensor([1, 2, 3]), 3), NotImplementedError, "not implemented for 'Long'"),
    (lambda: mg.histogram(mg.tensor([1.0, 2.0], dtype=mg.float16), 3), NotImplementedError, "'Half'"),
    (lambda: mg.histogram(mg.tensor(DATA), 0), RuntimeError, "bins must be > 0, but got 0"),
    (lambda: mg.histogram(mg.tensor(DATA), 3, range=(3.0, 1.0)), RuntimeError, "min should not exceed max"),
    (lambda: mg.histogram(mg.tensor(DATA), 3, range=(0.0,)), RuntimeError, "range should have 2 elements"),
    (lambda: mg.histogram(mg.tensor([1.0, float("nan")]), 3), RuntimeError, "is not finite"),
    (lambda: mg.histogram(mg.tensor(DATA), 3, range=(0.0, float("inf"))), RuntimeError, "is not finite"),
    (lambda: mg.histogram(mg.tensor(DATA), 3, weight=mg.ones(8, dtype=mg.float64)), RuntimeError, "same dtype"),
    (lambda: mg.histogram(mg.tensor(DATA), 3, weight=mg.ones(5)), RuntimeError, "as many elements"),
    (lambda: mg.histogram(mg.tensor(DATA), mg.tensor([[0.0, 1.0]])), RuntimeError, "one dimension"),
    (lambda: mg.histogram(mg.tensor(DATA), mg.tensor([1.0])), RuntimeError, "bins must be > 0"),
    (lambda: mg.histogram(mg.tensor(DATA), mg.zeros(0)), RuntimeError, "at least 1 element"),
    (lambda: mg.histogram(mg.tensor(DATA), mg.tensor([0.0, 4.0], dtype=mg.float64)), RuntimeError, "same dtype"),
    (lambda: mg.histogram(mg.tensor(DATA), mg.tensor([0.0, 3.0, 2.5])), RuntimeError, "non-decreasing"),
    (lambda: mg.histogram(mg.tensor(DATA), mg.tensor([0.0, 3.0]), range=(0, 1)), TypeError, "range"),
    (lambda: mg.histogram(mg.tensor(DATA), [0.0, 1.0, 2.0]), TypeError, "bins must be an int or a 1-D tensor"),
    (lambda: mg.histogramdd(mg.tensor(POINTS), mg.tensor([0.0, 1.0])), TypeError, "not a Tensor"),
])
def test_histogram_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()


POINTS = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 0.0], [2.0, 2.0], [0.5, 1.5], [1.9, 0.1]], dtype=np.float32)


@needs_torch
@pytest.mark.parametrize("bins,kwargs", [
    (2, {}),
    ([3, 3], {"weight": True}),
    ([2, 2], {"density": True}),
    ((2, 3), {"range": [0.0, 1.0, 0.0, 2.0]}),
    ("edges", {}),
    ("edges", {"density": True, "weight": True}),
])
def test_histogramdd_matches_torch(bins, kwargs):
    kwargs = dict(kwargs)
    x, tx = mg.tensor(POINTS.reshape(3, 2, 2)), torch.tensor(POINTS.reshape(3, 2, 2), dtype=torch.float32)
    tkw = dict(kwargs)
    if kwargs.pop("weight", False):
        w = np.arange(1.0, 7.0, dtype=np.float32).reshape(3, 2)
        kwargs["weight"], tkw["weight"] = mg.tensor(w), torch.tensor(w, dtype=torch.float32)
    if bins == "edges":
        mb = [mg.tensor([0.0, 1.0, 2.0]), mg.tensor([0.0, 2.0])]
        tb = [torch.tensor([0.0, 1, 2]), torch.tensor([0.0, 2])]
    else:
        mb = tb = bins
    mine = mg.histogramdd(x, mb, **kwargs)
    assert type(mine).__name__ == "histogramdd" and isinstance(mine.bin_edges, tuple)
    _check_against_torch(mine, torch.histogramdd(tx, tb, **tkw))


def test_histogramdd_counts_and_errors():
    hist, edges = mg.histogramdd(mg.tensor(POINTS, dtype=mg.float64), [2, 2], range=(0.0, 2.0, 0.0, 2.0))
    assert hist.tolist() == [[0.0, 2.0], [3.0, 1.0]] and [e.tolist() for e in edges] == [[0.0, 1.0, 2.0]] * 2
    with pytest.raises(RuntimeError, match="equal to the innermost dimension"):
        mg.histogramdd(mg.tensor(POINTS), [2])
    with pytest.raises(RuntimeError, match="at least 2 dimensions"):
        mg.histogramdd(mg.tensor(POINTS[:, 0]), 2)
    with pytest.raises(RuntimeError, match="range should have 4 elements"):
        mg.histogramdd(mg.tensor(POINTS), [2, 2], range=(0.0, 1.0))
    with pytest.raises(RuntimeError, match="excluding its innermost dimension"):
        mg.histogramdd(mg.tensor(POINTS), 2, weight=mg.ones(6, 1))
