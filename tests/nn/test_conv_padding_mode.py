"""nn.Conv1d/2d/3d with padding_mode 'reflect', 'replicate' and 'circular' (F.pad, then the convolution at
padding 0, as torch's _conv_forward): values, gradients, attributes, repr, state_dict and errors against torch."""
from __future__ import annotations

import numpy as np
import pytest

import matgrad as mg
import matgrad.nn as nn
import matgrad.nn.functional as F
from tests.helpers import assert_close, check_op, torch

needs_torch = pytest.mark.skipif(torch is None, reason="compares with PyTorch")

MODES = ("reflect", "replicate", "circular")
CLS = {1: "Conv1d", 2: "Conv2d", 3: "Conv3d"}
SIZES = {1: (11,), 2: (7, 8), 3: (5, 6, 5)}  # input spatial sizes, large enough for every padding below

# (in_channels, out_channels, kernel_size, keyword arguments); tuples are per dim and cut to the layer's rank
CONFIGS = [
    (2, 3, 3, dict(padding=1)),
    (2, 3, 3, dict(padding=2, bias=False)),
    (2, 3, (3, 2, 3), dict(padding=(1, 0, 2))),
    (2, 3, 3, dict(padding="same")),
    (2, 3, (4, 2, 3), dict(padding="same")),  # even kernels: the odd extra pixel after
    (2, 3, (4, 3, 2), dict(padding="same", dilation=(2, 1, 3))),
    (2, 3, 3, dict(padding="valid")),
    (2, 3, 3, dict(padding=1, stride=2)),
    (2, 3, (3, 2, 2), dict(padding=(2, 1, 1), stride=(2, 1, 3), dilation=(1, 2, 1))),
    (4, 6, 3, dict(padding=1, groups=2)),
    (4, 4, 2, dict(padding="same", groups=4, dilation=2)),
    (2, 3, 3, dict(padding=-1)),  # a negative padding crops, through F.pad, as torch
]


def _cut(v, dim):
    return v[:dim] if isinstance(v, tuple) else v


def _args(cfg, dim):
    cin, cout, k, kw = cfg
    return (cin, cout, _cut(k, dim)), {key: _cut(v, dim) for key, v in kw.items()}


def _pair(dim, mode, cfg):
    """The same layer in matgrad and torch (float64), torch's weights loaded into matgrad's."""
    args, kw = _args(cfg, dim)
    ours = getattr(nn, CLS[dim])(*args, padding_mode=mode, **kw, dtype=mg.float64)
    theirs = getattr(torch.nn, CLS[dim])(*args, padding_mode=mode, **kw, dtype=torch.float64)
    ours.load_state_dict({k: mg.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})
    return ours, theirs


@needs_torch
@pytest.mark.filterwarnings("ignore:Using padding='same'")  # torch's note on its own zeros path
@pytest.mark.parametrize("cfg", CONFIGS, ids=[str(i) for i in range(len(CONFIGS))])
@pytest.mark.parametrize("mode", MODES + ("zeros",))
@pytest.mark.parametrize("dim", [1, 2, 3])
def test_outputs_and_gradients_match_torch(dim, mode, cfg):
    if mode == "zeros" and cfg[3].get("padding") == -1:
        pytest.skip("torch's conv refuses a negative padding in mode 'zeros'")
    ours, theirs = _pair(dim, mode, cfg)
    rng = np.random.default_rng(dim)
    x = rng.standard_normal((2, cfg[0]) + SIZES[dim])
    mx, tx = mg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y, ty = ours(mx), theirs(tx)
    assert y.shape == tuple(ty.shape)
    assert_close(y.array, ty.detach().numpy(), rtol=1e-10, err_msg="output")
    seed = rng.standard_normal(y.shape)
    (y * mg.tensor(seed)).sum().backward()
    (ty * torch.tensor(seed)).sum().backward()
    assert_close(mx.grad.array, tx.grad.numpy(), rtol=1e-10, err_msg="input gradient")
    assert_close(ours.weight.grad.array, theirs.weight.grad.numpy(), rtol=1e-10, err_msg="weight gradient")
    if theirs.bias is not None:
        assert_close(ours.bias.grad.array, theirs.bias.grad.numpy(), rtol=1e-10, err_msg="bias gradient")


@needs_torch
@pytest.mark.parametrize("cfg", CONFIGS, ids=[str(i) for i in range(len(CONFIGS))])
@pytest.mark.parametrize("mode", MODES + ("zeros",))
@pytest.mark.parametrize("dim", [1, 2, 3])
def test_attributes_repr_and_state_dict_match_torch(dim, mode, cfg):
    ours, theirs = _pair(dim, mode, cfg)
    assert repr(ours) == repr(theirs)
    assert ours.padding_mode == theirs.padding_mode
    assert ours.transposed is theirs.transposed is False
    # a tuple for int paddings, a list for 'same'/'valid', as torch
    assert type(ours._reversed_padding_repeated_twice) is type(theirs._reversed_padding_repeated_twice)
    assert ours._reversed_padding_repeated_twice == theirs._reversed_padding_repeated_twice
    sd, tsd = ours.state_dict(), theirs.state_dict()
    assert list(sd) == list(tsd)
    assert [tuple(v.shape) for v in sd.values()] == [tuple(v.shape) for v in tsd.values()]


@needs_torch
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dim", [1, 2, 3])
def test_unbatched_input_matches_torch(dim, mode):
    ours, theirs = _pair(dim, mode, (2, 3, 3, dict(padding="same")))
    x = np.random.default_rng(3).standard_normal((2,) + SIZES[dim])
    y, ty = ours(mg.tensor(x)), theirs(torch.tensor(x))
    assert y.shape == tuple(ty.shape) == (3,) + SIZES[dim]
    assert_close(y.array, ty.detach().numpy(), rtol=1e-10)


@needs_torch
@pytest.mark.parametrize("mode", MODES)
def test_float32_matches_torch(mode):
    theirs = torch.nn.Conv2d(3, 4, 3, padding=2, dilation=2, padding_mode=mode)
    ours = nn.Conv2d(3, 4, 3, padding=2, dilation=2, padding_mode=mode)
    ours.load_state_dict({k: mg.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(4).standard_normal((2, 3, 6, 7)).astype(np.float32)
    y = ours(mg.tensor(x))
    assert y.dtype == mg.float32
    assert_close(y.array, theirs(torch.tensor(x)).detach().numpy(), rtol=1e-5)


# float64 finite differences (first and second order) through the layer's own path, _conv_forward(x, w, b)
GRAD_CASES = [
    (1, (2, 3, 3, dict(padding=2, stride=2))),
    (1, (4, 2, 4, dict(padding="same", groups=2))),
    (2, (2, 3, (3, 2), dict(padding=(1, 2), dilation=(1, 2)))),
    (2, (2, 2, 4, dict(padding="same"))),
    (3, (2, 2, (2, 3, 2), dict(padding=(1, 1, 0), stride=(1, 2, 1)))),
    (3, (2, 2, 2, dict(padding="same", dilation=(1, 2, 1)))),
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dim, cfg", GRAD_CASES, ids=[str(i) for i in range(len(GRAD_CASES))])
def test_gradcheck_through_the_module(dim, cfg, mode):
    args, kw = _args(cfg, dim)
    m = getattr(nn, CLS[dim])(*args, padding_mode=mode, **kw, dtype=mg.float64)
    sizes = {1: (7,), 2: (4, 5), 3: (3, 4, 3)}[dim]
    tm = None if torch is None else getattr(torch.nn, CLS[dim])(*args, padding_mode=mode, **kw)
    check_op(lambda x, w, b: m._conv_forward(x, w, b), (2, cfg[0]) + sizes, tuple(m.weight.shape), (cfg[1],),
             torch_fn=None if tm is None else (lambda x, w, b: tm._conv_forward(x, w, b)), second=dim < 3)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dim", [1, 2, 3])
def test_forward_is_conv_forward_with_the_parameters(dim, mode):
    m = getattr(nn, CLS[dim])(2, 3, 3, padding=1, padding_mode=mode, dtype=mg.float64)
    x = mg.tensor(np.random.default_rng(5).standard_normal((1, 2) + SIZES[dim]), requires_grad=True)
    np.testing.assert_array_equal(m(x).array, m._conv_forward(x, m.weight, m.bias).array)
    assert mg.gradcheck(lambda t: m(t), [x])


# F.pad in every non-constant mode, on every input rank a layer hands it: (pads of k dims, batched or not)
PAD_CASES = [
    ((2, 7), (2, 1)), ((2, 3, 7), (1, 3)),
    ((3, 5, 6), (1, 2, 2, 0)), ((2, 3, 5, 6), (2, 1, 0, 3)),
    ((2, 4, 5, 4), (1, 2, 0, 1, 3, 2)), ((1, 2, 4, 5, 4), (2, 1, 1, 0, 1, 3)),
    ((2, 3, 4, 5, 4), (-1, 2, 1, -1, 0, 2)),
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("shape, pad", PAD_CASES, ids=[str(i) for i in range(len(PAD_CASES))])
def test_pad_modes_every_rank_gradcheck_and_torch(shape, pad, mode):
    check_op(lambda a: F.pad(a, pad, mode), shape,
             torch_fn=None if torch is None else (lambda a: torch.nn.functional.pad(a, pad, mode)))


@needs_torch
@pytest.mark.parametrize("mode", MODES)
def test_lazy_conv_takes_the_mode(mode):
    ours = nn.LazyConv2d(4, 3, padding=(1, 2), padding_mode=mode)
    theirs = torch.nn.LazyConv2d(4, 3, padding=(1, 2), padding_mode=mode)
    assert repr(ours) == repr(theirs)
    assert ours._reversed_padding_repeated_twice == theirs._reversed_padding_repeated_twice
    x = np.random.default_rng(6).standard_normal((2, 3, 5, 6)).astype(np.float32)
    ours(mg.tensor(x))
    theirs(torch.tensor(x))
    assert type(ours) is nn.Conv2d and repr(ours) == repr(theirs)
    ours.load_state_dict({k: mg.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})
    assert_close(ours(mg.tensor(x)).array, theirs(torch.tensor(x)).detach().numpy(), rtol=1e-5)


@needs_torch
@pytest.mark.parametrize("name", ["ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d"])
def test_transposed_keep_torchs_attributes(name):
    ours, theirs = getattr(nn, name)(2, 3, 3, padding=1), getattr(torch.nn, name)(2, 3, 3, padding=1)
    assert ours._reversed_padding_repeated_twice == theirs._reversed_padding_repeated_twice
    assert ours.transposed is theirs.transposed is True
    assert repr(ours) == repr(theirs)


ERRORS = [  # (call on either library's nn, exception, what matgrad's message says)
    (lambda nn_: nn_.Conv1d(2, 3, 3, padding_mode="mirror"), ValueError, "padding_mode must be one of"),
    (lambda nn_: nn_.Conv2d(2, 3, 3, padding_mode="reflection"), ValueError, "padding_mode must be one of"),
    (lambda nn_: nn_.Conv3d(2, 3, 3, padding_mode="zero"), ValueError, "padding_mode must be one of"),
    (lambda nn_: nn_.LazyConv2d(3, 3, padding_mode="border"), ValueError, "padding_mode must be one of"),
    (lambda nn_: nn_.ConvTranspose1d(2, 3, 3, padding_mode="reflect"), ValueError,
     'Only "zeros" padding mode is supported for ConvTranspose1d'),
    (lambda nn_: nn_.ConvTranspose2d(2, 3, 3, padding_mode="reflect"), ValueError,
     'Only "zeros" padding mode is supported for ConvTranspose2d'),
    (lambda nn_: nn_.ConvTranspose3d(2, 3, 3, padding_mode="circular"), ValueError,
     'Only "zeros" padding mode is supported for ConvTranspose3d'),
    (lambda nn_: nn_.ConvTranspose2d(2, 3, 3, padding_mode="bogus"), ValueError,  # torch checks 'zeros' first
     'Only "zeros" padding mode is supported for ConvTranspose2d'),
    (lambda nn_: nn_.LazyConvTranspose2d(3, 3, padding_mode="replicate"), ValueError,
     'Only "zeros" padding mode is supported for LazyConvTranspose2d'),
    (lambda nn_: nn_.Conv2d(2, 3, 3, padding="full", padding_mode="reflect"), ValueError, "Invalid padding string"),
    (lambda nn_: nn_.Conv1d(2, 3, 3, padding="full"), ValueError, "Invalid padding string"),
    (lambda nn_: nn_.Conv3d(2, 3, 3, padding="full"), ValueError, "Invalid padding string"),
    (lambda nn_: nn_.Conv2d(2, 3, 3, padding="same", stride=2, padding_mode="reflect"), ValueError,
     "not supported for strided convolutions"),
    (lambda nn_: nn_.Conv2d(2, 3, 3, padding="same", stride=(1, 2)), ValueError,
     "not supported for strided convolutions"),
]


@pytest.mark.parametrize("call, exc, match", ERRORS, ids=[str(i) for i in range(len(ERRORS))])
def test_construction_errors_as_torch(call, exc, match):
    with pytest.raises(exc, match=match):
        call(nn)
    if torch is not None:
        with pytest.raises(exc):
            call(torch.nn)


FORWARD_ERRORS = [  # padding the input cannot do: F.pad's RuntimeError, as torch
    ("Conv2d", "reflect", 3, (1, 2, 3, 3), "Padding size should be less than"),
    ("Conv1d", "reflect", "same", (1, 2, 2), "Padding size should be less than"),
    ("Conv1d", "circular", 4, (1, 2, 3), "wrapping around more than once"),
    ("Conv3d", "circular", 3, (1, 2, 2, 4, 4), "wrapping around more than once"),
]


@pytest.mark.parametrize("cls, mode, padding, shape, match", FORWARD_ERRORS)
def test_forward_errors_as_torch(cls, mode, padding, shape, match):
    x = np.zeros(shape)
    k = 5 if padding == "same" else 3
    with pytest.raises(RuntimeError, match=match):
        getattr(nn, cls)(2, 2, k, padding=padding, padding_mode=mode, dtype=mg.float64)(mg.tensor(x))
    if torch is not None:
        with pytest.raises(RuntimeError):
            getattr(torch.nn, cls)(2, 2, k, padding=padding, padding_mode=mode, dtype=torch.float64)(torch.tensor(x))


def test_conv2d_no_longer_refuses_the_modes():
    for mode in MODES:
        m = nn.Conv2d(1, 1, 3, padding=1, padding_mode=mode, bias=False, dtype=mg.float64)
        m.weight.data = mg.tensor(np.ones((1, 1, 3, 3)))
        y = m(mg.tensor(np.arange(9.0).reshape(1, 1, 3, 3)))
        assert y.shape == (1, 1, 3, 3)
        # the corner's window reads the mode's padding: reflect mirrors, replicate repeats the edge, circular wraps
        # (rows, cols) -1, 0, 1 read: reflect 1, 0, 1; replicate 0, 0, 1; circular 2, 0, 1
        want = {"reflect": (4 + 3 + 4) + (1 + 0 + 1) + (4 + 3 + 4),
                "replicate": (0 + 0 + 1) + (0 + 0 + 1) + (3 + 3 + 4),
                "circular": (8 + 6 + 7) + (2 + 0 + 1) + (5 + 3 + 4)}[mode]
        assert y.array[0, 0, 0, 0] == want
