"""DLPack: torch ↔ matgrad without copies (a write through one is read through the other), over the dtypes,
0-d and strided views; torch's rules (no export of a tensor that requires grad, a capsule consumed once, no
device/copy with a capsule, streams on the CPU) with torch's messages; the legacy capsules both ways; what
matgrad refuses (complex, bfloat16, backwards strides); and device= / copy= on the CuPy-like test device."""
from __future__ import annotations

import numpy as np
import pytest

import matgrad as mg
from matgrad.utils import dlpack

torch = pytest.importorskip("torch")

DTYPES = ["float32", "float64", "int64", "bool", "uint8"]


def _values(dtype, shape=(3, 4)):
    a = np.arange(int(np.prod(shape))).reshape(shape) % 7
    return (a > 2) if dtype == "bool" else a.astype(dtype)


def _flip(x):
    """A value of the same dtype that differs from x."""
    return not x if isinstance(x, (bool, np.bool_)) else x + 3


def _views(base):
    """torch's kinds of layout: the whole tensor, 0-d, a transpose, a stepped slice, a column."""
    return {"contiguous": base, "0-d": base[1, 2], "transposed": base.t(), "stepped": base[:, ::2],
            "column": base[:, 1:2]}


@pytest.mark.parametrize("dtype", DTYPES)
def test_torch_to_matgrad_to_torch_shares_memory(dtype):
    base = torch.from_numpy(_values(dtype).copy())
    for name, t in _views(base).items():
        m = mg.from_dlpack(t)
        assert m.shape == tuple(t.shape) and m.dtype == getattr(mg, dtype) and not m.requires_grad, name
        assert m.stride() == t.stride() and m.data_ptr() == t.data_ptr(), name
        np.testing.assert_array_equal(m.numpy(), t.numpy())
        back = torch.from_dlpack(m)
        assert back.dtype == t.dtype and back.stride() == t.stride() and back.data_ptr() == t.data_ptr(), name
        idx = (0,) * t.dim()
        new = _flip(t[idx].item())
        m.numpy()[idx] = new                                       # matgrad writes, torch reads
        assert t[idx].item() == new and back[idx].item() == new, name
        back[idx] = _flip(new)                                     # torch writes, matgrad reads
        assert m.numpy()[idx] == _flip(new), name


@pytest.mark.parametrize("dtype", DTYPES)
def test_matgrad_to_torch_to_matgrad_shares_memory(dtype):
    m = mg.tensor(_values(dtype))
    for name, v in {"whole": m, "0-d": m[2, 1], "transposed": m.t(), "stepped": m[::2, 1:]}.items():
        t = torch.from_dlpack(v)
        assert tuple(t.shape) == v.shape and t.stride() == v.stride() and t.data_ptr() == v.data_ptr(), name
        again = mg.from_dlpack(t)
        assert again.data_ptr() == v.data_ptr() and again.stride() == v.stride(), name
        idx = (0,) * v.ndim
        t[idx] = _flip(t[idx].item())
        assert v.numpy()[idx] == t[idx].item() and again.numpy()[idx] == t[idx].item(), name


def test_dlpack_device_is_torchs():
    got = mg.ones(2).__dlpack_device__()
    assert got == torch.ones(2).__dlpack_device__() == (1, 0)
    assert type(got[0]) is dlpack.DLDeviceType and got[0] is dlpack.DLDeviceType.kDLCPU
    want = {k: int(v) for k, v in torch.utils.dlpack.DLDeviceType.__members__.items()}
    assert {k: int(v) for k, v in dlpack.DLDeviceType.__members__.items()} == want
    assert set(torch.utils.dlpack.__all__) <= set(dlpack.__all__)
    assert mg.from_dlpack is dlpack.from_dlpack and mg.to_dlpack is dlpack.to_dlpack


def test_requires_grad_is_not_exported_as_in_torch():
    with pytest.raises(BufferError) as want:
        torch.ones(2, requires_grad=True).__dlpack__()
    x = mg.ones(2, requires_grad=True)
    with pytest.raises(BufferError) as got:
        torch.from_dlpack(x)
    assert str(got.value) == str(want.value)
    assert torch.from_dlpack(x.detach()).data_ptr() == x.data_ptr()
    # the legacy to_dlpack does not check (neither does torch's)
    torch.utils.dlpack.to_dlpack(torch.ones(2, requires_grad=True))
    assert torch.from_dlpack(dlpack.to_dlpack(x)).data_ptr() == x.data_ptr()


def test_legacy_capsules_both_ways_and_consumed_once():
    t = torch.arange(5, dtype=torch.float32)
    cap = torch.utils.dlpack.to_dlpack(t)
    m = mg.from_dlpack(cap)
    m.numpy()[0] = 9
    assert t[0].item() == 9
    with pytest.raises(RuntimeError) as want:
        torch.from_dlpack(cap)                                     # consumed by matgrad
    with pytest.raises(RuntimeError) as got:
        mg.from_dlpack(cap)
    assert str(got.value) == str(want.value)

    x = mg.tensor(np.arange(4, dtype=np.int64))
    mcap = dlpack.to_dlpack(x)
    back = torch.utils.dlpack.from_dlpack(mcap)
    back[1] = -1
    assert x.numpy()[1] == -1
    with pytest.raises(RuntimeError, match="consumed only once"):
        mg.from_dlpack(mcap)
    with pytest.raises(AssertionError, match="device and copy kwargs not supported"):
        mg.from_dlpack(dlpack.to_dlpack(x), copy=True)


def test_numpy_takes_and_gives_too():
    x = mg.tensor([1.0, 2.0, 3.0])
    a = np.from_dlpack(x)
    a[0] = 7
    assert x.numpy()[0] == 7
    b = np.arange(3.0)
    y = mg.from_dlpack(b)
    y.numpy()[2] = -1
    assert b[2] == -1 and y.dtype == mg.float64


def test_copy_and_device_arguments():
    t = torch.arange(4.0)
    c = mg.from_dlpack(t, copy=True)
    c.numpy()[0] = 5
    assert t[0].item() == 0                                        # a copy
    same = mg.from_dlpack(t, device="cpu", copy=False)
    assert same.data_ptr() == t.data_ptr()
    x = mg.arange(3.0)
    u = torch.from_dlpack(x, copy=True)
    u[0] = 4
    assert x.numpy()[0] == 0


def test_to_a_device_needs_a_copy(cuda):
    t = torch.arange(4.0)
    with pytest.raises(ValueError, match="without copying"):
        mg.from_dlpack(t, device="cuda", copy=False)
    g = mg.from_dlpack(t, device="cuda")
    assert g.device == cuda and g.tolist() == [0.0, 1.0, 2.0, 3.0]


def test_expanded_read_only_tensor_reaches_torch():
    x = mg.tensor([1.0, 2.0]).expand(3, 2)                         # NumPy's broadcast view: read-only
    t = torch.from_dlpack(x)                                       # DLPack 1.0 carries the read-only flag
    np.testing.assert_array_equal(t.numpy(), x.numpy())


def test_backwards_strides_are_refused_unless_copied():
    x = mg.from_numpy(np.arange(5.0)[::-1])
    with pytest.raises(BufferError, match="contiguous"):
        torch.from_dlpack(x)
    with pytest.raises(BufferError, match="contiguous"):
        dlpack.to_dlpack(x)
    np.testing.assert_array_equal(torch.from_dlpack(x, copy=True).numpy(), [4, 3, 2, 1, 0])
    np.testing.assert_array_equal(torch.from_dlpack(x.contiguous()).numpy(), [4, 3, 2, 1, 0])


@pytest.mark.parametrize("make", [lambda t: t, torch.utils.dlpack.to_dlpack])
@pytest.mark.parametrize("dtype, name", [(torch.complex64, "complex"), (torch.bfloat16, "bfloat16")])
def test_dtypes_matgrad_lacks_are_refused(make, dtype, name):
    with pytest.raises(TypeError, match=name):
        mg.from_dlpack(make(torch.zeros(2, dtype=dtype)))


def test_streams_and_bad_input_as_torch():
    x = mg.ones(2)
    for stream in (None, -1):
        assert torch.from_dlpack(x.__dlpack__(stream=stream)).data_ptr() == x.data_ptr()
    with pytest.raises(AssertionError) as want:
        torch.ones(2).__dlpack__(stream=5)
    with pytest.raises(AssertionError) as got:
        x.__dlpack__(stream=5)
    assert str(got.value) == str(want.value)
    with pytest.raises(TypeError, match="stream must be"):
        x.__dlpack__(stream="default")
    with pytest.raises(RuntimeError, match="__dlpack__"):
        mg.from_dlpack([1.0, 2.0])
    with pytest.raises(TypeError, match="matgrad Tensor"):
        dlpack.to_dlpack(np.ones(2))


def test_empty_tensors():
    t = torch.zeros(0, 3)
    m = mg.from_dlpack(t)
    assert m.shape == (0, 3)
    assert tuple(torch.from_dlpack(m).shape) == (0, 3)
