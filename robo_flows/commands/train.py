"""``robo-flows train --config FILE|PRESET [key=value ...] --out DIR [--resume | --force]``.

Trains a policy (``PolicyExperimentConfig``).  The run folder: ``DIR/config.yaml`` (the resolved config),
``DIR/checkpoints/{best,last}.pt``, ``DIR/log.csv``, ``DIR/summary.json``.  Under torchrun
(``torchrun --nproc_per_node 2 -m robo_flows.commands train ...``) only rank 0 touches ``DIR``.

The order of a run is what makes it safe to retry: the config is loaded and checked, the data file is read
and the model built (every data and model error is raised here), the device and batch size are checked
against the data; only then is ``DIR`` claimed (``claim_output``: a non-empty ``DIR`` is refused without
``--force``, removed with it) and ``config.yaml`` written.  ``--resume`` continues from
``DIR/checkpoints/last.pt`` with the config that run was started with (``--config`` may be left out); a
resume that the Trainer refuses (the config or the data changed) leaves every file of the run as it was.
``robo-flows grasps train`` runs through :func:`run_training_command` too.
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from robo_flows.commands.output import claim_output

if TYPE_CHECKING:
    from robo_flows.training import Trainer

ConfigT = TypeVar("ConfigT")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_training_arguments(parser, "a file, or a preset name such as detour_flow or flow")


def run(args: argparse.Namespace) -> int:
    from robo_flows.config import PolicyExperimentConfig
    from robo_flows.training.experiment import policy_trainer

    return run_training_command(
        args, config_cls=PolicyExperimentConfig, checkpoint_kind="policy", build_trainer=policy_trainer
    )


def add_training_arguments(parser: argparse.ArgumentParser, preset_hint: str) -> None:
    """The arguments of a training command; ``preset_hint`` says which presets fit, for the help."""
    parser.add_argument("--config", help=f"YAML preset ({preset_hint}); optional with --resume")
    parser.add_argument(
        "overrides", nargs="*", metavar="key=value", help="config overrides, e.g. train.steps=500"
    )
    parser.add_argument("--out", type=Path, required=True, help="run folder for checkpoints and logs")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--resume", action="store_true", help="continue from OUT/checkpoints/last.pt")
    mode.add_argument(
        "--force", action="store_true", help="replace a non-empty OUT (removed once every input is valid)"
    )


def run_training_command(
    args: argparse.Namespace,
    *,
    config_cls: type[ConfigT],
    checkpoint_kind: str,
    build_trainer: Callable[[ConfigT, Path], Trainer],
) -> int:
    """Resolve the config, build the Trainer (reads and checks the data), check it, claim ``args.out``,
    write ``config.yaml``, train, and write ``summary.json``.  Bad input raises before anything is written;
    ``robo_flows.commands.main`` reports it."""
    cfg = resolve_config(args, config_cls, checkpoint_kind)
    trainer = build_trainer(cfg, args.out)
    check_trainer(trainer)
    is_main = int(os.environ.get("RANK", "0")) == 0
    if is_main and not args.resume:  # the other torchrun ranks would race with rank 0's writes into OUT
        claim_output(args.out, force=args.force, kind="dir")
        write_config(args.out, cfg)
    summary = trainer.fit(resume=args.resume)
    if is_main:
        write_summary(args.out, summary)
        print(json.dumps(summary, indent=2))
    return 0


def resolve_config(args: argparse.Namespace, config_cls: type[ConfigT], checkpoint_kind: str) -> ConfigT:
    """The run's config: ``--config`` (a file or a preset name) with the overrides, or with ``--resume`` and
    no ``--config`` the config stored in ``OUT/checkpoints/last.pt``."""
    from robo_flows.config import load_config
    from robo_flows.config.presets import resolve_preset

    last = args.out / "checkpoints" / "last.pt"
    if args.resume and not last.is_file():
        raise FileNotFoundError(f"nothing to resume: {last} does not exist (start without --resume)")
    if args.config is not None:
        return load_config(resolve_preset(args.config), config_cls, args.overrides)
    if args.resume:
        from robo_flows.training.checkpoint import load_checkpoint

        state = load_checkpoint(last, kind=checkpoint_kind)
        return load_config(state["config"], config_cls, args.overrides)
    raise ValueError("--config is required (it may be left out only with --resume)")


def check_trainer(trainer: Trainer) -> None:
    """What the Trainer would only find out once training started: the device exists, and the batch fits
    the training items on this number of processes."""
    from robo_flows.training.distributed import resolve_device
    from robo_flows.training.sampler import EpochBatchSampler

    cfg = trainer.cfg
    resolve_device(cfg.device)
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    EpochBatchSampler(len(trainer.train_set), cfg.batch_size, cfg.seed, 0, world_size)


def write_config(out: Path, cfg: Any) -> None:
    """``OUT/config.yaml``: the resolved config (every default filled in), written atomically."""
    import yaml

    from robo_flows.atomic import atomic_write
    from robo_flows.config import config_to_dict

    with atomic_write(out / "config.yaml") as tmp:
        tmp.write_text(yaml.safe_dump(config_to_dict(cfg), sort_keys=False))


def write_summary(out: Path, summary: dict[str, Any]) -> None:
    """``OUT/summary.json``, written atomically."""
    from robo_flows.atomic import atomic_write

    with atomic_write(out / "summary.json") as tmp:
        tmp.write_text(json.dumps(summary, indent=2))
