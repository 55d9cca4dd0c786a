"""TrainConfig: everything a training run is, typed, checked once when it is made, never changed after.

It is made once per run, from the model's recipe, the command-line flags and the data set that
was actually loaded (`TrainConfig.for_new_run`), or read back from a checkpoint
(`TrainConfig.from_dict`, which also reads the plain-dict configs older checkpoints hold).
A resumed run that trains longer gets a new config (`resumed`); the old one is not touched.
Checkpoints and metrics.json store `to_dict()`: plain JSON values, no pickle.
"""
from __future__ import annotations

import dataclasses
import math
import numbers
from dataclasses import dataclass, fields
from typing import Any, Mapping

from .. import models

LOSSES = ("bce", "ce", "mse")
OPTIMIZERS = ("sgd", "adam", "adamw", "rmsprop", "adagrad")
SCHEDULES = ("none", "onecycle", "cosine", "step")
OUTPUTS = ("logits", "probabilities")
DATASETS = ("mnist", "fashion-mnist", "digits")
# schedules stepped after every batch (the rest once per epoch)
PER_BATCH = ("onecycle",)
# the settings a recipe supplies (a flag may override the first ones; output and flatten_input are the network's)
RECIPE_FIELDS = ("loss", "optimizer", "lr", "momentum", "weight_decay", "nesterov", "schedule", "epochs",
                 "batch_size", "output", "flatten_input")


class ConfigError(ValueError):
    """Settings that do not fit together (a bad flag combination); the message says which."""


@dataclass(frozen=True)
class TrainConfig:
    """One training run's settings. Frozen: a run never changes them; make a new one instead."""

    model: str  # a name in matgrad.models
    dataset: str  # the data set trained on: mnist | fashion-mnist | digits
    input_shape: tuple[int, ...]  # one sample as (channels, height, width)
    num_classes: int
    loss: str  # bce | ce | mse
    optimizer: str  # sgd | adam | adamw | rmsprop | adagrad
    lr: float  # the peak lr for the onecycle schedule
    momentum: float
    weight_decay: float
    schedule: str  # none | onecycle | cosine | step
    epochs: int
    batch_size: int
    output: str  # logits | probabilities (the network ends in a sigmoid)
    flatten_input: bool  # the network takes (N, features) rather than (N, C, H, W)
    nesterov: bool = False
    class_names: tuple[str, ...] = ()
    seed: int = 0
    limit: int | None = None  # train on the first `limit` samples only
    watch: bool = False  # record per-layer statistics (--watch)
    data_dir: str | None = None  # the --data folder the run was given, if any
    log_every: int = 50  # TensorBoard scalars and --watch samples every N steps (--log-every)

    def __post_init__(self) -> None:
        # normalise types (JSON gives lists for tuples, ints for floats) before checking
        set_ = object.__setattr__
        try:
            set_(self, "input_shape", tuple(int(d) for d in self.input_shape))
            set_(self, "class_names", tuple(str(c) for c in self.class_names))
        except (TypeError, ValueError):
            raise ConfigError(f"input_shape must be a list of whole numbers, got {self.input_shape!r}") from None
        for name, kind in (("lr", float), ("momentum", float), ("weight_decay", float), ("epochs", int),
                           ("batch_size", int), ("num_classes", int), ("seed", int), ("log_every", int)):
            set_(self, name, _number(name, getattr(self, name), kind))
        if self.limit is not None:
            set_(self, "limit", _number("limit", self.limit, int))
        for name in ("nesterov", "watch", "flatten_input"):
            set_(self, name, bool(getattr(self, name)))
        self._check()

    def _check(self) -> None:
        if self.model not in models.names():
            raise ConfigError(f"model {self.model!r} is not known; known models: {', '.join(models.names())}")
        for key, allowed in (("loss", LOSSES), ("optimizer", OPTIMIZERS), ("schedule", SCHEDULES),
                             ("dataset", DATASETS)):
            if getattr(self, key) not in allowed:
                raise ConfigError(f"--{key} {getattr(self, key)!r} is not known; choose one of {', '.join(allowed)}")
        if self.output not in OUTPUTS:
            raise ConfigError(f"output {self.output!r} is not known; it is one of {', '.join(OUTPUTS)}")
        if self.loss == "bce" and self.output != "probabilities":
            raise ConfigError(f"--loss bce needs a model that ends in a sigmoid; {self.model!r} outputs logits "
                              "(use --loss ce, or --model mlp)")
        if self.loss == "ce" and self.output != "logits":
            raise ConfigError(f"--loss ce needs a model that outputs logits; {self.model!r} ends in a sigmoid "
                              "(use --loss bce or mse, or --model mlp-best)")
        for key in ("lr", "epochs", "batch_size", "log_every"):
            value = getattr(self, key)
            if not (value > 0 and math.isfinite(value)):
                raise ConfigError(f"--{key.replace('_', '-')} must be positive, got {value}")
        for key in ("momentum", "weight_decay"):
            value = getattr(self, key)
            if not (value >= 0 and math.isfinite(value)):
                raise ConfigError(f"--{key.replace('_', '-')} must not be negative, got {value}")
        if self.seed < 0:
            raise ConfigError(f"--seed must not be negative, got {self.seed}")
        if self.limit is not None and self.limit < 1:
            raise ConfigError(f"--limit must be a positive number of samples, got {self.limit}")
        if not self.input_shape or min(self.input_shape) < 1:
            raise ConfigError(f"input_shape must be positive sizes, got {self.input_shape}")
        if self.num_classes < 2:
            raise ConfigError(f"num_classes must be at least 2, got {self.num_classes}")
        if self.class_names and len(self.class_names) != self.num_classes:
            raise ConfigError(f"{len(self.class_names)} class names for {self.num_classes} classes")

    # --- making one ---------------------------------------------------------------------
    @classmethod
    def for_new_run(cls, recipe: Any, *, dataset: str, input_shape: Any, num_classes: int,
                    class_names: Any = (), **settings: Any) -> TrainConfig:
        """The recipe's defaults, overridden by `settings` whose value is not None (the flags given)."""
        values = {name: getattr(recipe, name) for name in RECIPE_FIELDS}
        values.update({k: v for k, v in settings.items() if v is not None})
        unknown = set(values) - {f.name for f in fields(cls)}
        if unknown:
            raise TypeError(f"TrainConfig has no settings {sorted(unknown)}")
        return cls(model=recipe.name, dataset=dataset, input_shape=input_shape, num_classes=num_classes,
                   class_names=class_names, **values)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> TrainConfig:
        """The config stored by to_dict(), or the plain dict an older checkpoint holds.

        Settings an old config lacks are the recipe's; keys this version does not know are ignored.
        ConfigError says what is missing or wrong.
        """
        if not isinstance(d, Mapping):
            raise ConfigError(f"a training config is a mapping of settings, got {type(d).__name__}")
        if "model" not in d:
            raise ConfigError("the config names no model")
        try:
            recipe = models.get(str(d["model"]))
        except KeyError as e:
            raise ConfigError(e.args[0]) from None
        names = {f.name for f in fields(cls)}
        values = {name: getattr(recipe, name) for name in RECIPE_FIELDS}
        values.update({k: v for k, v in d.items() if k in names})
        missing = [k for k in ("dataset", "input_shape", "num_classes") if values.get(k) is None]
        if missing:
            raise ConfigError(f"the config lacks {', '.join(missing)}")
        if values.get("class_names") is None:
            values["class_names"] = ()
        return cls(**values)

    def resumed(self, *, epochs: int | None = None, watch: bool | None = None,
                log_every: int | None = None) -> TrainConfig:
        """A copy for a resumed run that trains to `epochs`, records --watch statistics and/or logs every N steps."""
        changes: dict[str, Any] = {}
        if log_every is not None:
            changes["log_every"] = log_every
        if epochs is not None:
            changes["epochs"] = epochs
        if watch is not None:
            changes["watch"] = watch
        return dataclasses.replace(self, **changes)

    # --- using one ----------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The settings as plain JSON values (what checkpoints and metrics.json store)."""
        out = dataclasses.asdict(self)
        out["input_shape"] = list(self.input_shape)
        out["class_names"] = list(self.class_names)
        return out

    @property
    def per_batch_schedule(self) -> bool:
        """Whether the lr schedule is stepped after every batch (else once per epoch)."""
        return self.schedule in PER_BATCH


def _number(name: str, value: Any, kind: type) -> Any:
    """`value` as an int or float; ConfigError for anything else (a bool, a string, 2.5 for an int)."""
    flag = "--" + name.replace("_", "-")
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ConfigError(f"{flag} must be a number, got {value!r}")
    if kind is int:
        if not isinstance(value, numbers.Integral) and not float(value).is_integer():
            raise ConfigError(f"{flag} must be a whole number, got {value}")
        return int(value)
    return float(value)
