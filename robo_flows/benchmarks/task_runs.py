"""The steps a comparison run repeats per task: collect expert demos, train a preset, measure its cost.

Used by ``scripts/demo.py`` and the ``policy`` benchmark.  Presets are found by name among the packaged
``configs/`` (``robo_flows.config.presets``): the tuned ``{task}_{kind}`` ones, their variants
``{task}_{kind}_{variant}`` (``dp``: Diffusion Policy's horizons, ``rgb``: cameras) and the generic ``{kind}``
ones.  Demonstrations use seeds ``0 .. episodes-1``, evaluation episodes ``10**8 + seed + i``.
"""

from __future__ import annotations

import csv
import os
import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from torch import nn

from robo_flows.config import PolicyExperimentConfig, config_to_dict, load_config
from robo_flows.config.presets import resolve_preset

TASK_ENVS = {
    "reach": "RoboFlows/PandaReach-v0",
    "detour": "RoboFlows/PandaDetour-v0",
    "push": "RoboFlows/PandaPush-v0",
    "pickplace": "RoboFlows/PandaPickPlace-v0",
}
DEMO_SEED = 0


def collect(
    task: str,
    episodes: int,
    out: Path,
    *,
    action_noise: float = 0.0,
    force: bool = False,
    env_kwargs: dict[str, Any] | None = None,
) -> tuple[Path, dict[str, Any], range]:
    """``(file, summary, seeds)`` of ``episodes`` expert demonstrations of ``task`` written to ``out``.

    Seeds ``DEMO_SEED ...``; ``action_noise`` is the collector's DART-style noise on the executed actions;
    ``force`` replaces an existing file; ``env_kwargs`` go to ``gym.make`` (``{"obs_mode": "state+rgb"}``:
    camera images too).
    """
    from robo_flows_envs.collect import collect_demos  # the simulator is only loaded when collecting

    summary = collect_demos(
        TASK_ENVS[task],
        episodes,
        DEMO_SEED,
        out,
        force=force,
        progress=False,
        action_noise=action_noise,
        env_kwargs=env_kwargs,
    )
    return out, summary, range(DEMO_SEED, DEMO_SEED + episodes)


def preset_name(task: str, kind: str, variant: str = "") -> str:
    """``{task}_{kind}``, or ``{task}_{kind}_{variant}`` (``dp``, ``rgb``); ``task=""``: the generic one."""
    return "_".join(part for part in (task, kind, variant) if part)


def preset(
    name: str, demos: Path, steps: int | None = None, overrides: Sequence[str] = ()
) -> PolicyExperimentConfig:
    """The packaged preset ``name`` (``detour_flow``, or generic ``flow``) on ``demos``.

    ``steps`` overrides ``train.steps``; ``overrides`` are further ``key=value`` items, applied last.
    """
    items = [f"data.path={demos}"] + ([f"train.steps={steps}"] if steps else []) + list(overrides)
    return load_config(resolve_preset(name), PolicyExperimentConfig, items)


def train_preset(
    name: str,
    demos: Path,
    out: Path,
    steps: int | None = None,
    overrides: Sequence[str] = (),
    *,
    reuse: Path | None = None,
) -> dict[str, Any]:
    """Train the preset ``name`` (see :func:`preset`) on ``demos`` into ``out``, or, where ``reuse`` holds a
    finished run of exactly that config (:func:`finished_run`), take that run instead of training.

    Returns the trainer's summary (``checkpoints["best"]`` is the policy, ``run_dir`` its folder, and
    ``reused`` says whether it was taken from ``reuse``).
    """
    from robo_flows.training.experiment import train_policy

    cfg = preset(name, demos, steps, overrides)
    done = finished_run(reuse, cfg) if reuse is not None else None
    if done is not None:
        return done | {"run_dir": str(reuse), "reused": True}
    return train_policy(cfg, out) | {"run_dir": str(out), "reused": False}


def finished_run(run_dir: Path, cfg: PolicyExperimentConfig) -> dict[str, Any] | None:
    """A summary like the trainer's of the finished training of ``cfg`` in ``run_dir``: its ``last.pt`` is at
    ``cfg.train.steps`` with ``cfg`` (data path included; fields added to the schema since then at their
    defaults), ``best.pt`` and ``log.csv`` are there.
    None when there is no such run; ValueError when the run there was trained with another config.
    """
    from robo_flows.training.checkpoint import load_checkpoint

    last, best = run_dir / "checkpoints" / "last.pt", run_dir / "checkpoints" / "best.pt"
    if not (last.is_file() and best.is_file() and (run_dir / "log.csv").is_file()):
        return None
    state = load_checkpoint(last)
    # the earlier config as today's schema reads it (a field added since then takes its default), the demo
    # file by its real path (a link to it is the same data)
    then, now = config_to_dict(load_config(state["config"], PolicyExperimentConfig)), config_to_dict(cfg)
    for c in (then, now):
        c["data"]["path"] = os.path.realpath(c["data"]["path"])
    if then != now:
        raise ValueError(f"cannot reuse {run_dir}: it was trained with another config than {cfg.name}'s")
    if state["step"] != cfg.train.steps:
        return None
    return {
        "steps": state["step"],
        "best": {"step": state["best_step"], "select_by": cfg.train.select_by},
        "best_valid": state["best_valid"],
        "checkpoints": {"best": str(best), "last": str(last)},
    }


def parameter_counts(model: nn.Module) -> dict[str, int]:
    """``params``: the policy's parameters (encoder and head; the observation monitor, the same density
    model in every kind and not used to act, left out); ``head_params``: those outside the encoder."""
    named = [(n, p.numel()) for n, p in model.named_parameters() if not n.startswith("monitor.")]
    total = sum(count for _, count in named)
    encoder = sum(count for n, count in named if n.startswith("encoder."))
    return {"params": total, "head_params": total - encoder}


def training_cost(summary: dict[str, Any], run_dir: Path) -> dict[str, Any]:
    """The cost of a finished training run from its summary and ``run_dir/log.csv``.

    ``train_s``: wall time from the trainer's start to the last logged step (the observation monitor's
    fit, the same for every kind, included); ``steps_per_s``: the median of the logged training rates
    (optimizer steps only); ``best_step`` and ``time_to_best_s``: the step the selection rule kept for
    ``best.pt`` and the wall time when it was validated.
    """
    with open(run_dir / "log.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    wall = {int(r["step"]): float(r["wall_s"]) for r in rows if r["wall_s"]}  # the step's last row wins
    rates = [float(r["steps_per_s"]) for r in rows if r["steps_per_s"]]
    best_step = summary["best"]["step"]
    return {
        "steps": summary["steps"],
        "train_s": max(wall.values()) if wall else None,
        "steps_per_s": statistics.median(rates) if rates else None,
        "best_step": best_step,
        "select_by": summary["best"]["select_by"],
        "time_to_best_s": wall.get(best_step) if best_step is not None else None,
    }
