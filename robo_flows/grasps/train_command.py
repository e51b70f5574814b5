"""``robo-flows grasps train --config FILE [key=value ...] --out DIR [--resume] [--force]``.

Same conventions as ``robo-flows train``: the resolved config goes to ``DIR/config.yaml``, checkpoints to
``DIR/checkpoints/{best,last}.pt`` (kind "grasp"), logs to ``DIR/log.csv`` and ``DIR/tb``, the summary to
``DIR/summary.json``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import yaml

from robo_flows.config import config_to_dict, load_config
from robo_flows.grasps.config import GraspExperimentConfig


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config", type=Path, help="YAML preset (configs/grasp_flow.yaml); optional with --resume"
    )
    parser.add_argument("overrides", nargs="*", metavar="key=value", help="overrides, e.g. train.steps=500")
    parser.add_argument("--out", type=Path, required=True, help="run folder for checkpoints and logs")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--resume", action="store_true", help="continue from OUT/checkpoints/last.pt")
    mode.add_argument("--force", action="store_true", help="replace a previous run in OUT")


def _resolve_config(args: argparse.Namespace) -> GraspExperimentConfig:
    if args.config is not None:
        return load_config(args.config, GraspExperimentConfig, args.overrides)
    if not args.resume:
        raise ValueError("--config is required (it may be left out only with --resume)")
    from robo_flows.training import load_checkpoint

    state = load_checkpoint(args.out / "checkpoints" / "last.pt", kind="grasp")
    return load_config(state["config"], GraspExperimentConfig, args.overrides)


def run(args: argparse.Namespace) -> int:
    from robo_flows.grasps.training import train_grasp_flow
    from robo_flows.training.cli import _prepare_out_dir

    try:
        cfg = _resolve_config(args)
        _prepare_out_dir(args.out, args.resume, args.force)
    except (ValueError, FileExistsError, FileNotFoundError) as exc:
        print(f"robo-flows grasps train: error: {exc}")
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "config.yaml").write_text(yaml.safe_dump(config_to_dict(cfg), sort_keys=False))
    summary = train_grasp_flow(cfg, args.out, resume=args.resume)
    (args.out / "summary.json").write_text(json.dumps(summary, indent=2))
    print(json.dumps(summary, indent=2))
    return 0
