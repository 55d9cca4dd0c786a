"""result_type, promote_types, can_cast: torch's rules over every dtype matgrad has, and agreement with the
dtypes matgrad's own ops return."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

import matgrad as mg

NAMES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"]
DTYPES = [mg.dtypes.of(np.dtype(n)) for n in NAMES]
SCALARS = [True, False, 3, -2, 0, 2.5, -0.0, np.int64(4), np.float64(1.5), np.float32(0.5)]


def _tensor(dt, shape):
    return mg.zeros(shape, dtype=dt)


def _operands():
    """Every (dtype, shape) pair of tensors, each tensor with every scalar kind both ways, and scalar pairs."""
    kinds = [(dt, shape) for dt in DTYPES for shape in [(2,), ()]]
    for (a, sa), (b, sb) in itertools.product(kinds, kinds):
        yield (a, sa), (b, sb)
    for (a, sa), s in itertools.product(kinds, SCALARS):
        yield (a, sa), s
        yield s, (a, sa)
    yield from itertools.product([True, 3, 2.5], repeat=2)


def _make(spec, lib):
    if isinstance(spec, tuple):
        dt, shape = spec
        if lib is mg:
            return _tensor(dt, shape)
        return lib.zeros(shape, dtype=getattr(lib, dt.dtype.name))
    return spec


def test_documented_cases():
    i32, f32, f64 = mg.ones(2, dtype=mg.int32), mg.ones(2), mg.ones(2, dtype=mg.float64)
    assert mg.result_type(f32, mg.tensor(1.0, dtype=mg.float64)) == mg.float32  # a 0-d tensor does not widen
    assert mg.result_type(i32, mg.tensor(1.0, dtype=mg.float64)) == mg.float64  # ... unless of a higher category
    assert mg.result_type(i32, 2.5) == mg.float32 and mg.result_type(i32, 5) == mg.int32
    assert mg.result_type(mg.tensor(1, dtype=mg.int32), 5) == mg.int32  # Python ints rank below 0-d tensors
    assert mg.result_type(mg.ones(2, dtype=mg.bool_), 5) == mg.int64  # bool yields to any int
    assert mg.result_type(f64, i32) == mg.float64 and mg.result_type(1, 2.0) == mg.float32
    assert mg.result_type(True, False) == mg.bool_ and mg.result_type(2, True) == mg.int64
    assert isinstance(mg.result_type(f32, f32), mg.dtypes.dtype)


def test_result_type_follows_the_default_dtype():
    mg.set_default_dtype(mg.float64)
    try:
        assert mg.result_type(mg.ones(2, dtype=mg.int64), 2.5) == mg.float64
        assert mg.result_type(mg.ones(2, dtype=mg.float16), 2.5) == mg.float16
        assert mg.result_type(1, 2.5) == mg.float64
    finally:
        mg.set_default_dtype(mg.float32)


def test_result_type_is_what_matgrad_ops_return():
    checked = 0
    for x, y in _operands():
        a, b = _make(x, mg), _make(y, mg)
        if not isinstance(a, mg.Tensor) and not isinstance(b, mg.Tensor):
            continue
        numbers = [v for v in (a, b) if not isinstance(v, mg.Tensor)]
        if mg.uint8 in (getattr(a, "dtype", None), getattr(b, "dtype", None)) and any(v < 0 for v in numbers):
            continue  # matgrad's uint8 + a negative int raises (NumPy's bound check), where torch wraps
        want = mg.result_type(a, b)
        for op in (lambda p, q: p + q, lambda p, q: p * q, mg.maximum):
            if mg.dtypes.bool_ in (getattr(a, "dtype", None), getattr(b, "dtype", None)) and op is mg.maximum:
                continue
            assert op(a, b).dtype == want, (x, y)
            checked += 1
    assert checked > 500


def test_promote_types_table():
    assert mg.promote_types(mg.uint8, mg.int8) == mg.int16
    assert mg.promote_types(mg.float16, mg.int64) == mg.float16
    assert mg.promote_types(mg.bool_, mg.uint8) == mg.uint8
    assert mg.promote_types(mg.int32, mg.float16) == mg.float16
    assert mg.promote_types(mg.float32, float) == mg.float64  # Python's types are dtypes to torch
    assert mg.promote_types(int, bool) == mg.int64
    assert mg.promote_types(type1=mg.float32, type2=mg.float16) == mg.float32
    for a, b in itertools.product(DTYPES, DTYPES):
        assert mg.promote_types(a, b) == mg.promote_types(b, a)
        assert mg.promote_types(a, b) == mg.result_type(_tensor(a, (1,)), _tensor(b, (1,)))


def test_can_cast():
    assert not mg.can_cast(mg.float32, mg.int32) and not mg.can_cast(mg.int32, mg.bool_)
    assert not mg.can_cast(mg.float16, mg.bool_)
    assert mg.can_cast(mg.bool_, mg.int32) and mg.can_cast(mg.int64, mg.uint8) and mg.can_cast(mg.float64, mg.float16)
    assert mg.can_cast(from_=mg.int8, to=mg.float16)
    assert mg.can_cast(mg.float32, float) and not mg.can_cast(float, int)


def test_bad_arguments():
    with pytest.raises(TypeError, match="argument 'type2' .*must be matgrad.dtype, not str"):
        mg.promote_types(mg.float32, "float")
    with pytest.raises(TypeError, match="argument 'to' .*not int"):
        mg.can_cast(mg.float64, 1)
    with pytest.raises(TypeError, match="no complex128 dtype"):
        mg.promote_types(mg.float32, np.complex128)
    with pytest.raises(TypeError, match="no complex dtypes"):
        mg.result_type(mg.ones(2), 1 + 2j)
    with pytest.raises(TypeError, match="expected a Tensor or a number, got str"):
        mg.result_type(mg.ones(2), "x")
    with pytest.raises(TypeError, match="got NoneType"):
        mg.result_type(None, mg.ones(2))


# --- against torch ----------------------------------------------------------------------------------------------
def test_result_type_matches_torch_on_the_grid():
    torch = pytest.importorskip("torch")
    count = 0
    for x, y in _operands():
        if isinstance(x, np.generic) or isinstance(y, np.generic):
            continue  # torch takes NumPy scalars by its own rules (np.bool_ counts as a float); see the next test
        want = torch.result_type(_make(x, torch), _make(y, torch))
        got = mg.result_type(_make(x, mg), _make(y, mg))
        assert got.dtype.name == str(want).removeprefix("torch."), (x, y)
        count += 1
    assert count > 400


def test_numpy_number_scalars_match_torch():
    torch = pytest.importorskip("torch")
    for dt in DTYPES:
        for s in (np.int64(4), np.float64(1.5), np.float32(0.5), np.int8(3)):
            want = torch.result_type(torch.zeros(2, dtype=getattr(torch, dt.dtype.name)), s)
            assert mg.result_type(_tensor(dt, (2,)), s).dtype.name == str(want).removeprefix("torch."), (dt, s)


def test_promote_types_and_can_cast_match_torch():
    torch = pytest.importorskip("torch")
    for a, b in itertools.product(DTYPES, DTYPES):
        ta, tb = getattr(torch, a.dtype.name), getattr(torch, b.dtype.name)
        assert mg.promote_types(a, b).dtype.name == str(torch.promote_types(ta, tb)).removeprefix("torch."), (a, b)
        assert mg.can_cast(a, b) == torch.can_cast(ta, tb), (a, b)
