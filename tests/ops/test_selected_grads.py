"""Gates select, as PyTorch's: where an op's local derivative is 0, its input gets 0 whatever the upstream
gradient is, inf and nan included (dy·0 would give nan, with NumPy's "invalid value" warning), and each
kink (x exactly at a bound, a tie) follows PyTorch's convention. The expected arrays are PyTorch 2.13's
(CPU), written out so the tests mean the same without torch; with torch, wider grids are compared too.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import matgrad as mg
import matgrad.nn.functional as F
from matgrad.ops.activation import _gate, _relu_grad
from matgrad.ops.linear import linear_activation
from tests.helpers import check_op, torch

inf, nan = np.inf, np.nan
X = [-7.0, -3.0, -1.0, 0.0, 1.0, 3.0, 6.0, 7.0]  # every kink below: 0, ±1, ±3, 6
DY_NONFINITE = [inf, nan, -inf, nan, inf, -inf, nan, inf]
DY_FINITE = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]
SIXTH = float(np.float32(1) / np.float32(6))  # PyTorch's hardsigmoid multiplies by 1.0f/6.0f, for float64 too


def _zeros_except(keep, dy):
    return [d if k else 0.0 for k, d in zip(keep, dy)]


# name: (the op on a tensor t for module M (matgrad or torch, F its functional), which of X pass dy)
GATES = {
    "relu": (lambda t, M, F: F.relu(t), [0, 0, 0, 0, 1, 1, 1, 1]),  # 0 at 0
    "relu6": (lambda t, M, F: F.relu6(t), [0, 0, 0, 0, 1, 1, 0, 0]),  # 0 at 0 and at 6
    "hardtanh": (lambda t, M, F: F.hardtanh(t), [0, 0, 0, 1, 0, 0, 0, 0]),  # 0 at ±1
    "clamp": (lambda t, M, F: t.clamp(-1, 1), [0, 0, 1, 1, 1, 0, 0, 0]),  # dy at ±1
    "clamp_min": (lambda t, M, F: t.clamp(min=0), [0, 0, 0, 1, 1, 1, 1, 1]),
    "clamp_max": (lambda t, M, F: t.clamp(max=0), [1, 1, 1, 1, 0, 0, 0, 0]),
    "threshold": (lambda t, M, F: F.threshold(t, 0.0, 20.0), [0, 0, 0, 0, 1, 1, 1, 1]),
}


def grad(M, F, fn, x, dy, dtype):
    """fn's gradient at x for upstream dy, in matgrad (no RuntimeWarning allowed) or torch."""
    if M is mg:
        t = mg.tensor(np.asarray(x, dtype), requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)
            y = fn(t, M, F)
            y.backward(mg.tensor(np.asarray(dy, dtype).reshape(y.shape)))
        return np.asarray(t.grad.array)
    t = torch.tensor(np.asarray(x, dtype), requires_grad=True)
    y = fn(t, M, F)
    y.backward(torch.tensor(np.asarray(dy, dtype)).reshape(y.shape))
    return t.grad.numpy()


def assert_same(actual, expected):
    expected = np.asarray(expected, actual.dtype)
    assert np.array_equal(actual, expected, equal_nan=True), f"\n got  {actual}\n want {expected}"


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("dy", [DY_NONFINITE, DY_FINITE], ids=["nonfinite", "finite"])
@pytest.mark.parametrize("name", sorted(GATES))
def test_a_gate_passes_dy_or_selects_zero(name, dy, dtype):
    fn, keep = GATES[name]
    assert_same(grad(mg, F, fn, X, dy, dtype), _zeros_except(keep, dy))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_hardsigmoid_is_one_sixth_strictly_inside_minus_three_three(dtype):
    fn = lambda t, M, F: F.hardsigmoid(t)  # noqa: E731
    assert_same(grad(mg, F, fn, X, DY_NONFINITE, dtype), [0, 0, -inf, nan, inf, 0, 0, 0])
    want = [d * dtype(SIXTH) if k else 0.0 for k, d in zip([0, 0, 1, 1, 1, 0, 0, 0], np.asarray(DY_FINITE, dtype))]
    assert_same(grad(mg, F, fn, X, DY_FINITE, dtype), want)  # at x = ±3: 0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_hardswish_is_zero_to_minus_three_and_dy_from_three(dtype):
    fn = lambda t, M, F: F.hardswish(t)  # noqa: E731
    # x = -1: dy·(x/3 + 1/2) = ±inf for an inf dy (the product rule of x·relu6(x+3)/6 gave inf - inf = nan)
    assert_same(grad(mg, F, fn, X, DY_NONFINITE, dtype), [0, 0, -inf, nan, inf, -inf, nan, inf])
    x = np.asarray(X, dtype)
    mid = np.asarray(DY_FINITE, dtype) * (x / 3 + dtype(0.5))  # in the dtype, as PyTorch's loop
    assert_same(grad(mg, F, fn, X, DY_FINITE, dtype), [0, 0, mid[2], mid[3], mid[4], 6, 7, 8])  # 0 at -3, dy at 3


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_maximum_and_minimum_select_and_split_ties(dtype):
    zero = mg.zeros(len(X), dtype=dtype)
    hi = lambda t, M, F: mg.maximum(t, zero)  # noqa: E731
    lo = lambda t, M, F: mg.minimum(t, zero)  # noqa: E731
    assert_same(grad(mg, F, hi, X, DY_NONFINITE, dtype), [0, 0, 0, nan, inf, -inf, nan, inf])
    assert_same(grad(mg, F, hi, X, DY_FINITE, dtype), [0, 0, 0, 2, 5, 6, 7, 8])  # the tie at 0: dy/2
    assert_same(grad(mg, F, lo, X, DY_NONFINITE, dtype), [inf, nan, -inf, nan, 0, 0, 0, 0])
    assert_same(grad(mg, F, lo, X, DY_FINITE, dtype), [1, 2, 3, 2, 0, 0, 0, 0])


def test_maximum_gives_both_inputs_dy_where_one_is_nan():
    a = mg.tensor([nan, 1.0, nan, 2.0], requires_grad=True)
    b = mg.tensor([1.0, nan, nan, 2.0], requires_grad=True)
    mg.maximum(a, b).backward(mg.tensor([1.0, 2.0, 3.0, 4.0]))
    assert_same(a.grad.array, [1, 2, 3, 2])
    assert_same(b.grad.array, [1, 2, 3, 2])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("dy", [inf, nan, -inf])
def test_the_whole_max_and_min_select_their_maxima(dy, dtype):
    x = [1.0, 3.0, -2.0, 3.0, 0.0]
    top = lambda t, M, F: t.max()  # noqa: E731
    bottom = lambda t, M, F: (-t).min()  # noqa: E731
    for fn, sign in ((top, 1), (bottom, -1)):  # min of -x: its maxima, the gradient through the negation
        assert_same(grad(mg, F, fn, x, dy, dtype), [0, sign * dy / 2, 0, sign * dy / 2, 0])
    # a nan maximum: dy shared among the nans, as PyTorch's evenly_distribute_backward
    assert_same(grad(mg, F, top, [1.0, nan, 3.0, nan], 1.0, dtype), [0, 0.5, 0, 0.5])
    if torch is not None:
        import torch.nn.functional as TF

        for fn in (top, bottom):
            for xs in (x, [1.0, nan, 3.0, nan]):
                assert_same(grad(mg, F, fn, xs, dy, dtype), grad(torch, TF, fn, xs, dy, dtype))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_amax_multiplies_as_pytorch_and_divides_by_the_count(dtype):
    # amax's backward is (dy / count)·mask in PyTorch: an inf dy gives the whole slice nan (no warning here)
    x = [[3.0, 3.0, 1.0, 3.0], [0.0, 5.0, 1.0, 2.0]]
    fn = lambda t, M, F: t.amax(1)  # noqa: E731
    assert_same(grad(mg, F, fn, x, [inf, 1.0], dtype), [[inf, inf, nan, inf], [0, 1, 0, 0]])
    d = dtype(0.1257)
    assert_same(grad(mg, F, fn, x, [d, 1.0], dtype), [[d / 3, d / 3, 0, d / 3], [0, 1, 0, 0]])  # not d·(1/3)


def test_max_along_a_dim_selects_under_create_graph_too():
    x = mg.tensor([[1.0, 4.0, 2.0]], requires_grad=True)
    (g,) = mg.autograd.grad(x.max(1).values * 1.0, x, mg.tensor([inf]), create_graph=True)
    assert_same(g.array, [[0, inf, 0]])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_relu_passes_dy_through_a_nan_output_as_pytorch(dtype):
    # PyTorch: y <= 0 ? 0 : dy on relu's output, and nan <= 0 is false
    fn = lambda t, M, F: F.relu(t)  # noqa: E731
    assert_same(grad(mg, F, fn, [nan, -0.0, 0.0, -nan], [2.0, inf, nan, -1.0], dtype), [2, 0, 0, -1])


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_the_relu_gate_writes_into_out_and_keeps_every_bit(dtype):
    """The chunk form matgrad.parallel calls: dy's bits where y != 0 (-0.0 and nan payloads too), +0.0 elsewhere."""
    y = np.array([0.0, -0.0, 1.0, nan, 2.0, 0.0], dtype)
    dy = np.array([-inf, -5.0, -0.0, nan, inf, nan], dtype)
    out = np.full_like(dy, 7.0)
    assert _relu_grad(dy, y, out=out) is out
    want = np.array([0.0, 0.0, -0.0, nan, inf, 0.0], dtype)
    bits = {2: np.int16, 4: np.int32, 8: np.int64}[dy.itemsize]
    np.testing.assert_array_equal(out.view(bits), want.view(bits))  # +0.0 where dropped, as where()
    np.testing.assert_array_equal(_gate(dy, y != 0).view(bits), want.view(bits))


def test_the_gate_broadcasts_and_takes_other_dtypes():
    dy = np.array([[inf], [2.0]], np.float32)
    keep = np.array([True, False, True])
    np.testing.assert_array_equal(_gate(dy, keep), [[inf, 0, inf], [2, 0, 2]])
    assert _gate(np.array([inf, 1j]), np.array([False, True])).tolist() == [0, 1j]  # no bit view: where()


def test_the_gate_gives_an_array_of_its_own_which_a_leaf_keeps_as_grad():
    """Not a view of the integer product: the engine hands it to a leaf's .grad as it is (it copies views)."""
    dy = np.array([[1.0, -2.0], [3.0, 4.0]], np.float32).T  # a transposed layout, as a conv's output
    g = _gate(dy, np.array([[True, False], [False, True]]).T)
    assert g.base is None and g.strides == dy.strides
    np.testing.assert_array_equal(g, [[1.0, 0.0], [0.0, 4.0]])
    x = mg.tensor([[1.0, -1.0], [2.0, 0.5]], requires_grad=True)
    seed = mg.tensor([[5.0, 6.0], [7.0, 8.0]])
    F.relu(x).backward(seed)
    kept = x.grad.numpy()
    seed.numpy()[...] = 0  # the seed changed after backward: .grad does not alias it
    np.testing.assert_array_equal(kept, [[5.0, 0.0], [7.0, 8.0]])
    np.testing.assert_array_equal(x.grad.numpy(), [[5.0, 0.0], [7.0, 8.0]])


def test_a_large_relu_is_cut_into_chunks_with_the_same_result():
    from matgrad import parallel

    n = max(parallel.MIN_SIZE, 1 << 20) + 4096
    rng = np.random.default_rng(0)
    x = rng.standard_normal(n).astype(np.float32)
    dy = rng.standard_normal(n).astype(np.float32)
    dy[::7] = inf
    dy[3::11] = nan
    old = mg.get_num_threads()
    try:
        mg.set_num_threads(2)
        assert_same(grad(mg, F, lambda t, M, F: F.relu(t), x, dy, np.float32), np.where(x > 0, dy, 0))
    finally:
        mg.set_num_threads(old)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_linear_relu_gives_relu_of_linear_bit_for_bit(dtype):
    rng = np.random.default_rng(1)
    x0 = rng.standard_normal((5, 4)).astype(dtype)
    w0 = rng.standard_normal((6, 4)).astype(dtype)
    b0 = rng.standard_normal(6).astype(dtype)
    dy = rng.standard_normal((5, 6)).astype(dtype)
    off = x0 @ w0.T + b0 <= 0
    assert off.any() and not off.all()
    dy[off] = inf  # an inf where the unit is off must not become nan (nor reach the matmuls)
    dy[np.flatnonzero(~off.ravel())[0] // 6, np.flatnonzero(~off.ravel())[0] % 6] = nan  # one where on
    grads = []
    for fused in (True, False):
        x, w, b = (mg.tensor(a, requires_grad=True) for a in (x0, w0, b0))
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)
            y = linear_activation(x, w, b, "relu") if fused else F.relu(F.linear(x, w, b))
            y.backward(mg.tensor(dy))
        grads.append([t.grad.array for t in (x, w, b)])
    bits = np.int32 if dtype == np.float32 else np.int64
    for fused, plain in zip(*grads):
        np.testing.assert_array_equal(fused.view(bits), plain.view(bits))


@pytest.mark.parametrize("name", ["hardswish", "hardsigmoid", "relu6", "hardtanh"])
def test_the_hard_activations_still_pass_the_gradient_checks(name):
    # first and second order, and torch's values where installed
    check_op(getattr(F, name), (3, 5), torch_fn=None if torch is None else getattr(torch.nn.functional, name))


# --- against torch itself, on wider grids ---------------------------------------------------------
WIDE_X = [-inf, -7, -6, -3.5, -3, -2, -1, -0.5, -0.0, 0.0, 0.5, 1, 2, 3, 3.5, 6, 7, inf]
WIDE_DY = [1.0, -2.0, inf, -inf, nan, 0.0]
TORCH_CASES = {
    **GATES,
    "hardsigmoid": (lambda t, M, F: F.hardsigmoid(t), None),
    "hardswish": (lambda t, M, F: F.hardswish(t), None),
    "where": (lambda t, M, F: M.where(t > 0, t, t * 2), None),
    "masked_fill": (lambda t, M, F: t.masked_fill(t > 0, 5.0), None),
    "maximum": (lambda t, M, F: M.maximum(t, t.detach().flip(0)), None),  # ties, nans, both orders
    "minimum": (lambda t, M, F: M.minimum(t, t.detach().flip(0)), None),
    "maximum_other": (lambda t, M, F: M.maximum(t.detach().flip(0), t), None),
    "amax_rows": (lambda t, M, F: t.reshape(6, -1).amax(1), None),  # dy [1, -2, inf, -inf, nan, 0]
    "amin_rows": (lambda t, M, F: t.reshape(6, -1).amin(1), None),
    "max_dim": (lambda t, M, F: t.reshape(6, -1).max(1)[0], None),
    "min_dim": (lambda t, M, F: t.reshape(6, -1).min(1)[0], None),
}
#: where PyTorch itself has no one answer for a nan input (its vectorized loop and scalar tail differ)
NAN_X_DIFFERS = {"relu6", "hardtanh", "hardswish"}


@pytest.mark.skipif(torch is None, reason="needs torch")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(TORCH_CASES))
def test_gradients_equal_pytorchs_under_inf_and_nan(name, dtype):
    import torch.nn.functional as TF

    fn = TORCH_CASES[name][0]
    xs = WIDE_X + ([] if name in NAN_X_DIFFERS else [nan])
    x = np.repeat(np.asarray(xs, dtype), len(WIDE_DY))
    dy = np.tile(np.asarray(WIDE_DY, dtype), len(xs))
    with np.errstate(invalid="ignore"):
        probe = fn(torch.tensor(x), torch, TF)
    dy = np.resize(dy, tuple(probe.shape))
    got, want = grad(mg, F, fn, x, dy, dtype), grad(torch, TF, fn, x, dy, dtype)
    bad = ~((got == want) | (np.isnan(got) & np.isnan(want)))
    assert not bad.any(), [(x[i], dy.ravel()[i % dy.size], got[i], want[i]) for i in np.flatnonzero(bad)[:8]]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_abs_at_a_nan_input_gets_0_and_inf_times_0_stays_quiet(dtype):
    """|x|'s gradient is dy·sign(x); PyTorch takes sign(nan) as 0 there, and inf·sign(0) = nan without a warning."""
    x, dy = [nan, 0.0, -1.0, inf, -inf], [1.0, inf, 2.0, 1.0, 1.0]
    assert_same(grad(mg, F, lambda t, M, F: t.abs(), x, dy, dtype), [0.0, nan, -2.0, 1.0, -1.0])
    if torch is not None:
        assert_same(grad(mg, F, lambda t, M, F: t.abs(), x, dy, dtype),
                    grad(torch, torch.nn.functional, lambda t, M, F: t.abs(), x, dy, dtype))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_leaky_relu_with_slope_0_keeps_plus_inf(dtype):
    """where(x > 0, x, 0·x): +inf stays +inf (max(x, 0·x) would give nan), -inf and nan give nan, as PyTorch."""
    x = mg.tensor(np.array([inf, -inf, nan, -1.0, 0.0, 2.0], dtype))
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        y = F.leaky_relu(x, 0.0).array
    assert_same(y, [inf, nan, nan, -0.0, 0.0, 2.0])
    assert np.signbit(y[3]), "0·(-1) is -0.0, as in PyTorch"
    fn = lambda t, M, F: F.leaky_relu(t, 0.0)  # noqa: E731
    assert_same(grad(mg, F, fn, [inf, -1.0, 2.0], [1.0, inf, inf], dtype), [1.0, nan, inf])
