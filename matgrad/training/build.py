"""Turn a run's TrainConfig into the model, loss, optimizer and lr schedule it names."""
from __future__ import annotations

from typing import Any

import numpy as np

from .. import models
from ..creation import from_numpy
from .config import ConfigError, TrainConfig

__all__ = ["ConfigError", "check_state_fits", "loss_target", "make_loss", "make_model", "make_optimizer",
           "make_scheduler", "model_from_checkpoint"]


def make_model(cfg: TrainConfig) -> Any:
    """The recipe's network for the config's input shape and class count."""
    return models.get(cfg.model).build(cfg.input_shape, cfg.num_classes)


def make_loss(cfg: TrainConfig) -> Any:
    from .. import nn

    return {"bce": nn.BCELoss, "ce": nn.CrossEntropyLoss, "mse": nn.MSELoss}[cfg.loss]()


def loss_target(cfg: TrainConfig, y: np.ndarray, dtype: Any = np.float32) -> np.ndarray:
    """Class indices for cross-entropy; one-hot rows (N, C) for BCE and MSE."""
    if cfg.loss == "ce":
        return y
    onehot = np.zeros((len(y), cfg.num_classes), dtype=dtype)
    onehot[np.arange(len(y)), y] = 1
    return onehot


def make_optimizer(cfg: TrainConfig, params: Any) -> Any:
    from .. import optim

    name, lr, wd, mom = cfg.optimizer, cfg.lr, cfg.weight_decay, cfg.momentum
    if name == "sgd":
        return optim.SGD(params, lr=lr, momentum=mom, weight_decay=wd, nesterov=cfg.nesterov and mom > 0)
    if name == "adam":
        return optim.Adam(params, lr=lr, weight_decay=wd)
    if name == "adamw":
        return optim.AdamW(params, lr=lr, weight_decay=wd)
    if name == "rmsprop":
        return optim.RMSprop(params, lr=lr, momentum=mom, weight_decay=wd)
    return optim.Adagrad(params, lr=lr, weight_decay=wd)


def make_scheduler(cfg: TrainConfig, opt: Any, steps_per_epoch: int) -> Any:
    """The lr schedule, or None. One-cycle is stepped per batch; cosine and step per epoch."""
    from ..optim import lr_scheduler

    name, epochs = cfg.schedule, cfg.epochs
    if name == "onecycle":
        return lr_scheduler.OneCycleLR(opt, max_lr=cfg.lr, total_steps=epochs * steps_per_epoch)
    if name == "cosine":
        return lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
    if name == "step":
        return lr_scheduler.StepLR(opt, step_size=max(1, epochs // 3), gamma=0.1)
    return None


def model_from_checkpoint(ckpt: Any) -> tuple[Any, TrainConfig]:
    """(model with the checkpoint's weights, in eval mode; its config). CheckpointError if they do not fit."""
    from .checkpoint import CheckpointError

    cfg = ckpt.config
    try:
        model = make_model(cfg)
    except ValueError as e:  # a recipe that cannot take the stored input shape
        raise CheckpointError(f"{ckpt.path}: {e}") from None
    check_state_fits(model, ckpt.model_state, cfg, ckpt.path)
    model.load_state_dict({k: from_numpy(v) for k, v in ckpt.model_state.items()})
    model.eval()
    return model, cfg


def check_state_fits(model: Any, state: dict[str, Any], cfg: TrainConfig, path: Any) -> None:
    """CheckpointError naming the first difference between `state` and `model`'s own state_dict."""
    from .checkpoint import CheckpointError

    expected = model.state_dict()
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    if missing or unexpected:
        raise CheckpointError(
            f"{path} does not hold a {cfg.model!r} model: missing {missing[:4] or 'nothing'}, "
            f"unexpected {unexpected[:4] or 'nothing'}")
    for k, v in expected.items():
        got = state[k].shape
        if tuple(v.shape) != tuple(got):
            raise CheckpointError(f"{path}: {k} has shape {tuple(got)} but model {cfg.model!r} for "
                                  f"input {cfg.input_shape} needs {tuple(v.shape)}")
