"""`matgrad export`: a checkpoint out as ONNX (checked by ONNX Runtime) or safetensors."""
from __future__ import annotations

import numpy as np
import pytest

from matgrad.cli.main import main

CONFIG = {"model": "mlp", "loss": "bce", "optimizer": "sgd", "lr": 1.0, "momentum": 0.9,
          "weight_decay": 0.0, "schedule": "none", "epochs": 1, "batch_size": 256, "output": "probabilities",
          "flatten_input": True, "seed": 0, "limit": None, "watch": False, "dataset": "mnist",
          "input_shape": [1, 28, 28], "num_classes": 10, "class_names": [str(d) for d in range(10)],
          "data_dir": None}


@pytest.fixture
def run(tmp_path):
    from matgrad.training import build
    from matgrad.training.checkpoint import save_checkpoint
    from matgrad.training.config import TrainConfig

    model = build.make_model(TrainConfig.from_dict(CONFIG))
    return save_checkpoint(tmp_path / "run" / "model.npz", model.state_dict(), config=CONFIG, epoch=1)


def test_export_onnx(run, tmp_path):
    ort = pytest.importorskip("onnxruntime")
    from matgrad.training.build import model_from_checkpoint
    from matgrad.training.checkpoint import load_checkpoint

    out = tmp_path / "m.onnx"
    assert main(["export", str(run), "--format", "onnx", "--out", str(out)]) == 0
    model, _ = model_from_checkpoint(load_checkpoint(run))
    x = np.random.default_rng(0).standard_normal((3, 784)).astype(np.float32)
    import matgrad as mg

    got = ort.InferenceSession(str(out)).run(None, {"input": x})[0]
    np.testing.assert_allclose(got, model(mg.from_numpy(x)).detach().numpy(), atol=1e-5)


def test_export_safetensors(run, tmp_path):
    pytest.importorskip("safetensors")
    from matgrad._safetensors_io import metadata

    out = tmp_path / "m.safetensors"
    assert main(["export", str(run), "--format", "safetensors", "--out", str(out)]) == 0
    assert '"model": "mlp"' in metadata(out)["matgrad_config"]


def test_export_is_in_help(capsys):
    try:
        main(["--help"])
    except SystemExit:
        pass
    assert "export" in capsys.readouterr().out
