"""The ``robo-flows`` command line.

Each subcommand lives in the module that owns its concern; that module exposes
``add_arguments(parser: argparse.ArgumentParser) -> None`` and ``run(args: argparse.Namespace) -> int``.
Modules are imported only when their subcommand runs or its ``--help`` is asked for, so
``robo-flows --help`` stays fast and the core library never imports the simulator.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

# subcommand -> (module, one-line help). Register a subcommand here once it is built.
COMMANDS: dict[str, tuple[str, str]] = {
    "bench": ("robo_flows.benchmarks.cli", "run a side-by-side benchmark (flows, envs, policy, grasps)"),
    "collect": ("robo_flows_envs.collect", "collect scripted-expert demonstrations to HDF5"),
    "eval": (
        "robo_flows.evaluation.cli",
        "evaluate a policy checkpoint or the scripted expert on a gymnasium env",
    ),
    "train": ("robo_flows.training.cli", "train a policy from demonstrations (YAML config + overrides)"),
    "grasps": (
        "robo_flows_envs.grasping.cli",
        "grasp datasets and grasp-pose flows (generate, train, eval, sample)",
    ),
}


def _load(name: str):
    return importlib.import_module(COMMANDS[name][0])


def build_parser(argv: Sequence[str]) -> argparse.ArgumentParser:
    """The top-level parser; only the chosen subcommand's module is imported."""
    parser = argparse.ArgumentParser(
        prog="robo-flows",
        description="Conditional normalizing flows for robot actions and grasp poses.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    chosen = next((a for a in argv if not a.startswith("-")), None)
    for name, (_, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        if name == chosen:
            _load(name).add_arguments(p)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser(argv).parse_args(argv)
    return int(_load(args.command).run(args) or 0)


if __name__ == "__main__":
    raise SystemExit(main())
