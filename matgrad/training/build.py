"""Turn a run's config (plain dict) into the model, loss, optimizer and lr schedule it names."""
from __future__ import annotations

from typing import Any

import numpy as np

from .. import models

LOSSES = ("bce", "ce", "mse")
OPTIMIZERS = ("sgd", "adam", "adamw", "rmsprop", "adagrad")
SCHEDULES = ("none", "onecycle", "cosine", "step")
# schedules stepped after every batch (the rest once per epoch)
PER_BATCH = ("onecycle",)


class ConfigError(ValueError):
    """Settings that do not fit together (a bad flag combination); the message says which."""


def check_config(cfg: dict[str, Any]) -> None:
    """Raise ConfigError for settings that cannot train (unknown names, a loss the output cannot feed)."""
    for key, allowed in (("loss", LOSSES), ("optimizer", OPTIMIZERS), ("schedule", SCHEDULES)):
        if cfg[key] not in allowed:
            raise ConfigError(f"--{key} {cfg[key]!r} is not known; choose one of {', '.join(allowed)}")
    output = cfg.get("output", "logits")
    if cfg["loss"] == "bce" and output != "probabilities":
        raise ConfigError(f"--loss bce needs a model that ends in a sigmoid; {cfg['model']!r} outputs logits "
                          "(use --loss ce, or --model mlp)")
    if cfg["loss"] == "ce" and output != "logits":
        raise ConfigError(f"--loss ce needs a model that outputs logits; {cfg['model']!r} ends in a sigmoid "
                          "(use --loss bce or mse, or --model mlp-best)")
    for key in ("lr", "epochs", "batch_size"):
        if not cfg[key] > 0:
            raise ConfigError(f"--{key.replace('_', '-')} must be positive, got {cfg[key]}")
    if cfg["momentum"] < 0 or cfg["weight_decay"] < 0:
        raise ConfigError("--momentum and --weight-decay must not be negative")


def make_model(cfg: dict[str, Any]) -> Any:
    """The recipe's network for the config's input shape and class count."""
    return models.get(cfg["model"]).build(tuple(cfg["input_shape"]), int(cfg["num_classes"]))


def make_loss(cfg: dict[str, Any]) -> Any:
    from .. import nn

    return {"bce": nn.BCELoss, "ce": nn.CrossEntropyLoss, "mse": nn.MSELoss}[cfg["loss"]]()


def loss_target(cfg: dict[str, Any], y: np.ndarray, dtype: Any = np.float32) -> np.ndarray:
    """Class indices for cross-entropy; one-hot rows (N, C) for BCE and MSE."""
    if cfg["loss"] == "ce":
        return y
    onehot = np.zeros((len(y), int(cfg["num_classes"])), dtype=dtype)
    onehot[np.arange(len(y)), y] = 1
    return onehot


def make_optimizer(cfg: dict[str, Any], params: Any) -> Any:
    from .. import optim

    name, lr, wd, mom = cfg["optimizer"], cfg["lr"], cfg["weight_decay"], cfg["momentum"]
    if name == "sgd":
        return optim.SGD(params, lr=lr, momentum=mom, weight_decay=wd,
                         nesterov=bool(cfg.get("nesterov", False)) and mom > 0)
    if name == "adam":
        return optim.Adam(params, lr=lr, weight_decay=wd)
    if name == "adamw":
        return optim.AdamW(params, lr=lr, weight_decay=wd)
    if name == "rmsprop":
        return optim.RMSprop(params, lr=lr, momentum=mom, weight_decay=wd)
    return optim.Adagrad(params, lr=lr, weight_decay=wd)


def make_scheduler(cfg: dict[str, Any], opt: Any, steps_per_epoch: int) -> Any:
    """The lr schedule, or None. One-cycle is stepped per batch; cosine and step per epoch."""
    from ..optim import lr_scheduler

    name, epochs = cfg["schedule"], int(cfg["epochs"])
    if name == "onecycle":
        return lr_scheduler.OneCycleLR(opt, max_lr=cfg["lr"], total_steps=epochs * steps_per_epoch)
    if name == "cosine":
        return lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
    if name == "step":
        return lr_scheduler.StepLR(opt, step_size=max(1, epochs // 3), gamma=0.1)
    return None


def model_from_checkpoint(ckpt: Any) -> tuple[Any, dict[str, Any]]:
    """(model with the checkpoint's weights, in eval mode; its config). CheckpointError if they do not fit."""
    from ..tensor import Tensor
    from .checkpoint import CheckpointError

    cfg = ckpt.get("config")
    if not isinstance(cfg, dict) or "model" not in cfg:
        raise CheckpointError(f"{ckpt.path} has no training config; it was not written by `matgrad train`")
    try:
        model = make_model(cfg)
    except KeyError as e:
        raise CheckpointError(f"{ckpt.path}: {e.args[0]}") from None
    check_state_fits(model, ckpt.model_state, cfg, ckpt.path)
    model.load_state_dict({k: Tensor._make(v, None, False) for k, v in ckpt.model_state.items()})
    model.eval()
    return model, cfg


def check_state_fits(model: Any, state: dict[str, Any], cfg: dict[str, Any], path: Any) -> None:
    """CheckpointError naming the first difference between `state` and `model`'s own state_dict."""
    from .checkpoint import CheckpointError

    expected = model.state_dict()
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    if missing or unexpected:
        raise CheckpointError(
            f"{path} does not hold a {cfg['model']!r} model: missing {missing[:4] or 'nothing'}, "
            f"unexpected {unexpected[:4] or 'nothing'}")
    for k, v in expected.items():
        got = state[k].shape
        if tuple(v.shape) != tuple(got):
            raise CheckpointError(f"{path}: {k} has shape {tuple(got)} but model {cfg['model']!r} for "
                                  f"input {tuple(cfg['input_shape'])} needs {tuple(v.shape)}")
