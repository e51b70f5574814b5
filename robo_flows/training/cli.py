"""``robo-flows train --config FILE [key=value ...] --out DIR [--resume] [--force]``.

Loads a ``PolicyExperimentConfig`` (YAML + overrides), writes the resolved config to ``DIR/config.yaml`` and
trains with ``train_policy``. A non-empty ``DIR`` is refused unless ``--resume`` (continue from
``DIR/checkpoints/last.pt``; ``--config`` may then be left out, the checkpoint's config is used) or
``--force`` (the previous run's checkpoints, logs and config are removed first). Works under ``torchrun``:
``torchrun --nproc_per_node 2 -m robo_flows.cli train ...``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
from pathlib import Path

import yaml

from robo_flows.config import PolicyExperimentConfig, config_to_dict, load_config

RUN_ARTIFACTS: tuple[str, ...] = ("checkpoints", "tb", "log.csv", "config.yaml", "summary.json")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, help="YAML preset (configs/*.yaml); optional with --resume")
    parser.add_argument(
        "overrides", nargs="*", metavar="key=value", help="config overrides, e.g. train.steps=500"
    )
    parser.add_argument("--out", type=Path, required=True, help="run folder for checkpoints and logs")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--resume", action="store_true", help="continue from OUT/checkpoints/last.pt")
    mode.add_argument("--force", action="store_true", help="replace a previous run in OUT")


def _resolve_config(args: argparse.Namespace) -> PolicyExperimentConfig:
    if args.config is not None:
        return load_config(args.config, PolicyExperimentConfig, args.overrides)
    if not args.resume:
        raise ValueError("--config is required (it may be left out only with --resume)")
    from robo_flows.training.checkpoint import load_checkpoint

    state = load_checkpoint(args.out / "checkpoints" / "last.pt", kind="policy")
    return load_config(state["config"], PolicyExperimentConfig, args.overrides)


def _prepare_out_dir(out: Path, resume: bool, force: bool) -> None:
    if resume:
        if not (out / "checkpoints" / "last.pt").is_file():
            raise FileNotFoundError(f"nothing to resume: {out / 'checkpoints' / 'last.pt'} does not exist")
        return
    if not out.exists() or not any(out.iterdir()):
        return
    if not force:
        raise FileExistsError(
            f"{out} is not empty; pass --resume to continue that run or --force to replace it"
        )
    for name in RUN_ARTIFACTS:
        path = out / name
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()


def run(args: argparse.Namespace) -> int:
    from robo_flows.training.experiment import train_policy

    is_main = int(os.environ.get("RANK", "0")) == 0
    try:
        cfg = _resolve_config(args)
        if is_main:  # the other torchrun ranks would race with rank 0's writes into OUT
            _prepare_out_dir(args.out, args.resume, args.force)
    except (ValueError, FileExistsError, FileNotFoundError) as exc:
        print(f"robo-flows train: error: {exc}")
        return 2
    if is_main:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "config.yaml").write_text(yaml.safe_dump(config_to_dict(cfg), sort_keys=False))
    summary = train_policy(cfg, args.out, resume=args.resume)
    if is_main:
        (args.out / "summary.json").write_text(json.dumps(summary, indent=2))
        print(json.dumps(summary, indent=2))
    return 0
