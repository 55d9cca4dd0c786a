"""matgrad.save / matgrad.load: round trips, map_location, and files that must be refused.

Loading never unpickles: hostile files (a pickle that would call os.system, a PyTorch
checkpoint, an object array) are refused with a clear error, and the tests prove nothing ran
by making every unpickling entry point fail the test and checking the payload's marker file.
"""
from __future__ import annotations

import io
import json
import math
import os
import pickle
import sys
import zipfile
from collections import OrderedDict, namedtuple
from pathlib import Path

import numpy as np
import pytest

import matgrad as mg
from matgrad.devices import device
from matgrad.serialization import STRUCTURE, LoadError, load, save
from matgrad.tensor import Tensor

try:
    import torch
except ImportError:
    torch = None

NO_CUDA = "no CUDA device is available"


def roundtrip(obj, **load_kwargs):
    buf = io.BytesIO()
    save(obj, buf)
    buf.seek(0)
    return load(buf, **load_kwargs)


def archive(structure, members=None, compress=zipfile.ZIP_STORED) -> bytes:
    """A zip laid out as matgrad.save's (or not), for crafting damaged and hostile files."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=compress) as zf:
        if structure is not None:
            zf.writestr(STRUCTURE, structure if isinstance(structure, (str, bytes)) else json.dumps(structure))
        for name, data in (members or {}).items():
            zf.writestr(name, data)
    return buf.getvalue()


def npy_bytes(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array(buf, arr, allow_pickle=False)
    return buf.getvalue()


def tensor_structure(location="cpu", **extra):
    node = {"$": "tensor", "array": 0, "id": 0, "requires_grad": False, "parameter": False, "device": location}
    node.update(extra)
    return {"format": "matgrad.save", "version": 1, "arrays": 1, "root": {"$": "dict", "items": [["w", node]]}}


def small_model():
    mg.manual_seed(0)
    return mg.nn.Sequential(mg.nn.Linear(3, 5), mg.nn.BatchNorm1d(5), mg.nn.ReLU(), mg.nn.Linear(5, 2))


def assert_same(a, b):
    """Equal values, dtypes and container types, all the way down."""
    assert type(a) is type(b), (type(a), type(b))
    if isinstance(a, (Tensor, np.ndarray)):
        x, y = (a.numpy() if isinstance(a, Tensor) else a), (b.numpy() if isinstance(b, Tensor) else b)
        assert x.dtype == y.dtype and x.shape == y.shape
        np.testing.assert_array_equal(x, y)
        if isinstance(a, Tensor):
            assert a.requires_grad == b.requires_grad
    elif isinstance(a, dict):
        assert list(a) == list(b)
        for k in a:
            assert_same(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            assert_same(x, y)
    elif isinstance(a, complex):
        assert_same(a.real, b.real)
        assert_same(a.imag, b.imag)
    elif isinstance(a, float) and math.isnan(a):
        assert math.isnan(b)
    else:
        assert a == b and (not isinstance(a, float) or math.copysign(1, a) == math.copysign(1, b))


# --- state_dicts -------------------------------------------------------------------------------

def test_model_state_dict_round_trip_through_a_path(tmp_path):
    model = small_model()
    model.train()
    model(mg.randn(8, 3))  # moves BatchNorm's running statistics
    path = tmp_path / "model.pt"
    save(model.state_dict(), path)
    loaded = load(path)
    assert type(loaded) is OrderedDict and list(loaded) == list(model.state_dict())
    for k, v in model.state_dict().items():
        assert type(loaded[k]) is Tensor and loaded[k].requires_grad is False
        assert loaded[k].dtype == v.dtype
        np.testing.assert_array_equal(loaded[k].numpy(), v.numpy())
    fresh = mg.nn.Sequential(mg.nn.Linear(3, 5), mg.nn.BatchNorm1d(5), mg.nn.ReLU(), mg.nn.Linear(5, 2))
    fresh.load_state_dict(load(str(path)))
    model.eval()
    fresh.eval()
    x = mg.randn(4, 3)
    np.testing.assert_array_equal(fresh(x).numpy(), model(x).numpy())


def test_adam_state_round_trip_then_training_continues_identically(tmp_path):
    def make():
        model = small_model()
        return model, mg.optim.Adam(model.parameters(), lr=1e-2, amsgrad=True, weight_decay=1e-3)

    def step(model, opt, x, y):
        opt.zero_grad()
        ((model(x) - y) ** 2).mean().backward()
        opt.step()

    rng = np.random.default_rng(1)
    batches = [(mg.tensor(rng.normal(size=(8, 3)).astype(np.float32)),
                mg.tensor(rng.normal(size=(8, 2)).astype(np.float32))) for _ in range(6)]
    model, opt = make()
    for x, y in batches[:3]:
        step(model, opt, x, y)
    save({"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 3}, tmp_path / "ckpt.pt")

    ckpt = load(tmp_path / "ckpt.pt")
    assert ckpt["epoch"] == 3
    state = ckpt["optimizer"]
    assert sorted(state["state"]) == list(range(len(list(model.parameters())))) and all(
        type(k) is int for k in state["state"])  # int keys stay ints
    assert state["param_groups"][0]["betas"] == (0.9, 0.999)  # tuples stay tuples
    assert_same(state, opt.state_dict())
    model2, opt2 = make()
    model2.load_state_dict(ckpt["model"])
    opt2.load_state_dict(ckpt["optimizer"])
    for x, y in batches[3:]:
        step(model, opt, x, y)
        step(model2, opt2, x, y)
    for p, q in zip(model.parameters(), model2.parameters()):
        np.testing.assert_array_equal(p.numpy(), q.numpy())


def test_sgd_momentum_and_scheduler_state():
    model = small_model()
    opt = mg.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True)
    sched = mg.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    for _ in range(3):
        opt.zero_grad()
        model(mg.randn(4, 3)).sum().backward()
        opt.step()
        sched.step()
    loaded = roundtrip({"opt": opt.state_dict(), "sched": sched.state_dict()})
    assert_same(loaded["opt"], opt.state_dict())
    assert_same(loaded["sched"], sched.state_dict())


def test_parameters_stay_parameters_and_requires_grad_is_kept():
    model = small_model()
    params = list(model.parameters())
    x = mg.randn(2, 2, requires_grad=True)
    loaded = roundtrip({"params": params, "x": x, "y": x.detach()})
    assert all(type(p) is type(q) for p, q in zip(params, loaded["params"]))
    assert type(loaded["params"][0]).__name__ == "Parameter" and loaded["params"][0].requires_grad
    assert type(loaded["x"]) is Tensor and loaded["x"].requires_grad and loaded["x"].is_leaf
    assert loaded["y"].requires_grad is False


# --- containers and values ---------------------------------------------------------------------

def test_nested_containers_and_plain_values():
    Point = namedtuple("Point", "x y")
    obj = {
        "ints": [0, -1, 2**70, -(2**70)],
        "floats": [0.5, -0.0, 1e-300, float("inf"), float("-inf"), float("nan")],
        "misc": (None, True, False, "text ✓ \x00 \"quoted\"", b"\x00\xffbytes", 3 - 4j, complex(float("nan"), 1)),
        7: {(1, "a"): [], (): (), None: {}, 2.5: "float key", True: "bool key", b"k": "bytes key"},
        "od": OrderedDict([("z", 1), ("a", 2)]),
        "nested": [[[[{"deep": (mg.ones(2), np.zeros(3))}]]]],
        "point": tuple(Point(1, 2)),
        "dtype": np.dtype("float16"), "dev": device("cuda:1"), "cpu": device("cpu"),
    }
    loaded = roundtrip(obj)
    assert_same(loaded, obj)
    assert type(loaded["od"]) is OrderedDict and type(loaded["misc"]) is tuple
    assert loaded["dev"] == device("cuda", 1) and loaded["dtype"] == np.float16
    assert roundtrip(None) is None and roundtrip(3) == 3 and roundtrip([]) == [] and roundtrip({}) == {}


@pytest.mark.parametrize("scalar", [np.float16(1.5), np.float32(1 / 3), np.float64(np.pi), np.int8(-3),
                                    np.uint64(2**64 - 1), np.bool_(True), np.complex64(1 + 2j), np.longdouble(1) / 3])
def test_numpy_scalars_keep_their_type_and_value_exactly(scalar):
    back = roundtrip(scalar)
    assert type(back) is type(scalar) and back == scalar


DTYPES = ["float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "uint16", "bool",
          "complex64", ">f4", "<i2"]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(), (0,), (3, 0, 2), (5,), (2, 3, 4)])
def test_arrays_and_tensors_of_every_dtype_and_shape(dtype, shape):
    rng = np.random.default_rng(0)
    arr = np.asarray(rng.normal(size=shape) * 10).astype(dtype)
    obj = {"a": arr, "n": [arr]}
    if arr.dtype.kind != "c":  # matgrad's tensors hold real numbers and bools
        obj["t"] = mg.from_numpy(arr.astype(arr.dtype.newbyteorder("=")))
    loaded = roundtrip(obj)
    for x in (loaded["a"], loaded["n"][0]):
        assert type(x) is np.ndarray and x.dtype == arr.dtype and x.shape == shape
        np.testing.assert_array_equal(x, arr)
    if "t" in obj:
        assert type(loaded["t"]) is Tensor and loaded["t"].shape == shape and loaded["t"].dtype == obj["t"].dtype
        np.testing.assert_array_equal(loaded["t"].numpy(), arr)


@pytest.mark.parametrize("view", [
    lambda a: a[:, ::2], lambda a: a.T, lambda a: a[::-1, 1:], lambda a: a[:, None, :][..., 0],
    lambda a: np.broadcast_to(a[:1], (3, 6)), lambda a: a.reshape(6, 3)[::3],
], ids=["strided", "fortran", "reversed", "newaxis", "broadcast", "step"])
def test_non_contiguous_arrays(view):
    base = np.arange(18, dtype=np.float32).reshape(3, 6)
    v = view(base)
    loaded = roundtrip((v, mg.from_numpy(np.ascontiguousarray(v)) if not v.flags.writeable else mg.from_numpy(v)))
    np.testing.assert_array_equal(loaded[0], v)
    np.testing.assert_array_equal(loaded[1].numpy(), v)
    assert loaded[0].flags.writeable


def test_sharing_is_kept_for_the_same_tensor_and_the_same_array():
    t = mg.randn(3)
    a = np.ones(4)
    tied = mg.from_numpy(a)  # two tensors over one array, as tied weights
    loaded = roundtrip({"t1": t, "t2": t, "a": a, "tied": tied, "view": a[1:]})
    assert loaded["t1"] is loaded["t2"]
    assert loaded["tied"].numpy() is loaded["a"]  # one array, shared again
    loaded["a"][0] = 7
    assert loaded["tied"].numpy()[0] == 7 and loaded["view"][0] == 1  # a distinct view is stored on its own


def test_loaded_arrays_are_fresh_and_writable():
    arr = np.arange(3.0)
    loaded = roundtrip(arr)
    assert loaded is not arr and loaded.flags.writeable and not np.shares_memory(loaded, arr)


def test_the_same_object_gives_the_same_bytes():
    model = small_model()

    def dump():
        buf = io.BytesIO()
        save({"m": model.state_dict(), "x": [1, 2.5]}, buf)
        return buf.getvalue()

    assert dump() == dump()


def test_the_file_is_an_npz_numpy_can_read(tmp_path):
    save({"w": mg.ones(2, 2), "b": np.arange(3)}, tmp_path / "f.pt")
    with np.load(tmp_path / "f.pt", allow_pickle=False) as npz:
        assert sorted(npz.files) == ["data/0", "data/1", "structure.json"]
        np.testing.assert_array_equal(npz["data/1"], np.arange(3))
    with zipfile.ZipFile(tmp_path / "f.pt") as zf:
        assert all(i.compress_type == zipfile.ZIP_STORED for i in zf.infolist())
        assert json.loads(zf.read(STRUCTURE))["format"] == "matgrad.save"


# --- files -------------------------------------------------------------------------------------

def test_file_objects_paths_and_positions(tmp_path):
    obj = {"w": mg.randn(3, 2)}
    with open(tmp_path / "a.bin", "wb") as f:
        save(obj, f)
    with open(tmp_path / "a.bin", "rb") as f:
        assert_same(load(f), obj)
    assert_same(load(tmp_path / "a.bin"), obj)
    assert_same(load(str(tmp_path / "a.bin")), obj)
    buf = io.BytesIO()
    save(obj, buf)
    save(obj, tmp_path / "b.bin")  # overwrite-safe: a second file the same
    assert buf.getvalue() == (tmp_path / "b.bin").read_bytes()
    buf.seek(0)
    assert_same(load(buf, weights_only=False), obj)


def test_a_non_seekable_stream_is_read():
    buf = io.BytesIO()
    save([1, np.arange(3)], buf)

    class Stream(io.RawIOBase):
        def __init__(self, data):
            self.inner = io.BytesIO(data)

        def readable(self):
            return True

        def readinto(self, b):
            data = self.inner.read(len(b))
            b[: len(data)] = data
            return len(data)

    back = load(io.BufferedReader(Stream(buf.getvalue())))
    assert back[0] == 1 and list(back[1]) == [0, 1, 2]


def test_bad_destinations_and_sources(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        save({}, tmp_path / "missing" / "f.pt")
    with pytest.raises(IsADirectoryError, match="is a folder"):
        save({}, tmp_path)
    with pytest.raises(IsADirectoryError, match="is a folder"):
        load(tmp_path)
    with open(tmp_path / "t.txt", "w") as f, pytest.raises(TypeError, match="binary mode"):
        save({}, f)
    with pytest.raises(TypeError, match="path .* or a binary file object"):
        save({}, 42)
    with pytest.raises(FileNotFoundError, match="nope.pt"):
        load(tmp_path / "nope.pt")
    with pytest.raises(TypeError, match="io.BytesIO"):
        load(b"PK\x03\x04")
    with pytest.raises(TypeError, match="never unpickles"):
        load(io.BytesIO(), pickle_module=pickle)
    with pytest.raises(TypeError, match="encoding"):
        load(io.BytesIO(), encoding="latin1")
    with pytest.raises(TypeError, match="weights_only"):
        load(io.BytesIO(), weights_only="yes")


def test_an_interrupted_save_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.pt"
    save({"v": 1}, path)
    before = path.read_bytes()
    real = np.lib.format.write_array

    def dies_midway(fp, arr, **kw):
        fp.write(b"partial")
        raise KeyboardInterrupt  # as a Ctrl-C during the write

    monkeypatch.setattr(np.lib.format, "write_array", dies_midway)
    with pytest.raises(KeyboardInterrupt):
        save({"v": 2, "w": np.ones(1000)}, path)
    monkeypatch.setattr(np.lib.format, "write_array", real)
    assert path.read_bytes() == before and load(path) == {"v": 1}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt.pt"]  # no temp file left behind


# --- what cannot be saved ----------------------------------------------------------------------

@pytest.mark.parametrize("obj, fragment", [
    ({"model": None}, None),
    (small_model(), "save its state instead"),
    ({"f": lambda x: x}, "is code"),
    ({"s": {1, 2}}, "convert it to a list or tuple"),
    ({"o": np.array([1, "a"], dtype=object)}, "dtype object"),
    ({"nt": namedtuple("P", "x")(1)}, "tuple subclass"),
    ({"dd": __import__("collections").defaultdict(int)}, "dict subclass"),
    ({"obj": object()}, "is not supported"),
    ({"m": np.ma.masked_array([1, 2])}, "ndarray subclass"),
    ({mg.zeros(1): 1}, "dict key"),
    ({"sd": np.dtype([("a", "f4")])}, "plain dtypes"),
])
def test_unsupported_objects_are_refused_before_writing(tmp_path, obj, fragment):
    path = tmp_path / "x.pt"
    if fragment is None:
        save(obj, path)
        return
    with pytest.raises(TypeError, match=fragment):
        save(obj, path)
    assert not path.exists()


def test_a_cycle_is_refused():
    a: list = [1]
    a.append(a)
    with pytest.raises(ValueError, match=r"obj\[1\]: it contains itself"):
        save(a, io.BytesIO())


def test_the_error_names_where_the_bad_value_is():
    with pytest.raises(TypeError, match=r"obj\['state'\]\[0\]\['fn'\]"):
        save({"state": {0: {"fn": print}}}, io.BytesIO())


# --- map_location ------------------------------------------------------------------------------

@pytest.mark.parametrize("where", [None, "cpu", "cpu:0", device("cpu"), {"cuda:0": "cpu"}, {"cpu": device("cpu")},
                                   lambda storage, loc: storage, lambda storage, loc: storage.cpu(),
                                   lambda storage, loc: None])
def test_map_location_onto_the_cpu(where):
    obj = {"w": mg.randn(2, 3), "a": np.arange(3)}
    back = roundtrip(obj, map_location=where)
    assert_same(back, obj)
    if hasattr(back["w"], "device"):
        assert back["w"].device == device("cpu")


@pytest.mark.parametrize("where", ["cuda", "cuda:0", device("cuda", 1), 0])
def test_map_location_onto_cuda_is_the_install_hint_error(where):
    with pytest.raises(RuntimeError) as e:
        roundtrip({"w": mg.ones(1)}, map_location=where)
    assert NO_CUDA in str(e.value) and 'pip install "matgrad[cuda]"' in str(e.value)


def test_map_location_callable_that_moves_to_cuda_raises_the_device_error():
    with pytest.raises(RuntimeError, match=NO_CUDA):
        roundtrip({"w": mg.ones(1)}, map_location=lambda storage, loc: storage.cuda(0))
    with pytest.raises(TypeError, match="map_location returned a str"):
        roundtrip({"w": mg.ones(1)}, map_location=lambda storage, loc: "cpu")


@pytest.mark.parametrize("where, exc", [(1.5, TypeError), ({"cuda:0": 1}, TypeError), ({"gpu": "cpu"}, RuntimeError),
                                        ("gpu", RuntimeError)])
def test_bad_map_location(where, exc):
    with pytest.raises(exc):
        load(io.BytesIO(), map_location=where)


def test_tensors_saved_on_a_gpu_need_a_map_location():
    data = archive(tensor_structure("cuda:0"), {"data/0.npy": npy_bytes(np.arange(3.0))})
    with pytest.raises(RuntimeError) as e:
        load(io.BytesIO(data))
    assert NO_CUDA in str(e.value) and "map_location='cpu'" in str(e.value) and "obj['w']" in str(e.value)
    for where in ("cpu", {"cuda:0": "cpu"}, device("cpu")):
        np.testing.assert_array_equal(load(io.BytesIO(data), map_location=where)["w"].numpy(), np.arange(3.0))
    seen = []
    back = load(io.BytesIO(data), map_location=lambda storage, loc: seen.append(loc) or storage)
    assert seen == ["cuda:0"] and back["w"].shape == (3,)
    with pytest.raises(RuntimeError, match=NO_CUDA):
        load(io.BytesIO(data), map_location={"cuda:1": "cpu"})  # another device's mapping does not apply


# --- hostile files: refused, and nothing runs -----------------------------------------------------

class _Payload:
    """Unpickling this would run a shell command that creates `marker` (built, never unpickled)."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.fixture
def no_unpickling(monkeypatch, tmp_path):
    """Every way to unpickle fails the test; yields (pickle bytes of the payload, its marker)."""
    marker = tmp_path / "PWNED"
    payload = pickle.dumps(_Payload(marker), protocol=2)

    def forbidden(*a, **k):
        raise AssertionError("matgrad.load tried to unpickle")

    monkeypatch.setattr(pickle, "load", forbidden)
    monkeypatch.setattr(pickle, "loads", forbidden)
    monkeypatch.setattr(pickle, "Unpickler", forbidden)
    monkeypatch.setattr(os, "system", forbidden)
    yield payload, marker
    assert not marker.exists()


def test_a_pickle_is_refused(no_unpickling, tmp_path):
    payload, _ = no_unpickling
    path = tmp_path / "evil.pt"
    path.write_bytes(payload)
    with pytest.raises(LoadError) as e:
        load(path)
    msg = str(e.value)
    assert str(path) in msg and "Python pickle" in msg and "never unpickles" in msg


def test_a_pytorch_style_zip_checkpoint_calling_a_global_is_refused_by_name(no_unpickling, tmp_path):
    payload, marker = no_unpickling
    path = tmp_path / "model.pth"
    path.write_bytes(archive(None, {"archive/data.pkl": payload, "archive/version": b"3\n",
                                    "archive/data/0": b"\x00" * 16}))
    with pytest.raises(LoadError) as e:
        load(path)
    msg = str(e.value)
    assert str(path) in msg and "PyTorch checkpoint" in msg and "system" in msg and "Nothing in it was run" in msg
    assert not marker.exists()


@pytest.mark.skipif(torch is None, reason="needs PyTorch to write its checkpoints")
def test_a_legacy_pytorch_checkpoint_is_refused(no_unpickling, tmp_path):
    path = tmp_path / "real.pt"
    torch.save(torch.nn.Linear(2, 2).state_dict(), path, _use_new_zipfile_serialization=False)
    with pytest.raises(LoadError, match="pickle.*Re-save it with a recent PyTorch"):
        load(path)


def test_an_object_array_inside_our_format_is_refused(no_unpickling):
    payload, _ = no_unpickling
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "|O", "fortran_order": False, "shape": (1,)})
    data = archive(tensor_structure(), {"data/0.npy": header.getvalue() + payload})
    with pytest.raises(LoadError, match=r"Python objects \(dtype object\).*never unpickles"):
        load(io.BytesIO(data))
    evil = {"format": "matgrad.save", "version": 1, "arrays": 1, "root": {"$": "ndarray", "array": 0}}
    with pytest.raises(LoadError, match="Python objects"):
        load(io.BytesIO(archive(evil, {"data/0.npy": header.getvalue() + payload})))


@pytest.mark.parametrize("root", [
    {"$": "pickle", "data": "gASV"}, {"$": "global", "module": "os", "name": "system"}, {"$": "__reduce__"},
])
def test_unknown_kinds_are_refused(no_unpickling, root):
    data = archive({"format": "matgrad.save", "version": 1, "arrays": 0, "root": root})
    with pytest.raises(LoadError, match=f"kind {root['$']!r}.*never runs code"):
        load(io.BytesIO(data))


def test_an_object_dtype_value_is_refused():
    data = archive({"format": "matgrad.save", "version": 1, "arrays": 0, "root": {"$": "dtype", "str": "|O"}})
    with pytest.raises(LoadError, match="never writes"):
        load(io.BytesIO(data))


# --- damaged files -----------------------------------------------------------------------------

@pytest.fixture
def saved_file(tmp_path):
    path = tmp_path / "good.pt"
    save({"w": mg.randn(50, 20), "b": np.arange(20), "epoch": 3}, path)
    return path


@pytest.mark.parametrize("keep", [0.5, 0.9, -1, -22, 10, 3])
def test_a_truncated_file_names_the_file(saved_file, keep):
    data = saved_file.read_bytes()
    cut = saved_file.with_name("cut.pt")
    end = int(len(data) * keep) if isinstance(keep, float) else keep if keep > 0 else len(data) + keep
    cut.write_bytes(data[:end])
    with pytest.raises(LoadError) as e:
        load(cut)
    assert str(cut) in str(e.value)
    assert any(w in str(e.value) for w in ("truncated", "damaged", "not a matgrad.save file"))


def test_an_empty_file(tmp_path):
    (tmp_path / "empty.pt").write_bytes(b"")
    with pytest.raises(LoadError, match=r"empty.pt is empty \(0 bytes\)"):
        load(tmp_path / "empty.pt")


def test_flipped_bytes_in_an_array_are_caught(saved_file):
    data = bytearray(saved_file.read_bytes())
    at = data.index(b"\x93NUMPY") + 200  # inside the first array's data
    data[at] ^= 0xFF
    with pytest.raises(LoadError, match="damaged"):
        load(io.BytesIO(bytes(data)))


def test_an_array_header_claiming_more_than_the_file_holds():
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False, "shape": (10**12,)})
    data = archive(tensor_structure(), {"data/0.npy": header.getvalue() + b"\x00" * 64})
    with pytest.raises(LoadError, match="declares 8000000000000 bytes"):
        load(io.BytesIO(data))


def test_a_compressed_member_is_refused():
    data = archive(tensor_structure(), {"data/0.npy": npy_bytes(np.zeros(1000))}, compress=zipfile.ZIP_DEFLATED)
    with pytest.raises(LoadError, match="compressed"):
        load(io.BytesIO(data))


@pytest.mark.parametrize("structure, fragment", [
    ("{not json", "cannot be read"),
    ({"format": "something else", "version": 1, "arrays": 0, "root": None}, "does not say format"),
    ({"format": "matgrad.save", "version": 99, "arrays": 0, "root": None}, "newer matgrad"),
    ({"format": "matgrad.save", "version": "1", "arrays": 0, "root": None}, "not a positive int"),
    ({"format": "matgrad.save", "version": 1, "root": None}, "'arrays' count"),
    ({"format": "matgrad.save", "version": 1, "arrays": 1, "root": {"$": "ndarray", "array": 0}}, "missing"),
    ({"format": "matgrad.save", "version": 1, "arrays": 0, "root": {"$": "ndarray", "array": 5}}, "refers to array 5"),
    ({"format": "matgrad.save", "version": 1, "arrays": 0, "root": {"$": "dict", "items": [[[1], 2]]}}, "unhashable"),
    ({"format": "matgrad.save", "version": 1, "arrays": 0, "root": {"$": "float", "value": "1e5"}}, "special float"),
    ({"format": "matgrad.save", "version": 1, "arrays": 0, "root": {"no": "kind"}}, "without a '\\$' kind"),
    ("[" * 100_000 + "]" * 100_000, "nested too deeply|cannot be read"),
])
def test_damaged_structures(structure, fragment):
    with pytest.raises(LoadError, match=fragment):
        load(io.BytesIO(archive(structure)))


def test_an_int_tensor_that_requires_grad_is_damaged():
    data = archive(tensor_structure(requires_grad=True), {"data/0.npy": npy_bytes(np.arange(3))})
    with pytest.raises(LoadError, match="requires grad"):
        load(io.BytesIO(data))


@pytest.mark.parametrize("make, fragment", [
    (lambda: npy_bytes(np.arange(3)), "single NumPy .npy array"),
    (lambda: archive(None, {"a.npy": npy_bytes(np.arange(3))}), "NumPy .npz archive"),
    (lambda: archive(None, {"meta.json.npy": npy_bytes(np.array("{}")), "model/w.npy": b""}), "matgrad train"),
    (lambda: archive(None, {"readme.txt": b"hi"}), "zip archive but not a matgrad.save file"),
    (lambda: (12).to_bytes(8, "little") + b'{"a":{}}    ', "safetensors"),
    (lambda: b"hello world, not a checkpoint", "not a matgrad.save file"),
])
def test_other_kinds_of_file_are_named(tmp_path, make, fragment):
    path = tmp_path / "other.bin"
    path.write_bytes(make())
    with pytest.raises(LoadError) as e:
        load(path)
    assert fragment in str(e.value) and str(path) in str(e.value)


def test_a_train_checkpoint_from_the_cli_is_recognised(tmp_path):
    from matgrad.training.checkpoint import save_checkpoint

    save_checkpoint(tmp_path / "ckpt.npz", {"w": np.ones(2)}, epoch=1)
    with pytest.raises(LoadError, match="load_checkpoint"):
        load(tmp_path / "ckpt.npz")


def test_load_does_not_import_nn_itself():
    """Parameters are rebuilt from matgrad.nn.parameter when loaded, without an import edge to nn."""
    src = Path(sys.modules["matgrad.serialization"].__file__).read_text()
    assert "from .nn" not in src and "import matgrad.nn" not in src
