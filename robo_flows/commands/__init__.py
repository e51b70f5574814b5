"""The ``robo-flows`` command line: one registry of subcommands and the one error boundary.

Each subcommand is a module of this package exposing ``add_arguments(parser: argparse.ArgumentParser)``
and ``run(args: argparse.Namespace) -> int``; sub-actions (``grasps train``, ``bench flows``) are argparse
subparsers inside that module, stored in ``args.<command>_action``.  A module that sets
``FORWARDS_OPTIONS = True`` gets the arguments its parser does not know in ``args.options`` (``bench``
hands them to each benchmark's own parser).  A module is imported only when its
subcommand runs or its ``--help`` is asked for, so ``robo-flows --help`` stays fast and the core never
imports the simulator.

:func:`main` is where expected bad input ends: a ``RoboFlowsError`` (config, data, checkpoint, env),
a ``ValueError`` / ``TypeError`` of a bad value, or a file error (missing, existing, a folder for a file,
no permission) becomes one line ``robo-flows <command>: error: <message>`` on stderr and exit status 2,
without a traceback.  ``ROBO_FLOWS_TRACEBACK=1`` in the environment shows the traceback instead.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import NoReturn

# subcommand -> (module, one-line help).  Register a subcommand here once it is built.
COMMANDS: dict[str, tuple[str, str]] = {
    "collect": ("robo_flows.commands.collect", "collect scripted-expert demonstrations to a demo file"),
    "train": ("robo_flows.commands.train", "train a policy from demonstrations (YAML preset + overrides)"),
    "eval": (
        "robo_flows.commands.eval",
        "evaluate a policy checkpoint or the scripted expert on a gymnasium env",
    ),
    "grasps": (
        "robo_flows.commands.grasps",
        "grasp datasets and grasp-pose flows (generate, oracle, train, eval, sample)",
    ),
    "bench": ("robo_flows.commands.bench", "run a side-by-side benchmark (flows, envs, policy, grasps)"),
    "convert": (
        "robo_flows.commands.convert",
        "convert demonstrations between robomimic HDF5 and LeRobot v3.0 folders",
    ),
    "merge": ("robo_flows.commands.merge", "merge robomimic HDF5 demo files of one env into one file"),
}

# What bad input raises; everything else is a bug and keeps its traceback.
EXPECTED_ERRORS: tuple[type[BaseException], ...] = (
    ValueError,  # robo_flows.errors.* are ValueErrors too
    TypeError,
    FileNotFoundError,
    FileExistsError,
    IsADirectoryError,
    NotADirectoryError,
    PermissionError,
)


class CommandParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose usage errors are one line on stderr too (exit status 2, as argparse)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def load_command(name: str) -> ModuleType:
    """The module of subcommand ``name`` (imported on first use)."""
    return importlib.import_module(COMMANDS[name][0])


def build_parser(argv: Sequence[str]) -> argparse.ArgumentParser:
    """The top-level parser; only the subcommand named in ``argv`` has its module imported."""
    parser = CommandParser(
        prog="robo-flows",
        description="Conditional normalizing flows for robot actions and grasp poses.",
        epilog="Each COMMAND has --help.  Under torchrun: torchrun ... -m robo_flows.commands train ...",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    chosen = next((a for a in argv if not a.startswith("-")), None)
    for name, (_, help_text) in COMMANDS.items():
        command_parser = sub.add_parser(name, help=help_text, description=help_text)
        if name == chosen:
            load_command(name).add_arguments(command_parser)
    return parser


def command_name(args: argparse.Namespace) -> str:
    """``robo-flows train``, or with a sub-action ``robo-flows grasps train``."""
    action = getattr(args, f"{args.command}_action", None)
    return " ".join(p for p in ("robo-flows", args.command, action) if p)


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``robo-flows ARGV``; returns the exit status (2 for bad input, with one line on stderr)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(argv)
    args, unknown = parser.parse_known_args(argv)
    module = load_command(args.command)
    if getattr(module, "FORWARDS_OPTIONS", False):  # e.g. bench: NAME's options go to NAME's own parser
        args.options = unknown
    elif unknown:
        parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    try:
        return int(module.run(args) or 0)
    except EXPECTED_ERRORS as error:
        if os.environ.get("ROBO_FLOWS_TRACEBACK"):
            raise
        message = " ".join(str(error).split()) or type(error).__name__
        print(f"{command_name(args)}: error: {message}", file=sys.stderr)
        return 2
