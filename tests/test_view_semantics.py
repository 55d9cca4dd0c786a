"""View semantics as PyTorch's: which ops return views (`_base`, shared memory, strides, storage offset,
contiguity), view()'s RuntimeError where strides allow no view, view(dtype), and in-place changes through a
view or its base: values, the shared version counter, the gradient (PyTorch's CopySlices) and the errors.

Each behaviour is compared with torch where it is installed (those tests skip cleanly without it); float64
gradient checks cover the differentiable views.
"""
from __future__ import annotations

import numpy as np
import pytest

import matgrad as mg
from tests.helpers import check_op, torch

needs_torch = pytest.mark.skipif(torch is None, reason="compares with PyTorch")


def _both(shape, make=lambda x: x, dtype="float64"):
    """The same tensor in matgrad and torch: a contiguous root, and `make(root)` (a transposed, sliced,
    expanded ... tensor of it)."""
    a = np.arange(int(np.prod(shape)), dtype=dtype).reshape(shape)
    rm, rt = mg.tensor(a.copy()), torch.tensor(a.copy())
    return rm, rt, make(rm), make(rt)


INPUTS = {
    "contiguous": lambda x: x,
    "transposed": lambda x: x.permute(2, 0, 1),
    "sliced": lambda x: x[:, ::2, 1:],
    "expanded": lambda x: x[:1].expand(3, 3, 4),
    "size-1 dims": lambda x: x[:1, :, 2:3],
}

# each op: (name, the call on both libraries); the calls use the names the two share
VIEW_OPS = [
    ("reshape(-1)", lambda x: x.reshape(-1)),
    ("reshape(same)", lambda x: x.reshape(tuple(x.shape))),
    ("reshape(n, -1)", lambda x: x.reshape(x.shape[0], -1)),
    ("view(same)", lambda x: x.view(tuple(x.shape))),
    ("view(-1)", lambda x: x.view(-1)),
    ("view_as", lambda x: x.view_as(x)),
    ("flatten()", lambda x: x.flatten()),
    ("flatten(1)", lambda x: x.flatten(1)),
    ("flatten(0, 0)", lambda x: x.flatten(0, 0)),
    ("unflatten", lambda x: x.unflatten(-1, (1, x.shape[-1]))),
    ("squeeze()", lambda x: x.squeeze()),
    ("squeeze(0)", lambda x: x.squeeze(0)),
    ("unsqueeze(0)", lambda x: x.unsqueeze(0)),
    ("unsqueeze(-1)", lambda x: x.unsqueeze(-1)),
    ("unsqueeze(1)", lambda x: x.unsqueeze(1)),
    ("transpose", lambda x: x.transpose(0, 1)),
    ("transpose(0, 0)", lambda x: x.transpose(0, 0)),
    ("swapaxes", lambda x: x.swapaxes(0, 2)),
    ("permute", lambda x: x.permute(1, 2, 0)),
    ("movedim", lambda x: x.movedim(0, -1)),
    ("movedim(0, 0)", lambda x: x.movedim(0, 0)),
    ("mT", lambda x: x.mT),
    ("narrow", lambda x: x.narrow(1, 1, 1)),
    ("select", lambda x: x.select(0, 0)),
    ("x[0]", lambda x: x[0]),
    ("x[0, 1, 0]", lambda x: x[0, 1, 0]),
    ("x[..., 1]", lambda x: x[..., 1]),
    ("x[:, 1:]", lambda x: x[:, 1:]),
    ("x[None]", lambda x: x[None]),
    ("x[...]", lambda x: x[...]),
    ("x[[0]]", lambda x: x[[0]]),
    ("unbind", lambda x: x.unbind(1)[1]),
    ("split", lambda x: x.split(1, 2)[1]),
    ("chunk", lambda x: x.chunk(2, 2)[1]),
    ("expand", lambda x: x.unsqueeze(0).expand(2, *x.shape)),
    ("expand(same)", lambda x: x.expand(*x.shape)),
    ("expand_as", lambda x: x[:1].expand_as(x)),
    ("diagonal", lambda x: x.diagonal()),
    ("diagonal(1, 0, 2)", lambda x: x.diagonal(1, 0, 2)),
    ("diagonal(-1, 2, 1)", lambda x: x.diagonal(-1, 2, 1)),
    ("unfold", lambda x: x.unfold(2, 2, 2)),
    ("unfold(overlapping)", lambda x: x.unfold(2, 2, 1)),
    ("unfold(step 2)", lambda x: x.unfold(-1, 1, 2)),
    ("contiguous", lambda x: x.contiguous()),
    ("ravel", lambda x: x.ravel()),
    ("detach", lambda x: x.detach()),
    ("real", lambda x: x.real),
]


@needs_torch
@pytest.mark.parametrize("make", INPUTS.values(), ids=INPUTS.keys())
@pytest.mark.parametrize("op", [f for _, f in VIEW_OPS], ids=[n for n, _ in VIEW_OPS])
def test_view_or_copy_as_torch(op, make):
    rm, rt, xm, xt = _both((3, 3, 4), make)
    try:
        want = op(xt)
    except (RuntimeError, IndexError) as e:  # view() on strides that allow none; a dim too small for the op
        if "view size" in str(e):  # matgrad copies there (see matgrad.ops.shape.view)
            got = op(xm)
            assert got._base is None and not np.shares_memory(got.numpy(), rm.numpy())
            np.testing.assert_array_equal(got.numpy(), xt.reshape(got.shape).numpy())
            return
        with pytest.raises(type(e)):
            op(xm)
        return
    got = op(xm)
    np.testing.assert_array_equal(got.numpy(), want.numpy())
    assert (got is xm) == (want is xt)
    assert (got._base is rm) == (want._base is rt), f"torch: _base {'is' if want._base is rt else 'is not'} the root"
    assert got._is_view() == want._is_view()
    shares = want.untyped_storage().data_ptr() == rt.untyped_storage().data_ptr()
    assert np.shares_memory(got.numpy(), rm.numpy()) == (shares and want.numel() > 0)
    if shares:
        assert got.stride() == want.stride()
        assert got.storage_offset() == want.storage_offset()
    assert got.is_contiguous() == want.is_contiguous()


@needs_torch
@pytest.mark.parametrize("op", [f for n, f in VIEW_OPS if "overlapping" not in n],
                         ids=[n for n, _ in VIEW_OPS if "overlapping" not in n])
def test_inplace_through_a_view_reaches_the_base_as_torch(op):
    """(Not for overlapping windows: torch adds twice where two windows share an element, NumPy once.)"""
    rm, rt, xm, xt = _both((3, 3, 4), INPUTS["transposed"])
    try:
        vt = op(xt)
    except RuntimeError:
        return  # view() that torch refuses: the test above
    vm = op(xm)
    try:
        vt.add_(100)
    except RuntimeError as e:  # more than one element in one memory location (an expanded view)
        with pytest.raises(RuntimeError, match="single memory location"):
            vm.add_(100)
        assert "single memory location" in str(e)
        return
    vm.add_(100)
    np.testing.assert_array_equal(rm.numpy(), rt.numpy())
    np.testing.assert_array_equal(vm.numpy(), vt.numpy())
    assert (rm._version, xm._version, vm._version) == (rt._version, xt._version, vt._version)
    rt.mul_(2)
    rm.mul_(2)  # and the other way: a change of the base shows in the view
    np.testing.assert_array_equal(vm.numpy(), vt.numpy())
    assert vm._version == vt._version


# --- view(): PyTorch's RuntimeError where the strides allow no view ----------------------------------------
def _transform(x, steps):
    for kind, *args in steps:
        if kind == "perm":
            x = x.permute(*args[0])
        elif kind == "slice":
            d, a, b, step = args
            x = x[(slice(None),) * d + (slice(a, b, step),)]
        elif kind == "unsqueeze":
            x = x.unsqueeze(args[0])
        else:
            d, n = args
            shape = list(x.shape)
            shape.insert(d, n)
            x = x.unsqueeze(d).expand(*shape)
    return x


def _factor(n, rng):
    """A random shape with n elements, with dims of size 1 here and there."""
    dims = []
    while n > 1 and len(dims) < 4:
        d = int(rng.choice([k for k in range(2, n + 1) if n % k == 0]))
        dims.append(d)
        n //= d
    if n > 1:
        dims.append(n)
    for _ in range(int(rng.integers(0, 3))):
        dims.insert(int(rng.integers(0, len(dims) + 1)), 1)
    rng.shuffle(dims)
    return tuple(dims)


def _random_cases(count, seed=0):
    rng = np.random.default_rng(seed)
    for _ in range(count):
        shape = tuple(int(s) for s in rng.integers(1, 5, int(rng.integers(1, 5))))
        steps, cur = [], list(shape)
        for _ in range(int(rng.integers(0, 3))):
            k = int(rng.integers(0, 4))
            if k == 0:
                p = [int(i) for i in rng.permutation(len(cur))]
                steps.append(("perm", p))
                cur = [cur[i] for i in p]
            elif k == 1:
                d = int(rng.integers(0, len(cur)))
                a = int(rng.integers(0, cur[d]))
                b = int(rng.integers(a + 1, cur[d] + 1))
                step = int(rng.integers(1, 3))
                steps.append(("slice", d, a, b, step))
                cur[d] = len(range(a, b, step))
            elif k == 2:
                d = int(rng.integers(0, len(cur) + 1))
                steps.append(("unsqueeze", d))
                cur.insert(d, 1)
            else:
                d, n = int(rng.integers(0, len(cur) + 1)), int(rng.integers(1, 4))
                steps.append(("expand", d, n))
                cur.insert(d, n)
        targets = []
        for _ in range(4):
            t = list(_factor(int(np.prod(cur)), rng))
            if t and rng.random() < 0.3:
                t[int(rng.integers(0, len(t)))] = -1
            targets.append(tuple(t))
        yield shape, steps, targets


@needs_torch
@pytest.mark.parametrize("seed", range(4))
def test_view_raises_exactly_where_torch_does_and_views_as_torch(seed):
    """Random transposed, sliced, expanded tensors viewed with random shapes (torch's computeStride)."""
    raised = viewed = 0
    for shape, steps, targets in _random_cases(300, seed):
        rm, rt, _, _ = _both(shape, dtype="float32")
        xm, xt = _transform(rm, steps), _transform(rt, steps)
        assert xm.stride() == xt.stride(), (shape, steps)
        for target in targets:
            case = (shape, steps, tuple(xt.shape), xt.stride(), target)
            try:
                vt = xt.view(target)
            except RuntimeError:
                c = xm.view(target)  # a copy where torch raises (see matgrad.ops.shape.view)
                assert c._base is None and not np.shares_memory(c.numpy(), rm.numpy()), case
                np.testing.assert_array_equal(c.numpy(), xt.reshape(target).numpy())
                raised += 1
                r = xm.reshape(target)  # reshape copies there, as torch's
                assert r._base is None and not np.shares_memory(r.numpy(), rm.numpy()), case
                np.testing.assert_array_equal(r.numpy(), xt.reshape(target).numpy())
                continue
            vm = xm.view(target)
            viewed += 1
            assert vm._base is rm, case
            assert (vm.stride(), vm.storage_offset()) == (vt.stride(), vt.storage_offset()), case
            np.testing.assert_array_equal(vm.numpy(), vt.numpy())
            r = xm.reshape(target)  # and reshape views exactly there
            assert r._base is rm and r.stride() == vt.stride(), case
    assert raised > 20 and viewed > 100  # both kinds were met


def test_view_where_strides_allow_none_copies_and_views_everywhere_else():
    """PyTorch raises for x.t().view(6); matgrad copies, so that a conv's channel-major output views as torch's."""
    x = mg.arange(6.0).reshape(2, 3)
    c = x.t().view(6)
    assert c._base is None and c.tolist() == [0.0, 3.0, 1.0, 4.0, 2.0, 5.0]
    y = mg.nn.functional.conv2d(mg.randn(2, 3, 5, 5), mg.randn(4, 3, 3, 3))
    assert y.view(2, -1).shape == (2, 4 * 3 * 3)  # (C, N, H, W) in memory: torch's contiguous output views
    v = x.t().view(3, 2)  # a view where the strides allow one, sharing memory both ways
    v[0, 1] = 100.0
    assert x[1, 0].item() == 100.0
    x.view(-1)[0] = -1.0
    assert x[0, 0].item() == -1.0


def test_view_keeps_its_checks():
    x = mg.arange(6.0)
    with pytest.raises(RuntimeError):
        x.view(4)
    with pytest.raises(RuntimeError):
        x.view(-1, -1)
    with pytest.raises(TypeError):
        x.view()
    assert x.view(size=(2, 3)).shape == (2, 3)
    assert x.view([3, 2]).shape == (3, 2)


# --- view(dtype) ---------------------------------------------------------------------------------------------
DTYPES = ["float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool"]
DTYPE_INPUTS = {
    "contiguous": lambda x: x,
    "row slice": lambda x: x[1:],
    "column slice": lambda x: x[:, 2:6],
    "odd column": lambda x: x[:, 1:5],
    "step": lambda x: x[:, ::2],
    "transposed": lambda x: x.t(),
    "expanded": lambda x: x[:1].expand(3, 8),
    "expanded rows": lambda x: x[:, :1].expand(4, 8),
    "0-d": lambda x: x[1, 1],
    "empty": lambda x: x[:, :0],
}


@needs_torch
@pytest.mark.parametrize("make", DTYPE_INPUTS.values(), ids=DTYPE_INPUTS.keys())
@pytest.mark.parametrize("src", DTYPES)
@pytest.mark.parametrize("dst", DTYPES)
def test_view_dtype_as_torch(src, dst, make):
    a = (np.arange(32) % 2 if src == "bool" else np.arange(32) * 7 + 1).astype(src).reshape(4, 8)
    rm, rt = mg.tensor(a.copy()), torch.from_numpy(a.copy())
    xm, xt = make(rm), make(rt)
    dm, dt = getattr(mg, dst if dst != "bool" else "bool_"), getattr(torch, dst)
    try:
        want = xt.view(dt)
    except RuntimeError as e:
        msg = str(e).split(" to view")[0]
        with pytest.raises(RuntimeError) as got:
            xm.view(dm)
        assert str(got.value).split(" to view")[0] == msg
        assert "(different element sizes)" in str(got.value)
        return
    got = xm.view(dm)
    assert got.dtype == dm and got.shape == tuple(want.shape)
    if dst != "bool":  # a bool made of other bytes than 0 and 1: torch and NumPy print those differently
        assert got.numpy().tobytes() == want.numpy().tobytes()
    if want.numel():
        assert got.stride() == want.stride() and got.storage_offset() == want.storage_offset()
        assert np.shares_memory(got.numpy(), rm.numpy())
    assert got._base is None and want._base is None  # not a view for autograd, as torch's


def test_view_dtype_shares_memory_and_version_counter():
    x = mg.tensor([1.0, 2.0])
    i = x.view(mg.int32)
    assert i.tolist() == [1065353216, 1073741824]
    i[0] = 0
    assert x.tolist() == [0.0, 2.0]
    assert x._version == i._version == 1
    x.add_(1)
    assert i._version == 2
    assert x.view(mg.float16).shape == (4,) and x.view(np.int64).shape == (1,)
    h = mg.zeros(2, 4, dtype=mg.float16)
    assert h.view(mg.float64).shape == (2, 1)


@needs_torch
def test_view_dtype_is_not_differentiable_as_torch():
    for m, t in ((mg.ones(4, requires_grad=True), torch.ones(4, requires_grad=True)),):
        for mdt, tdt in ((mg.float32, torch.float32), (mg.int32, torch.int32), (mg.float16, torch.float16)):
            vm, vt = m.view(mdt), t.view(tdt)
            assert (vm.requires_grad, vm.grad_fn is None, vm.is_leaf) == (vt.requires_grad, vt.grad_fn is None,
                                                                           vt.is_leaf)
        ym, yt = m * 2, t * 2
        vm, vt = ym.view(mg.float32), yt.view(torch.float32)
        assert (vm.requires_grad, vm._base) == (vt.requires_grad, vt._base) == (False, None)
        vm.add_(1)  # allowed (it has no history), the base's version goes up, its history stays
        vt.add_(1)
        assert ym._version == yt._version == 1
        assert ym.grad_fn is not None and yt.grad_fn is not None
        np.testing.assert_array_equal(ym.detach().numpy(), yt.detach().numpy())


def test_view_dtype_errors():
    x = mg.ones(3)
    with pytest.raises(RuntimeError, match=r"self.size\(-1\) must be divisible by 2 to view Float as Double"):
        x.view(mg.float64)
    with pytest.raises(RuntimeError, match=r"self.dim\(\) cannot be 0 to view Float as Half"):
        mg.tensor(1.0).view(mg.float16)
    with pytest.raises(RuntimeError, match=r"self.stride\(-1\) must be 1 to view Float as Short .*but got 3"):
        mg.ones(2, 3).t().view(mg.int16)
    with pytest.raises(RuntimeError, match=r"self.storage_offset\(\) must be divisible by 2 to view Short as Int"):
        mg.ones(2, 4, dtype=mg.int16)[:, 1:3].view(mg.int32)
    with pytest.raises(RuntimeError, match=r"self.stride\(0\) must be divisible by 4 to view Short as Long"):
        mg.ones(2, 6, dtype=mg.int16)[:, :4].view(mg.int64)
    assert mg.ones(2, 8, dtype=mg.int16)[:, 4:].view(mg.int64).stride() == (2, 1)
    with pytest.raises(TypeError):
        x.view(mg.float32, mg.int32)


# --- which ops make views: the version counter and _base ---------------------------------------------------
def test_views_of_views_point_at_the_root_and_share_its_counter():
    x = mg.zeros(4, 3)
    v = x.t()[1:]
    w = v.unsqueeze(0)
    assert v._base is x and w._base is x and x._base is None
    w.add_(1)
    assert x._version == v._version == w._version == 1
    assert x.sum().item() == 8.0
    d = x.detach()
    assert d._base is None and not d._is_view()
    d.zero_()
    assert x._version == 2  # detach() shares the counter (not .data)
    x.data.add_(1)
    assert x._version == 2


def test_x_int_is_a_view_where_numpy_would_copy_out_a_number():
    """x[0] of a 1-D tensor was a copy: x[0].add_(1) changed nothing."""
    x = mg.zeros(3)
    x[0].add_(1)
    x.select(0, 1).add_(2)
    x.unbind()[2].add_(3)
    assert x.tolist() == [1.0, 2.0, 3.0]
    assert x[mg.tensor(1)]._base is x
    y = mg.zeros(2, 2)
    y[1, 1].fill_(5)
    assert y.tolist() == [[0.0, 0.0], [0.0, 5.0]]


def test_diagonal_is_a_view():
    """diagonal was a copy: x.diagonal().fill_(0) changed nothing."""
    x = mg.ones(3, 3)
    x.diagonal().zero_()
    assert x.tolist() == [[0, 1, 1], [1, 0, 1], [1, 1, 0]]
    x.diagonal(1).fill_(7)
    assert x[0, 1].item() == 7 and x[1, 2].item() == 7


def test_unfold_is_a_view():
    x = mg.arange(6.0)
    u = x.unfold(0, 2, 2)
    assert u._base is x and u.stride() == (2, 1)
    u[1, 0] = 100.0
    assert x[2].item() == 100.0


def test_same_shape_views_are_new_tensors():
    """reshape / expand / transpose / T of what they would not change were the tensor itself: torch makes views."""
    x = mg.ones(3)
    for v in (x.reshape(3), x.view(3), x.expand(3), x.t(), x.T, x.transpose(0, 0), x.squeeze(), x.movedim(0, 0)):
        assert v is not x and v._base is x
    assert x.flatten() is x and x.contiguous() is x


def test_expand_is_writable_where_no_two_elements_share_memory():
    x = mg.zeros(1, 3)
    x.expand(1, 3).add_(1)
    assert x.tolist() == [[1.0, 1.0, 1.0]]
    with pytest.raises(RuntimeError, match="single memory location"):
        x.expand(2, 3).add_(1)


def test_ravel_copies_a_tensor_that_is_not_contiguous():
    x = mg.zeros(3, 4)
    r = x[:, :1].ravel()
    r.add_(1)
    assert x.sum().item() == 0.0  # torch's ravel copies it (reshape alone would have viewed it)
    assert x.ravel()._base is x


# --- in-place through views and autograd -------------------------------------------------------------------
def _grads(lib, fn, *shapes):
    """fn's gradients, on float64 leaves of `shapes`, in lib (matgrad or torch)."""
    arrays = [np.random.default_rng(i).standard_normal(s) for i, s in enumerate(shapes)]
    xs = [lib.tensor(a, dtype=lib.float64, requires_grad=True) for a in arrays]
    out = fn(lib, *xs)
    out.backward(lib.tensor(np.random.default_rng(9).standard_normal(tuple(out.shape)), dtype=lib.float64))
    return [x.grad.numpy() if x.grad is not None else None for x in xs], out.detach().numpy()


def _slice_mul(lib, x, w):
    y = x * 1
    y[:, 1:].mul_(w)
    return y


def _transposed_row(lib, x, w):
    y = x * 1
    y.t()[1].mul_(w[:, 0])
    return y


def _base_then_view(lib, x, w):
    y = x * 1
    v = y[1]
    y.mul_(w)  # the base changes after the view was made: the view's gradient goes through the change
    return v * 1


def _sibling(lib, x, w):
    y = x * 1
    a, b = y[:1], y[1:]
    a.mul_(w[:1])
    return b.sum(0) + a.sum(0) + y.sum(0)


def _copy_into_a_view(lib, x, w):
    y = lib.zeros(2, 3, dtype=lib.float64)
    y.narrow(1, 0, 2).copy_(w[:, :2])  # a base without grad takes the gradient from what went in
    return y * x


def _diagonal_add(lib, x, w):
    y = x * 1
    y.diagonal().add_(w[0, :2])
    return y


def _view_of_view(lib, x, w):
    y = x * 1
    y.reshape(-1)[2:5].mul_(w.reshape(-1)[:3])
    return y.exp()


def _setitem_on_view(lib, x, w):
    y = x * 1
    v = y.t()
    v[0] = w[:, 0]
    return y * y


INPLACE_CASES = [_slice_mul, _transposed_row, _base_then_view, _sibling, _copy_into_a_view, _diagonal_add,
                 _view_of_view, _setitem_on_view]


@needs_torch
@pytest.mark.parametrize("fn", INPLACE_CASES, ids=lambda f: f.__name__)
def test_inplace_through_views_gives_torchs_gradient(fn):
    """The gradient an in-place change through a view makes: before, the base's history ignored it."""
    shapes = ((2, 3), (2, 3)) if fn is not _slice_mul else ((2, 3), (2, 2))
    (gx, gw), out = _grads(mg, fn, *shapes)
    (tx, tw), tout = _grads(torch, fn, *shapes)
    np.testing.assert_allclose(out, tout, rtol=1e-12)
    np.testing.assert_allclose(gx, tx, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(gw, tw, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("fn", INPLACE_CASES, ids=lambda f: f.__name__)
def test_inplace_through_views_gradcheck(fn):
    shapes = ((2, 3), (2, 3)) if fn is not _slice_mul else ((2, 3), (2, 2))
    check_op(lambda x, w: fn(mg, x, w), *shapes, use_torch=False)


def test_inplace_on_a_view_gives_the_base_the_gradient():
    """The silent wrong gradient it was: [1, 1, 1, 1], the in-place multiply by 3 ignored."""
    x = mg.ones(4, requires_grad=True)
    y = x * 1
    y[:2].mul_(3)
    y.sum().backward()
    assert x.grad.tolist() == [3.0, 3.0, 1.0, 1.0]


def test_views_gradcheck_and_torch():
    check_op(lambda x: x.permute(2, 0, 1).view(4, 6), (2, 3, 4))
    check_op(lambda x: x.t().view(3, 2, 1).squeeze(-1).unsqueeze(0), (2, 3))
    check_op(lambda x: x[:, ::2].reshape(-1), (3, 4))
    check_op(lambda x: x.unfold(1, 2, 1) * 1, (2, 5))
    check_op(lambda x: x.unfold(0, 3, 2).sum(-1), (7,))
    check_op(lambda x: x.diagonal(1, 0, 2), (3, 2, 4))
    check_op(lambda x: x.diagonal(-1, -1, -2) * x.diagonal(1, 1, 2), (2, 3, 3))
    check_op(lambda x: x[:1].expand(3, 4) * x, (3, 4))
    check_op(lambda x: x.unbind(1)[1] + x.split(1, 0)[0].squeeze(0), (3, 3))
    check_op(lambda x: x[1] * x[0, 2], (2, 3))


@needs_torch
def test_saved_tensor_changed_through_a_view_or_its_base_raises_as_torch():
    for lib in (mg, torch):
        x = lib.ones(4, requires_grad=True)
        y = x * 1
        z = y * y  # keeps y
        y[:2].mul_(3)  # changed through a view: the counter is shared
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            z.sum().backward()
        y = x * 1
        v = y[:2]
        z = v * v  # keeps the view
        y.mul_(3)  # changed through the base
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            z.sum().backward()
        y = x * 1
        v = y[:2]
        z = v.exp()  # a slice's backward needs only shapes: changing its base later is fine, as torch's
        y.add_(1)
        z.sum().backward()


@needs_torch
def test_inplace_view_errors_as_torch():
    def cases(lib):
        x = lib.ones(4, requires_grad=True)
        yield "a view of a leaf Variable that requires grad", lambda: x[:2].add_(1)
        yield "returns multiple views", lambda: (x * 1).split(2)[0].mul_(2)
        yield "returns multiple views", lambda: (x * 1).unbind()[0].mul_(2)
        yield "returns multiple views", lambda: (x * 1).chunk(2)[1][:1].mul_(2)
        y = x * 1
        with lib.no_grad():
            v = y[:2]
        yield "created in no_grad mode", lambda: v.add_(1)

    for lib in (mg, torch):
        for message, fn in cases(lib):
            with pytest.raises(RuntimeError, match=message):
                fn()
    y = mg.zeros(4)
    a, b = y.split(2)
    a.add_(1)  # no graph: allowed, as torch
    with mg.no_grad():
        v = (mg.ones(4, requires_grad=True) * 1)[:2]
        v.add_(1)  # both in no_grad: allowed
    assert y.tolist() == [1.0, 1.0, 0.0, 0.0]


def test_views_after_the_base_changed_follow_its_new_history():
    x = mg.ones(4, requires_grad=True)
    y = x * 1
    v = y[:2]
    y.mul_(3)
    v.sum().backward()
    assert x.grad.tolist() == [3.0, 3.0, 0.0, 0.0]
    y = mg.zeros(4)
    v = y[:2]
    w = mg.ones(4, requires_grad=True)
    y.copy_(w)  # the base takes a history: its views require grad through it
    assert v.requires_grad
    (v * 2).sum().backward()
    assert w.grad.tolist() == [2.0, 2.0, 0.0, 0.0]


def test_copies_of_a_view_are_plain_tensors():
    import copy
    import pickle

    x = mg.ones(2, 3)
    v = x.t()
    for c in (copy.deepcopy(v), pickle.loads(pickle.dumps(v))):
        assert c._base is None and c.tolist() == v.tolist()
        c.add_(1)
        assert x.sum().item() == 6.0


@needs_torch
def test_function_form_diagonal_is_the_view_the_method_gives():
    for lib in (mg, torch):
        y = lib.zeros(3, 3, dtype=lib.float64)
        d = lib.diagonal(y, 1)
        assert d._base is y
        d.add_(1)  # reaches the base
        assert y.tolist() == [[0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [0.0, 0.0, 0.0]]
    grads = []
    for lib in (mg, torch):
        x = lib.ones(3, 3, dtype=lib.float64, requires_grad=True)
        y = x * 1
        lib.diagonal(y).mul_(2)  # gradient through the in-place change: torch's CopySlices
        (y * y).sum().backward()
        grads.append(x.grad.tolist())
    assert grads[0] == grads[1]


_SPLITS = (("split", (2,)), ("chunk", (2,)), ("tensor_split", (2,)), ("unbind", ()), ("hsplit", (2,)),
           ("vsplit", (2,)), ("dsplit", (2,)))


@needs_torch
@pytest.mark.parametrize("name,args", _SPLITS)
def test_function_form_splits_are_the_views_the_methods_give(name, args):
    for lib in (mg, torch):
        y = lib.zeros(4, 4, 4)
        pieces = getattr(lib, name)(y, *args)
        assert all(p._base is y for p in pieces), lib
        pieces[0].add_(1)  # no graph: reaches the base
        assert y.sum().item() == pieces[0].numel()
    grads = []
    for lib in (mg, torch):
        x = lib.ones(4, 4, 4, dtype=lib.float64, requires_grad=True)
        y = x * 1
        first = getattr(lib, name)(y, *args)[0]
        if name in ("split", "chunk", "unbind"):  # multi-output views on a graph: no in-place change, as torch
            with pytest.raises(RuntimeError, match="is a view and is being modified inplace"):
                first.mul_(2)
            continue
        first.mul_(2)  # tensor_split & co: plain slices in torch, changed in place through to y's gradient
        (y * y).sum().backward()
        grads.append(x.grad.tolist())
    assert grads[:1] == grads[1:]


@needs_torch
def test_function_form_unbind_of_1d_gives_0d_views():
    for lib in (mg, torch):
        y = lib.zeros(3)
        a, b, c = lib.unbind(y)
        assert a.shape == () and a._base is y
        b.add_(2)
        assert y.tolist() == [0.0, 2.0, 0.0]


@needs_torch
def test_getitem_backward_survives_an_in_place_change_of_its_input():
    from matgrad.ops.indexing import getitem

    grads = []
    for lib, take in ((mg, lambda y: getitem(y, (slice(0, 2),))), (torch, lambda y: y[0:2])):
        x = lib.ones(4, dtype=lib.float64, requires_grad=True)
        y = x * 1
        s = take(y)
        y.add_(1)  # the slice's backward needs only y's shape: no version error, as torch
        (s * 3).sum().backward()
        grads.append(x.grad.tolist())
    assert grads[0] == grads[1] == [3.0, 3.0, 0.0, 0.0]
