"""TrainConfig: made once from a recipe and the flags, checked when made, frozen, stored as plain JSON."""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from matgrad import models
from matgrad.training import build
from matgrad.training.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from matgrad.training.config import ConfigError, TrainConfig

DIGITS = {"dataset": "digits", "input_shape": (1, 8, 8), "num_classes": 10}

# what `matgrad train` stored before TrainConfig: a plain dict, read back by string keys
OLD_CONFIG = {"loss": "bce", "optimizer": "sgd", "lr": 1.0, "momentum": 0.9, "weight_decay": 0.0,
              "schedule": "none", "epochs": 1, "batch_size": 256, "output": "probabilities",
              "flatten_input": True, "model": "mlp", "seed": 0, "limit": 256, "watch": False,
              "dataset": "digits", "input_shape": [1, 8, 8], "num_classes": 10,
              "class_names": [str(d) for d in range(10)], "data_dir": None}


def seed_config(**settings: object) -> TrainConfig:
    return TrainConfig.for_new_run(models.get("mlp"), **DIGITS, **settings)


def test_flags_override_the_recipe_and_none_means_not_given() -> None:
    cfg = seed_config(lr=0.5, epochs=None, seed=3)
    assert cfg.model == "mlp" and cfg.loss == "bce" and cfg.output == "probabilities"
    assert cfg.lr == 0.5 and cfg.epochs == models.get("mlp").epochs and cfg.seed == 3
    assert cfg.input_shape == (1, 8, 8) and cfg.limit is None


def test_it_cannot_be_changed_after_it_is_made() -> None:
    cfg = seed_config()
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.dataset = "mnist"  # type: ignore[misc]
    longer = cfg.resumed(epochs=20, watch=True)
    assert (longer.epochs, longer.watch) == (20, True)
    assert (cfg.epochs, cfg.watch) == (models.get("mlp").epochs, False)  # the original is untouched


@pytest.mark.parametrize("settings, words", [
    ({"lr": -1.0}, "--lr must be positive"),
    ({"lr": float("nan")}, "--lr must be positive"),
    ({"epochs": 0}, "--epochs must be positive"),
    ({"batch_size": 2.5}, "--batch-size must be a whole number"),
    ({"momentum": -0.1}, "--momentum must not be negative"),
    ({"seed": -1}, "--seed must not be negative"),
    ({"limit": 0}, "--limit must be a positive number"),
    ({"loss": "ce"}, "--loss ce needs a model that outputs logits"),
    ({"optimizer": "lbfgs"}, "--optimizer 'lbfgs' is not known"),
    ({"lr": "fast"}, "--lr must be a number"),
])
def test_bad_settings_are_refused_when_it_is_made(settings: dict, words: str) -> None:
    with pytest.raises(ConfigError, match=words.replace("(", r"\(")):
        seed_config(**settings)


def test_every_recipe_makes_a_valid_config_and_a_model() -> None:
    for name in models.names():
        cfg = TrainConfig.for_new_run(models.get(name), **DIGITS)
        assert cfg.model == name
        out = build.make_model(cfg)
        assert out is not None


def test_to_dict_is_plain_json_and_reads_back_equal() -> None:
    cfg = seed_config(limit=100, watch=True)
    d = json.loads(json.dumps(cfg.to_dict()))
    assert d["input_shape"] == [1, 8, 8] and d["limit"] == 100
    assert TrainConfig.from_dict(d) == cfg


def test_an_old_plain_dict_config_reads_as_a_train_config() -> None:
    cfg = TrainConfig.from_dict(OLD_CONFIG)
    assert isinstance(cfg, TrainConfig)
    assert cfg.model == "mlp" and cfg.input_shape == (1, 8, 8) and cfg.limit == 256 and not cfg.nesterov
    older = {k: v for k, v in OLD_CONFIG.items() if k not in ("output", "flatten_input", "class_names",
                                                              "limit", "watch", "data_dir", "seed")}
    older["retired_setting"] = 1  # keys this version does not know are ignored
    cfg = TrainConfig.from_dict(older)
    assert cfg.output == "probabilities" and cfg.flatten_input  # the recipe's
    assert cfg.class_names == () and cfg.seed == 0 and cfg.limit is None


def test_an_old_checkpoint_loads_with_a_train_config(tmp_path: Path) -> None:
    """A checkpoint written before TrainConfig existed: config as a plain dict in the JSON metadata."""
    cfg = TrainConfig.from_dict(OLD_CONFIG)
    model = build.make_model(cfg)
    path = save_checkpoint(tmp_path / "model.npz", model.state_dict(), config=dict(OLD_CONFIG), epoch=1)
    ckpt = load_checkpoint(path)
    assert ckpt.config == cfg and ckpt["config"] == cfg
    loaded, got = build.model_from_checkpoint(ckpt)
    assert got == cfg
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(loaded.state_dict()[k].array, v.array)


def test_a_checkpoint_stores_the_config_as_json_and_reads_it_back(tmp_path: Path) -> None:
    cfg = seed_config(seed=5)
    path = save_checkpoint(tmp_path / "m.npz", build.make_model(cfg).state_dict(), config=cfg)
    with np.load(path, allow_pickle=False) as z:  # no pickle: the config is JSON
        assert json.loads(str(z["meta.json"]))["config"]["seed"] == 5
    assert load_checkpoint(path).config == cfg


def test_a_checkpoint_without_a_usable_config_is_a_clear_error(tmp_path: Path) -> None:
    state = build.make_model(seed_config()).state_dict()
    save_checkpoint(tmp_path / "none.npz", state)
    with pytest.raises(CheckpointError, match="not written by `matgrad train`"):
        _ = load_checkpoint(tmp_path / "none.npz").config
    save_checkpoint(tmp_path / "bad.npz", state, config={**OLD_CONFIG, "loss": "ce"})
    with pytest.raises(CheckpointError, match="training config cannot be used: --loss ce"):
        _ = load_checkpoint(tmp_path / "bad.npz").config
    save_checkpoint(tmp_path / "gone.npz", state, config={**OLD_CONFIG, "model": "transformer"})
    with pytest.raises(CheckpointError, match="unknown model 'transformer'"):
        _ = load_checkpoint(tmp_path / "gone.npz").config
