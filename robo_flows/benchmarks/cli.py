"""``robo-flows bench NAME [args]``: run one benchmark; NAME's own options follow it.

Each benchmark module exposes ``main(argv: list[str] | None) -> int`` with its own argparse,
so ``scripts/bench_<name>.py`` and this subcommand run the same code.
"""

from __future__ import annotations

import argparse
import importlib

# benchmark name -> module with main(argv). Register a benchmark here once it is built.
BENCHMARKS: dict[str, str] = {
    "envs": "robo_flows.benchmarks.envs",
    "grasps": "robo_flows.benchmarks.grasps",
    "flows": "robo_flows.benchmarks.flows",
    "policy": "robo_flows.benchmarks.policy",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", choices=sorted(BENCHMARKS), help="which benchmark to run")
    parser.add_argument("options", nargs=argparse.REMAINDER, help="options passed to the benchmark")


def run(args: argparse.Namespace) -> int:
    return int(importlib.import_module(BENCHMARKS[args.name]).main(args.options) or 0)
