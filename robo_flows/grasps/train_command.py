"""``robo-flows grasps train --config FILE [key=value ...] --out DIR [--resume] [--force]``.

Same conventions as ``robo-flows train`` (:mod:`robo_flows.training.command`); checkpoints are of
kind "grasp".
"""

from __future__ import annotations

import argparse

from robo_flows.grasps.config import GraspExperimentConfig
from robo_flows.training.command import add_training_arguments, run_training_command


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_training_arguments(parser, "configs/grasp_flow.yaml")


def run(args: argparse.Namespace) -> int:
    from robo_flows.grasps.training import train_grasp_flow

    return run_training_command(
        args,
        command="robo-flows grasps train",
        config_cls=GraspExperimentConfig,
        checkpoint_kind="grasp",
        train=lambda cfg, out, resume: train_grasp_flow(cfg, out, resume=resume),
    )
