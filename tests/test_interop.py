"""Models in and out: PyTorch zip checkpoints read without PyTorch, and safetensors both ways.

PyTorch is the oracle where installed (tests that need it skip cleanly without it); the
shipped fixture tests/fixtures/tiny_mlp.pt (made once by torch.save) runs everywhere.
"""
from __future__ import annotations

import io
import os
import pickle
import struct
import zipfile
from pathlib import Path

import numpy as np
import pytest

import matgrad as mg
from matgrad import nn
from matgrad.serialization import LoadError

try:
    import torch
except ImportError:  # pragma: no cover - the oracle is optional
    torch = None

try:
    import safetensors.numpy  # noqa: F401
    HAVE_SAFETENSORS = True
except ImportError:  # pragma: no cover
    HAVE_SAFETENSORS = False

FIXTURES = Path(__file__).parent / "fixtures"
needs_torch = pytest.mark.skipif(torch is None, reason="needs PyTorch as the oracle")
needs_safetensors = pytest.mark.skipif(not HAVE_SAFETENSORS, reason="needs the safetensors extra")


def tiny_mlp_mg():
    return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))


def test_the_shipped_pytorch_fixture_loads_without_torch():
    model = tiny_mlp_mg()
    model.load_state_dict(mg.load(FIXTURES / "tiny_mlp.pt"))
    x = np.load(FIXTURES / "tiny_mlp_input.npy")
    logits = model(mg.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(logits, np.load(FIXTURES / "tiny_mlp_logits.npy"), atol=1e-5)


# --- the three architectures, in both libraries -------------------------------------------------------

def conv_net(lib):
    return lib.nn.Sequential(lib.nn.Conv2d(2, 4, 3, padding=1), lib.nn.BatchNorm2d(4), lib.nn.ReLU(),
                             lib.nn.MaxPool2d(2), lib.nn.Flatten(), lib.nn.Linear(4 * 3 * 3, 5))


def mlp(lib):
    return lib.nn.Sequential(lib.nn.Linear(6, 16), lib.nn.Tanh(), lib.nn.Linear(16, 4))


class _EmbedNorm:
    """Embedding -> LayerNorm -> Linear, built the same way in either library."""

    @staticmethod
    def make(lib):
        class EmbedNorm(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.embed = lib.nn.Embedding(10, 8)
                self.norm = lib.nn.LayerNorm(8)
                self.head = lib.nn.Linear(8, 3)

            def forward(self, idx):
                return self.head(self.norm(self.embed(idx)))
        return EmbedNorm()


ARCHS = {
    "mlp": (mlp, lambda: np.random.default_rng(0).standard_normal((5, 6)).astype(np.float32)),
    "conv": (conv_net, lambda: np.random.default_rng(1).standard_normal((3, 2, 6, 6)).astype(np.float32)),
    "embed_norm": (_EmbedNorm.make, lambda: np.random.default_rng(2).integers(0, 10, (4, 7))),
}


def _torch_model(arch):
    torch.manual_seed(0)
    model = ARCHS[arch][0](torch)
    x = torch.from_numpy(ARCHS[arch][1]())
    if arch == "conv":  # give BatchNorm non-trivial running stats and num_batches_tracked
        model.train()
        for _ in range(3):
            model(torch.randn(8, 2, 6, 6))
    if arch == "embed_norm":  # non-trivial LayerNorm affine
        with torch.no_grad():
            model.norm.weight.uniform_(0.5, 1.5)
            model.norm.bias.uniform_(-0.5, 0.5)
    model.eval()
    return model, x


@needs_torch
@pytest.mark.parametrize("arch", sorted(ARCHS))
def test_a_pytorch_state_dict_fills_the_same_matgrad_architecture(tmp_path, arch):
    tmodel, x = _torch_model(arch)
    path = tmp_path / "model.pt"
    torch.save(tmodel.state_dict(), path)
    state = mg.load(path)
    if arch == "conv":
        assert int(state["1.num_batches_tracked"].item()) == 3
    model = ARCHS[arch][0](mg)
    model.load_state_dict(state)
    model.eval()
    got = model(mg.from_numpy(x.numpy())).detach().numpy()
    np.testing.assert_allclose(got, tmodel(x).detach().numpy(), atol=1e-5)


@needs_torch
def test_layouts_offsets_shared_storages_and_dtypes(tmp_path):
    w = torch.arange(12.0).reshape(3, 4)
    obj = {"t": w.t(), "w": w, "row": w[1], "nested": [w, (w[:, 1],)], "p": torch.nn.Parameter(torch.ones(2)),
           "i": torch.tensor(3), "b": torch.tensor([True, False]), "h": torch.ones(2, dtype=torch.float16),
           "bf": torch.tensor([1.5, -2.0], dtype=torch.bfloat16), "d": torch.zeros(2, dtype=torch.float64),
           "empty": torch.zeros(0, 3), "expand": torch.ones(3, 1).expand(3, 4), "size": torch.Size([2, 3])}
    torch.save(obj, tmp_path / "x.pt")
    out = mg.load(tmp_path / "x.pt")
    for k in ("t", "w", "row", "i", "b", "h", "bf", "d", "empty", "expand"):
        np.testing.assert_array_equal(out[k].array, obj[k].float().numpy() if k == "bf" else obj[k].numpy())
    assert out["h"].array.dtype == np.float16 and out["bf"].array.dtype == np.float32
    assert out["nested"][0] is out["w"] and isinstance(out["nested"][1], tuple)
    np.testing.assert_array_equal(out["nested"][1][0].array, [1, 5, 9])
    assert isinstance(out["p"], nn.Parameter) and out["size"] == (2, 3)
    out["w"].array[1, 0] = 100.0  # a contiguous view shares its storage, as in PyTorch
    assert out["row"].array[0] == 100.0


@needs_torch
def test_an_optimizer_state_dict_loads_into_the_matching_matgrad_optimizer(tmp_path):
    tmodel, x = _torch_model("mlp")
    tmodel.train()
    topt = torch.optim.Adam(tmodel.parameters(), lr=0.01)
    for _ in range(2):
        topt.zero_grad()
        tmodel(x).pow(2).mean().backward()
        topt.step()
    torch.save({"model": tmodel.state_dict(), "optim": topt.state_dict()}, tmp_path / "ckpt.pt")
    ckpt = mg.load(tmp_path / "ckpt.pt")
    model = mlp(mg)
    model.load_state_dict(ckpt["model"])
    opt = mg.optim.Adam(model.parameters(), lr=0.01)
    opt.load_state_dict(ckpt["optim"])
    for lib_opt, m, inp in ((topt, tmodel, x), (opt, model, mg.from_numpy(x.numpy()))):
        lib_opt.zero_grad()
        m(inp).pow(2).mean().backward()
        lib_opt.step()
    for (k, tv), (_, mv) in zip(tmodel.state_dict().items(), model.state_dict().items()):
        np.testing.assert_allclose(mv.detach().numpy(), tv.numpy(), atol=1e-5, err_msg=k)


# --- hostile and damaged PyTorch files ------------------------------------------------------------

class _Payload:
    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def _pt_archive(pickle_bytes: bytes, extra: dict | None = None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("archive/data.pkl", pickle_bytes)
        zf.writestr("archive/version", b"3\n")
        for k, v in (extra or {}).items():
            zf.writestr(k, v)
    return buf.getvalue()


def test_a_pt_whose_pickle_calls_os_system_is_refused_and_nothing_runs(tmp_path):
    marker = tmp_path / "ran"
    path = tmp_path / "evil.pt"
    path.write_bytes(_pt_archive(pickle.dumps({"w": _Payload(marker)}, protocol=2)))
    with pytest.raises(LoadError) as e:
        mg.load(path)
    msg = str(e.value)
    assert str(path) in msg and ("posix.system" in msg or "os.system" in msg or "nt.system" in msg)
    assert not marker.exists()


@pytest.mark.parametrize("name", ["builtins.eval", "builtins.getattr", "subprocess.Popen", "torch.load"])
def test_other_globals_are_refused_by_name(tmp_path, name):
    module, attr = name.rsplit(".", 1)
    data = b"\x80\x02c" + module.encode() + b"\n" + attr.encode() + b"\nq\x00."
    path = tmp_path / "g.pt"
    path.write_bytes(_pt_archive(data))
    with pytest.raises(LoadError, match=rf"{name}.*Nothing in it was run"):
        mg.load(path)


def test_setting_state_on_an_object_is_refused(tmp_path):
    # BUILD on a set (an allowed global) would call setattr on it: refused
    data = b"\x80\x02cbuiltins\nset\n)R}q\x00X\x01\x00\x00\x00aK\x01sb."
    path = tmp_path / "b.pt"
    path.write_bytes(_pt_archive(data))
    with pytest.raises(LoadError, match="state of a set"):
        mg.load(path)


@needs_torch
def test_a_truncated_pytorch_zip_is_named(tmp_path):
    path = tmp_path / "cut.pt"
    torch.save(torch.nn.Linear(3, 2).state_dict(), path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(LoadError, match="truncated") as e:
        mg.load(path)
    assert str(path) in str(e.value)


@needs_torch
def test_a_storage_shorter_than_its_tensor_is_refused(tmp_path):
    path = tmp_path / "short.pt"
    torch.save({"w": torch.ones(4)}, path)
    with zipfile.ZipFile(path) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    key = next(n for n in members if "/data/" in n)
    members[key] = members[key][:8]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for n, v in members.items():
            zf.writestr(n, v)
    path.write_bytes(buf.getvalue())
    with pytest.raises(LoadError, match="should hold 16 bytes") as e:
        mg.load(path)
    assert str(path) in str(e.value)


@needs_torch
def test_a_legacy_pytorch_file_says_re_save(tmp_path):
    path = tmp_path / "old.pt"
    torch.save(torch.nn.Linear(2, 2).state_dict(), path, _use_new_zipfile_serialization=False)
    with pytest.raises(LoadError, match=r"Re-save it with a recent PyTorch.*since 1\.6") as e:
        mg.load(path)
    assert str(path) in str(e.value)


def test_a_big_endian_byteorder_record_is_honoured(tmp_path):
    # a hand-made checkpoint: {'w': tensor of 3 float32} in big-endian storage
    pkl = (b"\x80\x02}q\x00X\x01\x00\x00\x00wq\x01ctorch._utils\n_rebuild_tensor_v2\nq\x02("
           b"(X\x07\x00\x00\x00storageq\x03ctorch\nFloatStorage\nq\x04X\x01\x00\x00\x000q\x05X\x03\x00\x00\x00cpu"
           b"q\x06K\x03tq\x07QK\x00K\x03\x85q\x08K\x01\x85q\x09\x89ccollections\nOrderedDict\nq\x0a)Rq\x0btq\x0c"
           b"Rq\x0ds.")
    data = struct.pack(">3f", 1.0, 2.5, -3.0)
    path = tmp_path / "be.pt"
    path.write_bytes(_pt_archive(pkl, {"archive/byteorder": b"big", "archive/data/0": data}))
    np.testing.assert_array_equal(mg.load(path)["w"].array, [1.0, 2.5, -3.0])


# --- safetensors -------------------------------------------------------------------------------------

@needs_safetensors
@needs_torch
@pytest.mark.parametrize("arch", sorted(ARCHS))
def test_matgrad_to_pytorch_through_safetensors(tmp_path, arch):
    import safetensors.torch

    mg.manual_seed(3)
    model = ARCHS[arch][0](mg)
    if arch == "conv":
        model.train()
        for _ in range(2):
            model(mg.randn(4, 2, 6, 6))
    model.eval()
    path = tmp_path / "m.safetensors"
    mg.save(model.state_dict(), path, metadata={"matgrad_config": '{"model": "x"}'})
    tmodel = ARCHS[arch][0](torch)
    tmodel.load_state_dict(safetensors.torch.load_file(path))
    tmodel.eval()
    x = ARCHS[arch][1]()
    np.testing.assert_allclose(model(mg.from_numpy(x)).detach().numpy(),
                               tmodel(torch.from_numpy(x)).detach().numpy(), atol=1e-5)
    from matgrad._safetensors_io import metadata

    assert metadata(path)["matgrad_config"] == '{"model": "x"}'
    back = mg.load(path)  # and back into matgrad
    again = ARCHS[arch][0](mg)
    again.load_state_dict(back)
    again.eval()
    np.testing.assert_allclose(again(mg.from_numpy(x)).detach().numpy(),
                               model(mg.from_numpy(x)).detach().numpy(), atol=0)


def _st_file(header: dict, data: bytes, claim: int | None = None) -> bytes:
    import json

    raw = json.dumps(header).encode()
    return (len(raw) if claim is None else claim).to_bytes(8, "little") + raw + data


@needs_safetensors
@pytest.mark.parametrize("make", [
    lambda: _st_file({"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}, b"\x00" * 8),
    lambda: _st_file({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}, b"\x00" * 8, claim=10**6),
    lambda: _st_file({"w": {"dtype": "Q99", "shape": [2], "data_offsets": [0, 8]}}, b"\x00" * 8),
], ids=["offsets-past-the-end", "header-longer-than-file", "unknown-dtype"])
def test_hostile_safetensors_files_are_refused_naming_the_file(tmp_path, make):
    path = tmp_path / "bad.safetensors"
    path.write_bytes(make())
    with pytest.raises(LoadError, match="safetensors") as e:
        mg.load(path)
    assert str(path) in str(e.value)


@needs_safetensors
def test_safetensors_refuses_nested_state(tmp_path):
    with pytest.raises(TypeError, match="flat dict"):
        mg.save([mg.ones(2)], tmp_path / "x.safetensors")
    with pytest.raises(TypeError, match="only tensors"):
        mg.save({"state": {"a": mg.ones(2)}}, tmp_path / "x.safetensors")
    assert not (tmp_path / "x.safetensors").exists()


def test_a_missing_safetensors_package_is_one_line(monkeypatch, tmp_path):
    import sys

    monkeypatch.setitem(sys.modules, "safetensors", None)
    monkeypatch.setitem(sys.modules, "safetensors.numpy", None)
    with pytest.raises(ImportError) as e:
        mg.save({"w": mg.ones(2)}, tmp_path / "x.safetensors")
    assert "pip install" in str(e.value) and "\n" not in str(e.value)
