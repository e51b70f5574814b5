"""What every training command shares: ``--config FILE [key=value ...] --out DIR [--resume | --force]``.

The resolved config goes to ``DIR/config.yaml``, checkpoints to ``DIR/checkpoints/{best,last}.pt``, logs to
``DIR/log.csv`` and ``DIR/tb``, the summary to ``DIR/summary.json``. A non-empty ``DIR`` is refused unless
``--resume`` (continue from ``DIR/checkpoints/last.pt``; ``--config`` may then be left out, the checkpoint's
config is used) or ``--force`` (the previous run's own files are removed first, nothing else).
Under ``torchrun`` only rank 0 touches ``DIR``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import yaml

from robo_flows.config import config_to_dict, load_config

RUN_ARTIFACTS: tuple[str, ...] = ("checkpoints", "tb", "log.csv", "config.yaml", "summary.json")

ConfigT = TypeVar("ConfigT")


def add_training_arguments(parser: argparse.ArgumentParser, preset_hint: str) -> None:
    """The arguments of a training command; ``preset_hint`` names an example preset in the help."""
    parser.add_argument("--config", type=Path, help=f"YAML preset ({preset_hint}); optional with --resume")
    parser.add_argument(
        "overrides", nargs="*", metavar="key=value", help="config overrides, e.g. train.steps=500"
    )
    parser.add_argument("--out", type=Path, required=True, help="run folder for checkpoints and logs")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--resume", action="store_true", help="continue from OUT/checkpoints/last.pt")
    mode.add_argument("--force", action="store_true", help="replace a previous run in OUT")


def prepare_out_dir(out: Path, resume: bool, force: bool) -> None:
    """Check that ``out`` may be (re)used; with ``force`` remove only the files a previous run wrote."""
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


def run_training_command(
    args: argparse.Namespace,
    *,
    command: str,
    config_cls: type[ConfigT],
    checkpoint_kind: str,
    train: Callable[[ConfigT, Path, bool], dict[str, Any]],
) -> int:
    """Resolve the config, prepare ``args.out``, call ``train(cfg, out, resume)`` and write its summary.

    Returns the exit status: 0, or 2 (with the reason printed) for a bad config or run folder.
    """
    from robo_flows.training.checkpoint import load_checkpoint

    is_main = int(os.environ.get("RANK", "0")) == 0
    try:
        if args.config is not None:
            cfg = load_config(args.config, config_cls, args.overrides)
        elif args.resume:
            state = load_checkpoint(args.out / "checkpoints" / "last.pt", kind=checkpoint_kind)
            cfg = load_config(state["config"], config_cls, args.overrides)
        else:
            raise ValueError("--config is required (it may be left out only with --resume)")
        if is_main:  # the other torchrun ranks would race with rank 0's writes into OUT
            prepare_out_dir(args.out, args.resume, args.force)
    except (ValueError, FileExistsError, FileNotFoundError) as exc:
        print(f"{command}: error: {exc}")
        return 2
    if is_main:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "config.yaml").write_text(yaml.safe_dump(config_to_dict(cfg), sort_keys=False))
    summary = train(cfg, args.out, args.resume)
    if is_main:
        (args.out / "summary.json").write_text(json.dumps(summary, indent=2))
        print(json.dumps(summary, indent=2))
    return 0
