"""``robo-flows grasps ACTION [options]``: grasp datasets, grasp-flow training, evaluation and sampling.

Each action lives in its own module, imported only when that action runs, exposing
``add_arguments(parser)`` and ``run(args) -> int`` like the top-level subcommands. To add an action,
add one entry to ``ACTIONS``.
"""

from __future__ import annotations

import argparse
import importlib

# action -> (module, one-line help)
ACTIONS: dict[str, tuple[str, str]] = {
    "generate": (
        "robo_flows_envs.grasping.generate_command",
        "simulate analytic grasps on seeded primitive objects and write an HDF5 grasp dataset",
    ),
    "oracle": (
        "robo_flows_envs.grasping.oracle_command",
        "score analytic, perturbed and random grasps in the evaluator (per object kind)",
    ),
    "train": ("robo_flows.grasps.train_command", "train a grasp-pose flow (YAML config + overrides)"),
    "eval": (
        "robo_flows_envs.grasping.evaluate_cmd",
        "evaluate a grasp flow on held-out primitives in simulation",
    ),
    "sample": ("robo_flows_envs.grasping.sample_cmd", "sample grasps for an object; write them and pictures"),
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.epilog = "actions:\n" + "\n".join(f"  {name:10s} {help_}" for name, (_, help_) in ACTIONS.items())
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("action", choices=sorted(ACTIONS), help="what to do; ACTION --help for its options")
    parser.add_argument("options", nargs=argparse.REMAINDER, help="options of the action")


def run(args: argparse.Namespace) -> int:
    module_name, help_text = ACTIONS[args.action]
    module = importlib.import_module(module_name)
    parser = argparse.ArgumentParser(prog=f"robo-flows grasps {args.action}", description=help_text)
    module.add_arguments(parser)
    return int(module.run(parser.parse_args(args.options)) or 0)
