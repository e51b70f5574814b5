"""``Trainer``: the optimisation loop for any ``nn.Module`` with ``loss(batch) -> scalar``.

It trains policies and grasp PoseFlows alike. Per step: a batch from ``EpochBatchSampler`` (seeded,
resumable, the same global batch for any number of processes), ``loss = model.loss(batch)``, backward,
gradient clipping to ``grad_clip`` (global L2 norm), AdamW, the warm-up + cosine schedule, then the EMA
update. Every ``valid_every`` steps rank 0 computes the mean validation loss with the EMA weights (the
raw weights when EMA is off); ``best.pt`` is written whenever it improves, ``last.pt`` every
``checkpoint_every`` steps and at the end. Under ``torchrun`` the loss module is wrapped in
DistributedDataParallel: each of W ranks takes B / W items of the global batch and gradients are
averaged, so a step equals the 1-process step on the same B items.

``fit(resume=True)`` reloads ``DIR/checkpoints/last.pt`` (weights, EMA, optimizer, scheduler, step, best
validation loss, RNG states); the data order follows from the step, so the resumed run reproduces the
uninterrupted one.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, Dataset

from robo_flows.config import TrainConfig
from robo_flows.errors import CheckpointError, ConfigError
from robo_flows.training.checkpoint import CHECKPOINT_KINDS, FORMAT_VERSION, load_checkpoint, save_checkpoint
from robo_flows.training.distributed import DistContext
from robo_flows.training.ema import EMA
from robo_flows.training.metrics_log import MetricsLog
from robo_flows.training.progress import Progress
from robo_flows.training.rng import capture_rng_state, restore_rng_state, seed_everything
from robo_flows.training.sampler import EpochBatchSampler
from robo_flows.training.schedule import warmup_cosine
from robo_flows.training.selection import RolloutScore, early_warning, improves
from robo_flows.training.threads import set_threads
from robo_flows.training.validation import ValidationStats, to_device, validation_stats

RESERVED_KEYS: tuple[str, ...] = (
    "format_version",
    "model",
    "ema",
    "optimizer",
    "scheduler",
    "step",
    "best_valid",
    "best_step",
    "rng",
    "data_state",
)


class _LossForward(nn.Module):
    """``forward(batch) = model.loss(batch)``, so DistributedDataParallel's hooks see the loss computation."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, batch: Any) -> torch.Tensor:
        return self.model.loss(batch)


@dataclass
class _Parts:
    """What one training run updates: the model (and its DDP-wrapped loss), optimizer, schedule, EMA."""

    model: nn.Module
    forward: nn.Module
    params: list[nn.Parameter]
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LRScheduler
    ema: EMA | None

    @property
    def eval_model(self) -> nn.Module:
        """The weights that are validated: the EMA copy when there is one."""
        return self.ema.model if self.ema is not None else self.model


class _LossWindow:
    """Training losses since the last log line, averaged over steps and ranks; the step rate."""

    def __init__(self, ctx: DistContext, step: int) -> None:
        self.ctx = ctx
        self.total = torch.zeros((), device=ctx.device)
        self.count = 0
        self.tick, self.tick_step = time.perf_counter(), step

    def add(self, loss: torch.Tensor) -> None:
        self.total += loss
        self.count += 1

    def flush(self, step: int) -> tuple[float, float]:
        """``(mean loss, steps per second)`` since the last flush; starts a new window."""
        mean = float(self.ctx.mean(self.total / max(self.count, 1)))
        now = time.perf_counter()
        rate = (step - self.tick_step) / max(now - self.tick, 1e-9)
        self.total.zero_()
        self.count, self.tick, self.tick_step = 0, now, step
        return mean, rate


@dataclass
class _Best:
    """The best selection score so far and the step it came from (None before the first)."""

    score: float | None = None
    step: int | None = None

    def offer(self, rule: str, score: float, step: int) -> bool:
        """Take ``score`` of ``step`` if it improves under ``rule``; returns whether it did."""
        if not improves(rule, score, self.score):
            return False
        self.score, self.step = score, step
        return True


def _due(step: int, every: int, final: bool) -> bool:
    return final or (every > 0 and step % every == 0)


def _trainable_names(model: nn.Module) -> frozenset[str]:
    """Names of the parameters of ``model`` that require gradients: the ones the optimizer updates."""
    return frozenset(name for name, p in model.named_parameters() if p.requires_grad)


def _check_optimizer_state(saved: dict[str, Any], params: list[nn.Parameter], path: Path) -> None:
    """Refuse (CheckpointError) a saved optimizer state that covers another number of parameters."""
    counts = [len(group["params"]) for group in saved["param_groups"]]
    if counts != [len(params)]:
        raise CheckpointError(
            f"cannot resume {path}: its optimizer state covers {sum(counts)} parameter tensors, this model "
            f"trains {len(params)}; the checkpoint was written by a model with other trainable parameters"
        )


def _flat(d: Any, prefix: str = "") -> dict[str, Any]:
    if not isinstance(d, dict):
        return {prefix.rstrip("."): d}
    out: dict[str, Any] = {}
    for k, v in d.items():
        out.update(_flat(v, f"{prefix}{k}."))
    return out


class Trainer:
    """Train ``model`` (``model.loss(batch)`` -> scalar) on ``train_set``; checkpoints, logs in ``out_dir``.

    ``checkpoint_extra`` is stored in every checkpoint as is; it must hold ``kind`` (one of
    ``CHECKPOINT_KINDS``) and ``config`` (the whole experiment config as a plain dict), and usually ``meta``
    and ``normalizer``. If ``model`` has ``fit_extra(train_set)`` it is called once before the first step.
    """

    def __init__(
        self,
        model: nn.Module,
        train_set: Dataset,
        valid_set: Dataset | None,
        cfg: TrainConfig,
        out_dir: str | Path,
        checkpoint_extra: dict[str, Any],
        rollout_score: RolloutScore | None = None,
    ) -> None:
        if not callable(getattr(model, "loss", None)):
            raise TypeError(f"Trainer needs a model with a loss(batch) method, got {type(model).__name__}")
        if checkpoint_extra.get("kind") not in CHECKPOINT_KINDS:
            raise ValueError(
                f"checkpoint_extra['kind'] must be one of {CHECKPOINT_KINDS}, "
                f"got {checkpoint_extra.get('kind')!r}"
            )
        if not isinstance(checkpoint_extra.get("config"), dict):
            raise ValueError("checkpoint_extra['config'] must be the experiment config as a plain dict")
        clash = sorted(set(checkpoint_extra) & set(RESERVED_KEYS))
        if clash:
            raise ValueError(f"checkpoint_extra may not set {clash}; the Trainer writes them")
        self.model = model
        self.train_set = train_set
        self.valid_set = valid_set if valid_set is not None and len(valid_set) > 0 else None
        self.cfg = cfg
        self.total_steps = cfg.total_steps(len(train_set))  # train.steps, or train.epochs over these windows
        self.out_dir = Path(out_dir)
        self.checkpoint_dir = self.out_dir / "checkpoints"
        self.extra = dict(checkpoint_extra)
        self.rollout_score = rollout_score if cfg.eval_every > 0 else None
        if cfg.select_by == "rollout_success" and self.rollout_score is None:
            raise ConfigError("train.select_by=rollout_success needs a rollout score (an env to roll out in)")

    def fit(self, resume: bool = False) -> dict[str, Any]:
        """Train to ``total_steps`` (continuing from ``last.pt`` if ``resume``); returns a summary dict."""
        ctx = DistContext.setup(self.cfg.device)
        try:
            summary = self._fit(ctx, resume)
            ctx.barrier()  # every rank is past its last collective before the process group is torn down
            return summary
        finally:
            ctx.close()

    def _data_state(self, ctx: DistContext) -> dict[str, int]:
        return {
            "train_items": len(self.train_set),
            "batch_size": self.cfg.batch_size,
            "world_size": ctx.world_size,
        }

    def _load_resume_state(self, ctx: DistContext) -> dict[str, Any]:
        path = self.checkpoint_dir / "last.pt"
        if not path.is_file():
            raise FileNotFoundError(f"cannot resume: {path} does not exist (start without resume)")
        state = load_checkpoint(path, kind=self.extra["kind"])
        old, new = _flat(state["config"]), _flat(self.extra["config"])
        changed = sorted(k for k in old.keys() | new.keys() if old.get(k) != new.get(k))
        if changed:
            raise ValueError(
                f"cannot resume {path}: the config differs in {changed}; resume with the same config"
            )
        for key in ("train_items", "batch_size"):
            if state["data_state"][key] != self._data_state(ctx)[key]:
                raise ValueError(
                    f"cannot resume {path}: {key} was {state['data_state'][key]}, "
                    f"now {self._data_state(ctx)[key]} (the data changed)"
                )
        return state

    def _prepare(self, ctx: DistContext, resume: bool) -> tuple[_Parts, int, _Best]:
        """Model on its device, optimizer, schedule and EMA: fresh, or restored from ``last.pt``."""
        cfg = self.cfg
        if not resume and (self.checkpoint_dir / "last.pt").exists():
            raise FileExistsError(
                f"{self.checkpoint_dir / 'last.pt'} exists; resume that run or remove it (CLI: --force)"
            )
        model = self.model.to(ctx.device)
        # The optimized parameters are those that require gradients as the model is built, before fit_extra
        # or a checkpoint could change anything: a fresh and a resumed run then optimize the same set.
        trainable = _trainable_names(model)
        state = self._load_resume_state(ctx) if resume else None
        if state is None:
            seed_everything(cfg.seed + ctx.rank)
            fit_extra = getattr(model, "fit_extra", None)
            if callable(fit_extra):
                fit_extra(self.train_set)
                if _trainable_names(model) != trainable:
                    raise TypeError(
                        f"{type(model).__name__}.fit_extra changed which parameters require gradients; "
                        "a resumed run (which skips fit_extra) would optimize another set. Freeze such "
                        "parameters when the model is built."
                    )
        else:
            model.load_state_dict(state["model"])
        forward: nn.Module = _LossForward(model)
        if ctx.distributed:  # broadcasts rank 0's weights, then averages gradients
            forward = DistributedDataParallel(
                forward, device_ids=[ctx.device.index] if ctx.device.type == "cuda" else None
            )
        params = [p for name, p in model.named_parameters() if name in trainable]
        # fused: one kernel over all tensors per step (the default for-each-tensor loop on CPU costs more
        # than the update itself for a flow's ~30 small tensors); CPU and CUDA floating-point only
        fused = all(p.is_floating_point() and p.device.type in ("cpu", "cuda") for p in params)
        optimizer = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay, fused=fused)
        parts = _Parts(
            model=model,
            forward=forward,
            params=params,
            optimizer=optimizer,
            scheduler=warmup_cosine(optimizer, cfg.warmup_steps, self.total_steps),
            ema=EMA(model, cfg.ema_decay) if cfg.ema_decay > 0 else None,
        )
        if state is None:
            return parts, 0, _Best()
        _check_optimizer_state(state["optimizer"], params, self.checkpoint_dir / "last.pt")
        parts.optimizer.load_state_dict(state["optimizer"])
        parts.scheduler.load_state_dict(state["scheduler"])
        if parts.ema is not None:
            parts.ema.model.load_state_dict(state["ema"])
            parts.ema.updates = state["step"]
        self._restore_rng(state["rng"], ctx, int(state["step"]))
        return parts, int(state["step"]), _Best(state["best_valid"], state.get("best_step"))

    def _train_step(self, parts: _Parts, batch: Any, step: int) -> tuple[torch.Tensor, torch.Tensor, float]:
        """One optimizer step; returns ``(loss, grad_norm before clipping, learning rate used)``."""
        loss = parts.forward(batch)
        parts.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        max_norm = self.cfg.grad_clip if self.cfg.grad_clip > 0 else float("inf")
        grad_norm = torch.nn.utils.clip_grad_norm_(parts.params, max_norm)
        if not torch.isfinite(grad_norm):  # the norm of averaged gradients: the same verdict on every rank
            raise FloatingPointError(
                f"non-finite gradient at step {step} (loss {loss.item():.4g}); "
                "lower train.lr or train.grad_clip, or check the data"
            )
        lr = parts.optimizer.param_groups[0]["lr"]
        parts.optimizer.step()
        parts.scheduler.step()
        if parts.ema is not None:
            parts.ema.update(parts.model)
        return loss.detach(), grad_norm, lr

    def _fit(self, ctx: DistContext, resume: bool) -> dict[str, Any]:
        cfg = self.cfg
        started = time.perf_counter()
        threads = set_threads(cfg.threads)
        sampler = EpochBatchSampler(len(self.train_set), cfg.batch_size, cfg.seed, ctx.rank, ctx.world_size)
        loader = DataLoader(
            self.train_set,
            batch_sampler=sampler,
            num_workers=cfg.num_workers,
            pin_memory=ctx.device.type == "cuda",
            persistent_workers=cfg.num_workers > 0,
            # each new iterator draws a worker base seed; from its own generator, not the global RNG stream
            generator=torch.Generator().manual_seed(cfg.seed + ctx.rank),
        )
        parts, step, best = self._prepare(ctx, resume)
        log = MetricsLog(self.out_dir, resume_step=step if resume else None) if ctx.is_main else None
        bar = Progress(self.total_steps, "train", initial=step, enabled=ctx.is_main)
        batches = self._batches(loader, sampler, step)
        window = _LossWindow(ctx, step)
        train_loss = None
        stats: ValidationStats | None = None
        success: float | None = None
        try:
            parts.model.train()
            while step < self.total_steps:
                loss, grad_norm, lr = self._train_step(parts, to_device(next(batches), ctx.device), step)
                step += 1
                window.add(loss)
                bar.update(1)
                final = step == self.total_steps
                if _due(step, cfg.log_every, final):
                    train_loss, steps_per_s = window.flush(step)
                    if log is not None:
                        log.log(
                            step,
                            train_loss=train_loss,
                            lr=lr,
                            grad_norm=float(grad_norm),
                            steps_per_s=steps_per_s,
                            wall_s=time.perf_counter() - started,
                        )
                    bar.set_postfix(loss=f"{train_loss:.4g}")
                validate = self.valid_set is not None and _due(step, cfg.valid_every, final)
                rollout = self.rollout_score is not None and _due(step, cfg.eval_every, final)
                save_last = _due(step, cfg.checkpoint_every, final)
                scores: dict[str, float] = {}
                if validate and ctx.is_main:
                    stats = validation_stats(
                        parts.eval_model, self.valid_set, cfg.batch_size, ctx.device, cfg.seed
                    )
                    scores["val_mean"] = stats.mean
                    if stats.median is not None:
                        scores["val_median"] = stats.median
                    if log is not None:
                        log.log(
                            step,
                            valid_loss=stats.mean,
                            valid_median=stats.median,
                            wall_s=time.perf_counter() - started,
                        )
                    bar.set_postfix(
                        loss=f"{train_loss:.4g}" if train_loss is not None else "-",
                        valid=f"{scores.get('val_median', stats.mean):.4g}",
                    )
                if rollout and ctx.is_main:
                    success = scores["rollout_success"] = self.rollout_score(parts.eval_model)
                    if log is not None:
                        log.log(step, rollout_success=success, wall_s=time.perf_counter() - started)
                rule = self._rule()
                improved = rule in scores and best.offer(rule, scores[rule], step)
                if validate or rollout or save_last:  # every rank takes part in gathering the RNG states
                    rng_states = ctx.gather(capture_rng_state())
                    if ctx.is_main:
                        ckpt = self._checkpoint(parts, step, best, rng_states, ctx)
                        if improved:
                            save_checkpoint(ckpt, self.checkpoint_dir / "best.pt")
                        if save_last:
                            save_checkpoint(ckpt, self.checkpoint_dir / "last.pt")
            ctx.barrier()
        finally:
            batches.close()
            bar.close()
            if log is not None:
                log.close()
        return self._summary(step, best, stats, success, train_loss, threads, ctx, started)

    def _rule(self) -> str:
        """The selection rule in force: ``cfg.select_by``, or val_mean when the validation set has no
        demonstration groups for a median."""
        rule = self.cfg.select_by
        if rule == "val_median" and getattr(self.valid_set, "group_sizes", None) is None:
            return "val_mean"
        return rule

    def _summary(
        self,
        step: int,
        best: _Best,
        stats: ValidationStats | None,
        success: float | None,
        train_loss: float | None,
        threads: int,
        ctx: DistContext,
        started: float,
    ) -> dict[str, Any]:
        best_path = self.checkpoint_dir / "best.pt"
        warnings = [w for w in [early_warning(best.step, self.total_steps, self._rule())] if w]
        if ctx.is_main:
            for warning in warnings:
                print(f"warning: {warning}", file=sys.stderr)
        return {
            "steps": step,
            # the length rule: train.steps, or train.epochs -> ceil(epochs * train_windows / batch_size)
            "length": {
                "steps": self.total_steps,
                "epochs_set": self.cfg.epochs,
                "epochs": self.total_steps * self.cfg.batch_size / max(len(self.train_set), 1),
                "train_windows": len(self.train_set),
                "batch_size": self.cfg.batch_size,
            },
            "best": {
                "step": best.step,
                "select_by": self._rule(),
                "score": best.score,
                "path": str(best_path) if best_path.is_file() else None,
            },
            "best_valid": best.score,
            "last_valid": None if stats is None else stats.mean,
            "last_valid_median": None if stats is None else stats.median,
            "last_rollout_success": success,
            "train_loss": train_loss,
            "world_size": ctx.world_size,
            "threads": threads,
            "wall_s": time.perf_counter() - started,
            "warnings": warnings,
            "checkpoints": {
                "last": str(self.checkpoint_dir / "last.pt"),
                "best": str(best_path) if best_path.is_file() else None,
            },
        }

    @staticmethod
    def _batches(loader: DataLoader, sampler: EpochBatchSampler, step: int):
        """Batches from global step ``step`` on, epoch after epoch."""
        while True:
            sampler.set_position(step)
            for batch in loader:
                yield batch
                step += 1

    def _restore_rng(self, rng: dict[str, Any], ctx: DistContext, step: int) -> None:
        if ctx.rank == 0:
            restore_rng_state(rng)
        elif len(rng["ranks"]) == ctx.world_size - 1:
            restore_rng_state(rng["ranks"][ctx.rank - 1])
        else:  # resumed with another number of processes: data order stays exact, per-rank noise does not
            seed_everything(self.cfg.seed + ctx.rank + 7919 * step)

    def _checkpoint(
        self,
        parts: _Parts,
        step: int,
        best: _Best,
        rng_states: list[dict[str, Any]],
        ctx: DistContext,
    ) -> dict[str, Any]:
        return {
            "format_version": FORMAT_VERSION,
            **self.extra,
            "model": parts.model.state_dict(),
            "ema": parts.ema.model.state_dict() if parts.ema is not None else None,
            "optimizer": parts.optimizer.state_dict(),
            "scheduler": parts.scheduler.state_dict(),
            "step": step,
            "best_valid": best.score,
            "best_step": best.step,
            "rng": {**rng_states[0], "ranks": rng_states[1:]},
            "data_state": self._data_state(ctx),
        }
