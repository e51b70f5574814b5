"""``robo-flows train --config FILE [key=value ...] --out DIR [--resume] [--force]``.

Loads a ``PolicyExperimentConfig`` (YAML + overrides) and trains with ``train_policy``; the run-folder
conventions are those of :mod:`robo_flows.training.command`. Works under ``torchrun``:
``torchrun --nproc_per_node 2 -m robo_flows.cli train ...``.
"""

from __future__ import annotations

import argparse

from robo_flows.config import PolicyExperimentConfig
from robo_flows.training.command import add_training_arguments, run_training_command


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_training_arguments(parser, "configs/*.yaml")


def run(args: argparse.Namespace) -> int:
    from robo_flows.training.experiment import train_policy

    return run_training_command(
        args,
        command="robo-flows train",
        config_cls=PolicyExperimentConfig,
        checkpoint_kind="policy",
        train=lambda cfg, out, resume: train_policy(cfg, out, resume=resume),
    )
