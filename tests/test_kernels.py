"""The NumPy kernels behind the backward formulas: the bit-select `where`, `softplus`, and `ignoring`."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from matgrad import kernels as xp

FLOATS = [np.float16, np.float32, np.float64]
SPECIAL = [0.0, -0.0, np.inf, -np.inf, np.nan, 1.5, -2.5, 1e-30]


def _bits(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(a).view(xp._BITS[a.dtype.itemsize])


def _same(mine: np.ndarray, ref: np.ndarray) -> None:
    """Equal bit for bit: nan payloads and the sign of zero included."""
    assert isinstance(mine, np.ndarray) and mine.dtype == ref.dtype and mine.shape == ref.shape
    np.testing.assert_array_equal(_bits(mine), _bits(np.asarray(ref)))


@pytest.fixture(autouse=True)
def _always_select(monkeypatch):
    monkeypatch.setattr(xp, "WHERE_MIN_SIZE", 0)  # the bit select even on small arrays


@settings(max_examples=60, deadline=None)
@given(data=st.data(), dtype=st.sampled_from(FLOATS))
def test_where_is_np_where_bit_for_bit_under_broadcasting(data, dtype):
    shapes = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=3, max_dims=3, max_side=4))
    sc, sa, sb = shapes.input_shapes
    elems = st.sampled_from(SPECIAL) | st.floats(-1e3, 1e3, width=16)
    cond = data.draw(hnp.arrays(np.bool_, sc))
    a = data.draw(hnp.arrays(dtype, sa, elements=elems))
    b = data.draw(hnp.arrays(dtype, sb, elements=elems))
    _same(xp.where(cond, a, b), np.where(cond, a, b))


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("other", [0, 0.0, -0.0, 2.5, np.nan])
def test_where_with_a_scalar_on_either_side(dtype, other):
    rng = np.random.default_rng(0)
    x = np.array(SPECIAL * 20, dtype=dtype) * rng.standard_normal(160).astype(dtype)
    cond = rng.random(160) > 0.5
    _same(xp.where(cond, x, other), np.where(cond, x, other))
    _same(xp.where(cond, other, x), np.where(cond, other, x))


def test_where_keeps_numpys_types_and_falls_back_where_bits_do_not_apply():
    cond = np.array([True, False, True])
    x32 = np.array([1.0, -0.0, np.nan], np.float32)
    assert xp.where(cond, x32, 0).dtype == np.float32  # a Python scalar never promotes
    assert xp.where(cond, x32, np.float64(0)).dtype == np.float64
    ints = np.array([1, 2, 3])
    np.testing.assert_array_equal(xp.where(cond, ints, 0), [1, 0, 3])
    np.testing.assert_array_equal(xp.where(np.array([1, 0, 2]), x32, 7.0), np.where([1, 0, 2], x32, 7.0))
    _same(xp.where(np.array(True), np.float32(3), np.float32(4)), np.where(True, np.float32(3), np.float32(4)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softplus_is_logaddexp_to_a_few_ulp(dtype):
    rng = np.random.default_rng(0)
    z = (rng.standard_normal(10_000) * 30).astype(dtype)
    ref = np.logaddexp(0, z)
    mine = xp.softplus(z)
    assert mine.dtype == dtype
    assert np.max(np.abs(mine - ref) / np.spacing(np.abs(ref))) <= 4


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softplus_at_the_edges(dtype):
    z = np.array([0.0, -0.0, np.inf, -np.inf, 1000.0, -1000.0, 88.0, -120.0], dtype)
    with np.errstate(invalid="ignore"):
        ref = np.logaddexp(0, z)
    np.testing.assert_array_equal(xp.softplus(z), ref)
    assert np.isnan(xp.softplus(np.array(np.nan, dtype)))
    assert isinstance(xp.softplus(np.array(2.0, dtype)), np.ndarray)  # 0-d in, array out


# --- ignoring: np.errstate as a cheap decorator ---------------------------------------------

@xp.ignoring(over="ignore")
def _exp(x):
    return np.exp(x)


def test_ignoring_silences_only_what_it_names_and_restores_the_state():
    big = np.float32(100)
    with np.errstate(over="raise", divide="raise"):
        assert _exp(big) == np.inf  # overflow ignored inside
        with pytest.raises(FloatingPointError):
            np.exp(big)  # and raised again after
        with pytest.raises(FloatingPointError):
            xp.ignoring(over="ignore")(lambda: np.float32(1) / np.float32(0))()  # divide: the caller's rule
    with np.errstate(over="warn"):
        with pytest.warns(RuntimeWarning, match="overflow"):
            np.exp(big)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # a warning would raise here
            assert _exp(big) == np.inf


def test_ignoring_follows_a_changed_outer_state_and_an_exception():
    @xp.ignoring(divide="ignore")
    def fails():
        raise KeyError("inside")

    before = np.geterr()
    with pytest.raises(KeyError):
        fails()
    assert np.geterr() == before
    for outer in ("raise", "ignore", "raise"):  # the kept state is rebuilt whenever the caller's differs
        with np.errstate(invalid=outer):
            f = xp.ignoring(over="ignore")(lambda: np.sqrt(np.float32(-1)))
            if outer == "raise":
                with pytest.raises(FloatingPointError):
                    f()
            else:
                assert np.isnan(f())
