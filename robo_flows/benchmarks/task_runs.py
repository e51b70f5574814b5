"""The steps a comparison run repeats per task: collect expert demos, train a preset, evaluate side by side.

Used by ``scripts/demo.py`` and the ``policy`` benchmark.  Presets are found by name among the packaged
``configs/`` (``robo_flows.config.presets``): the tuned ``{task}_{kind}`` ones and the generic ``{kind}``
ones.  Demonstrations use seeds ``0 .. episodes-1``, evaluation episodes ``10**8 + seed + i``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from robo_flows.config import PolicyExperimentConfig, load_config
from robo_flows.config.presets import resolve_preset

TASK_ENVS = {
    "reach": "RoboFlows/PandaReach-v0",
    "detour": "RoboFlows/PandaDetour-v0",
    "push": "RoboFlows/PandaPush-v0",
    "pickplace": "RoboFlows/PandaPickPlace-v0",
}
DEMO_SEED = 0


def collect(
    task: str, episodes: int, out: Path, *, action_noise: float = 0.0, force: bool = False
) -> tuple[Path, dict[str, Any], range]:
    """``(file, summary, seeds)`` of ``episodes`` expert demonstrations of ``task`` written to ``out``.

    Seeds ``DEMO_SEED ...``; ``action_noise`` is the collector's DART-style noise on the executed actions;
    ``force`` replaces an existing file.
    """
    from robo_flows_envs.collect import collect_demos  # the simulator is only loaded when collecting

    summary = collect_demos(
        TASK_ENVS[task], episodes, DEMO_SEED, out, force=force, progress=False, action_noise=action_noise
    )
    return out, summary, range(DEMO_SEED, DEMO_SEED + episodes)


def preset(name: str, demos: Path, steps: int | None = None) -> PolicyExperimentConfig:
    """The packaged preset ``name`` (``detour_flow``, or generic ``flow``) on ``demos``.

    ``steps`` overrides ``train.steps``.
    """
    overrides = [f"data.path={demos}"] + ([f"train.steps={steps}"] if steps else [])
    return load_config(resolve_preset(name), PolicyExperimentConfig, overrides)


def train_preset(
    task: str, kind: str, demos: Path, out: Path, steps: int | None = None, *, generic: bool = False
) -> dict[str, Any]:
    """Train the ``{task}_{kind}`` preset (``generic``: the untuned ``{kind}`` one) on ``demos`` into ``out``.

    Returns the trainer's summary (``checkpoints["best"]`` is the policy).
    """
    from robo_flows.training.experiment import train_policy

    return train_policy(preset(kind if generic else f"{task}_{kind}", demos, steps), out)
