"""Window functions: matgrad.signal.windows and the top-level *_window functions against torch's, values and
errors, plus the textbook formulas (so the values are checked where torch is missing too)."""
from __future__ import annotations

import math

import numpy as np
import pytest

import matgrad as mg
from matgrad.signal import windows as w
from tests.helpers import assert_close

SIGNAL = ["bartlett", "blackman", "cosine", "exponential", "gaussian", "general_cosine", "general_hamming",
          "hamming", "hann", "kaiser", "nuttall"]
TOP = ["hann_window", "hamming_window", "blackman_window", "bartlett_window", "kaiser_window"]

# extra arguments per signal window, each also tried with torch: defaults first, then non-default ones
SIGNAL_KWARGS = {
    "bartlett": [{}], "blackman": [{}], "cosine": [{}], "hamming": [{}], "hann": [{}], "nuttall": [{}],
    "exponential": [{}, {"tau": 0.5}, {"tau": 2.5}],
    "gaussian": [{}, {"std": 0.7}, {"std": 3.0}],
    "general_cosine": [{"a": [0.46, 0.23, 0.31]}, {"a": (0.5, 0.5)}],
    "general_hamming": [{}, {"alpha": 0.3}],
    "kaiser": [{}, {"beta": 0.0}, {"beta": 2.5}],
}
TOP_ARGS = {
    "hann_window": [()], "blackman_window": [()], "bartlett_window": [()],
    "hamming_window": [(), (0.5,), (0.5, 0.3)],
    "kaiser_window": [(), (2.5,), (-3.0,), (0.0,)],
}


def test_module_mirrors_torch_signal_windows():
    assert sorted(w.__all__) == SIGNAL
    assert mg.signal.windows is w
    for name in TOP:
        assert getattr(mg, name) is getattr(w, name)


# --- the formulas, without torch --------------------------------------------------------------------------------
def test_hann_and_hamming_formulas():
    n = np.arange(7)
    assert_close(w.hann(7, dtype=mg.float64).numpy(), 0.5 - 0.5 * np.cos(2 * np.pi * n / 6), rtol=1e-14)
    assert_close(w.hamming(7, sym=False, dtype=mg.float64).numpy(), 0.54 - 0.46 * np.cos(2 * np.pi * n / 7),
                 rtol=1e-14)
    # periodic: the first N points of the symmetric window of N + 1
    assert_close(mg.hann_window(6, dtype=mg.float64).numpy(), mg.hann_window(7, False, dtype=mg.float64).numpy()[:6],
                 rtol=1e-14)
    assert_close(mg.hamming_window(5, False, 0.6, 0.4, dtype=mg.float64).numpy(),
                 0.6 - 0.4 * np.cos(2 * np.pi * np.arange(5) / 4), rtol=1e-14)


def test_bartlett_blackman_kaiser_formulas():
    assert_close(w.bartlett(5, dtype=mg.float64).numpy(), [0, 0.5, 1, 0.5, 0], rtol=1e-14)
    assert_close(mg.bartlett_window(4, dtype=mg.float64).numpy(), [0, 0.5, 1, 0.5], rtol=1e-14)
    x = np.arange(6) * np.pi / 5
    assert_close(mg.blackman_window(6, False, dtype=mg.float64).numpy(),
                 0.42 - 0.5 * np.cos(2 * x) + 0.08 * np.cos(4 * x), rtol=1e-14, atol=1e-16)
    n, beta = np.arange(5), 3.0
    want = np.i0(beta * np.sqrt(1 - (2 * n / 4 - 1) ** 2)) / np.i0(beta)
    assert_close(w.kaiser(5, beta=beta, dtype=mg.float64).numpy(), want, rtol=1e-14)
    assert_close(mg.kaiser_window(5, False, beta, dtype=mg.float64).numpy(), want, rtol=1e-14)
    assert_close(mg.kaiser_window(5, False, -beta, dtype=mg.float64).numpy(), want, rtol=1e-14)  # I0 is even


def test_gaussian_exponential_cosine_formulas():
    n = np.arange(6)
    assert_close(w.gaussian(6, std=1.5, dtype=mg.float64).numpy(), np.exp(-((n - 2.5) ** 2) / (2 * 1.5 ** 2)),
                 rtol=1e-14)
    assert_close(w.exponential(6, tau=2.0, dtype=mg.float64).numpy(), np.exp(-np.abs(n - 2.5) / 2.0), rtol=1e-14)
    assert_close(w.exponential(6, center=1.0, sym=False, dtype=mg.float64).numpy(), np.exp(-np.abs(n - 1.0)),
                 rtol=1e-14)
    assert_close(w.cosine(6, dtype=mg.float64).numpy(), np.sin(np.pi * (n + 0.5) / 6), rtol=1e-14)
    assert_close(w.cosine(6, sym=False, dtype=mg.float64).numpy(), np.sin(np.pi * (n + 0.5) / 7), rtol=1e-14)


@pytest.mark.parametrize("name", SIGNAL)
def test_signal_lengths_0_and_1_and_options(name):
    kw = SIGNAL_KWARGS[name][0]
    empty = getattr(w, name)(0, **kw)
    assert empty.shape == (0,) and empty.dtype == mg.float32
    for sym in (True, False):
        one = getattr(w, name)(1, sym=sym, **kw)
        assert one.tolist() == [1.0] and one.dtype == mg.float32
    t = getattr(w, name)(6, dtype=mg.float64, requires_grad=True, **kw)
    assert t.dtype == mg.float64 and t.requires_grad and t.shape == (6,)
    assert getattr(w, name)(True, **kw).shape == (1,)  # torch takes a bool M as the int it is


@pytest.mark.parametrize("name", TOP)
def test_top_level_lengths_0_and_1_and_options(name):
    for periodic in (True, False):
        assert getattr(mg, name)(0, periodic).shape == (0,)
        assert getattr(mg, name)(1, periodic).tolist() == [1.0]
    t = getattr(mg, name)(5, dtype=mg.float16, requires_grad=True)
    assert t.dtype == mg.float16 and t.requires_grad and t.is_leaf
    assert getattr(mg, name)(5).dtype == mg.float32


def test_default_dtype_is_followed():
    mg.set_default_dtype(mg.float64)
    try:
        assert w.hann(4).dtype == mg.float64 and mg.kaiser_window(4).dtype == mg.float64
    finally:
        mg.set_default_dtype(mg.float32)


# --- errors -------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", SIGNAL)
def test_signal_errors(name):
    kw = SIGNAL_KWARGS[name][0]
    fn = getattr(w, name)
    with pytest.raises(ValueError, match="non-negative window length, got M=-1"):
        fn(-1, **kw)
    with pytest.raises(ValueError, match="expects float32 or float64 dtypes, got: matgrad.float16"):
        fn(4, dtype=mg.float16, **kw)
    with pytest.raises(ValueError, match="expects float32 or float64 dtypes, got: matgrad.int64"):
        fn(4, dtype=mg.int64, **kw)
    with pytest.raises(ValueError, match="strided tensors only"):
        fn(4, layout="sparse_coo", **kw)
    with pytest.raises(TypeError, match="must be int, not float"):
        fn(4.0, **kw)
    with pytest.raises(TypeError):
        fn(4, True, **kw)  # sym is keyword-only, as in torch


def test_signal_parameter_errors():
    with pytest.raises(ValueError, match="Tau must be positive"):
        w.exponential(4, tau=0.0)
    with pytest.raises(ValueError, match="Tau must be positive"):
        w.exponential(0, tau=-1.0)  # checked before the length, as torch
    with pytest.raises(ValueError, match="Center must be None for symmetric windows"):
        w.exponential(4, center=1.0)
    with pytest.raises(ValueError, match="Standard deviation must be positive"):
        w.gaussian(4, std=0.0)
    with pytest.raises(ValueError, match="beta must be non-negative"):
        w.kaiser(4, beta=-1.0)
    with pytest.raises(TypeError, match="Coefficients must be a list/tuple"):
        w.general_cosine(4, a=3)
    with pytest.raises(ValueError, match="Coefficients cannot be empty"):
        w.general_cosine(4, a=[])
    assert w.general_cosine(1, a=3).tolist() == [1.0]  # lengths 0 and 1 return before `a` is looked at
    with pytest.raises(ValueError, match="general_cosine requires non-negative"):
        w.hann(-2)  # hann is general_cosine underneath, and says so, as torch
    with pytest.raises(ValueError, match="blackman requires non-negative"):
        w.blackman(-2)


@pytest.mark.parametrize("name", TOP)
def test_top_level_errors(name):
    fn = getattr(mg, name)
    with pytest.raises(RuntimeError, match=f"{name} requires non-negative window_length, got window_length=-1"):
        fn(-1)
    with pytest.raises(RuntimeError, match=f"{name} expects floating point dtypes"):
        fn(3, dtype=mg.int64)
    with pytest.raises(RuntimeError, match="not implemented for sparse"):
        fn(3, layout="sparse_coo")
    for bad in (3.0, True):
        with pytest.raises(TypeError, match="window_length"):
            fn(bad)


# --- against torch ----------------------------------------------------------------------------------------------
def _torch_dtype(torch, dt):
    return {mg.float16: torch.float16, mg.float32: torch.float32, mg.float64: torch.float64}[dt]


@pytest.mark.parametrize("name", SIGNAL)
def test_signal_windows_match_torch(name):
    torch = pytest.importorskip("torch")
    import torch.signal.windows as tw

    for kw in SIGNAL_KWARGS[name]:
        for M in [0, 1, 2, 3, 4, 7, 10, 33]:
            for sym in (True, False):
                want = getattr(tw, name)(M, sym=sym, dtype=torch.float64, **kw).numpy()
                got = getattr(w, name)(M, sym=sym, dtype=mg.float64, **kw)
                assert got.dtype == mg.float64 and got.shape == want.shape
                assert_close(got.numpy(), want, rtol=1e-12, atol=1e-15, err_msg=f"{name} {M} {sym} {kw}")
                want32 = getattr(tw, name)(M, sym=sym, **kw).numpy()
                got32 = getattr(w, name)(M, sym=sym, **kw)
                assert got32.dtype == mg.float32
                # torch computes float32 windows in float32; values are at most ~1, so 1e-5 of the scale holds
                assert_close(got32.numpy(), want32, rtol=1e-5, atol=1e-6, scale=1.0, err_msg=f"{name} {M} {sym} {kw}")
    center = {"center": 1.5} if name == "exponential" else {}
    if center:
        want = tw.exponential(6, sym=False, dtype=torch.float64, **center).numpy()
        assert_close(w.exponential(6, sym=False, dtype=mg.float64, **center).numpy(), want, rtol=1e-12)


@pytest.mark.parametrize("name", TOP)
def test_top_level_windows_match_torch(name):
    torch = pytest.importorskip("torch")
    for args in TOP_ARGS[name]:
        for n in [0, 1, 2, 3, 4, 7, 10, 33]:
            for periodic in (True, False):
                # torch computes float16 windows in float16, a rounding at every step: a few units of 1e-3
                for dt, rtol in ((mg.float64, 1e-12), (mg.float32, 1e-5), (mg.float16, 5e-3)):
                    want = getattr(torch, name)(n, periodic, *args, dtype=_torch_dtype(torch, dt)).double().numpy()
                    got = getattr(mg, name)(n, periodic, *args, dtype=dt)
                    assert got.dtype == dt and got.shape == want.shape
                    assert_close(got.numpy().astype(np.float64), want, rtol=rtol, atol=1e-15 if rtol < 1e-6 else 0,
                                 scale=1.0, err_msg=f"{name}{(n, periodic, *args)} {dt}")


def test_top_level_keywords_match_torch():
    torch = pytest.importorskip("torch")
    want = torch.hamming_window(9, periodic=False, alpha=0.6, beta=0.35, dtype=torch.float64).numpy()
    got = mg.hamming_window(9, periodic=False, alpha=0.6, beta=0.35, dtype=mg.float64).numpy()
    assert_close(got, want, rtol=1e-12)
    want = torch.kaiser_window(9, periodic=True, beta=math.pi, dtype=torch.float64).numpy()
    assert_close(mg.kaiser_window(9, periodic=True, beta=math.pi, dtype=mg.float64).numpy(), want, rtol=1e-12)


def test_windows_on_the_test_device(cuda):
    t = mg.hann_window(8, device="cuda")
    assert t.device.type == "cuda" and t.shape == (8,)
    s = w.gaussian(5, device="cuda", dtype=mg.float64)
    assert s.device.type == "cuda"
    assert_close(s.cpu().numpy(), w.gaussian(5, dtype=mg.float64).numpy(), rtol=0)


def test_strided_layout_is_accepted():
    strided = getattr(mg, "strided", None)  # matgrad's layout object, where this checkout has it
    for layout in (None, strided) if strided is not None else (None,):
        assert mg.hann_window(4, layout=layout).shape == (4,) and w.hann(4, layout=layout).shape == (4,)
