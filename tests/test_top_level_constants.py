"""torch's top-level constants and type objects in matgrad: inf/nan/pi/e/newaxis, finfo/iinfo, dtype,
default_generator, OutOfMemoryError, GradScaler, return_types and types; each checked against torch 2.13
where torch is installed, and against NumPy/math (what they must equal) where it is not."""
from __future__ import annotations

import copy
import math
import pickle

import numpy as np
import pytest

import matgrad as mg

FLOATS = ["float16", "float32", "float64"]
INTS = ["uint8", "int8", "int16", "int32", "int64"]


def _torch():
    return pytest.importorskip("torch")


# --- constants ------------------------------------------------------------------------------------------------

def test_constants_are_pythons_and_torchs():
    assert (mg.pi, mg.e, mg.inf) == (math.pi, math.e, math.inf)
    assert math.isnan(mg.nan) and mg.newaxis is None
    assert all(type(c) is float for c in (mg.pi, mg.e, mg.inf, mg.nan))
    torch = _torch()
    assert (mg.pi, mg.e, mg.inf, mg.newaxis) == (torch.pi, torch.e, torch.inf, torch.newaxis)
    assert math.isnan(torch.nan)


def test_constants_keep_a_tensors_dtype_and_newaxis_adds_a_dim():
    x = mg.ones(2, 3)
    assert (x * mg.pi).dtype == mg.float32
    np.testing.assert_allclose((x * mg.pi).numpy(), np.float32(math.pi) * np.ones((2, 3), np.float32))
    assert tuple(x[:, mg.newaxis].shape) == (2, 1, 3)
    assert bool(mg.isinf(mg.tensor([mg.inf]))[0]) and bool(mg.isnan(mg.tensor([mg.nan]))[0])


# --- dtype ----------------------------------------------------------------------------------------------------

def test_dtype_is_the_class_of_matgrads_dtypes():
    assert mg.dtype is mg.dtypes.dtype
    for d in (mg.float16, mg.float32, mg.float64, mg.int8, mg.int16, mg.int32, mg.int64, mg.uint8, mg.bool):
        assert isinstance(d, mg.dtype)
    assert isinstance(mg.zeros(2).dtype, mg.dtype)
    assert not isinstance(np.float32, mg.dtype) and not isinstance("float32", mg.dtype)


# --- finfo / iinfo ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", FLOATS)
def test_finfo_fields_are_numpys_limits(name):
    f, n = mg.finfo(getattr(mg, name)), np.finfo(name)
    assert (f.bits, f.eps, f.max, f.min, f.tiny, f.smallest_normal, f.dtype) == (
        n.bits, float(n.eps), float(n.max), float(n.min), float(n.smallest_normal), float(n.smallest_normal), name)
    assert f.resolution == 10.0 ** -n.precision
    assert all(type(getattr(f, k)) is float for k in ("eps", "max", "min", "tiny", "smallest_normal", "resolution"))
    assert type(f.bits) is int and type(f.dtype) is str


@pytest.mark.parametrize("name", FLOATS)
def test_finfo_equals_torchs(name):
    torch = _torch()
    f, t = mg.finfo(getattr(mg, name)), torch.finfo(getattr(torch, name))
    for k in ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution", "dtype"):
        assert getattr(f, k) == getattr(t, k), k
    assert repr(f) == repr(t) and str(f) == str(t)


@pytest.mark.parametrize("name", INTS)
def test_iinfo_equals_torchs(name):
    i, n = mg.iinfo(getattr(mg, name) if hasattr(mg, name) else np.dtype(name)), np.iinfo(name)
    assert (i.bits, i.max, i.min, i.dtype) == (n.bits, int(n.max), int(n.min), name)
    assert type(i.max) is int and type(i.min) is int
    torch = _torch()
    t = torch.iinfo(getattr(torch, name))
    assert (i.bits, i.max, i.min, i.dtype) == (t.bits, t.max, t.min, t.dtype)
    assert repr(i) == repr(t)


def test_finfo_and_iinfo_take_numpy_and_python_types():
    assert mg.finfo(np.float16) == mg.finfo(mg.float16) == mg.finfo(np.dtype("float16"))
    assert mg.finfo(float).dtype == "float64"  # Python's float is float64, whatever the default dtype
    assert mg.finfo(complex).dtype == "float64"  # a complex type's parts
    assert mg.finfo(np.complex64).dtype == "float32"
    assert mg.iinfo(int).dtype == "int64" and mg.iinfo(np.int16) == mg.iinfo(mg.int16)
    assert mg.iinfo(np.uint16).max == 65535
    torch = _torch()
    for py in (float, complex):
        assert repr(mg.finfo(py)) == repr(torch.finfo(py))
    assert repr(mg.iinfo(int)) == repr(torch.iinfo(int))


def test_finfo_without_an_argument_is_the_default_dtypes():
    assert mg.finfo() == mg.finfo(mg.float32)
    mg.set_default_dtype(mg.float64)
    try:
        assert mg.finfo() == mg.finfo(mg.float64)
    finally:
        mg.set_default_dtype(mg.float32)
    torch = _torch()
    assert repr(mg.finfo()) == repr(torch.finfo())


@pytest.mark.parametrize("call, match", [
    (lambda L: L.finfo(L.int64), "floating point"),
    (lambda L: L.finfo(L.bool), "floating point"),
    (lambda L: L.finfo(int), "floating point"),
    (lambda L: L.iinfo(L.float32), "integer"),
    (lambda L: L.iinfo(float), "integer"),
    (lambda L: L.iinfo(L.bool), "bool"),
    (lambda L: L.iinfo(bool), "bool"),
    (lambda L: L.finfo(None), "must be matgrad.dtype, not NoneType"),
    (lambda L: L.finfo("float32"), "must be matgrad.dtype, not str"),
    (lambda L: L.iinfo([1]), "must be matgrad.dtype, not list"),
    (lambda L: L.iinfo(), "type"),
])
def test_wrong_kinds_are_type_errors_as_in_torch(call, match):
    with pytest.raises(TypeError, match=match):
        call(mg)
    torch = _torch()
    with pytest.raises(TypeError):
        call(torch)


def test_finfo_is_read_only_and_compares_by_value():
    f = mg.finfo(mg.float32)
    with pytest.raises(AttributeError, match="not writable"):
        f.eps = 1.0
    with pytest.raises(AttributeError, match="not writable"):
        mg.iinfo(mg.int8).max = 1
    assert f == mg.finfo(mg.float32) and f != mg.finfo(mg.float64) and f != 1
    assert mg.iinfo(mg.int8) == mg.iinfo(mg.int8) != mg.iinfo(mg.uint8)
    with pytest.raises(TypeError):
        hash(f)  # as torch.finfo


def test_finfo_eps_is_the_gap_after_one():
    for name in FLOATS:
        one = np.array(1, name)
        assert float(np.nextafter(one, np.array(2, name)) - one) == mg.finfo(getattr(mg, name)).eps


# --- default_generator ------------------------------------------------------------------------------------------

def test_default_generator_is_the_global_generator():
    g = mg.default_generator
    assert isinstance(g, mg.Generator) and g is mg.random.default_generator
    assert g.manual_seed(7) is g and g.initial_seed() == 7 == mg.initial_seed()
    a = mg.rand(5).numpy()
    mg.manual_seed(7)
    np.testing.assert_array_equal(mg.rand(5).numpy(), a)
    mg.manual_seed(3)
    assert g.initial_seed() == 3
    assert g() is mg.random.numpy_generator(None)  # called, the NumPy Generator matgrad draws from now


def test_default_generator_as_a_generator_argument_and_its_state():
    g = mg.default_generator
    g.manual_seed(11)
    split = [list(s.indices) for s in mg.data.random_split(range(10), [4, 6], generator=g)]
    mg.manual_seed(11)
    assert [list(s.indices) for s in mg.data.random_split(range(10), [4, 6])] == split
    state = g.get_state()
    x = mg.randn(4).numpy()
    g.set_state(state)
    np.testing.assert_array_equal(mg.randn(4, generator=g).numpy(), x)
    other = g.clone_state()
    assert type(other) is mg.Generator and other.initial_seed() == g.initial_seed()
    np.testing.assert_array_equal(mg.rand(3, generator=other).numpy(), mg.rand(3).numpy())
    s = g.seed()
    assert s == mg.initial_seed() == g.initial_seed()


def test_default_generator_pickles_and_copies_to_itself():
    g = mg.default_generator
    assert pickle.loads(pickle.dumps(g)) is g and copy.deepcopy(g) is g and copy.copy(g) is g
    with pytest.raises(RuntimeError):
        g.manual_seed("1")


def test_torch_default_generator_is_what_manual_seed_seeds():
    torch = _torch()
    torch.default_generator.manual_seed(5)
    a = torch.rand(3)
    torch.manual_seed(5)
    assert torch.equal(torch.rand(3), a)


# --- OutOfMemoryError, GradScaler -------------------------------------------------------------------------------

def test_out_of_memory_error_and_grad_scaler():
    assert mg.OutOfMemoryError is mg.cuda.OutOfMemoryError
    assert issubclass(mg.OutOfMemoryError, RuntimeError)
    with pytest.raises(RuntimeError):
        raise mg.OutOfMemoryError("out of memory")
    assert mg.GradScaler is mg.amp.GradScaler
    torch = _torch()
    assert issubclass(torch.OutOfMemoryError, RuntimeError) and torch.GradScaler is torch.amp.GradScaler


# --- return_types -----------------------------------------------------------------------------------------------

def _calls(lib, x, spd, b):
    """(return_types name, the call) for each op that returns one, written the same for matgrad and torch."""
    la = lib.linalg
    return [
        ("max", lambda: lib.max(x, 0)), ("max", lambda: x.max(1)), ("min", lambda: lib.min(x, 0)),
        ("sort", lambda: lib.sort(x)), ("sort", lambda: x.sort(0)), ("topk", lambda: lib.topk(x, 2)),
        ("kthvalue", lambda: lib.kthvalue(x, 2)), ("kthvalue", lambda: x.kthvalue(1, 0)),
        ("mode", lambda: lib.mode(x)), ("median", lambda: lib.median(x, 0)), ("median", lambda: x.median(1)),
        ("nanmedian", lambda: lib.nanmedian(x, 0)), ("aminmax", lambda: lib.aminmax(x)),
        ("cummax", lambda: lib.cummax(x, 0)), ("cummin", lambda: lib.cummin(x, 1)), ("frexp", lambda: lib.frexp(x)),
        ("histogram", lambda: lib.histogram(x.flatten(), 4)),
        ("histogramdd", lambda: lib.histogramdd(x[:, :2], [2, 2])),
        ("lu_unpack", lambda: lib.lu_unpack(*la.lu_factor(x))), ("qr", lambda: lib.qr(x)), ("svd", lambda: lib.svd(x)),
        ("triangular_solve", lambda: lib.triangular_solve(b, lib.triu(spd))), ("slogdet", lambda: lib.slogdet(x)),
        ("linalg_slogdet", lambda: la.slogdet(x)), ("linalg_eigh", lambda: la.eigh(spd)),
        ("linalg_qr", lambda: la.qr(x)), ("linalg_svd", lambda: la.svd(x)), ("linalg_inv_ex", lambda: la.inv_ex(x)),
        ("linalg_cholesky_ex", lambda: la.cholesky_ex(spd)), ("linalg_lstsq", lambda: la.lstsq(x, b)),
        ("linalg_lu", lambda: la.lu(x)), ("linalg_lu_factor", lambda: la.lu_factor(x)),
        ("linalg_lu_factor_ex", lambda: la.lu_factor_ex(x)), ("linalg_solve_ex", lambda: la.solve_ex(x, b)),
    ]


def _operands(lib):
    a = np.random.default_rng(0).standard_normal((4, 4))
    x = lib.tensor(a, dtype=lib.float64)
    spd = lib.tensor(a @ a.T + 4 * np.eye(4), dtype=lib.float64)
    b = lib.tensor(a[:, :2] + 1, dtype=lib.float64)
    return x, spd, b


@pytest.mark.filterwarnings("ignore:.*is deprecated:UserWarning")  # torch.qr, triangular_solve (and matgrad's)
def test_ops_return_their_return_types():
    for name, call in _calls(mg, *_operands(mg)):
        got = call()
        kind = getattr(mg.return_types, name)
        assert isinstance(got, kind) and isinstance(got, tuple), name
        assert type(got) is kind, name


@pytest.mark.filterwarnings("ignore:.*is deprecated:UserWarning")
def test_return_types_have_torchs_names_and_fields():
    torch = _torch()
    mine = dict(_calls(mg, *_operands(mg)))
    for name, call in _calls(torch, *_operands(torch)):
        want = call()
        assert isinstance(want, getattr(torch.return_types, name)), name
        fields = [f for f in dir(want) if not f.startswith("_") and f not in ("count", "index", "n_fields",
                                                                             "n_sequence_fields", "n_unnamed_fields")]
        assert set(getattr(mg.return_types, name)._fields) == set(fields), name
        assert len(mine[name]()) == len(want), name
    assert set(mg.return_types.__all__) <= set(dir(torch.return_types))


def test_all_return_types_lists_each_type_once():
    kinds = mg.return_types.all_return_types
    assert len(kinds) == len(set(kinds)) and mg.return_types.max in kinds and mg.return_types.slogdet in kinds
    assert mg.return_types.slogdet is mg.return_types.linalg_slogdet


# --- types ------------------------------------------------------------------------------------------------------

def test_types_aliases():
    t = mg.types
    assert t._dtype is mg.dtype and t._device is mg.device and t._size.__args__[0] is mg.Size
    assert set(t.Number.__args__) == {int, float, bool} and t._Number == (int, float, bool)
    assert mg.device in t.Device.__args__ and type(None) in t.Device.__args__
    assert t._int is int and t._float is float and t._bool is bool and t._layout is mg.layout
    torch = _torch()
    assert {a.__name__ for a in torch.types.Number.__args__} == {a.__name__ for a in t.Number.__args__}
    assert set(dir(torch.types)) >= {"Number", "Device", "_dtype", "_size", "_int", "_float", "_bool", "_layout"}
