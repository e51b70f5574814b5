"""``robo-flows convert IN OUT``: demonstrations between robomimic HDF5 files and LeRobotDataset v3.0 folders.

The direction follows ``IN``: a folder with ``meta/info.json`` becomes a robomimic file, anything else is read
as a robomimic file and becomes a LeRobot folder.  State, actions, rewards, dones, ``env_args``, the demos'
attributes and the ``mask/`` splits come through unchanged (float32 bit for bit); camera images are exact with
``--images png`` and within the h264 error with ``--images mp4`` (the default, LeRobot's usual storage).

A LeRobot folder needs the frame rate: ``--fps``, else the ``fps`` a previous conversion kept in the file's
attributes, else the env's ``metadata["render_fps"]`` (its control rate) when ``env_args["env_name"]`` is a
registered gymnasium id.  ``IN`` is opened and checked, and the frame rate known, before ``OUT`` is claimed
(``--force`` replaces an existing ``OUT``).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from robo_flows.commands.output import claim_output
from robo_flows.errors import DataError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("input", type=Path, metavar="IN", help="robomimic HDF5 file or LeRobot v3.0 folder")
    parser.add_argument("output", type=Path, metavar="OUT", help="the other format: folder or HDF5 file")
    parser.add_argument(
        "--images",
        choices=("mp4", "png"),
        default="mp4",
        help="LeRobot image storage: mp4 video (h264, lossy) or PNG bytes in the parquet (lossless)",
    )
    parser.add_argument("--fps", type=int, default=None, help="frame rate of a LeRobot output")
    parser.add_argument("--task", default="", help="task string of a LeRobot output (meta/tasks.parquet)")
    parser.add_argument("--force", action="store_true", help="replace an existing OUT")


def env_fps(env_args: dict[str, Any]) -> int | None:
    """The control rate of the env named in ``env_args`` (gymnasium ``metadata["render_fps"]``), or None."""
    name = env_args.get("env_name")
    if not name:
        return None
    try:
        import gymnasium as gym

        if str(name).startswith("RoboFlows/"):
            import robo_flows_envs  # noqa: F401  (registers the ids)
        spec = gym.spec(str(name))
    except Exception:  # no simulator extra, or an id this machine does not know
        return None
    entry = spec.entry_point
    cls = gym.envs.registration.load_env_creator(entry) if isinstance(entry, str) else entry
    fps = getattr(cls, "metadata", {}).get("render_fps")
    return int(fps) if fps else None


def run(args: argparse.Namespace) -> int:
    from robo_flows.data.lerobot import LeRobotFolder, is_lerobot_folder, write_lerobot
    from robo_flows.data.robomimic import read_demo_records, write_demo_file

    if is_lerobot_folder(args.input):
        folder = LeRobotFolder(args.input)
        folder.column("action")  # checks the index continuity before anything is written
        claim_output(args.output, force=args.force, kind="file")
        masks = {
            split: [f"demo_{n.rpartition('_')[2]}" for n in names] for split, names in folder.masks.items()
        }
        attrs = {**folder.attrs, "fps": int(folder.fps)}
        write_demo_file(args.output, folder.records(), folder.env_args, masks=masks, attrs=attrs)
        summary = {"from": "lerobot", "to": "robomimic", "episodes": len(folder.episodes)}
    else:
        env_args, attrs, masks, records = read_demo_records(args.input)
        fps = args.fps or attrs.get("fps") or env_fps(env_args)
        if not fps:
            raise DataError(
                f"{args.input}: the frame rate of the LeRobot folder is unknown (no 'fps' attribute, "
                f"env {env_args.get('env_name')!r} not registered here); pass --fps"
            )
        claim_output(args.output, force=args.force, kind="dir")
        write_lerobot(
            args.output,
            records,
            env_args,
            fps=int(fps),
            images=args.images,
            task=args.task,
            masks=masks,
            attrs={k: v for k, v in attrs.items() if k != "fps"},
            overwrite=True,
        )
        summary = {"from": "robomimic", "to": "lerobot", "episodes": len(LeRobotFolder(args.output).episodes)}
    print(json.dumps({**summary, "path": str(args.output)}, indent=2))
    return 0
