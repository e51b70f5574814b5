"""``robo-flows bench NAME [options]``: run one side-by-side benchmark; NAME's own options follow it.

The registry :data:`BENCHMARKS` maps each name to its module in ``robo_flows.benchmarks``, which exposes
``main(argv: list[str] | None) -> int`` with its own argparse (``robo-flows bench NAME --help`` shows it),
so ``scripts/bench_<name>.py`` and this subcommand run the same code.  The module is imported only when its
benchmark runs.
"""

from __future__ import annotations

import argparse
import importlib

# main() hands every argument after NAME to the benchmark's own parser, as args.options
FORWARDS_OPTIONS = True

# benchmark name -> (module with main(argv), one-line help).  Register a benchmark here once it is built.
BENCHMARKS: dict[str, tuple[str, str]] = {
    "flows": ("robo_flows.benchmarks.flows", "flow speed and NLL against zuko and nflows"),
    "envs": ("robo_flows.benchmarks.envs", "env step / render speed and expert fidelity against panda-gym"),
    "policy": ("robo_flows.benchmarks.policy", "train and evaluate every policy kind on the tasks"),
    "grasps": ("robo_flows.benchmarks.grasps", "PoseFlow uniform-rotation NLL and grasp sampling speed"),
    "lerobot": ("robo_flows.benchmarks.lerobot", "LeRobot folder window reading speed and mp4 size"),
    "ablation": (
        "robo_flows.benchmarks.ablation",
        "what the generic flow preset's settings buy on long tasks",
    ),
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    names = parser.add_subparsers(dest="bench_action", metavar="NAME", required=True)
    for name, (_, help_text) in BENCHMARKS.items():
        names.add_parser(name, help=help_text, description=help_text, add_help=False)


def run(args: argparse.Namespace) -> int:
    module = importlib.import_module(BENCHMARKS[args.bench_action][0])
    return int(module.main(list(args.options)) or 0)
