"""``robo-flows collect --env ID --episodes N --out FILE``: scripted-expert demonstrations to a demo file.

The collection itself is ``robo_flows_envs.collect.collect_demos`` (imported when the command runs: the
simulator is an extra).  It checks the arguments and the env before it claims ``--out`` (an existing file is
refused without ``--force``; a folder is refused always), so nothing is removed for a run that cannot start.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from robo_flows.commands.options import json_object


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--env", required=True, help="gymnasium id, e.g. RoboFlows/PandaDetour-v0")
    parser.add_argument("--episodes", type=int, required=True, help="expert episodes to run")
    parser.add_argument("--seed", type=int, default=0, help="episode i is reset with seed SEED + i")
    parser.add_argument(
        "--out", type=Path, required=True, help="demo file (robomimic) or folder (lerobot) to write"
    )
    parser.add_argument(
        "--format",
        choices=("robomimic", "lerobot"),
        default="robomimic",
        help="robomimic HDF5 file or LeRobotDataset v3.0 folder",
    )
    parser.add_argument(
        "--images", choices=("mp4", "png"), default="mp4", help="lerobot camera images: mp4 or PNG in parquet"
    )
    parser.add_argument(
        "--env-kwargs", type=json_object, default=None, help="JSON dict of gymnasium.make kwargs"
    )
    parser.add_argument("--workers", type=int, default=1, help="worker processes")
    parser.add_argument(
        "--action-noise",
        type=float,
        default=0.0,
        metavar="SIGMA",
        help="std of Gaussian noise on the executed actions (the clean expert action is recorded; DART)",
    )
    parser.add_argument("--keep-failures", action="store_true", help="also keep unsuccessful episodes")
    parser.add_argument("--force", action="store_true", help="replace an existing --out file")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    from robo_flows_envs.collect import collect_demos

    summary = collect_demos(
        args.env,
        args.episodes,
        args.seed,
        args.out,
        workers=args.workers,
        keep_failures=args.keep_failures,
        force=args.force,
        progress=not args.no_progress,
        env_kwargs=args.env_kwargs,
        action_noise=args.action_noise,
        format=args.format,
        images=args.images,
    )
    print(json.dumps(summary, indent=2))
    return 0
