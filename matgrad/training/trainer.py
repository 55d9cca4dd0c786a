"""The training loop: epochs of shuffled mini-batches, evaluation, checkpoints, metrics and plots.

Reproducible and resumable: the weights start from `manual_seed(seed)`, each epoch's
shuffle is drawn from its own generator seeded by (seed, epoch), and a checkpoint holds
everything else that changes (weights, optimizer and schedule state, matgrad's RNG state
for dropout, the epoch). Resuming therefore ends with exactly the weights an uninterrupted
run would have.
"""
from __future__ import annotations

import importlib.util
import json
import math
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

from .. import models
from .. import random as mg_random
from ..autograd import no_grad
from ..creation import from_numpy
from ..devices import CPU, resolve, to_host
from ..nn.utils.clip_grad import clip_grad_norm_
from ..serialization import save as save_weights
from . import build, plots
from .checkpoint import Checkpoint, CheckpointError, save_checkpoint
from .config import TrainConfig
from .device import DeviceUnavailable, describe
from .metrics import MetricsLog

EVAL_BATCH = 1000


class TrainingDiverged(RuntimeError):
    """The loss or a gradient became NaN/inf; the message names the step and the first bad layer."""


class Trainer:
    """Trains `cfg.model` on (X, y), evaluates on (X_test, y_test) each epoch, writes into `out_dir`.

    `data` is the whole data set; the trainer uses the first `cfg.limit` training samples when the
    config has a limit. `log` prints one line; `progress` draws a tqdm bar per epoch (when tqdm is
    installed): the caller decides, as a bar belongs on a terminal only. Plots are written when
    matplotlib can be imported (`self.plots`), and left out otherwise.

    `device` (a matgrad.device; None: the CPU) is where the model, its optimizer state and each
    batch live. The data stay host arrays; each batch moves over as it is used, as in PyTorch.
    """

    def __init__(self, cfg: TrainConfig, data: tuple[np.ndarray, ...], out_dir: Path,
                 log: Callable[[str], None] = print, progress: bool = True, logdir: Path | str | None = None,
                 device: Any = None) -> None:
        self.cfg = cfg
        self.X, self.y, self.X_test, self.y_test = data
        if cfg.limit is not None:
            self.X, self.y = self.X[:cfg.limit], self.y[:cfg.limit]
        self.out_dir = Path(out_dir)
        self.log = log
        self.progress = progress
        self.plots = plots.available()
        self.ckpt_path = self.out_dir / "model.npz"
        self.device = CPU if device is None else resolve(device)
        mg_random.manual_seed(cfg.seed)
        # built on the CPU, then moved: the same seed gives the same initial weights on every device
        self.model = build.make_model(cfg)
        if self.on_gpu:
            self.model.to(self.device)
        self.loss_fn = build.make_loss(cfg)
        self.optimizer = build.make_optimizer(cfg, self.model.parameters())
        self.grad_clip = getattr(models.get(cfg.model), "grad_clip", 0.0)
        self.steps_per_epoch = -(-len(self.X) // cfg.batch_size)
        self.scheduler = build.make_scheduler(cfg, self.optimizer, self.steps_per_epoch)
        self.epoch = 0
        self.metrics = MetricsLog(self.out_dir / "metrics.json", cfg)
        self.device_name = describe(self.device)
        self.metrics.extra["device"] = self.device_name
        self.watch = None
        self.watch_history: dict[str, Any] | None = None
        self.logdir = None if logdir is None else Path(logdir)  # TensorBoard event files (tensorboard.py)
        self.tb = None
        self._setup_ranks()

    def _setup_ranks(self) -> None:
        """Under `mpiexec -n N` (a process group of N > 1): DistributedDataParallel over SyncBatchNorm.

        Each global batch of cfg.batch_size (its meaning is unchanged: the global batch) is split
        into N near-equal contiguous shards, one per rank; each rank's loss is weighted by its share,
        so the averaged gradient is the one of the whole batch. Evaluation is sharded the same way and
        summed. Rank 0 alone writes checkpoints, metrics and plots (the CLI silences the others).
        """
        from .. import distributed as dist

        self.rank, self.world, self.ddp = 0, 1, None
        if dist.is_initialized() and dist.get_world_size() > 1:
            from ..nn import SyncBatchNorm
            from ..nn.parallel import DistributedDataParallel

            if self.on_gpu:
                raise DeviceUnavailable("data-parallel training over MPI ranks runs on the CPU only; "
                                        "pass --device cpu")
            self.rank, self.world = dist.get_rank(), dist.get_world_size()
            if self.rank != 0:
                self.logdir = None  # TensorBoard files from rank 0 only
            self.model = SyncBatchNorm.convert_sync_batchnorm(self.model)
            self.ddp = DistributedDataParallel(self.model)

    @property
    def on_gpu(self) -> bool:
        """Whether the run is on a GPU (the CPU path is left exactly as it was)."""
        return self.device.type != "cpu"

    def _to_device(self, t: Any) -> Any:
        """A host tensor on the run's device (itself on the CPU)."""
        return t.to(self.device) if self.on_gpu else t

    def _sum_over_ranks(self, *values: float) -> list[float]:
        if self.world == 1:
            return list(values)
        from .. import distributed as dist

        arr = np.array(values, dtype=np.float64)
        dist.all_reduce(arr)
        return arr.tolist()

    # --- checkpoints -------------------------------------------------------------------
    def save(self) -> Path:
        """Write model.npz: everything needed to continue exactly where this epoch ended.

        With the safetensors package installed, the weights also go to model.safetensors beside it
        (PyTorch's keys and layouts, the config as metadata), for PyTorch and Hugging Face tools.
        """
        state = self.model.state_dict()
        if self.on_gpu:  # checkpoints hold host arrays, so a GPU's run loads on a CPU-only machine
            state = state.__class__((k, v.cpu()) for k, v in state.items())
        path = save_checkpoint(
            self.ckpt_path, state,
            optimizer=self.optimizer.state_dict(),
            scheduler=None if self.scheduler is None else self.scheduler.state_dict(),
            config=self.cfg, epoch=self.epoch, rng=mg_random.get_rng_state(),
            history=self.metrics.epochs, watch=self.watch_history,
        )
        if importlib.util.find_spec("safetensors") is not None:
            save_weights(state, self.ckpt_path.with_suffix(".safetensors"),
                         metadata={"matgrad_config": json.dumps(self.cfg.to_dict())})
        return path

    def restore(self, ckpt: Checkpoint) -> None:
        """Load weights, optimizer, schedule, RNG state, epoch and history from `ckpt`."""
        build.check_state_fits(self.model, ckpt.model_state, self.cfg, ckpt.path)
        if self.on_gpu:  # the checkpoint's arrays are host arrays: load them on the CPU, then move back
            self.model.cpu()
            try:
                self.model.load_state_dict(_as_tensors(ckpt.model_state))
            finally:
                self.model.to(self.device)
        else:
            self.model.load_state_dict(_as_tensors(ckpt.model_state))
        try:
            self.optimizer.load_state_dict(ckpt["optimizer"])
            if self.on_gpu:  # momentum and Adam's moments live with their parameters
                _move_optimizer_state(self.optimizer, self.device)
            if self.scheduler is not None and ckpt.get("scheduler") is not None:
                self.scheduler.load_state_dict(ckpt["scheduler"])
            mg_random.set_rng_state(ckpt["rng"])
        except (KeyError, ValueError, TypeError) as e:
            raise CheckpointError(
                f"{ckpt.path}: its optimizer/schedule/RNG state cannot be restored: {e}") from None
        self.epoch = int(ckpt["epoch"])
        self.metrics.epochs = list(ckpt.get("history") or [])
        self.watch_history = ckpt.get("watch")

    # --- the loop ----------------------------------------------------------------------
    def fit(self) -> MetricsLog:
        """Train from self.epoch to cfg.epochs, checkpointing and plotting after each epoch."""
        if self.cfg.watch:
            from .watch import Watch

            self.watch = Watch(self.model, self.watch_history, every=self.cfg.log_every,
                               steps_per_epoch=self.steps_per_epoch)
        if self.logdir is not None:
            from .tensorboard import TensorBoardLog

            # a resumed run: TensorBoard drops what an interrupted run wrote after the checkpoint
            first = self.epoch * self.steps_per_epoch + 1
            self.tb = TensorBoardLog(self.logdir, purge_step=first if self.epoch else None)
        try:
            # overflow/NaN is caught and explained by _check_finite; NumPy's warnings would be noise
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                while self.epoch < self.cfg.epochs:
                    self._one_epoch()
        finally:
            if self.watch is not None:
                self.watch.close()
            if self.tb is not None:
                self.tb.close()
        return self.metrics

    def _one_epoch(self) -> None:
        record = self.train_epoch()
        self.epoch += 1
        if self.watch is not None:
            self.watch_history = self.watch.end_epoch(self.epoch * self.steps_per_epoch)
            self.metrics.extra["watch"] = self.watch_history
        self.metrics.add_epoch(record)
        if self.tb is not None:
            self.tb.log_epoch(self.epoch * self.steps_per_epoch, record, self.model)
        if self.rank != 0:  # under mpiexec rank 0 alone writes and prints
            return
        self.save()
        self.metrics.write()
        if self.plots:
            plots.plot_curves(self.metrics.epochs, self.out_dir / "curves.png",
                              title=f"{self.cfg.model} on {self.cfg.dataset}")
            if self.watch is not None:
                plots.plot_watch(self.watch_history, self.out_dir / "watch.png")
        self.log(_epoch_line(record, self.cfg.epochs))
        if self.watch is not None:
            self.log(self.watch.summary())

    def batches(self, epoch: int) -> Any:
        """This epoch's mini-batches: a DataLoader shuffled by a generator seeded with (seed, epoch)."""
        from ..data import DataLoader, TensorDataset

        ds = TensorDataset(from_numpy(self.X), from_numpy(self.y))
        rng = np.random.default_rng([self.cfg.seed, epoch])
        loader = DataLoader(ds, batch_size=self.cfg.batch_size, shuffle=True, generator=rng)
        return loader if self.world == 1 else self._shards(loader)

    def _shards(self, loader: Any) -> Any:
        """This rank's contiguous share of each global batch (the same shuffle on every rank);
        a last batch smaller than the number of ranks is left out on all of them."""
        for xb, yb in loader:
            g = len(yb.array)
            if g < self.world:
                continue
            lo, hi = (g * self.rank) // self.world, (g * (self.rank + 1)) // self.world
            self._global_batch = g
            yield from_numpy(xb.array[lo:hi]), from_numpy(yb.array[lo:hi])

    def train_epoch(self) -> dict[str, Any]:
        """One pass over the training set; returns the epoch's record (losses, accuracy, seconds)."""
        cfg, model, opt = self.cfg, self.model, self.optimizer
        per_batch_schedule = self.scheduler is not None and cfg.per_batch_schedule
        n, start = len(self.X), time.perf_counter()
        bar = self._bar(n)
        loss_sum, correct, seen = 0.0, 0, 0
        win_loss, win_n, win_start = 0.0, 0, start  # since the last logged step (TensorBoard)
        model.train()
        for i, (xb, yb) in enumerate(self.batches(self.epoch)):
            target = self._to_device(from_numpy(build.loss_target(cfg, yb.array, xb.array.dtype)))
            xb = self._to_device(xb)
            opt.zero_grad()
            step = self.epoch * self.steps_per_epoch + i + 1
            sample = self.logged_step(step)
            if self.watch is not None:
                self.watch.training_step = sample
            out = model(xb) if self.ddp is None else self.ddp(xb)
            if self.watch is not None:
                self.watch.training_step = False
            loss = self.loss_fn(out, target)
            if self.ddp is None:
                loss.backward()
            else:  # weighted by this rank's share, so the ranks' average is the whole batch's mean
                (loss * (len(yb.array) * self.world / self._global_batch)).backward()
            value = float(loss.item())
            self._check_finite(value, i)
            if self.watch is not None and sample:
                self.watch.before_step()
            if self.grad_clip > 0:  # the recipe's clipping (the watch records the gradients before it)
                clip_grad_norm_(self.model.parameters(), self.grad_clip)
            opt.step()
            if self.watch is not None and sample:
                self.watch.after_step(step)
            if self.tb is not None:
                win_loss, win_n = win_loss + value * len(yb.array), win_n + len(yb.array)
                if sample:
                    now = time.perf_counter()
                    self.tb.log_step(step, loss=win_loss / win_n, lr=_current_lr(opt),
                                     samples_per_s=win_n / max(now - win_start, 1e-9),
                                     watch=None if self.watch is None else self.watch.latest())
                    win_loss, win_n, win_start = 0.0, 0, now
            if per_batch_schedule:
                self.scheduler.step()
            b = len(yb.array)
            loss_sum += value * b
            correct += int((to_host(out.array.argmax(axis=1)) == yb.array).sum())
            seen += b
            if bar is not None:
                bar.update(b * self.world)
                if i % 5 == 0 or seen == n:
                    rate = seen / max(time.perf_counter() - start, 1e-9)
                    bar.set_postfix({"loss": f"{loss_sum / seen:.4f}", "acc": f"{correct / seen:.2%}",
                                     "samples/s": f"{rate:,.0f}"}, refresh=False)
        if bar is not None:
            bar.refresh()  # tqdm draws at most every 0.1 s: show the finished epoch even if it was quicker
            bar.close()
        loss_sum, correct, seen = self._sum_over_ranks(loss_sum, correct, seen)
        correct, seen = int(correct), int(seen)
        lr = _current_lr(opt)
        if self.scheduler is not None and not cfg.per_batch_schedule:
            self.scheduler.step()
        train_seconds = time.perf_counter() - start
        test_loss, test_acc = self.evaluate(self.X_test, self.y_test)
        return {
            "epoch": self.epoch + 1, "train_loss": loss_sum / max(seen, 1),
            "train_accuracy": correct / max(seen, 1), "test_loss": test_loss, "test_accuracy": test_acc,
            "seconds": time.perf_counter() - start, "samples_per_second": seen / max(train_seconds, 1e-9),
            "lr": lr, "device": self.device_name,
        }

    def logged_step(self, step: int) -> bool:
        """Whether global step `step` (from 1) is logged and --watch sampled: the first, every
        cfg.log_every-th and each epoch's last."""
        return step == 1 or step % self.cfg.log_every == 0 or step % self.steps_per_epoch == 0

    def evaluate(self, X: np.ndarray, y: np.ndarray) -> tuple[float, float]:
        """(mean loss, accuracy) on (X, y), in eval mode without recording a graph."""
        self.model.eval()
        loss_sum, correct = 0.0, 0
        total = len(X)
        if self.world > 1:  # sharded: a contiguous share per rank, the sums added up
            lo, hi = (total * self.rank) // self.world, (total * (self.rank + 1)) // self.world
            X, y = X[lo:hi], y[lo:hi]
        with no_grad():
            for s in range(0, len(X), EVAL_BATCH):
                xb, yb = X[s:s + EVAL_BATCH], y[s:s + EVAL_BATCH]
                out = self.model(self._to_device(from_numpy(xb)))
                target = self._to_device(from_numpy(build.loss_target(self.cfg, yb, xb.dtype)))
                loss_sum += float(self.loss_fn(out, target).item()) * len(yb)
                correct += int((to_host(out.array.argmax(axis=1)) == yb).sum())
        self.model.train()
        loss_sum, correct = self._sum_over_ranks(loss_sum, correct)
        return loss_sum / max(total, 1), correct / max(total, 1)

    def _check_finite(self, loss: float, batch: int) -> None:
        """Stop at the first step whose loss or gradients are NaN/inf, naming the first bad layer."""
        if self.on_gpu:
            bad = self._first_bad_gradient()
        else:
            bad = None
            for name, p in self.model.named_parameters():
                if p.grad is not None and not np.isfinite(np.asarray(p.grad)).all():
                    bad = name
                    break
        if math.isfinite(loss) and bad is None:
            return
        step = self.epoch * self.steps_per_epoch + batch + 1
        where = (f"the gradient first went bad in {bad!r}{self._layer_of(bad)} (checked in parameter order)"
                 if bad else "every gradient is still finite, so the forward pass itself overflowed")
        kept = (f"the last good checkpoint (epoch {self.epoch}) is kept in {self.ckpt_path}"
                if self.ckpt_path.exists() else "no checkpoint was saved (it diverged in the first epoch)")
        raise TrainingDiverged(
            f"training stopped: the loss became {loss} at step {step} (epoch {self.epoch + 1}, batch "
            f"{batch + 1}/{self.steps_per_epoch}); {where}. Lower the learning rate (--lr is "
            f"{self.cfg.lr}). {kept[0].upper() + kept[1:]}."
        )

    def _first_bad_gradient(self) -> str | None:
        """The first parameter whose gradient holds NaN/inf, checked on the GPU with one copy to the host."""
        named = [(name, p.grad.array) for name, p in self.model.named_parameters() if p.grad is not None]
        if not named:
            return None
        # NumPy's functions dispatch to the GPU's on its arrays; the flags come back in one copy
        flags = to_host(np.stack([np.isfinite(g).all() for _, g in named]))
        bad = np.flatnonzero(~flags)
        return named[int(bad[0])][0] if bad.size else None

    def _layer_of(self, param_name: str) -> str:
        """' of layer 0 (Linear)' for '0.weight', or '' when the owner cannot be found."""
        owner = param_name.rpartition(".")[0]
        try:
            module = self.model.get_submodule(owner) if owner else self.model
        except (AttributeError, KeyError, IndexError):
            return ""
        return f" of layer {owner or 'model'} ({type(module).__name__})"

    def _bar(self, total: int) -> Any:
        if not self.progress:
            return None
        try:
            from tqdm.auto import tqdm
        except ImportError:
            return None
        return tqdm(total=total, unit="samples", unit_scale=True, leave=False,
                    desc=f"epoch {self.epoch + 1}/{self.cfg.epochs}" + (f" on {self.device}" if self.on_gpu else ""),
                    dynamic_ncols=True)


def _move_optimizer_state(opt: Any, dev: Any) -> None:
    """Every array of the optimizer's state onto `dev` (restored from a checkpoint's host arrays)."""
    from ..devices import move

    for state in opt.state.values():
        for k, v in list(state.items()):
            if isinstance(v, np.ndarray) and v.ndim > 0:
                state[k] = move(v, dev)
            elif hasattr(v, "array") and hasattr(v, "to"):  # a Tensor held as state
                state[k] = v.to(dev)


def _as_tensors(state: dict[str, np.ndarray]) -> dict[str, Any]:
    return {k: from_numpy(v) for k, v in state.items()}


def _current_lr(opt: Any) -> float:
    return float(opt.param_groups[0]["lr"])


def _epoch_line(r: dict[str, Any], epochs: int) -> str:
    return (f"epoch {r['epoch']:>2}/{epochs}  train loss {r['train_loss']:.4f}  "
            f"test loss {r['test_loss']:.4f}  test accuracy {r['test_accuracy']:.2%}  "
            f"{r['seconds']:.1f} s  ({r['samples_per_second']:,.0f} samples/s on {r.get('device') or 'cpu'})")
