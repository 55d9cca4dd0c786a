"""The Tensor facts and small methods PyTorch code reads: is_sparse & co., layout, output_nr, dim_order,
is_shared/share_memory_; the random fills cauchy_, geometric_, log_normal_; apply_, map_, map2_; the deprecated
Tensor.new, resize_, resize_as_; nonzero_static; and clear errors for what a NumPy-backed tensor cannot be."""
from __future__ import annotations

import pickle

import numpy as np
import pytest

import matgrad as mg

try:
    import torch
except ImportError:
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="compares with PyTorch")

FACTS = ["is_sparse", "is_sparse_csr", "is_quantized", "is_meta", "is_nested", "is_mkldnn", "is_mps", "is_xpu",
         "is_vulkan", "is_ipu", "is_xla", "is_maia", "is_mtia"]


@pytest.mark.parametrize("name", FACTS)
def test_kind_facts_are_false_and_read_only(name):
    x = mg.ones(2, 3)
    assert getattr(x, name) is False
    if torch is not None:
        assert getattr(torch.ones(2, 3), name) is False
    with pytest.raises(AttributeError):
        setattr(x, name, True)


def test_layout_output_nr_and_shared_memory():
    x = mg.ones(3)
    assert x.layout is mg.strided and isinstance(mg.strided, mg.layout)
    assert repr(x.layout) == str(mg.strided) == "matgrad.strided"
    assert pickle.loads(pickle.dumps(x.layout)) is mg.strided
    if torch is not None:
        assert str(torch.ones(3).layout).split(".")[1] == str(x.layout).split(".")[1]  # as dtypes: matgrad.float32
    assert x.output_nr == 0 and (mg.ones(2, requires_grad=True) * 2).output_nr == 0
    assert x.is_shared() is False
    assert x.share_memory_() is x and x.is_shared() is False  # NumPy arrays stay where they are


def _views(lib):
    """The same views built in matgrad or torch: (name, tensor)."""
    a = lib.arange(24.0).reshape(2, 3, 4)
    return [
        ("contiguous", a), ("permuted", a.permute(2, 0, 1)), ("transposed", a.transpose(0, 1)),
        ("sliced", lib.ones(3, 4)[:, ::2]), ("expanded", lib.ones(3, 4).expand(2, 3, 4)),
        ("expanded row", lib.ones(4).expand(3, 4)), ("size-1 dim", lib.ones(2, 1, 3)),
        ("size-1 transposed", lib.ones(2, 1, 3).transpose(0, 1)), ("0-d", lib.tensor(1.0)), ("1-d", lib.ones(5)),
        ("channels last", lib.arange(120.0).reshape(2, 3, 4, 5).permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2)),
        ("4-d transposed", lib.arange(120.0).reshape(2, 3, 4, 5).transpose(1, 2)),
    ]


@pytest.mark.parametrize("case", [name for name, _ in _views(mg)])
def test_dim_order(case):
    x = dict(_views(mg))[case]
    expected = {"contiguous": (0, 1, 2), "permuted": (1, 2, 0), "transposed": (1, 0, 2), "channels last": (0, 2, 3, 1),
                "0-d": (), "1-d": (0,), "4-d transposed": (0, 2, 1, 3)}
    if case in expected:
        assert x.dim_order() == expected[case]
    if torch is not None:
        t = dict(_views(torch))[case]
        assert tuple(x.stride()) == tuple(t.stride())  # the premise: matgrad's strides are torch's here
        assert x.dim_order() == t.dim_order()
        try:
            want = t.dim_order(ambiguity_check=True)
        except RuntimeError:
            with pytest.raises(RuntimeError, match="does not have unique dim order"):
                x.dim_order(ambiguity_check=True)
        else:
            assert x.dim_order(ambiguity_check=True) == want


def test_dim_order_ambiguity_check_argument():
    assert mg.ones(2, 3).dim_order(ambiguity_check=True) == (0, 1)
    with pytest.raises(TypeError, match="memory formats"):
        mg.ones(2, 3).dim_order(ambiguity_check=["channels_last"])
    with pytest.raises(RuntimeError, match="does not have unique dim order"):
        mg.ones(1, 2, 3, 4).dim_order(ambiguity_check=True)


@pytest.mark.parametrize("call,error,match", [
    (lambda x: x.imag, RuntimeError, "imag is not implemented for tensors with non-complex dtypes"),
    (lambda x: x.bfloat16(), TypeError, "no bfloat16"),
    (lambda x: x.cfloat(), TypeError, "no complex"),
    (lambda x: x.cdouble(), TypeError, "no complex"),
    (lambda x: x.chalf(), TypeError, "no complex"),
    (lambda x: x.to_sparse(), RuntimeError, "no sparse"),
    (lambda x: x.to_sparse_csr(), RuntimeError, "no sparse"),
    (lambda x: x.to_sparse_coo(), RuntimeError, "no sparse"),
    (lambda x: x.to_sparse_csc(), RuntimeError, "no sparse"),
    (lambda x: x.to_sparse_bsr((1, 1)), RuntimeError, "no sparse"),
    (lambda x: x.to_sparse_bsc((1, 1)), RuntimeError, "no sparse"),
    (lambda x: x.to_mkldnn(), RuntimeError, "MKL-DNN"),
    (lambda x: x.storage(), RuntimeError, r"\.numpy\(\)"),
    (lambda x: x.untyped_storage(), RuntimeError, r"\.numpy\(\)"),
])
def test_what_matgrad_cannot_be_raises_clearly(call, error, match):
    with pytest.raises(error, match=match):
        call(mg.ones(2, 2))


# --- random fills ---------------------------------------------------------------------------------------------
N = 200_000


def test_cauchy_distribution():
    mg.manual_seed(0)
    x = mg.empty(N, dtype=mg.float64).cauchy_(1.0, 2.0).array
    q25, q50, q75 = np.quantile(x, [0.25, 0.5, 0.75])
    assert abs(q50 - 1.0) < 0.05  # the median
    assert abs((q75 - q25) - 4.0) < 0.1  # quartiles at median ± sigma
    assert abs(np.mean(np.abs(x - 1.0) > 2.0 * np.tan(0.4 * np.pi)) - 0.2) < 0.01  # the tails: P(|x - m| > σ tan 0.4π)
    assert mg.empty(5).cauchy_().dtype == mg.float32


def test_geometric_distribution():
    mg.manual_seed(1)
    x = mg.empty(N, dtype=mg.float64).geometric_(0.3).array
    assert x.min() == 1.0 and np.all(x == np.round(x))  # trials up to the first success: 1, 2, ...
    assert abs(x.mean() - 1 / 0.3) < 0.05
    assert abs(x.var() - 0.7 / 0.3**2) < 0.3
    assert abs(np.mean(x == 1) - 0.3) < 0.005 and abs(np.mean(x == 2) - 0.21) < 0.005
    ints = mg.zeros(1000, dtype=mg.int64).geometric_(p=0.5)
    assert ints.dtype == mg.int64 and ints.array.min() >= 1


def test_log_normal_distribution():
    mg.manual_seed(2)
    x = mg.empty(N, dtype=mg.float64).log_normal_(0.5, 0.4).array
    assert x.min() > 0
    assert abs(np.log(x).mean() - 0.5) < 0.01 and abs(np.log(x).std() - 0.4) < 0.01
    y = mg.empty(N, dtype=mg.float64).log_normal_().array  # mean=1, std=2 by default, as PyTorch
    assert abs(np.log(y).mean() - 1.0) < 0.03 and abs(np.log(y).std() - 2.0) < 0.03


@pytest.mark.parametrize("name,args", [("cauchy_", ()), ("geometric_", (0.2,)), ("log_normal_", (0.0, 1.0))])
def test_random_fills_reproduce_with_a_seed_and_a_generator(name, args):
    def draw(**kwargs):
        return getattr(mg.empty(100), name)(*args, **kwargs).array.copy()

    mg.manual_seed(7)
    a = draw()
    mg.manual_seed(7)
    b, c = draw(), draw()
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(b, c)  # the stream moves on
    g = draw(generator=mg.Generator().manual_seed(3))
    np.testing.assert_array_equal(g, draw(generator=mg.Generator().manual_seed(3)))
    assert not np.array_equal(g, draw(generator=mg.Generator().manual_seed(4)))


def test_random_fills_on_a_graph_and_on_a_leaf():
    leaf = mg.ones(3, dtype=mg.float64, requires_grad=True)
    y = leaf * 2
    y.cauchy_()
    y.sum().backward()
    np.testing.assert_array_equal(leaf.grad.array, [0.0, 0.0, 0.0])  # a sample does not move with x (PyTorch's too)
    for fill in (lambda t: t.cauchy_(), lambda t: t.geometric_(0.5), lambda t: t.log_normal_()):
        with pytest.raises(RuntimeError, match="leaf"):
            fill(mg.ones(2, requires_grad=True))


@pytest.mark.parametrize("call,error,match", [
    (lambda: mg.zeros(3, dtype=mg.int64).cauchy_(), RuntimeError, "continuous probability distribution"),
    (lambda: mg.zeros(3).cauchy_(0, 0), RuntimeError, "sigma > 0.0"),
    (lambda: mg.zeros(3).cauchy_(0, -1), RuntimeError, "sigma > 0.0"),
    (lambda: mg.zeros(3).geometric_(0), RuntimeError, r"p to be in \(0, 1\)"),
    (lambda: mg.zeros(3).geometric_(1), RuntimeError, r"p to be in \(0, 1\)"),
    (lambda: mg.zeros(3, dtype=mg.bool_).geometric_(0.5), NotImplementedError, "bool"),
    (lambda: mg.zeros(3, dtype=mg.int64).log_normal_(), NotImplementedError, "float dtype"),
    (lambda: mg.zeros(3).log_normal_(0, 0), RuntimeError, "std > 0.0"),
])
def test_random_fill_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()


# --- apply_, map_, map2_ ----------------------------------------------------------------------------------------
PYTHON_CALLS = [
    ("apply_", lambda lib: lib.arange(6.0).reshape(2, 3), (), lambda v: v * 2 + 0.7),
    ("apply_", lambda lib: lib.arange(3), (), lambda v: v * 2 + 0.7),  # an int tensor truncates, as torch
    ("apply_", lambda lib: lib.arange(3), (), lambda v: float(type(v) is int)),  # elements come as Python ints
    ("apply_", lambda lib: lib.tensor([True, False]), (), lambda v: not v),
    ("map_", lambda lib: lib.arange(6.0).reshape(2, 3), (lambda lib: lib.tensor([10.0, 20.0, 30.0]),),
     lambda a, b: a + b),
    ("map_", lambda lib: lib.arange(6.0).reshape(2, 3), (lambda lib: lib.tensor([[10.0], [20.0]]),),
     lambda a, b: a * b),
    ("map2_", lambda lib: lib.arange(6.0).reshape(2, 3),
     (lambda lib: lib.tensor([1.0, 2.0, 3.0]), lambda lib: lib.tensor([[10.0], [20.0]])), lambda a, b, c: a + b - c),
]


@pytest.mark.parametrize("name,make,others,fn", PYTHON_CALLS)
def test_python_callables(name, make, others, fn):
    x = make(mg)
    before = x._version
    out = getattr(x, name)(*(o(mg) for o in others), fn)
    assert out is x and x._version > before
    if torch is not None:
        t = make(torch)
        getattr(t, name)(*(o(torch) for o in others), fn)
        np.testing.assert_array_equal(x.array, t.numpy())
        assert str(x.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]


@pytest.mark.parametrize("call,error,match", [
    (lambda: mg.ones(2, requires_grad=True).apply_(lambda v: v), RuntimeError, r"Can't call apply_\(\) on Variable"),
    (lambda: mg.ones(3).map_(mg.ones(3, requires_grad=True), lambda a, b: a), RuntimeError, r"map_\(\) on Variable"),
    (lambda: mg.ones(3).map2_(mg.ones(3), mg.ones(3, requires_grad=True), lambda a, b, c: a), RuntimeError,
     r"map2_\(\) on Variable"),
    (lambda: mg.ones(2).apply_(lambda v: "a"), TypeError, "must be real number, not str"),
    (lambda: mg.ones(2).apply_(lambda v: None), TypeError, "must be real number, not NoneType"),
    (lambda: mg.ones(2).apply_(3), TypeError, "not callable"),
    (lambda: mg.ones(3).map_(mg.ones(2, 3), lambda a, b: a), RuntimeError, "cannot be broadcast"),
    (lambda: mg.arange(3).map_(mg.tensor([1.5, 2.0, 3.0]), lambda a, b: a), TypeError, "expected torch.LongTensor"),
    (lambda: mg.ones(3).map2_(mg.ones(3, dtype=mg.float64), mg.ones(3), lambda a, b, c: a), TypeError,
     "for argument 'x'"),
    (lambda: mg.ones(3).map_(3, lambda a, b: a), TypeError, "must be Tensor"),
])
def test_python_callable_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()


# --- new, resize_, resize_as_, nonzero_static ------------------------------------------------------------------
NEW_FORMS = [((), {}), ((2, 3), {}), (((2, 3),), {}), (([2, 3],), {}), (([[1, 2]],), {}), ((0,), {}), ((2, 0), {}),
             (([],), {}), (((),), {}), ((), {"data": [1, 2]})]


@pytest.mark.parametrize("args,kwargs", NEW_FORMS)
@pytest.mark.parametrize("dtype", ["float32", "int64"])
def test_new_forms(args, kwargs, dtype):
    x = mg.zeros(2, dtype=getattr(mg, dtype))
    out = x.new(*args, **kwargs)
    assert out.dtype == x.dtype and not out.requires_grad
    if torch is not None:
        want = torch.zeros(2, dtype=getattr(torch, dtype)).new(*args, **kwargs)
        assert tuple(out.shape) == tuple(want.shape)
        if args and isinstance(args[0], (list, tuple)) or kwargs:  # data, not an uninitialized shape
            np.testing.assert_array_equal(out.array, want.numpy())
    if args and all(isinstance(a, int) for a in args):
        assert not out.array.any()  # uninitialized in PyTorch; zeros here, as documented


def test_new_size_truncating_data_and_alias():
    x = mg.zeros(2)
    assert x.new(mg.Size([2, 3])).shape == (2, 3) and x.new(size=(4,)).shape == (4,)
    assert mg.zeros(1, dtype=mg.int64).new([1.7, 2.0]).tolist() == [1, 2]
    y = mg.tensor([1.0, 2.0], requires_grad=True)
    alias = mg.zeros(1).new(y)
    assert alias is not y and np.shares_memory(alias.array, y.array) and alias.requires_grad  # PyTorch's alias
    (alias * 3).sum().backward()
    np.testing.assert_array_equal(y.grad.array, [3.0, 3.0])


@pytest.mark.parametrize("call,error,match", [
    (lambda x: x.new(2.5), TypeError, "data must be a sequence"),
    (lambda x: x.new(True), TypeError, "data must be a sequence"),
    (lambda x: x.new(-1), RuntimeError, "negative dimension -1"),
    (lambda x: x.new(mg.tensor([1, 2])), TypeError, "dtype"),
    (lambda x: x.new([1], [2]), TypeError, "invalid combination"),
])
def test_new_errors(call, error, match):
    with pytest.raises(error, match=match):
        call(mg.zeros(2))


RESIZES = [(2, 2), ((2, 4),), ([3],), ((),), (2, 3)]


@pytest.mark.parametrize("sizes", RESIZES)
def test_resize_keeps_elements_in_order(sizes):
    x = mg.arange(6.0)
    out = x.resize_(*sizes)
    assert out is x
    shape = sizes[0] if len(sizes) == 1 else sizes
    assert tuple(x.shape) == tuple(shape)
    n = min(6, x.numel())
    np.testing.assert_array_equal(x.array.reshape(-1)[:n], np.arange(6.0)[:n])
    np.testing.assert_array_equal(x.array.reshape(-1)[n:], 0.0)  # new elements: zeros (uninitialized in PyTorch)
    if torch is not None:
        t = torch.arange(6.0).resize_(*sizes)
        assert tuple(t.shape) == tuple(x.shape)
        np.testing.assert_array_equal(t.reshape(-1)[:n].numpy(), x.array.reshape(-1)[:n])


def test_resize_shares_memory_when_shrinking_and_resize_as():
    x = mg.arange(6.0)
    view = x[:]
    x.resize_(2, 2)
    x[0, 0] = 9.0
    assert view[0].item() == 9.0  # fewer elements: the same memory, as PyTorch
    y = mg.arange(6.0).reshape(2, 3)
    assert y.resize_(2, 3) is y and y.shape == (2, 3)  # the same size: nothing changes
    z = mg.arange(6.0).resize_as_(mg.ones(2, 1, dtype=mg.int64))
    assert z.shape == (2, 1) and z.tolist() == [[0.0], [1.0]]


@pytest.mark.parametrize("call,error,match", [
    (lambda: mg.ones(2, requires_grad=True).resize_(3), RuntimeError, "cannot resize variables that require grad"),
    (lambda: (mg.ones(2, requires_grad=True) * 2).resize_(2), RuntimeError, "require grad"),
    (lambda: mg.arange(6.0).resize_(-1), RuntimeError, "non-negative"),
    (lambda: mg.arange(6.0).reshape(2, 3).t().resize_(6), RuntimeError, "not contiguous"),
    (lambda: mg.arange(6.0).resize_as_([2, 1]), TypeError, "must be Tensor"),
])
def test_resize_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()


@pytest.mark.parametrize("data,kwargs", [
    ([[0, 1.5], [2, 0]], {"size": 4}), ([[0, 1.5], [2, 0]], {"size": 1}), ([[0, 1.5], [2, 0]], {"size": 0}),
    ([[0, 1.5], [2, 0]], {"size": 3, "fill_value": 7}), (5.0, {"size": 2}), (0.0, {"size": 2}),
    ([True, False, True], {"size": 3}),
])
def test_nonzero_static(data, kwargs):
    out = mg.nonzero_static(mg.tensor(data), **kwargs)
    assert out.dtype == mg.int64 and out.shape[0] == kwargs["size"]
    assert mg.tensor(data).nonzero_static(**kwargs).tolist() == out.tolist()
    if torch is not None:
        want = torch.nonzero_static(torch.tensor(data), **kwargs)
        assert tuple(out.shape) == tuple(want.shape) and out.tolist() == want.tolist()


def test_nonzero_static_errors():
    with pytest.raises(RuntimeError, match="non-negative"):
        mg.nonzero_static(mg.ones(2), size=-1)
    with pytest.raises(TypeError, match="'fill_value' must be int, not float"):
        mg.nonzero_static(mg.ones(2), size=3, fill_value=2.5)
    with pytest.raises(TypeError):
        mg.nonzero_static(mg.ones(2), 3)  # size is keyword-only, as PyTorch


def test_nonzero_static_and_histogram_on_the_test_device(cuda):
    x = mg.tensor([[0.0, 1.5], [2.0, 0.0]]).to(cuda)
    out = mg.nonzero_static(x, size=3)
    assert out.device.type == "cuda" and out.cpu().tolist() == [[0, 1], [1, 0], [-1, -1]]
    hist, edges = mg.histogram(x, 2)
    assert hist.device.type == edges.device.type == "cuda"  # where the input is, as PyTorch
    assert hist.cpu().tolist() == [2.0, 2.0] and edges.cpu().tolist() == [0.0, 1.0, 2.0]
