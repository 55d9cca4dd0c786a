"""Memory formats (matgrad.channels_last ...): real layouts, torch's strides and rules, gradients through the
copies, and ops taking channels-last arrays as they are."""
from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

import matgrad as mg
from tests.helpers import assert_close, check_op, compare_torch

FORMATS = ["contiguous_format", "channels_last", "channels_last_3d", "preserve_format"]
LIKE = ["empty_like", "zeros_like", "ones_like", "rand_like", "randn_like"]


def _torch():
    return pytest.importorskip("torch")


def _elements(a: np.ndarray) -> tuple[int, ...]:
    return tuple(s // a.itemsize for s in a.strides)


def _nhwc(a: np.ndarray) -> np.ndarray:
    """a (N, C, H, W) stored as (N, H, W, C): what channels_last means."""
    return np.ascontiguousarray(a.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)


def _ndhwc(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(a.transpose(0, 2, 3, 4, 1)).transpose(0, 4, 1, 2, 3)


def _arange(lib, shape):
    return lib.tensor(np.arange(int(np.prod(shape)), dtype=np.float64).reshape(shape))


# --- the objects ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", FORMATS)
def test_format_objects(name):
    fmt = getattr(mg, name)
    assert isinstance(fmt, mg.memory_format)
    assert repr(fmt) == str(fmt) == f"matgrad.{name}"
    assert pickle.loads(pickle.dumps(fmt)) is fmt and copy.deepcopy(fmt) is fmt
    assert fmt == fmt and len({getattr(mg, n) for n in FORMATS}) == 4
    with pytest.raises(AttributeError):
        fmt._name = "other"
    torch = _torch()
    assert repr(getattr(torch, name)).replace("torch.", "matgrad.") == repr(fmt)


def test_memory_format_cannot_be_instantiated():
    with pytest.raises(TypeError, match="cannot create 'matgrad.memory_format' instances"):
        mg.memory_format()
    torch = _torch()
    with pytest.raises(TypeError):
        torch.memory_format()


# --- layouts as NumPy arrays ------------------------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(2, 3, 4, 5), (1, 2, 3, 3), (3, 4, 2, 2)])
def test_channels_last_is_the_nhwc_layout(shape):
    a = np.random.default_rng(0).standard_normal(shape)
    want = _elements(_nhwc(a))
    x = mg.tensor(a)
    for y in (x.contiguous(memory_format=mg.channels_last), x.clone(memory_format=mg.channels_last),
              x.to(memory_format=mg.channels_last), mg.clone(x, memory_format=mg.channels_last)):
        assert y.stride() == want and tuple(y.shape) == shape
        np.testing.assert_array_equal(y.numpy(), a)
        assert not np.shares_memory(y.array, a)
        assert y.is_contiguous(memory_format=mg.channels_last) and not y.is_contiguous()
    assert x.is_contiguous() and not x.is_contiguous(memory_format=mg.channels_last)


def test_channels_last_3d_is_the_ndhwc_layout():
    a = np.random.default_rng(1).standard_normal((2, 3, 2, 4, 5))
    y = mg.tensor(a).contiguous(memory_format=mg.channels_last_3d)
    assert y.stride() == _elements(_ndhwc(a))
    np.testing.assert_array_equal(y.numpy(), a)
    assert y.is_contiguous(memory_format=mg.channels_last_3d)
    assert not y.is_contiguous(memory_format=mg.channels_last) and not y.is_contiguous()


def test_contiguous_format_undoes_channels_last():
    a = np.random.default_rng(2).standard_normal((2, 3, 4, 5))
    y = mg.tensor(a).contiguous(memory_format=mg.channels_last)
    for z in (y.contiguous(), y.contiguous(memory_format=mg.contiguous_format),
              y.clone(memory_format=mg.contiguous_format), y.to(memory_format=mg.contiguous_format)):
        assert z.array.flags.c_contiguous and z.is_contiguous()
        np.testing.assert_array_equal(z.numpy(), a)


def test_preserve_format_keeps_a_dense_layout():
    a = np.random.default_rng(3).standard_normal((2, 3, 4, 5))
    for x in (mg.tensor(a).permute(0, 2, 3, 1), mg.tensor(a).transpose(0, 3), mg.tensor(a).contiguous(
            memory_format=mg.channels_last)):
        for y in (x.clone(), mg.clone(x), x.clone(memory_format=mg.preserve_format), x.clone(memory_format=None),
                  *(getattr(mg, f)(x) for f in LIKE), mg.full_like(x, 2.0), mg.randint_like(x, 5)):
            assert y.stride() == x.stride() and tuple(y.shape) == tuple(x.shape)
        np.testing.assert_array_equal(x.clone().numpy(), x.numpy())
        np.testing.assert_array_equal(mg.full_like(x, 2.0).numpy(), np.full(x.shape, 2.0))
        # made in the layout at once (not row-major, then copied): the values, dtype and flags all the same
        for y, value in ((mg.zeros_like(x), 0), (mg.ones_like(x, requires_grad=True), 1),
                         (mg.full_like(x, 3.7, dtype=mg.int32), 3)):
            assert y.stride() == x.stride() and y.is_leaf and y.array.flags.writeable
            np.testing.assert_array_equal(y.numpy(), np.full(x.shape, value, y.numpy().dtype))
        assert mg.ones_like(x, requires_grad=True).requires_grad
        assert mg.full_like(x, 3.7, dtype=mg.int32).dtype == mg.int32


def test_preserve_format_makes_other_layouts_dense_in_the_same_order():
    x = mg.tensor(np.random.default_rng(4).standard_normal((2, 3, 4, 6))).transpose(1, 2)[:, :, :, ::2]
    y = x.clone()
    strides = y.stride()
    assert sorted(strides) == [1, 3, 12, 36]  # dense: every element once
    assert np.argsort(strides).tolist() == np.argsort(x.stride()).tolist()  # the same dims innermost
    np.testing.assert_array_equal(y.numpy(), x.numpy())
    assert mg.zeros_like(x).stride() == strides and mg.zeros_like(x, memory_format=mg.contiguous_format).stride() \
        == (36, 9, 3, 1)


def test_like_factories_take_dtype_and_the_other_arguments_with_a_format():
    x = mg.zeros(2, 3, 4, 5)
    y = mg.zeros_like(x, dtype=mg.float64, requires_grad=True, memory_format=mg.channels_last)
    assert y.dtype == mg.float64 and y.requires_grad and y.is_leaf
    assert y.is_contiguous(memory_format=mg.channels_last)
    z = mg.full_like(x, 7, memory_format=mg.channels_last)
    np.testing.assert_array_equal(z.numpy(), np.full((2, 3, 4, 5), 7.0, np.float32))
    g = mg.Generator().manual_seed(0)
    r = mg.rand_like(x, memory_format=mg.channels_last, generator=g)
    assert r.is_contiguous(memory_format=mg.channels_last) and float(r.min()) >= 0 and float(r.max()) < 1
    assert mg.empty_like(x, memory_format=mg.channels_last).is_contiguous(memory_format=mg.channels_last)


# --- torch's strides and rules ----------------------------------------------------------------------------------

VIEWS = {
    "contiguous": lambda x: x,
    "channels_last": lambda x: x.contiguous(memory_format=_fmt(x, "channels_last")),
    "permuted": lambda x: x.permute(0, 2, 3, 1),
    "transposed": lambda x: x.transpose(1, 2),
    "sliced": lambda x: x[:, :, ::2],
    "transposed_sliced": lambda x: x.transpose(1, 2)[:, :, :, ::2],
    "channels_last_sliced": lambda x: x.contiguous(memory_format=_fmt(x, "channels_last"))[:, :, ::2],
    "expanded": lambda x: x[:, :1].expand(2, 3, 4, 6),
    "flipped": lambda x: x.flip(1),
    "swapped_ends": lambda x: x.transpose(0, 3),
}
#: No empty shapes: NumPy 2 gives an empty array all-zero strides (np.zeros((0, 3)).strides == (0, 0)), so an
#: empty matgrad tensor's strides are NumPy's, not torch's, before any memory format is involved.
SHAPES = [(2, 3, 4, 6), (2, 1, 4, 6), (2, 3, 1, 1), (1, 1, 1, 1), (1, 3, 4, 6), (2, 3, 4, 1)]


def _fmt(x, name):
    if type(x).__module__.startswith("torch"):
        import torch

        return getattr(torch, name)
    return getattr(mg, name)


def _layouts(lib, view, shape, fmt_name):
    x = view(_arange(lib, shape))
    fmt = getattr(lib, fmt_name)
    out = {"stride": x.stride()}
    for key, call in {
        "contiguous": lambda: x.contiguous(memory_format=fmt).stride(),
        "is_contiguous": lambda: x.is_contiguous(memory_format=fmt),
        "clone": lambda: x.clone(memory_format=fmt).stride(),
        "to": lambda: x.to(memory_format=fmt).stride(),
        "to_is_self": lambda: x.to(memory_format=fmt) is x,
        "contiguous_is_self": lambda: x.contiguous(memory_format=fmt) is x,
        "to_dtype": lambda: x.to(lib.float32, memory_format=fmt).stride(),
        "to_copy": lambda: x.to(copy=True, memory_format=fmt).stride(),
        **{f: (lambda f=f: getattr(lib, f)(x, memory_format=fmt).stride()) for f in LIKE},
        "full_like": lambda: lib.full_like(x, 1.0, memory_format=fmt).stride(),
        "randint_like": lambda: lib.randint_like(x, 3, memory_format=fmt).stride(),
    }.items():
        try:
            out[key] = call()
        except RuntimeError as e:
            out[key] = ("RuntimeError", str(e))
    return out


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("view", VIEWS)
def test_strides_and_errors_match_torch(view, shape, fmt):
    torch = _torch()
    assert _layouts(mg, VIEWS[view], shape, fmt) == _layouts(torch, VIEWS[view], shape, fmt)


@pytest.mark.parametrize("shape", [(2, 3, 4, 5, 6), (2, 1, 3, 1, 2), (2, 3, 4, 5)])
@pytest.mark.parametrize("fmt", FORMATS)
def test_five_dim_strides_match_torch(shape, fmt):
    torch = _torch()
    for view in (lambda x: x, lambda x: x.transpose(1, -1), lambda x: x[:, :, ::2]):
        assert _layouts(mg, view, shape, fmt) == _layouts(torch, view, shape, fmt)


@pytest.mark.parametrize("call, match", [
    (lambda L: _arange(L, (2, 3, 4)).contiguous(memory_format=L.channels_last),
     "required rank 4 tensor to use channels_last format"),
    (lambda L: _arange(L, (2, 3)).to(memory_format=L.channels_last), "required rank 4 tensor"),
    (lambda L: _arange(L, (2, 3)).clone(memory_format=L.channels_last), "required rank 4 tensor"),
    (lambda L: L.zeros_like(_arange(L, (2, 3)), memory_format=L.channels_last), "required rank 4 tensor"),
    (lambda L: _arange(L, (2, 3, 4, 5)).contiguous(memory_format=L.channels_last_3d),
     "required rank 5 tensor to use channels_last_3d format"),
    (lambda L: _arange(L, (2, 3, 4, 5)).to(L.float32, memory_format=L.channels_last_3d), "required rank 5 tensor"),
    (lambda L: _arange(L, (2, 3, 4, 5)).transpose(1, 2).contiguous(memory_format=L.preserve_format),
     "preserve memory format is unsupported by the contiguous operator"),
])
def test_runtime_errors_as_torch(call, match):
    with pytest.raises(RuntimeError, match=match):
        call(mg)
    torch = _torch()
    with pytest.raises(RuntimeError, match=match):
        call(torch)


@pytest.mark.parametrize("call, match", [
    (lambda L: _arange(L, (2, 3, 4, 5)).contiguous(memory_format=None), "contiguous.*memory_format.*NoneType"),
    (lambda L: _arange(L, (2, 3, 4, 5)).contiguous(memory_format="channels_last"), "contiguous.*memory_format.*str"),
    (lambda L: _arange(L, (2, 3, 4, 5)).is_contiguous(memory_format=None), "is_contiguous.*NoneType"),
    (lambda L: _arange(L, (2, 3, 4, 5)).is_contiguous(L.channels_last), "positional"),
    (lambda L: _arange(L, (2, 3, 4, 5)).clone(memory_format="x"), "clone.*memory_format.*str"),
    (lambda L: _arange(L, (2, 3, 4, 5)).to(memory_format="x"), "memory_format"),
    (lambda L: L.zeros_like(_arange(L, (2, 3, 4, 5)), memory_format=1), "zeros_like.*memory_format.*int"),
])
def test_type_errors_as_torch(call, match):
    with pytest.raises(TypeError, match=match):
        call(mg)
    torch = _torch()
    with pytest.raises(TypeError):
        call(torch)


def test_optional_format_arguments_take_none_as_preserve():
    x = mg.tensor(np.ones((2, 3, 4, 5))).permute(0, 2, 3, 1)
    assert x.clone(memory_format=None).stride() == x.stride()
    assert x.to(memory_format=None) is x
    assert mg.ones_like(x, memory_format=None).stride() == x.stride()


# --- gradients through the copies -------------------------------------------------------------------------------

def test_gradients_through_format_copies():
    torch = pytest.importorskip("torch")
    check_op(lambda x: (x.contiguous(memory_format=mg.channels_last) * 2).sin(), (2, 3, 4, 5),
             torch_fn=lambda x: (x.contiguous(memory_format=torch.channels_last) * 2).sin())
    check_op(lambda x, w: x.clone(memory_format=mg.channels_last) * w, (2, 3, 4, 5), (3, 1, 1),
             torch_fn=lambda x, w: x.clone(memory_format=torch.channels_last) * w)
    check_op(lambda x, w: x.to(memory_format=mg.channels_last_3d).exp() + w, (2, 3, 2, 2, 2), (2, 1),
             torch_fn=lambda x, w: x.to(memory_format=torch.channels_last_3d).exp() + w)
    check_op(lambda x: x.permute(0, 2, 3, 1).clone().contiguous(memory_format=mg.contiguous_format) ** 2,
             (2, 3, 2, 2), torch_fn=lambda x: x.permute(0, 2, 3, 1).clone().contiguous() ** 2)


def test_gradients_through_format_copies_without_torch():
    x = mg.tensor(np.random.default_rng(5).standard_normal((2, 3, 4, 5)), requires_grad=True)
    assert mg.gradcheck(lambda t: t.contiguous(memory_format=mg.channels_last).tanh(), [x])
    assert mg.gradgradcheck(lambda t: t.to(memory_format=mg.channels_last).tanh() * t, [x])
    y = x.contiguous(memory_format=mg.channels_last)
    assert y.requires_grad and not y.is_leaf
    g = np.random.default_rng(6).standard_normal((2, 3, 4, 5))
    (y * mg.tensor(g)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), g)


# --- ops on channels-last inputs --------------------------------------------------------------------------------

_R = np.random.default_rng(7)
W_CONV, W_GROUPS = _R.standard_normal((4, 3, 3, 3)), _R.standard_normal((3, 1, 3, 3))
W_T, W_LIN = _R.standard_normal((3, 2, 3, 3)), _R.standard_normal((5, 7))

OPS = {
    "conv2d": lambda L, x: L.nn.functional.conv2d(x, L.tensor(W_CONV), padding=1),
    "conv2d_strided_dilated": lambda L, x: L.nn.functional.conv2d(x, L.tensor(W_CONV), stride=2, dilation=2),
    "conv2d_groups": lambda L, x: L.nn.functional.conv2d(x, L.tensor(W_GROUPS), groups=3),
    "conv_transpose2d": lambda L, x: L.nn.functional.conv_transpose2d(x, L.tensor(W_T), stride=2),
    "batch_norm": lambda L, x: L.nn.functional.batch_norm(x, None, None, training=True),
    "max_pool2d": lambda L, x: L.nn.functional.max_pool2d(x, 3, stride=2, padding=1),
    "avg_pool2d": lambda L, x: L.nn.functional.avg_pool2d(x, 2),
    "adaptive_avg_pool2d": lambda L, x: L.nn.functional.adaptive_avg_pool2d(x, 2),
    "linear": lambda L, x: L.nn.functional.linear(x, L.tensor(W_LIN)),
    "layer_norm": lambda L, x: L.nn.functional.layer_norm(x, (7,)),
    "group_norm": lambda L, x: L.nn.functional.group_norm(x, 3),
    "interpolate": lambda L, x: L.nn.functional.interpolate(x, scale_factor=2, mode="bilinear"),
    "flatten_softmax": lambda L, x: L.softmax(x.flatten(1), dim=1),
}


@pytest.mark.parametrize("name", OPS)
def test_ops_give_the_same_values_and_gradients_on_channels_last_inputs(name):
    a = np.random.default_rng(8).standard_normal((2, 3, 6, 7))
    g = None
    results = []
    for fmt in (mg.contiguous_format, mg.channels_last):
        x = mg.tensor(a, requires_grad=True)
        xin = x.contiguous(memory_format=fmt)
        assert xin.is_contiguous(memory_format=fmt)
        out = OPS[name](mg, xin)
        if g is None:
            g = np.random.default_rng(9).standard_normal(tuple(out.shape))
        (out * mg.tensor(g)).sum().backward()
        results.append((out.detach().numpy(), x.grad.numpy()))
    (v0, g0), (v1, g1) = results
    assert_close(v1, v0, rtol=1e-12)
    assert_close(g1, g0, rtol=1e-12)


@pytest.mark.parametrize("name", ["conv2d", "batch_norm", "max_pool2d", "linear", "conv2d_groups"])
def test_ops_on_channels_last_inputs_match_torch_and_finite_differences(name):
    torch = pytest.importorskip("torch")
    a = np.random.default_rng(10).standard_normal((2, 3, 5, 7))
    compare_torch(lambda x: OPS[name](mg, x.contiguous(memory_format=mg.channels_last)), [a],
                  torch_fn=lambda x: OPS[name](torch, x.contiguous(memory_format=torch.channels_last)))
    x = mg.tensor(a[:1, :, :4, :], requires_grad=True)
    assert mg.gradcheck(lambda t: OPS[name](mg, t.contiguous(memory_format=mg.channels_last)), [x])


# --- Module.to --------------------------------------------------------------------------------------------------

def _model(lib):
    lib.manual_seed(0)
    nn = lib.nn
    return nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(4 * 3 * 3, 2)).double()


def test_module_to_channels_last():
    model = _model(mg)
    x = mg.tensor(np.random.default_rng(11).standard_normal((2, 3, 6, 6)))
    model.eval()
    before = model(x).detach().numpy()
    weight = model[0].weight
    model(x).sum().backward()
    grad = weight.grad.numpy().copy()
    assert model.to(memory_format=mg.channels_last) is model
    assert model[0].weight is weight and weight.is_contiguous(memory_format=mg.channels_last)
    assert weight.grad.is_contiguous(memory_format=mg.channels_last)
    np.testing.assert_array_equal(weight.grad.numpy(), grad)
    assert model[5].weight.is_contiguous()  # 2-D: untouched
    assert_close(model(x.to(memory_format=mg.channels_last)).detach().numpy(), before, rtol=1e-12)
    model.to(memory_format=mg.contiguous_format)
    assert weight.is_contiguous() and weight.array.flags.c_contiguous
    torch = _torch()
    tmodel = _model(torch).to(memory_format=torch.channels_last)
    model.to(memory_format=mg.channels_last)
    assert [p.stride() for p in model.parameters()] == [p.stride() for p in tmodel.parameters()]


def test_module_to_channels_last_with_five_dim_weights_is_torchs_error():
    with pytest.raises(RuntimeError, match="required rank 4 tensor"):
        mg.nn.Conv3d(2, 2, 3).to(memory_format=mg.channels_last)
    m = mg.nn.Conv3d(2, 2, 3).to(memory_format=mg.channels_last_3d)
    assert m.weight.is_contiguous(memory_format=mg.channels_last_3d)
    torch = _torch()
    with pytest.raises(RuntimeError, match="required rank 4 tensor"):
        torch.nn.Conv3d(2, 2, 3).to(memory_format=torch.channels_last)


# --- on a device ------------------------------------------------------------------------------------------------

def test_formats_on_the_test_device(cuda):
    a = np.random.default_rng(12).standard_normal((2, 3, 4, 5))
    x = mg.tensor(a).to(cuda).requires_grad_()
    y = x.contiguous(memory_format=mg.channels_last)
    assert y.device == x.device and y.stride() == _elements(_nhwc(a))
    assert y.is_contiguous(memory_format=mg.channels_last)
    np.testing.assert_array_equal(y.cpu().numpy(), a)
    assert mg.zeros_like(y).stride() == y.stride() and mg.zeros_like(y).device == x.device
    assert x.transpose(1, 2).clone().stride() == x.transpose(1, 2).stride()
    (y * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.cpu().numpy(), np.full(a.shape, 3.0))
