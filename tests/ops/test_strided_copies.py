"""as_strided / as_strided_copy / as_strided_scatter, diagonal_scatter, PyTorch's *_copy functions, angle and
conj_physical: values and gradients against finite differences (float64) and PyTorch (where installed), and the
errors for what matgrad refuses (non-contiguous input to as_strided, reads outside the tensor)."""
from __future__ import annotations

import inspect

import numpy as np
import pytest

import matgrad as mg
from tests.helpers import assert_close, check_op, compare_torch, make_inputs

try:
    import torch
except ImportError:
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="compares with PyTorch")


# --- as_strided ---------------------------------------------------------------------------------------------
STRIDED = [  # (input shape, size, stride, storage_offset)
    ((10,), (3, 3), (1, 1), None),  # overlapping windows: the gradient adds up
    ((10,), (3, 3), (1, 1), 2),
    ((3, 4), (2, 2), (4, 1), 5),
    ((3, 4), (4, 3), (1, 4), None),  # the transpose, read through strides
    ((2, 3, 2), (3, 2), (0, 2), 1),  # stride 0: every row the same elements
    ((6,), (), (), 3),  # one element, 0-d
    ((6,), (0, 3), (100, 1), None),  # nothing read: any stride
]


@pytest.mark.parametrize("shape,size,stride,offset", STRIDED)
def test_as_strided_gradcheck_and_torch(shape, size, stride, offset):
    fn = lambda x: mg.as_strided(x, size, stride, offset)  # noqa: E731
    tfn = lambda x: torch.as_strided(x, size, stride, offset)  # noqa: E731
    check_op(fn, shape, torch_fn=tfn, second=True)
    check_op(lambda x: x.as_strided(size, stride, offset), shape, torch_fn=lambda x: x.as_strided(size, stride, offset),
             second=False)


def test_as_strided_overlapping_windows_accumulate_gradient():
    x = mg.arange(5.0, dtype=mg.float64).requires_grad_()
    mg.as_strided(x, (3, 3), (1, 1)).sum().backward()
    np.testing.assert_array_equal(x.grad.array, [1.0, 2.0, 3.0, 2.0, 1.0])  # how many windows read each element


def test_as_strided_is_a_copy_and_keeps_dtype():
    x = mg.arange(6)
    y = mg.as_strided(x, (2, 2), (1, 2))
    np.testing.assert_array_equal(y.array, [[0, 2], [1, 3]])
    assert y.dtype == mg.int64
    y[0, 0] = 9  # matgrad's as_strided copies (PyTorch's is a view): the input stays
    assert x[0].item() == 0
    z = mg.as_strided_copy(x, (2,), (3,), 1)
    np.testing.assert_array_equal(z.array, [1, 4])


def test_as_strided_storage_offset_of_a_view_counts_from_its_base():
    base = mg.arange(10.0)
    v = base[2:]  # a contiguous view at storage offset 2, as in PyTorch
    assert v.storage_offset() == 2
    np.testing.assert_array_equal(mg.as_strided(v, (3,), (1,)).array, [2.0, 3.0, 4.0])  # default: v's own offset
    np.testing.assert_array_equal(mg.as_strided(v, (3,), (1,), 4).array, [4.0, 5.0, 6.0])
    if torch is not None:
        tv = torch.arange(10.0)[2:]
        np.testing.assert_array_equal(torch.as_strided(tv, (3,), (1,), 4).numpy(), [4.0, 5.0, 6.0])
    with pytest.raises(RuntimeError, match="outside its 8 elements"):
        mg.as_strided(v, (3,), (1,), 0)  # before v's first element: PyTorch would read the base


@pytest.mark.parametrize("args,match", [
    (((3, 3), (1, 1), 9), "outside its 10 elements"),
    (((3, 3), (-1, 1), 2), "Negative strides are not supported"),
    (((3, 3), (1,)), "mismatch in length of strides and shape"),
    (((3, 3), (1, 1), -1), "invalid storage offset -1"),
    (((-1,), (1,), 3), "sizes must be non-negative"),
])
def test_as_strided_errors(args, match):
    with pytest.raises(RuntimeError, match=match):
        mg.as_strided(mg.arange(10.0), *args)
    if torch is not None:  # PyTorch refuses the same calls
        with pytest.raises(RuntimeError):
            torch.as_strided(torch.arange(10.0), *args)


def test_as_strided_refuses_non_contiguous_input():
    x = mg.arange(6.0).reshape(2, 3).t()
    assert not x.is_contiguous()
    with pytest.raises(RuntimeError, match="contiguous"):
        mg.as_strided(x, (6,), (1,))
    with pytest.raises(RuntimeError, match="contiguous"):
        mg.as_strided_scatter(x, mg.ones(3), (3,), (1,))
    # the documented way out reads the elements in row-major order
    np.testing.assert_array_equal(mg.as_strided(x.contiguous(), (6,), (1,)).array, [0.0, 3.0, 1.0, 4.0, 2.0, 5.0])


# --- as_strided_scatter ----------------------------------------------------------------------------------------
SCATTERS = [  # (input shape, size, stride, storage_offset)
    ((6,), (2, 2), (1, 2), 1),
    ((6,), (2,), (2,), 1),
    ((3, 4), (2, 3), (4, 1), 1),
    ((3, 4), (4,), (3,), None),
]


@pytest.mark.parametrize("shape,size,stride,offset", SCATTERS)
def test_as_strided_scatter_gradcheck_and_torch_values(shape, size, stride, offset):
    fn = lambda x, s: mg.as_strided_scatter(x, s, size, stride, offset)  # noqa: E731
    check_op(fn, shape, size, use_torch=False)
    x, s = make_inputs([shape, size], seed=3)
    got = fn(mg.tensor(x), mg.tensor(s))
    assert got.shape == shape
    if torch is not None:
        want = torch.as_strided_scatter(torch.tensor(x), torch.tensor(s), size, stride, offset)
        np.testing.assert_array_equal(got.array, want.numpy())
        # src's gradient is PyTorch's (dy gathered where each element went); input's is not, see the next test
        ms, ts = mg.tensor(s, requires_grad=True), torch.tensor(s, requires_grad=True)
        g = np.random.default_rng(1).standard_normal(shape)
        mg.as_strided_scatter(mg.tensor(x), ms, size, stride, offset).backward(mg.tensor(g))
        torch.as_strided_scatter(torch.tensor(x), ts, size, stride, offset).backward(torch.tensor(g))
        np.testing.assert_allclose(ms.grad.array, ts.grad.numpy(), rtol=1e-12)


def test_as_strided_scatter_input_gradient_is_zero_where_written():
    x = mg.zeros(6, dtype=mg.float64, requires_grad=True)
    s = mg.ones(2, 2, dtype=mg.float64, requires_grad=True)
    out = mg.as_strided_scatter(x, s, (2, 2), (1, 2), 1)
    np.testing.assert_array_equal(out.array, [0, 1, 1, 1, 1, 0])
    out.backward(mg.arange(10.0, 16.0, dtype=mg.float64))
    # the written places 1..4 no longer depend on x (finite differences agree, see the gradcheck above);
    # PyTorch 2.13's backward gives x the gradient at exactly those places instead: [0, 11, 12, 13, 14, 0]
    np.testing.assert_array_equal(x.grad.array, [10.0, 0, 0, 0, 0, 15.0])
    np.testing.assert_array_equal(s.grad.array, [[11.0, 13.0], [12.0, 14.0]])


def test_as_strided_scatter_overlap_last_writer_wins():
    x = mg.zeros(6, dtype=mg.float64, requires_grad=True)
    s = mg.arange(1.0, 7.0, dtype=mg.float64).reshape(3, 2).requires_grad_()
    fn = lambda x, s: mg.as_strided_scatter(x, s, (3, 2), (1, 1))  # noqa: E731
    out = fn(x, s)
    np.testing.assert_array_equal(out.array, [1.0, 3.0, 5.0, 6.0, 0.0, 0.0])
    if torch is not None:
        want = torch.as_strided_scatter(torch.zeros(6, dtype=torch.float64), torch.arange(1.0, 7.0).view(3, 2).double(),
                                        (3, 2), (1, 1))
        np.testing.assert_array_equal(out.array, want.numpy())
    out.backward(mg.arange(10.0, 16.0, dtype=mg.float64))
    # s[0, 1] and s[1, 1] were written over, so they get nothing (PyTorch gives them their place's gradient)
    np.testing.assert_array_equal(s.grad.array, [[10.0, 0.0], [11.0, 0.0], [12.0, 13.0]])
    xs = [mg.tensor(a, requires_grad=True) for a in make_inputs([(6,), (3, 2)], seed=5)]
    assert mg.gradcheck(fn, xs)


def test_as_strided_scatter_errors_and_casting():
    with pytest.raises(RuntimeError, match=r"src size = \[2, 2\], slice size = \[3, 2\]"):
        mg.as_strided_scatter(mg.zeros(6), mg.ones(2, 2), (3, 2), (1, 1))
    with pytest.raises(TypeError, match="must be Tensor, not float"):
        mg.as_strided_scatter(mg.zeros(6), 1.0, (3,), (1,))
    out = mg.as_strided_scatter(mg.zeros(3, dtype=mg.int64), mg.ones(3) * 1.7, (3,), (1,))
    assert out.dtype == mg.int64 and out.tolist() == [1, 1, 1]  # cast to input's dtype, as PyTorch
    assert mg.zeros(4).as_strided_scatter(mg.ones(2), (2,), (2,)).tolist() == [1.0, 0.0, 1.0, 0.0]


# --- diagonal_scatter ------------------------------------------------------------------------------------------
DIAGONALS = [  # (input shape, src shape, offset, dim1, dim2)
    ((3, 4), (3,), 0, 0, 1),
    ((3, 4), (3,), 1, 0, 1),
    ((3, 4), (2,), -1, 0, 1),
    ((4, 3), (3,), 0, 1, 0),
    ((2, 3, 4), (4, 2), 0, 0, 1),
    ((2, 3, 4), (2, 3), 0, 1, 2),
    ((2, 3, 4), (3, 1), 1, -1, 0),
    ((2, 3, 4), (3, 2), -1, -1, 0),
]


@pytest.mark.parametrize("shape,src,offset,d1,d2", DIAGONALS)
def test_diagonal_scatter_gradcheck_and_torch(shape, src, offset, d1, d2):
    check_op(lambda x, s: mg.diagonal_scatter(x, s, offset, d1, d2), shape, src,
             torch_fn=lambda x, s: torch.diagonal_scatter(x, s, offset, d1, d2))
    check_op(lambda x, s: x.diagonal_scatter(s, offset, dim1=d1, dim2=d2), shape, src,
             torch_fn=lambda x, s: x.diagonal_scatter(s, offset, dim1=d1, dim2=d2), second=False)


def test_diagonal_scatter_writes_where_diagonal_reads():
    x, s = mg.zeros(3, 4), mg.tensor([7.0, 8.0, 9.0])
    out = mg.diagonal_scatter(x, s, 1)
    np.testing.assert_array_equal(out.diagonal(1).array, s.array)
    assert out.sum().item() == 24.0 and x.sum().item() == 0.0  # a copy
    assert mg.diagonal_scatter(x, mg.ones(0), 5).sum().item() == 0.0  # an empty diagonal
    cast = mg.diagonal_scatter(mg.zeros(3, 3, dtype=mg.int64), mg.ones(3) * 1.7)
    assert cast.dtype == mg.int64 and cast.diagonal().tolist() == [1, 1, 1]


@pytest.mark.parametrize("call,error,match", [
    (lambda: mg.diagonal_scatter(mg.zeros(3, 4), mg.ones(2)), RuntimeError, r"src size = \[2\], slice size = \[3\]"),
    (lambda: mg.diagonal_scatter(mg.zeros(3, 4), mg.ones(3), 0, 0, 0), RuntimeError, "cannot be identical"),
    (lambda: mg.diagonal_scatter(mg.zeros(3), mg.ones(3)), IndexError, "out of range"),
    (lambda: mg.diagonal_scatter(mg.zeros(3, 4), mg.ones(3), dim1=3), IndexError, "out of range"),
    (lambda: mg.diagonal_scatter(mg.zeros(3, 4), 1.0), TypeError, "must be Tensor"),
])
def test_diagonal_scatter_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()


# --- the *_copy functions ---------------------------------------------------------------------------------------
COPIES = [  # (name, input shape, arguments, keyword arguments)
    ("alias_copy", (2, 3), (), {}),
    ("as_strided_copy", (2, 3), ((2, 2), (1, 2), 1), {}),
    ("diagonal_copy", (3, 4), (1,), {}),
    ("diagonal_copy", (2, 3, 4), (0, 2, 0), {}),
    ("expand_copy", (3, 1), ((2, 3, 4),), {}),
    ("expand_copy", (3, 1), ((-1, 5),), {"implicit": False}),
    ("permute_copy", (2, 3, 4), ((2, 0, 1),), {}),
    ("select_copy", (2, 3, 4), (1, -1), {}),
    ("slice_copy", (4, 6), (), {}),
    ("slice_copy", (4, 6), (1, 1, None, 2), {}),
    ("slice_copy", (4, 6), (), {"dim": 1, "start": -5, "end": 100}),
    ("slice_copy", (4, 6), (0, 3, 1), {}),
    ("split_copy", (5, 2), (2,), {}),
    ("split_copy", (2, 5), (), {"split_size": 3, "dim": 1}),
    ("split_with_sizes_copy", (2, 5), ((1, 4), 1), {}),
    ("squeeze_copy", (2, 1, 3, 1), (), {}),
    ("squeeze_copy", (2, 1, 3, 1), (1,), {}),
    ("squeeze_copy", (2, 1, 3, 1), (), {"dim": (1, 3)}),
    ("t_copy", (2, 3), (), {}),
    ("t_copy", (3,), (), {}),
    ("transpose_copy", (2, 3, 4), (0, 2), {}),
    ("unbind_copy", (2, 3), (), {}),
    ("unbind_copy", (2, 3), (), {"dim": -1}),
    ("unfold_copy", (2, 7), (1, 3, 2), {}),
    ("unsqueeze_copy", (2, 3), (-1,), {}),
    ("view_copy", (2, 3), ((3, 2),), {}),
    ("view_copy", (2, 3), ((-1,),), {}),
]


@pytest.mark.parametrize("name,shape,args,kwargs", COPIES)
def test_copies_match_the_view_and_torch(name, shape, args, kwargs):
    fn = getattr(mg, name)
    check_op(lambda x: fn(x, *args, **kwargs), shape, second=False,
             torch_fn=lambda x: getattr(torch, name)(x, *args, **kwargs))
    x = mg.tensor(make_inputs([shape])[0])
    outs = fn(x, *args, **kwargs)
    for out in outs if isinstance(outs, tuple) else (outs,):
        assert out.is_contiguous()
        assert not np.shares_memory(out.array, x.array)  # freshly created, unlike the view


@needs_torch
@pytest.mark.parametrize("name", sorted({c[0] for c in COPIES} | {"detach_copy"}))
def test_copies_have_torchs_argument_names(name):
    params = list(inspect.signature(getattr(mg, name)).parameters)
    assert params[0] == "input"
    op = getattr(torch.ops.aten, name)
    schemas = [getattr(op, o)._schema for o in op.overloads() if "out" not in o]
    want = [a.name for a in max(schemas, key=lambda sc: len(sc.arguments)).arguments]  # the fullest form
    assert params[1:] == want[1:len(params)]


def test_detach_copy_and_view_copy_dtype():
    x = mg.tensor([1.0, 2.0], requires_grad=True) * 2
    d = mg.detach_copy(x)
    assert not d.requires_grad and d.tolist() == [2.0, 4.0] and not np.shares_memory(d.array, x.array)
    bits = mg.view_copy(mg.tensor([1.0, 2.0, 3.0, 4.0]), mg.int32)
    np.testing.assert_array_equal(bits.array, np.array([1.0, 2.0, 3.0, 4.0], np.float32).view(np.int32))
    assert mg.view_copy(mg.ones(2, 4), mg.float64).shape == (2, 2)
    assert mg.view_copy(mg.ones(2, 4, dtype=mg.float64), mg.int16).shape == (2, 16)
    if torch is not None:
        np.testing.assert_array_equal(bits.array, torch.view_copy(torch.tensor([1.0, 2.0, 3.0, 4.0]), torch.int32))
    with pytest.raises(RuntimeError, match="divisible by 2 to view Float as Double"):
        mg.view_copy(mg.ones(2, 3), mg.float64)
    with pytest.raises(RuntimeError, match="cannot be 0 to view Float as Double"):
        mg.view_copy(mg.tensor(1.0), mg.float64)


@pytest.mark.parametrize("call,error,match", [
    (lambda: mg.slice_copy(mg.tensor(3.0)), IndexError, "0-dim"),
    (lambda: mg.slice_copy(mg.ones(3), 0, 0, 3, 0), RuntimeError, "slice step must be positive"),
    (lambda: mg.slice_copy(mg.ones(3), 5), IndexError, "out of range"),
    (lambda: mg.split_copy(mg.ones(3), [1, 2]), TypeError, "must be int"),
    (lambda: mg.split_copy(mg.ones(3), 0), RuntimeError, "split_size can only be 0"),
    (lambda: mg.split_copy(mg.ones(3), -1), RuntimeError, "non-negative"),
    (lambda: mg.unbind_copy(mg.tensor(1.0)), IndexError, "no dimensions"),
    (lambda: mg.unbind_copy(mg.ones(2, 3), 3), IndexError, "out of range"),
])
def test_copy_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()


# --- angle, conj_physical ------------------------------------------------------------------------------------
def test_angle_values_dtypes_and_zero_gradient():
    x = mg.tensor([-1.0, 0.0, 2.0, float("nan"), -0.0, float("-inf")])
    got = mg.angle(x)
    np.testing.assert_array_equal(got.array, np.array([np.pi, 0, 0, np.nan, 0, np.pi], np.float32))
    assert mg.angle(mg.tensor([-1, 0, 2])).dtype == mg.float32  # integers: the default float dtype
    assert mg.angle(mg.tensor([True, False])).tolist() == [0.0, 0.0]
    assert mg.tensor([-1.0], dtype=mg.float64).angle().dtype == mg.float64
    if torch is not None:
        for data in ([-1.0, 0.0, 2.0, float("nan"), float("-inf")], [-3, 0, 5]):
            np.testing.assert_array_equal(mg.angle(mg.tensor(data)).array, torch.angle(torch.tensor(data)).numpy())
    compare_torch(lambda a: mg.angle(a) + a, make_inputs([(3, 4)])[0:1], torch_fn=lambda a: torch.angle(a) + a)
    a = mg.tensor([-1.0, 3.0], dtype=mg.float64, requires_grad=True)
    mg.angle(a).sum().backward()
    np.testing.assert_array_equal(a.grad.array, [0.0, 0.0])  # piecewise constant: PyTorch's zeros for real input


def test_conj_physical_is_the_real_tensor_itself():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    assert mg.conj_physical(x) is x and x.conj_physical() is x  # as PyTorch for a real tensor
    y = mg.tensor([1, 2])
    assert mg.conj_physical_(y) is y and y.conj_physical_() is y
    assert_close(mg.conj_physical(mg.arange(3.0)).array, [0.0, 1.0, 2.0], rtol=0)


def test_on_the_test_device(cuda):
    """Each op runs where its input is (matgrad's CuPy-like test device) and agrees with the CPU, gradient too."""
    x = mg.arange(12.0, dtype=mg.float64).reshape(3, 4).to(cuda).requires_grad_()
    checks = {
        "as_strided": lambda t: mg.as_strided(t[1:], (3, 3), (1, 1)),
        "as_strided_scatter": lambda t: mg.as_strided_scatter(t, (t[0, :2] * 2).reshape(2, 1), (2, 1), (3, 1)),
        "diagonal_scatter": lambda t: mg.diagonal_scatter(t, t[0, :3] * 3),
        "angle": lambda t: mg.angle(t - 5) + t,
        "slice_copy": lambda t: mg.slice_copy(t, 1, 1, None, 2),
        "unbind_copy": lambda t: mg.unbind_copy(t)[1],
        "expand_copy": lambda t: mg.expand_copy(t[:1], (2, 3, 4)),
    }
    for name, f in checks.items():
        xc = x.detach().cpu().requires_grad_()
        a, b = f(x), f(xc)
        assert a.device.type == "cuda", name
        np.testing.assert_array_equal(a.cpu().array, b.array, err_msg=name)
        g = np.random.default_rng(0).standard_normal(a.shape)
        a.backward(mg.tensor(g).to(cuda))
        b.backward(mg.tensor(g))
        np.testing.assert_allclose(x.grad.cpu().array, xc.grad.array, rtol=1e-12, err_msg=name)
        x.grad = None
