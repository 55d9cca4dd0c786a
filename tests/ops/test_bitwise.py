"""Bit shifts (<< >>, bitwise_left_shift / bitwise_right_shift) and the bitwise methods and in-place forms:
values written out, torch's values where installed (shifts past the width, negative shifts), dtypes, errors."""
from __future__ import annotations

import numpy as np
import pytest

import matgrad as mg

try:
    import torch
except ImportError:
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="compares with PyTorch")


def test_shift_values():
    a = mg.tensor([1, -8, 5, 3], dtype=mg.int32)
    assert mg.bitwise_left_shift(a, 2).tolist() == [4, -32, 20, 12]
    assert (a << 2).dtype == mg.int32 and (a >> 1).tolist() == [0, -4, 2, 1]
    assert (3 << a).tolist() == [6, 0, 96, 24] and (64 >> mg.tensor([1, 3])).tolist() == [32, 8]
    s = mg.tensor([40, 32, 31, -3], dtype=mg.int32)
    b = mg.tensor([-8, -1, 7, -8], dtype=mg.int32)
    assert b.bitwise_right_shift(s).tolist() == [-1, -1, 0, -1]  # past the width: the sign fills every bit
    assert b.bitwise_left_shift(s).tolist() == [0, 0, -(2 ** 31), 0]
    assert (mg.tensor([200], dtype=mg.uint8) >> 9).tolist() == [0]
    assert mg.bitwise_left_shift(mg.tensor([True, False]), 1).tolist() == [2, 0]  # bool and int: int64
    assert mg.bitwise_left_shift(mg.tensor([True]), 1).dtype == mg.int64


@needs_torch
@pytest.mark.parametrize("dtype", ["int8", "int16", "int32", "int64", "uint8"])
def test_shifts_match_torch(dtype):
    rng = np.random.default_rng(0)
    info = np.iinfo(dtype)
    a = rng.integers(info.min, info.max, size=(4, 6), dtype=dtype, endpoint=True)
    s = rng.integers(0 if info.min == 0 else -3, 8 * info.bits // 8 + 4, size=(6,)).astype(dtype)
    for name in ("bitwise_left_shift", "bitwise_right_shift"):
        got = getattr(mg, name)(mg.tensor(a), mg.tensor(s))
        want = getattr(torch, name)(torch.from_numpy(a), torch.from_numpy(s))
        np.testing.assert_array_equal(got.array, want.numpy(), err_msg=name)
        assert got.array.dtype == want.numpy().dtype


def test_bitwise_methods_and_in_place():
    a = mg.tensor([12, 10, 7])
    assert a.bitwise_and(6).tolist() == [4, 2, 6] and a.bitwise_or(1).tolist() == [13, 11, 7]
    assert a.bitwise_xor(mg.tensor([1, 2, 3])).tolist() == [13, 8, 4] and a.bitwise_not().tolist() == [-13, -11, -8]
    x = mg.tensor([12, 10, 7])
    array = x.array
    assert x.bitwise_and_(6) is x and x.array is array and x.tolist() == [4, 2, 6]
    x.bitwise_or_(mg.tensor([1, 1, 1]))
    x.bitwise_xor_(3)
    x.bitwise_left_shift_(1)
    assert x.tolist() == [12, 0, 8]
    x.bitwise_right_shift_(2)
    x.bitwise_not_()
    assert x.tolist() == [-4, -1, -3]
    x <<= 2
    assert x is not None and x.tolist() == [-16, -4, -12] and x.array is array
    x >>= 1
    x &= 7
    x |= 8
    x ^= 1
    assert x.tolist() == [9, 15, 11] and x.array is array
    m = mg.tensor([True, False])
    m.bitwise_and_(mg.tensor([True, True]))
    assert m.dtype == mg.bool and m.tolist() == [True, False]


def test_shift_errors():
    with pytest.raises(NotImplementedError, match="integer tensors"):
        mg.bitwise_left_shift(mg.ones(2), 1)
    with pytest.raises(NotImplementedError, match="bool"):
        mg.tensor([True]) >> mg.tensor([True])
    with pytest.raises(NotImplementedError, match="float32"):
        mg.tensor([1, 2]) << 1.5
    with pytest.raises(ValueError, match="cannot be broadcast"):
        mg.tensor([1, 2]) << mg.tensor([1, 2, 3])
    with pytest.raises(RuntimeError, match="can't be cast to the desired output type bool"):
        mg.tensor([True]).bitwise_and_(mg.tensor([3]))
    kept = mg.tensor([1], dtype=mg.int32).bitwise_left_shift_(mg.tensor([3], dtype=mg.int64))
    assert kept.dtype == mg.int32 and kept.tolist() == [8]
