"""matgrad.testing.assert_close and make_tensor: pass/fail, exception type and message against
torch.testing's on the same data where PyTorch is installed, and explicit cases where it is not."""
from __future__ import annotations

import numpy as np
import pytest

import matgrad as mg
from matgrad.testing import assert_allclose, assert_close, make_tensor

try:
    import torch
except ImportError:
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch not installed")


def _outcome(fn, actual, expected, **kwargs) -> str:
    """'PASS' or 'ExceptionType: message' with the library's name taken out of dtype names."""
    try:
        fn(actual, expected, **kwargs)
    except Exception as error:  # noqa: BLE001 - comparing any exception type and message with torch's
        text = f"{type(error).__name__}: {error}".replace("matgrad.tensor.Tensor", "Tensor")
        return text.replace("torch.", "").replace("matgrad.", "")
    return "PASS"


def _convert(x, tensor):
    """Arrays become tensors of one library, recursively through lists and dicts; anything else stays."""
    if isinstance(x, np.ndarray):
        return tensor(x)
    if isinstance(x, list):
        return [_convert(v, tensor) for v in x]
    if isinstance(x, dict):
        return {k: _convert(v, tensor) for k, v in x.items()}
    return x


_rng = np.random.default_rng(0)
_A = _rng.standard_normal((3, 4)).astype(np.float32)
_B = _A.copy()
_B[1, 2] += 1.0
_B[0, 0] *= 1.001
_CASES = [
    ("equal", _A, _A.copy(), {}),
    ("float32 mismatch", _A, _B, {}),
    ("just inside float32 default", np.float32([1.0, 2.0]), np.float32([1.0, 2.0 + 8e-6]), {}),
    ("just outside float32 default", np.float32([1.0, 2.0]), np.float32([1.0, 2.0 + 2e-5]), {}),
    ("float64 default", np.array([1.0, 2.0]), np.array([1.0, 2.0 + 5e-7]), {}),
    ("float16 default", np.float16([1.0, 2.0]), np.float16([1.0, 2.002]), {}),
    ("dtype mismatch", _A, _A.astype(np.float64), {}),
    ("dtype unchecked", _A, _A.astype(np.float64), {"check_dtype": False}),
    ("dtype unchecked mismatch", _A, _B.astype(np.float64), {"check_dtype": False}),
    ("explicit tolerances", _A, _B, {"rtol": 1e-2, "atol": 0.0}),
    ("explicit tolerances pass", _A, _B, {"rtol": 0.0, "atol": 1.01}),
    ("only atol", _A, _B, {"atol": 1e-2}),
    ("only rtol", _A, _B, {"rtol": 1e-2}),
    ("exact (zero tolerances)", _A, _B, {"rtol": 0.0, "atol": 0.0}),
    ("ints", np.array([1, 2, 3]), np.array([1, 2, 5]), {}),
    ("int zero expected", np.array([[1, 2], [3, 4]]), np.array([[1, 0], [3, 4]]), {}),
    ("bools", np.array([True, False]), np.array([True, True]), {}),
    ("nan", np.array([np.nan, 1.0]), np.array([np.nan, 1.0]), {}),
    ("nan equal_nan", np.array([np.nan, 1.0]), np.array([np.nan, 1.0]), {"equal_nan": True}),
    ("nan against number", np.array([np.nan, 1.0, 3.0]), np.array([2.0, 1.0, 4.0]), {}),
    ("inf sign", np.array([np.inf, 1.0]), np.array([-np.inf, 1.0]), {}),
    ("inf equal", np.array([np.inf, -np.inf]), np.array([np.inf, -np.inf]), {}),
    ("zero expected", np.array([1.0, 0.0]), np.array([1.0, 0.5]), {}),
    ("0-d", np.array(1.5), np.array(2.5), {}),
    ("shape", _A, np.ones((4, 3), np.float32), {}),
    ("empty", np.zeros((0, 3)), np.zeros((0, 3)), {}),
    ("python floats close", 1.0, 1.0 + 1e-8, {}),
    ("python floats far", 1.0, 1.1, {}),
    ("python int vs float", 1, 1.0, {}),
    ("python int vs float unchecked", 1, 1.0, {"check_dtype": False}),
    ("python ints", 1, 2, {}),
    ("python float nan", float("nan"), float("nan"), {"equal_nan": True}),
    ("numpy scalar", np.float32(1.0), np.float64(1.5), {}),
    ("bools python", True, False, {}),
    ("none", None, None, {}),
    ("none vs number", None, 1, {}),
    ("nested", [np.ones(2), {"a": 1.0, "b": [2, 3]}], [np.ones(2), {"a": 1.0, "b": [2, 4]}], {}),
    ("nested tensor", [np.zeros(3), {"w": _A}], [np.zeros(3), {"w": _B}], {}),
    ("keys", {"a": 1}, {"b": 1}, {}),
    ("lengths", [1, 2], [1, 2, 3], {}),
    ("tuple vs list", (1, 2), [1, 2], {}),
    ("tensor vs scalar", np.array(1.0), 1.0, {}),
    ("msg string", _A, _B, {"msg": "custom message"}),
    ("msg callable", _A, _B, {"msg": lambda m: f"Header\n\n{m}\n\nFooter"}),
    ("msg callable nested", [_A], [_B], {"msg": lambda m: m.upper()}),
    ("strings", "abc", "abd", {}),
]


@needs_torch
@pytest.mark.parametrize("actual, expected, kwargs", [c[1:] for c in _CASES], ids=[c[0] for c in _CASES])
def test_assert_close_matches_torch(actual, expected, kwargs):
    want = _outcome(torch.testing.assert_close, _convert(actual, torch.as_tensor), _convert(expected, torch.as_tensor),
                    **kwargs)
    got = _outcome(assert_close, _convert(actual, mg.tensor), _convert(expected, mg.tensor), **kwargs)
    assert got == want


def test_message_format_without_torch():
    with pytest.raises(AssertionError) as info:
        assert_close(mg.tensor([1.0, 2.0, 3.0]), mg.tensor([1.0, 4.0, 3.5]))
    assert str(info.value) == (
        "Tensor-likes are not close!\n\n"
        "Mismatched elements: 2 / 3 (66.7%)\n"
        "Greatest absolute difference: 2.0 at index (1,) (up to 1e-05 allowed)\n"
        "Greatest relative difference: 0.5 at index (1,) (up to 1.3e-06 allowed)")


def test_nested_failure_names_the_item():
    with pytest.raises(AssertionError, match=r"The failure occurred for item \[1\]\['w'\]"):
        assert_close([mg.zeros(2), {"w": mg.ones(2)}], [mg.zeros(2), {"w": mg.zeros(2)}])


def test_default_tolerances_per_dtype():
    assert_close(mg.tensor([1.0], dtype=mg.float32), mg.tensor([1.0 + 1e-5], dtype=mg.float32))
    with pytest.raises(AssertionError):
        assert_close(mg.tensor([1.0], dtype=mg.float64), mg.tensor([1.0 + 1e-6], dtype=mg.float64))
    with pytest.raises(AssertionError, match="are not equal"):  # integers compare exactly
        assert_close(mg.tensor([1, 2]), mg.tensor([1, 3]))


def test_check_stride_and_layout():
    x = mg.arange(6.0).reshape(2, 3)
    y = x.t().contiguous().t()  # same values, other strides
    assert_close(x, y, check_layout=False)
    with pytest.raises(AssertionError, match=r"attribute 'stride\(\)'"):
        assert_close(x, y, check_stride=True)


def test_allow_subclasses_and_unrelated_types():
    with pytest.raises(TypeError, match="No comparison pair"):
        assert_close(mg.ones(2), np.ones(2, np.float32))
    assert_close(np.ones(2), np.ones(2), allow_subclasses=False)


def test_requires_grad_is_not_compared():
    assert_close(mg.ones(2, requires_grad=True), mg.ones(2))


def test_assert_allclose_is_deprecated_and_loose():
    with pytest.warns(FutureWarning):
        assert_allclose(mg.tensor([1.0, 2.0]), [1.0, 2.0 + 1e-4])


def test_make_tensor_ranges_and_flags():
    mg.manual_seed(0)
    f = make_tensor(50, 4, dtype=mg.float64, device="cpu")
    assert f.shape == (50, 4) and f.dtype == mg.float64
    assert float(f.min()) >= -9 and float(f.max()) < 9
    i = make_tensor((200,), dtype=mg.int64, device="cpu")
    assert int(i.min()) >= -9 and int(i.max()) <= 9
    b = make_tensor(10, dtype=mg.bool_, device="cpu")
    assert b.dtype == mg.bool_
    g = make_tensor(3, 4, dtype=mg.float32, device="cpu", low=0.5, high=1.0, requires_grad=True,
                    noncontiguous=True)
    assert g.requires_grad and not g.is_contiguous() and g.shape == (3, 4)
    assert float(g.min()) >= 0.5 and float(g.max()) < 1.0
    z = make_tensor(100, dtype=mg.int8, low=-1, high=1, exclude_zero=True)
    assert int((z == 0).sum()) == 0


@needs_torch
def test_make_tensor_errors_match_torch():
    for kwargs in ({"low": 2, "high": 1}, {"low": float("nan")}, {"requires_grad": True}):
        with pytest.raises(ValueError) as theirs:
            torch.testing.make_tensor(3, dtype=torch.int64, device="cpu", **kwargs)
        with pytest.raises(ValueError) as ours:
            make_tensor(3, dtype=mg.int64, device="cpu", **kwargs)
        assert str(ours.value).replace("matgrad.", "") == str(theirs.value).replace("torch.", "")
