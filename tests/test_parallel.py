"""matgrad.parallel: large elementwise ops cut into chunks on several threads, bit for bit the plain call."""
from __future__ import annotations

import multiprocessing
import threading
import warnings

import numpy as np
import pytest

import matgrad as mg
import matgrad.nn.functional as F
from matgrad import parallel, threads


@pytest.fixture
def cut(monkeypatch):
    """Two threads and a threshold so low that the tests' small arrays are cut into several chunks;
    returns the list of chunk counts of the calls that ran on the threads."""
    monkeypatch.setattr(threads, "chosen", [2])
    monkeypatch.setattr(parallel, "MIN_SIZE", 64)
    monkeypatch.setattr(parallel, "MIN_SIZE_HEAVY", 64)
    monkeypatch.setattr(parallel, "CHUNK", 1500)
    calls = []
    run = parallel.run

    def counted(work, n):
        calls.append(n)
        return run(work, n)

    monkeypatch.setattr(parallel, "run", counted)
    return calls


def _plain(monkeypatch, fn):
    """fn() with one thread: every helper makes the plain NumPy call."""
    with monkeypatch.context() as m:
        m.setattr(threads, "chosen", [1])
        return fn()


def _same(a, b):
    """Bit for bit: values, nan payloads, signs of zero, dtype, shape and layout in memory (which later
    sums follow)."""
    a, b = np.asarray(a), np.asarray(b)
    assert a.dtype == b.dtype and a.shape == b.shape and a.strides == b.strides
    assert a.tobytes() == b.tobytes()


def _forward_backward(op, *arrays, seed=1):
    """op's output and the gradients of all its inputs, for a random output gradient."""
    leaves = [mg.tensor(a.copy(), requires_grad=True) for a in arrays]
    y = op(*leaves)
    dy = np.random.default_rng(seed).standard_normal(y.shape).astype(y.dtype)
    y.backward(mg.tensor(dy))
    return [y.array] + [t.grad.array for t in leaves]


def _batch_norm(x):
    c, dtype = x.shape[1], x.numpy().dtype
    return F.batch_norm(x, None, None, np.linspace(0.5, 2, c).astype(dtype), np.full(c, 0.25, dtype), training=True)


OPS = {
    "relu": F.relu,
    "exp": mg.exp,
    "tanh": mg.tanh,
    "sigmoid": mg.sigmoid,
    "softmax dim -1": lambda x: F.softmax(x, dim=-1),
    "softmax dim 1": lambda x: F.softmax(x, dim=1),
    "softmax dim 0": lambda x: F.softmax(x, dim=0),  # nothing before the axis: the plain call
    "log_softmax dim -1": lambda x: F.log_softmax(x, dim=-1),
    "log_softmax dim 1": lambda x: F.log_softmax(x, dim=1),
    # short rows take their max by windows and their sums by einsum (ops/softmax.py): cut along the rows all the
    # same (rows of 61 above: NumPy's max, einsum's sums)
    "softmax short rows": lambda x: F.softmax(x.reshape(-1)[:5550].reshape(-1, 10), dim=-1),
    "log_softmax short rows": lambda x: F.log_softmax(x.reshape(-1)[:5550].reshape(-1, 10), dim=-1),
    "softmax rows of 23": lambda x: F.softmax(x.reshape(-1)[:5520].reshape(-1, 23), dim=-1),
    "log_softmax rows of 32": lambda x: F.log_softmax(x.reshape(-1)[:5536].reshape(-1, 32), dim=-1),
    "batch_norm": _batch_norm,
    # layer_norm of a contiguous input takes its row path, one thread (ops/normalization.py); a strided one the
    # general formula's threaded passes
    "layer_norm": lambda x: F.layer_norm(x.transpose(0, 1), x.shape[-1:]),
    "layer_norm 1-D": lambda x: F.layer_norm(x.reshape(-1)[::-1], (x.reshape(-1).shape[0],)),
    "max_pool k2": lambda x: F.max_pool2d(x, 2),
    "max_pool k3 s2 p1 (overlapping)": lambda x: F.max_pool2d(x, 3, 2, 1),
    "max_pool k3 s1 p1 d2": lambda x: F.max_pool2d(x, 3, 1, 1, 2),
}
POOLS = ("max_pool", "batch_norm")


def _input(name, rng, dtype):
    """An odd-sized input: (N, C, H, W) for pooling and batch_norm, (B, T, V) otherwise."""
    shape = (9, 5, 13, 11) if name.startswith(POOLS) else (7, 13, 61)
    x = rng.standard_normal(shape).astype(dtype) * 3
    if name.startswith("max_pool"):
        x[:, :, ::4, ::3] = np.round(x[:, :, ::4, ::3])  # ties, for the routing of equal maxima
        x[0, 0, :2, :2] = 1.0
    return x


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", OPS)
def test_each_threaded_op_is_bit_for_bit_the_plain_one(cut, monkeypatch, name, dtype):
    x = _input(name, np.random.default_rng(0), dtype)
    want = _plain(monkeypatch, lambda: _forward_backward(OPS[name], x))
    got = _forward_backward(OPS[name], x)
    for w, g in zip(want, got):
        _same(g, w)
    if name != "softmax dim 0":
        assert cut and max(cut) > 2, "the threaded path did not run"


@pytest.mark.parametrize("name", ["relu", "exp", "tanh", "sigmoid", "softmax dim -1", "batch_norm", "max_pool k2"])
def test_strided_inputs_give_the_same_result_cut_or_not(cut, monkeypatch, name):
    big = _input(name, np.random.default_rng(1), np.float32)
    big = np.concatenate([big, big[:, :, ::-1]], axis=-1)

    def strided(x):  # every other column: a view the ops see as non-contiguous
        return OPS[name](x[..., ::2])

    want = _plain(monkeypatch, lambda: _forward_backward(strided, big))
    got = _forward_backward(strided, big)
    for w, g in zip(want, got):
        _same(g, w)


@pytest.mark.parametrize("name", ["relu", "tanh", "exp", "batch_norm", "max_pool k2", "max_pool k3 s1 p1 d2"])
def test_inputs_laid_out_as_a_convs_output(cut, monkeypatch, name):
    """(N, C, H, W) lying in memory as (C, N, H, W), as conv2d returns it: cut all the same."""
    x = _input("max_pool", np.random.default_rng(4), np.float32)  # (N, C, H, W)

    def conv_layout(t):
        return OPS[name](t.permute(1, 0, 2, 3))

    channels_first = np.ascontiguousarray(x.transpose(1, 0, 2, 3))
    want = _plain(monkeypatch, lambda: _forward_backward(conv_layout, channels_first))
    got = _forward_backward(conv_layout, channels_first)
    for w, g in zip(want, got):
        _same(g, w)
    assert cut and max(cut) > 2, "the threaded path did not run"


def test_a_conv_block_forward_and_backward(cut, monkeypatch):
    """conv -> batch_norm -> relu -> max_pool, as the cnn recipe's blocks: every gradient bit for bit."""
    rng = np.random.default_rng(5)
    x = rng.standard_normal((10, 3, 12, 12)).astype(np.float32)
    w = (rng.standard_normal((6, 3, 3, 3)) * 0.3).astype(np.float32)
    gamma, beta = rng.standard_normal(6).astype(np.float32), rng.standard_normal(6).astype(np.float32)

    def block(x, w, gamma, beta):
        h = F.batch_norm(F.conv2d(x, w, padding=1), None, None, gamma, beta, training=True)
        return F.max_pool2d(F.relu(h), 2)

    want = _plain(monkeypatch, lambda: _forward_backward(block, x, w, gamma, beta))
    got = _forward_backward(block, x, w, gamma, beta)
    for ww, gg in zip(want, got):
        _same(gg, ww)
    assert cut


def test_a_stride_1_conv_copies_its_grids_on_the_threads(cut, monkeypatch):
    """conv2d on the shifted-products path (16 channels and more), whose grid copies are cut: bit for bit."""
    rng = np.random.default_rng(6)
    x = rng.standard_normal((6, 16, 9, 9)).astype(np.float32)
    w = (rng.standard_normal((16, 16, 3, 3)) * 0.1).astype(np.float32)

    def conv(x, w):
        return F.conv2d(x, w, padding=1)

    want = _plain(monkeypatch, lambda: _forward_backward(conv, x, w))
    got = _forward_backward(conv, x, w)
    for ww, gg in zip(want, got):
        _same(gg, ww)
    assert cut and max(cut) > 2, "the grids' copies did not run on the threads"


@pytest.mark.parametrize("shape, view", [((7, 5, 33), (slice(None), slice(1, 4))),
                                         ((9, 40), (slice(None, None, 2),)), ((3, 2, 2), ())])
def test_copyto_is_the_plain_assignment(cut, shape, view):
    rng = np.random.default_rng(7)
    src = rng.standard_normal(shape)[view]
    dst, want = np.zeros_like(src), np.zeros_like(src)
    want[...] = src
    parallel.copyto(dst, src)
    assert np.array_equal(dst, want)


def test_batch_norm_weight_and_bias_gradients(cut, monkeypatch):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((11, 6, 9, 7)).astype(np.float32)
    w, b = rng.standard_normal(6).astype(np.float32), rng.standard_normal(6).astype(np.float32)

    def bn(x, w, b):
        return F.batch_norm(x, None, None, w, b, training=True)

    want = _plain(monkeypatch, lambda: _forward_backward(bn, x, w, b))
    got = _forward_backward(bn, x, w, b)
    for ww, gg in zip(want, got):
        _same(gg, ww)
    assert cut


def test_helpers_are_the_plain_call_at_one_thread_or_below_the_threshold(monkeypatch):
    seen = []

    def fn(*args, **kw):
        seen.append(args)
        return args[0]

    x = np.ones((600, 600), np.float32)
    monkeypatch.setattr(threads, "chosen", [1])
    for helper in (parallel.elementwise, parallel.batched):
        assert helper(fn, x) is x and seen[-1][0] is x
    assert parallel.along(fn, x, axis=1) is x and seen[-1][0] is x
    monkeypatch.setattr(threads, "chosen", [2])
    small = np.ones((3, 5), np.float32)
    assert parallel.elementwise(fn, small) is small and seen[-1][0] is small


def test_device_arrays_and_tensors_are_handed_to_fn_as_they_are(cut):
    t = mg.ones(5000)
    assert parallel.elementwise(lambda a: a * 2, t).shape == (5000,)  # a Tensor: the plain call, on the graph
    assert not cut


def test_mixed_dtypes_take_the_plain_call(cut):
    a = np.ones(5000, np.float32)
    b = np.ones(5000, np.float64)
    got = parallel.elementwise(lambda a, b: a * b, a, b)
    assert got.dtype == np.float64 and not cut


def test_a_chunk_that_raises_raises_in_the_caller(cut):
    x = np.arange(20000, dtype=np.float32)

    def bad(a, out=None):
        if a[0] > 5000:
            raise ValueError("chunk failed")
        return np.copyto(out, a)

    with pytest.raises(ValueError, match="chunk failed"):
        parallel.elementwise(bad, x)
    # and the pool still works afterwards
    _same(parallel.elementwise(np.exp, x / 1e4), np.exp(x / 1e4))


def test_the_callers_errstate_holds_on_every_thread(cut):
    x = np.full(20000, 100.0, np.float32)  # exp(100) overflows float32
    with np.errstate(over="raise"):
        with pytest.raises(FloatingPointError):
            parallel.elementwise(np.exp, x)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = mg.exp(mg.tensor(x))  # Exp ignores overflow: inf, and no warning from any thread
    assert np.isinf(y.numpy()).all() and max(cut) > 2


def test_a_call_on_a_pool_thread_is_the_plain_call(cut):
    x = np.linspace(-3, 3, 30000, dtype=np.float32)
    on_pool = []

    def nested(a, out=None):
        if threading.current_thread().name.startswith("matgrad-parallel"):
            on_pool.append(parallel._threads())
        out[...] = parallel.elementwise(np.tanh, a)  # the plain call on a pool thread; cut again on the caller

    for _ in range(200):  # until a pool thread has done a chunk (the caller may take them all)
        _same(parallel.elementwise(nested, x), np.tanh(x))
        if on_pool:
            break
    assert on_pool and set(on_pool) == {1}


def test_the_pool_follows_the_thread_count(cut, monkeypatch):
    x = np.linspace(-3, 3, 30000, dtype=np.float32)
    for n in (3, 2, 4):
        monkeypatch.setattr(threads, "chosen", [n])
        _same(parallel.elementwise(np.exp, x), np.exp(x))
        assert parallel._pool.size == n - 1


def test_set_num_threads_sets_the_elementwise_threads_too(monkeypatch):
    monkeypatch.setattr(threads, "chosen", [])
    before = mg.get_num_threads()
    try:
        mg.set_num_threads(1)
    except RuntimeError:
        pytest.skip("no OpenBLAS found to set")
    try:
        assert parallel._threads() == 1
    finally:
        mg.set_num_threads(before)
    assert parallel._threads() == before


def test_many_python_threads_calling_at_once(cut, monkeypatch):
    rng = np.random.default_rng(3)
    xs = [rng.standard_normal((40, 300)).astype(np.float32) for _ in range(6)]
    want = [np.exp(x) for x in xs]
    want_softmax = [_plain(monkeypatch, lambda x=x: F.softmax(mg.tensor(x), dim=-1).numpy()) for x in xs]
    for x, w in zip(xs, want_softmax):  # the one-thread result is softmax's
        np.testing.assert_allclose(w, _softmax_reference(x), rtol=1e-6, atol=1e-7)
    failures = []

    def caller(i):
        try:
            for _ in range(30):
                _same(parallel.elementwise(np.exp, xs[i]), want[i])
                _same(F.softmax(mg.tensor(xs[i]), dim=-1).numpy(), want_softmax[i])
        except BaseException as e:  # noqa: BLE001 - reported below
            failures.append(e)

    callers = [threading.Thread(target=caller, args=(i,)) for i in range(len(xs))]
    for t in callers:
        t.start()
    for t in callers:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in callers), "deadlock: a caller never returned"
    assert not failures, failures[0]


def _softmax_reference(x):
    e = np.exp(x - np.max(x, axis=-1, keepdims=True, initial=-np.inf))
    e /= np.sum(e, axis=-1, keepdims=True)
    return e


def _child(x, want, result):
    """In a forked child: the parent's pool is gone; a new one computes the same."""
    result.put((parallel._pool is None, np.array_equal(parallel.elementwise(np.exp, x), want)))


def test_a_forked_child_makes_its_own_pool(cut):
    if "fork" not in multiprocessing.get_all_start_methods():
        pytest.skip("no fork here")
    x = np.linspace(-3, 3, 30000, dtype=np.float32)
    want = np.exp(x)
    _same(parallel.elementwise(np.exp, x), want)  # the parent's pool exists now
    assert parallel._pool is not None
    ctx = multiprocessing.get_context("fork")
    result = ctx.Queue()
    child = ctx.Process(target=_child, args=(x, want, result))
    child.start()
    child.join(timeout=120)
    assert child.exitcode == 0, "the child hung or failed"
    assert result.get(timeout=10) == (True, True)
