"""asarray, scalar_tensor, empty_strided, frombuffer, fill, gradient and the small process settings: torch's
semantics (memory sharing, dtypes, errors), finite-difference gradients, and torch's values where it is present."""
from __future__ import annotations

import array
import warnings

import numpy as np
import pytest

import matgrad as mg
from tests.helpers import assert_close, check_op


def _torch():
    return pytest.importorskip("torch")


# --- asarray ------------------------------------------------------------------------------------------------------
def test_asarray_tensor_in():
    x = mg.ones(3)
    assert mg.asarray(x) is x and mg.asarray(x, device="cpu", copy=False) is x
    c = mg.asarray(x, copy=True)
    assert c is not x and not np.shares_memory(c.array, x.array) and c.tolist() == x.tolist()
    d = mg.asarray(x, dtype=mg.float64)
    assert d.dtype == mg.float64 and x.dtype == mg.float32
    with pytest.raises(ValueError, match="can't alias tensor with dtype 'matgrad.float32' into dtype 'matgrad.float64"):
        mg.asarray(x, dtype=mg.float64, copy=False)


def test_asarray_requires_grad_as_torch():
    x = mg.ones(3)
    assert mg.asarray(x, requires_grad=True) is x and x.requires_grad  # set on the leaf itself, as torch
    assert mg.asarray(x, requires_grad=False) is x and not x.requires_grad
    y = mg.ones(3, requires_grad=True) * 2
    with pytest.warns(UserWarning, match="unspecified requires_grad"):
        assert mg.asarray(y) is y
    cut = mg.asarray(y, requires_grad=False)
    assert not cut.requires_grad and np.shares_memory(cut.array, y.array) and y.requires_grad
    fresh = mg.asarray(mg.ones(2), copy=True, requires_grad=True)
    assert fresh.requires_grad and fresh.is_leaf
    with pytest.raises(TypeError, match="floating-point"):
        mg.asarray([1, 2], requires_grad=True)


def test_asarray_conversions_are_differentiable():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        (mg.asarray(x, dtype=mg.float64) * mg.tensor([3.0, 4.0], dtype=mg.float64)).sum().backward()
        (mg.asarray(x, copy=True) * 2).sum().backward()
    assert x.grad.tolist() == [5.0, 6.0]


def test_asarray_numpy_in():
    a = np.arange(4.0)
    t = mg.asarray(a)
    assert t.dtype == mg.float64 and np.shares_memory(t.array, a)
    assert np.shares_memory(mg.asarray(a, copy=False, dtype=mg.float64).array, a)
    assert not np.shares_memory(mg.asarray(a, copy=True).array, a)
    f = mg.asarray(a, dtype=mg.float32)
    assert f.dtype == mg.float32 and not np.shares_memory(f.array, a)
    with pytest.raises(ValueError, match="can't alias"):
        mg.asarray(a, dtype=mg.float32, copy=False)
    strided = np.ones(6, np.float32)[::2]
    assert np.shares_memory(mg.asarray(strided).array, strided)
    assert mg.asarray(a, requires_grad=True).requires_grad
    s = mg.asarray(np.float64(2.0))
    assert s.dtype == mg.float64 and s.shape == ()
    with pytest.raises(RuntimeError, match="can't alias NumPy scalars"):
        mg.asarray(np.float32(1.0), copy=False)


def test_asarray_numbers_sequences_and_buffers():
    assert mg.asarray([1.0, 2.0]).dtype == mg.float32 and mg.asarray([1, 2]).dtype == mg.int64
    assert mg.asarray(3.5).dtype == mg.float32 and mg.asarray(True).dtype == mg.bool_
    assert mg.asarray([1.0, 2.0], dtype=mg.float64).dtype == mg.float64
    assert mg.asarray([mg.tensor(1.0), mg.tensor(2.0)]).tolist() == [1.0, 2.0]
    with pytest.raises(ValueError, match="can't alias arbitrary sequence"):
        mg.asarray([1.0, 2.0], copy=False)
    with pytest.raises(ValueError, match="can't alias arbitrary sequence"):
        mg.asarray(3.0, copy=False)
    buf = bytearray(8)
    t = mg.asarray(buf)
    assert t.dtype == mg.float32 and t.shape == (2,)
    t[0] = 1.0
    assert bytes(buf[:4]) == np.float32(1.0).tobytes()  # shares the buffer's memory
    assert mg.asarray(bytearray(8), dtype=mg.int32).dtype == mg.int32
    assert mg.asarray(array.array("d", [1.0, 2.0])).shape == (4,)  # bytes of the default dtype, as torch


def test_asarray_matches_torch():
    torch = _torch()
    for obj in ([1.0, 2.0], [1, 2], [True, False], 3.5, 7, True, np.arange(3), np.ones(2, np.float32),
                np.float64(2.0), np.int16(3), [[1, 2], [3, 4]]):
        want = torch.asarray(obj)
        got = mg.asarray(obj)
        assert str(got.dtype).removeprefix("matgrad.") == str(want.dtype).removeprefix("torch."), obj
        np.testing.assert_array_equal(got.numpy(), want.numpy())


# --- scalar_tensor -----------------------------------------------------------------------------------------------
def test_scalar_tensor():
    for s in (3, True, 2.5, np.float64(2.0), mg.tensor(2)):
        t = mg.scalar_tensor(s)
        assert t.shape == () and t.dtype == mg.float32 and t.item() == float(s)
    assert mg.scalar_tensor(3, dtype=mg.int64).dtype == mg.int64
    assert mg.scalar_tensor(2.5, dtype=mg.int32).item() == 2
    assert mg.scalar_tensor(s=2).item() == 2.0
    assert mg.scalar_tensor(3, requires_grad=True).requires_grad
    with pytest.raises(TypeError, match="must be Number, not str"):
        mg.scalar_tensor("a")
    with pytest.raises(TypeError, match="must be Number"):
        mg.scalar_tensor(mg.tensor([2]))
    with pytest.raises(RuntimeError, match="without overflow"):
        mg.scalar_tensor(1e300)
    with pytest.raises(OverflowError):
        mg.scalar_tensor(2 ** 70)
    with pytest.raises(TypeError, match="complex"):
        mg.scalar_tensor(1 + 2j)


def test_scalar_tensor_matches_torch():
    torch = _torch()
    for s, dt in ((3, None), (True, None), (2.5, "int32"), (-1, "uint8"), (1e10, "float64"), (0.5, "bool")):
        want = torch.scalar_tensor(s, dtype=None if dt is None else getattr(torch, dt))
        got = mg.scalar_tensor(s, dtype=None if dt is None else np.dtype(dt))
        assert str(got.dtype).removeprefix("matgrad.") == str(want.dtype).removeprefix("torch.")
        assert got.item() == want.item()


# --- empty_strided ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("size,stride", [((2, 3), (3, 1)), ((2, 3), (1, 2)), ((2, 3), (10, 2)),
                                         ((4, 1, 3), (1, 7, 4)), ((5,), (2,)), ((), ())])
def test_empty_strided_keeps_non_overlapping_strides(size, stride):
    t = mg.empty_strided(size, stride)
    assert t.shape == size and t.stride() == stride and t.dtype == mg.float32
    assert not t.array.any()  # zero-filled, like matgrad's empty
    # each element is its own memory: writing one leaves the others
    if t.numel() > 1:
        t.array[(0,) * len(size)] = 5.0
        assert t.array.sum() == 5.0


def test_empty_strided_overlapping_is_contiguous():
    for stride in ((0, 1), (1, 1)):
        t = mg.empty_strided((2, 3), stride)
        assert t.shape == (2, 3) and t.stride() == (3, 1)
    assert mg.empty_strided((0, 3), (1, 2)).shape == (0, 3) and mg.empty_strided((0, 3), (1, 2)).stride() == (1, 2)
    t = mg.empty_strided((2, 3), (1, 2), dtype=mg.float64, requires_grad=True)
    assert t.dtype == mg.float64 and t.requires_grad


def test_empty_strided_errors():
    with pytest.raises(RuntimeError, match=r"dimensionality of sizes \(2\) must match dimensionality of strides"):
        mg.empty_strided((2, 3), (3,))
    with pytest.raises(RuntimeError, match="negative dimension"):
        mg.empty_strided((2, -3), (3, 1))
    with pytest.raises(RuntimeError, match="negative strides"):
        mg.empty_strided((2, 3), (-1, 1))
    with pytest.raises(TypeError, match="floating-point"):
        mg.empty_strided((2, 3), (3, 1), dtype=mg.int64, requires_grad=True)


def test_empty_strided_matches_torch_strides():
    torch = _torch()
    for size, stride in (((2, 3), (1, 2)), ((2, 3), (10, 2)), ((3, 2, 2), (1, 3, 6)), ((0, 3), (1, 2)),
                         ((1, 3), (-1, 1))):
        assert mg.empty_strided(size, stride).stride() == torch.empty_strided(size, stride).stride()


# --- frombuffer ---------------------------------------------------------------------------------------------------
def test_frombuffer_shares_memory():
    b = bytearray(range(16))
    t = mg.frombuffer(b, dtype=mg.int32, count=2, offset=4)
    assert t.tolist() == np.frombuffer(bytes(b), np.int32)[1:3].tolist() and t.dtype == mg.int32
    t[0] = 7
    assert b[4:8] == np.int32(7).tobytes()
    b[8] = 1
    assert t[1].item() == np.frombuffer(bytes(b[8:12]), np.int32)[0]  # and the buffer's writes show in the tensor
    assert mg.frombuffer(b, dtype=mg.uint8).shape == (16,)
    assert mg.frombuffer(b, dtype=mg.int32, count=-5).shape == (4,)
    assert mg.frombuffer(array.array("d", [1.0, 2.0]), dtype=mg.float64).tolist() == [1.0, 2.0]
    assert mg.frombuffer(np.arange(4, dtype=np.int16), dtype=mg.int16).tolist() == [0, 1, 2, 3]
    assert mg.frombuffer(bytearray(8), dtype=mg.float32, requires_grad=True).requires_grad


def test_frombuffer_read_only_warns():
    with pytest.warns(UserWarning, match="not writable"):
        t = mg.frombuffer(bytes(8), dtype=mg.uint8)
    assert t.tolist() == [0] * 8


def test_frombuffer_errors_as_torch():
    b = bytearray(16)
    cases = [
        (dict(dtype=mg.int32, offset=3), ValueError, r"buffer length \(13 bytes\) after offset \(3 bytes\) must be a "
                                                     r"multiple of element size \(4\)"),
        (dict(dtype=mg.int32, count=5), ValueError, r"requested buffer length \(5 \* 4 bytes\) after offset"),
        (dict(dtype=mg.int32, offset=16), ValueError, r"offset \(16 bytes\) must be non-negative"),
        (dict(dtype=mg.int32, offset=-1), ValueError, r"offset \(-1 bytes\) must be non-negative"),
        (dict(dtype=mg.int32, count=0), ValueError, r"both buffer length \(16\) and count \(0\) must not be 0"),
    ]
    for kwargs, error, message in cases:
        with pytest.raises(error, match=message):
            mg.frombuffer(b, **kwargs)
    with pytest.raises(ValueError, match="both buffer length"):
        mg.frombuffer(bytearray(), dtype=mg.int32)
    with pytest.raises(ValueError, match="buffer protocol"):
        mg.frombuffer([1, 2], dtype=mg.int16)
    with pytest.raises(RuntimeError, match="could not retrieve buffer"):
        mg.frombuffer(memoryview(b)[::2], dtype=mg.uint8)
    with pytest.raises(TypeError):
        mg.frombuffer(b)  # dtype is required, as in torch
    with pytest.raises(TypeError, match="floating-point"):
        mg.frombuffer(b, dtype=mg.int32, requires_grad=True)


def test_frombuffer_matches_torch():
    torch = _torch()
    b = bytearray(np.random.default_rng(0).integers(0, 256, 24, dtype=np.uint8).tobytes())
    for dt, count, offset in (("int32", -1, 0), ("float32", 3, 4), ("int16", -1, 2), ("float64", 2, 8)):
        want = torch.frombuffer(bytearray(b), dtype=getattr(torch, dt), count=count, offset=offset).numpy()
        got = mg.frombuffer(b, dtype=np.dtype(dt), count=count, offset=offset).numpy()
        np.testing.assert_array_equal(got, want)


# --- fill ---------------------------------------------------------------------------------------------------------
def test_fill_values_and_dtypes():
    x = mg.arange(6.0).reshape(2, 3)
    out = mg.fill(x, 2)
    assert out.tolist() == [[2.0] * 3] * 2 and out.dtype == mg.float32 and x[0, 0].item() == 0.0
    assert mg.fill(mg.arange(3), 2.7).tolist() == [2, 2, 2] and mg.fill(mg.arange(3), 2.7).dtype == mg.int64
    assert mg.fill(mg.arange(3), mg.tensor(2.7)).tolist() == [2, 2, 2]
    assert mg.fill(x, mg.tensor(3.0, dtype=mg.float64)).dtype == mg.float32
    assert mg.fill(mg.ones(2, dtype=mg.uint8), -1).tolist() == [255, 255]
    assert mg.fill(mg.ones(2, dtype=mg.bool_), 0.5).tolist() == [True, True]
    assert mg.fill(x, value=float("nan")).isnan().all()
    with pytest.raises(RuntimeError, match="only supports 0-dimension value tensor"):
        mg.fill(x, mg.tensor([1.0, 2.0]))
    with pytest.raises(TypeError, match="must be Tensor"):
        mg.fill(2, 3)


def test_fill_overflow_matches_torch():
    torch = _torch()
    cases = [("uint8", v) for v in (-1, -200, -255, -256, 255, 256, -1.0, 0.5, -0.5, 255.9, 256.0)]
    cases += [("int8", v) for v in (127, 128, -129, -128, 127.9, 128.0, -128.9, float("inf"), float("nan"))]
    cases += [("float16", v) for v in (70000, 65504, float("inf"))]
    cases += [("float32", v) for v in (3.5e38, 1e38, float("inf"), float("nan"))]
    cases += [("int64", v) for v in (2 ** 63, -2 ** 63, 9.2e18)] + [("bool", 2), ("int32", 2 ** 40)]
    for dt, v in cases:
        try:
            want = torch.fill(torch.ones(1, dtype=getattr(torch, dt)), v).numpy()
        except RuntimeError:
            with pytest.raises(RuntimeError, match="without overflow"):
                mg.fill(mg.ones(1, dtype=np.dtype(dt)), v)
            continue
        np.testing.assert_array_equal(mg.fill(mg.ones(1, dtype=np.dtype(dt)), v).numpy(), want, err_msg=f"{dt} {v}")


def test_fill_gradients():
    x = mg.ones(2, 3, requires_grad=True)
    v = mg.tensor(3.0, requires_grad=True)
    out = mg.fill(x, v)
    assert out.requires_grad
    (out * mg.arange(6.0).reshape(2, 3)).sum().backward()
    assert v.grad.item() == 15.0 and not x.grad.array.any()
    assert mg.fill(mg.ones(2, requires_grad=True), 2).requires_grad
    try:
        import torch
    except ImportError:
        torch = None
    check_op(mg.fill, (2, 3), (), torch_fn=None if torch is None else torch.fill, use_torch=torch is not None)


# --- gradient -----------------------------------------------------------------------------------------------------
COORDS = np.array([0.0, 0.7, 1.5, 3.1, 3.6, 5.0])


def _check_gradient(*shapes, **kwargs):
    """check_op on gradient(x, **kwargs); array inputs after x are the coordinates, spacing=[those]."""
    torch = None
    try:
        import torch
    except ImportError:
        pass

    def run(lib, x, *coords):
        extra = {"spacing": list(coords)} if coords else {}
        return lib.gradient(x, **kwargs, **extra)

    check_op(lambda *xs: run(mg, *xs), *shapes, torch_fn=lambda *xs: run(torch, *xs), use_torch=torch is not None)


@pytest.mark.parametrize("edge_order", [1, 2])
def test_gradient_uniform_spacing(edge_order):
    for spacing in (1, 0.5, 3):
        _check_gradient((5,), spacing=spacing, edge_order=edge_order)
        _check_gradient((4, 3, 5), spacing=spacing, edge_order=edge_order)
    _check_gradient((3, 4), spacing=[2.0, 0.5], edge_order=edge_order)
    _check_gradient((3, 4), spacing=[0.25], dim=1, edge_order=edge_order)
    _check_gradient((3, 4, 5), dim=(2, 0), edge_order=edge_order)
    _check_gradient((3, 4), dim=-1, spacing=2.0, edge_order=edge_order)


@pytest.mark.parametrize("edge_order", [1, 2])
def test_gradient_coordinates(edge_order):
    # uneven coordinates are an input too: torch's gradient reaches them, and so must ours
    _check_gradient((6,), COORDS, edge_order=edge_order)
    _check_gradient((3, 6, 2), COORDS, dim=1, edge_order=edge_order)
    _check_gradient((6, 3), COORDS, np.array([0.0, 1.0, 2.5]), edge_order=edge_order)
    _check_gradient((2, 6, 3), np.array([0.0, 1.0, 2.5]), COORDS, dim=(2, 1), edge_order=edge_order)


def test_gradient_is_exact_on_quadratics():
    # the three-point formulas are exact for quadratics: inside for both edge orders, at the ends for edge_order=2
    c = mg.tensor(COORDS, dtype=mg.float64)
    y = 3 * c * c - 2 * c + 1
    (g,) = mg.gradient(y, spacing=[c], edge_order=2)
    assert_close(g.numpy(), 6 * COORDS - 2, rtol=1e-12)
    (g,) = mg.gradient(y, spacing=[c])
    assert_close(g.numpy()[1:-1], 6 * COORDS[1:-1] - 2, rtol=1e-12)
    (u,) = mg.gradient(mg.arange(5.0, dtype=mg.float64) ** 2, spacing=1.0)
    assert u.tolist() == [1.0, 2.0, 4.0, 6.0, 7.0]


def test_gradient_dtypes_and_shapes():
    assert mg.gradient(mg.tensor([1, 4, 9]))[0].dtype == mg.float32  # integers divide into the default float
    assert mg.gradient(mg.tensor([1.0, 4.0, 9.0], dtype=mg.float16))[0].dtype == mg.float16
    coords64 = mg.tensor([0.0, 1.0, 3.0], dtype=mg.float64)
    assert mg.gradient(mg.tensor([1.0, 4.0, 9.0]), spacing=[coords64])[0].dtype == mg.float64
    assert mg.gradient(mg.tensor(3.0)) == ()
    assert mg.gradient(mg.tensor([1.0, 2.0]))[0].tolist() == [1.0, 1.0]
    out = mg.gradient(mg.ones(3, 4))
    assert isinstance(out, tuple) and len(out) == 2 and all(o.shape == (3, 4) for o in out)
    assert mg.gradient(mg.tensor([1.0, 4.0, 9.0]), spacing=mg.tensor(2.0))[0].tolist() == [1.5, 2.0, 2.5]


def test_gradient_errors():
    x, y = mg.tensor([1.0, 4.0, 9.0, 16.0]), mg.ones(3, 4)
    with pytest.raises(RuntimeError, match="only supports edge_order=1 and edge_order=2"):
        mg.gradient(x, edge_order=3)
    with pytest.raises(RuntimeError, match="at least edge_order\\+1"):
        mg.gradient(mg.tensor([1.0, 2.0]), edge_order=2)
    with pytest.raises(RuntimeError, match="at least edge_order\\+1"):
        mg.gradient(mg.zeros(3, 0))
    with pytest.raises(RuntimeError, match="does not support uint8"):
        mg.gradient(mg.ones(3, dtype=mg.uint8))
    with pytest.raises(RuntimeError, match="bool"):
        mg.gradient(mg.ones(3, dtype=mg.bool_))
    with pytest.raises(RuntimeError, match="list of length equal to 'self.dim\\(\\) = 2'"):
        mg.gradient(y, spacing=[1.0])
    with pytest.raises(RuntimeError, match="spacing argument of length 2 and a dim argument of length 1"):
        mg.gradient(y, spacing=[1.0, 2.0], dim=0)
    with pytest.raises(RuntimeError, match="dim 1 appears multiple times"):
        mg.gradient(y, dim=(1, 1))
    with pytest.raises(IndexError, match="Dimension out of range"):
        mg.gradient(x, dim=1)
    with pytest.raises(RuntimeError, match="to have one dimension, but got an element with 0 dimensions"):
        mg.gradient(x, spacing=[mg.tensor(2.0)])
    with pytest.raises(RuntimeError, match="one coordinate per sample"):
        mg.gradient(x, spacing=[mg.tensor([0.0, 1.0, 3.0])])
    with pytest.raises(TypeError, match="spacing"):
        mg.gradient(x, spacing=mg.tensor([0.0, 1.0, 3.0, 4.0]))
    with pytest.raises(TypeError, match="spacing"):
        mg.gradient(x, spacing=[1, mg.tensor([1.0, 2.0])])


def test_gradient_integer_inputs_match_torch():
    torch = _torch()
    for kwargs in ({}, {"spacing": 2}, {"spacing": 2.5}, {"edge_order": 2}):
        want = torch.gradient(torch.tensor([1, 4, 9, 20]), **kwargs)[0]
        got = mg.gradient(mg.tensor([1, 4, 9, 20]), **kwargs)[0]
        assert str(got.dtype).removeprefix("matgrad.") == str(want.dtype).removeprefix("torch.")
        assert_close(got.numpy(), want.numpy(), rtol=1e-6)
    want = torch.gradient(torch.tensor([1, 4, 9, 20]), spacing=[torch.tensor([0, 1, 3, 4])], edge_order=2)[0]
    got = mg.gradient(mg.tensor([1, 4, 9, 20]), spacing=[mg.tensor([0, 1, 3, 4])], edge_order=2)[0]
    assert got.dtype == mg.float32
    assert_close(got.numpy(), want.numpy(), rtol=1e-6)


def test_gradient_float32_matches_torch():
    torch = _torch()
    x = np.random.default_rng(3).standard_normal((4, 6)).astype(np.float32)
    for kwargs in ({}, {"edge_order": 2}, {"dim": 1, "spacing": [COORDS]}, {"dim": 1, "spacing": [COORDS],
                                                                             "edge_order": 2}):
        t_kwargs = dict(kwargs)
        m_kwargs = dict(kwargs)
        if "spacing" in kwargs:
            t_kwargs["spacing"] = [torch.tensor(COORDS, dtype=torch.float32)]
            m_kwargs["spacing"] = [mg.tensor(COORDS, dtype=mg.float32)]
        want = torch.gradient(torch.tensor(x), **t_kwargs)
        got = mg.gradient(mg.tensor(x), **m_kwargs)
        assert len(got) == len(want)
        for g, t in zip(got, want):
            assert g.dtype == mg.float32
            assert_close(g.numpy(), t.numpy(), rtol=1e-5, scale=float(np.abs(x).max()) / 0.5)


# --- facts and settings -------------------------------------------------------------------------------------------
def test_typename_and_is_storage():
    assert mg.typename(mg.ones(2)) == "torch.FloatTensor"
    assert mg.typename(mg.ones(2, dtype=mg.int64)) == "torch.LongTensor"
    assert mg.typename(mg.ones(2, dtype=mg.bool_)) == "torch.BoolTensor"
    assert mg.typename(mg.ones(2, dtype=mg.float64)) == "torch.DoubleTensor"
    assert mg.typename(3) == "int" and mg.typename(np.ones(2)) == "numpy.ndarray"
    assert mg.typename(mg.nn.Linear) == mg.typename(mg.nn.Linear(2, 2)) == "matgrad.nn.linear.Linear"
    assert not mg.is_storage(mg.ones(2)) and not mg.is_storage([1, 2])


def test_typename_matches_torch_for_tensors():
    torch = _torch()
    for name in ("float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool"):
        want = torch.typename(torch.zeros(2, dtype=getattr(torch, name)))
        assert mg.typename(mg.zeros(2, dtype=np.dtype(name))) == want


def test_warn_always_flag():
    assert mg.is_warn_always_enabled() is False
    mg.set_warn_always(True)
    try:
        assert mg.is_warn_always_enabled() is True
    finally:
        mg.set_warn_always(False)
    with pytest.raises(RuntimeError, match="expects a bool"):
        mg.set_warn_always(1)


def test_interop_threads_and_flush_denormal():
    before = mg.get_num_interop_threads()
    assert before >= 1
    try:
        mg.set_num_interop_threads(3)
        assert mg.get_num_interop_threads() == 3
    finally:
        mg.set_num_interop_threads(before)
    for bad in (0, -1):
        with pytest.raises(RuntimeError, match="expects a positive integer"):
            mg.set_num_interop_threads(bad)
    with pytest.raises(RuntimeError, match="expects an int, but got float"):
        mg.set_num_interop_threads(2.0)
    # set_flush_denormal itself: tests/test_denormal.py


# --- on the test device -------------------------------------------------------------------------------------------
def test_on_the_test_device(cuda):
    x = mg.ones(3, device="cuda")
    assert mg.asarray(x) is x and mg.asarray(x, device="cuda") is x
    assert mg.asarray(np.ones(2), device="cuda").device.type == "cuda"
    assert mg.scalar_tensor(2, device="cuda").device.type == "cuda"
    assert mg.empty_strided((2, 3), (1, 2), device="cuda").device.type == "cuda"
    f = mg.fill(x, 2.0)
    assert f.device.type == "cuda" and f.cpu().tolist() == [2.0] * 3
    g = mg.gradient(mg.tensor([1.0, 4.0, 9.0], device="cuda"))[0]
    assert g.device.type == "cuda" and g.cpu().tolist() == [3.0, 4.0, 5.0]
