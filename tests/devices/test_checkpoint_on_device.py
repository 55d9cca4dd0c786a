"""Checkpoints of device models on the CuPy-like test device: files hold host arrays, and
`matgrad.load(..., map_location=...)` puts tensors where PyTorch would."""
from __future__ import annotations

import zipfile

import numpy as np
import pytest

import matgrad as mg
from matgrad import devices, nn, optim
from tests.devices.fake_cupy import ndarray


def _model() -> nn.Module:
    mg.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2)).double()


def _trained(cuda) -> tuple[nn.Module, optim.Optimizer]:
    model = _model().to(cuda)
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    x = mg.randn(8, 3, dtype=mg.float64, device="cuda")
    for _ in range(2):
        opt.zero_grad()
        model(x).pow(2).mean().backward()
        opt.step()
    return model, opt


def _host_state(model: nn.Module) -> dict[str, np.ndarray]:
    return {k: v.cpu().numpy().copy() for k, v in model.state_dict().items()}


@pytest.mark.parametrize("name", ["model.pt", "model.safetensors"])
def test_a_device_model_saves_host_arrays(name, cuda, tmp_path):
    model, _ = _trained(cuda)
    path = tmp_path / name
    mg.save(model.state_dict(), path)
    if name.endswith(".pt"):  # an .npz of host arrays, whatever the device
        with np.load(path) as z:
            assert all(type(z[k]) is np.ndarray for k in z.files if k.startswith("data/"))
        with zipfile.ZipFile(path) as zf:
            assert b'"device":"cuda:0"' in zf.read("structure.json")
    want = _host_state(model)
    got = mg.load(path, map_location="cpu")
    assert set(got) == set(want)
    for k, v in got.items():
        assert type(v.array) is np.ndarray
        np.testing.assert_array_equal(v.numpy(), want[k])


def test_map_location_moves_as_pytorch(cuda, tmp_path):
    model, _ = _trained(cuda)
    path = tmp_path / "model.pt"
    mg.save(model.state_dict(), path)
    want = _host_state(model)
    for where, kind in [(None, ndarray), ("cuda", ndarray), (cuda, ndarray), (0, ndarray), ("cpu", np.ndarray),
                        (mg.device("cpu"), np.ndarray), ({"cuda:0": "cpu"}, np.ndarray),
                        ({"cpu": "cuda:0"}, ndarray),  # unlisted locations stay where saved
                        (lambda storage, loc: storage, np.ndarray), (lambda storage, loc: None, ndarray),
                        (lambda storage, loc: storage.cuda(), ndarray),
                        (lambda storage, loc: storage.cpu(), np.ndarray),
                        (lambda storage, loc: mg.tensor(storage.numpy()).to("cuda"), ndarray)]:
        got = mg.load(path, map_location=where)
        for k, v in got.items():
            assert type(v.array) is kind, f"map_location={where!r}: {k} is a {type(v.array).__name__}"
            np.testing.assert_array_equal(v.cpu().numpy(), want[k])
    # a CPU checkpoint onto the device
    mg.save(_model().state_dict(), tmp_path / "cpu.pt")
    got = mg.load(tmp_path / "cpu.pt", map_location="cuda")
    assert all(v.device == cuda for v in got.values())
    mg.save(dict(_model().named_parameters()), tmp_path / "params.pt")  # Parameters stay Parameters
    params = mg.load(tmp_path / "params.pt", map_location="cuda")
    assert all(type(v) is nn.Parameter and v.device == cuda and v.requires_grad for v in params.values())


def test_tied_weights_stay_tied_on_the_device(cuda, tmp_path):
    w = mg.randn(3, 3, device="cuda")
    mg.save({"a": w, "b": w}, tmp_path / "tied.pt")
    got = mg.load(tmp_path / "tied.pt", map_location="cuda")
    assert got["a"] is got["b"] and got["a"].device == cuda


def test_a_device_checkpoint_loads_on_a_cpu_only_machine(cuda, tmp_path):
    model, opt = _trained(cuda)
    mg.save({"model": model.state_dict(), "optim": opt.state_dict(), "step": 2}, tmp_path / "ckpt.pt")
    want = _host_state(model)
    before = devices.set_cuda_backend(None, "no GPU on this machine (test)")
    try:
        with pytest.raises(RuntimeError, match="map_location='cpu'"):
            mg.load(tmp_path / "ckpt.pt")
        ckpt = mg.load(tmp_path / "ckpt.pt", map_location="cpu")
        fresh = _model()
        fresh.load_state_dict(ckpt["model"])
        for k, v in fresh.state_dict().items():
            np.testing.assert_array_equal(v.numpy(), want[k])
        opt2 = optim.SGD(fresh.parameters(), lr=0.1, momentum=0.9)
        opt2.load_state_dict(ckpt["optim"])
        assert all(type(s["momentum_buffer"]) is np.ndarray for s in opt2.state.values())
        x = mg.randn(8, 3, dtype=mg.float64)
        fresh(x).pow(2).mean().backward()
        opt2.step()  # resumes on the CPU
    finally:
        devices.restore_cuda_backend(before)


def test_load_state_dict_across_devices(cuda, tmp_path):
    """A CPU state_dict into a device model and back (PyTorch's copy_ across devices), and assign=True."""
    cpu_model, dev_model = _model(), _model().to(cuda)
    for p in cpu_model.parameters():
        p.data.array[...] = 0.5
    dev_model.load_state_dict(cpu_model.state_dict())
    assert all(p.device == cuda and np.all(p.cpu().numpy() == 0.5) for p in dev_model.parameters())
    cpu_model.load_state_dict(_trained(cuda)[0].state_dict())
    assert all(type(p.array) is np.ndarray for p in cpu_model.parameters())
    fresh = _model()
    fresh.load_state_dict(dev_model.state_dict(), assign=True)
    assert all(p.device == cuda for p in fresh.parameters())


def test_optimizer_state_round_trip_on_the_device(cuda, tmp_path):
    model, opt = _trained(cuda)
    mg.save(opt.state_dict(), tmp_path / "opt.pt")
    sd = mg.load(tmp_path / "opt.pt")
    opt2 = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    opt2.load_state_dict(sd)
    for p in model.parameters():
        assert type(opt2.state[p]["momentum_buffer"]) is ndarray
        np.testing.assert_array_equal(opt2.state[p]["momentum_buffer"].get(), opt.state[p]["momentum_buffer"].get())


def test_a_pytorch_checkpoint_loads_onto_the_device(cuda, tmp_path):
    torch = pytest.importorskip("torch")
    base = torch.arange(12, dtype=torch.float64).reshape(3, 4)
    torch.save({"w": base, "same": base, "col": base[:, 1], "t": base.t()}, tmp_path / "torch.pt")
    got = mg.load(tmp_path / "torch.pt", map_location="cuda")
    assert all(v.device == cuda for v in got.values())
    assert got["w"] is got["same"] or got["w"].array is got["same"].array
    for k, v in got.items():
        want = {"w": base, "same": base, "col": base[:, 1], "t": base.t()}[k].numpy()
        np.testing.assert_array_equal(v.cpu().numpy(), want)
    host = mg.load(tmp_path / "torch.pt", map_location=lambda storage, loc: storage.cpu())
    assert all(type(v.array) is np.ndarray for v in host.values())
