"""Benchmark the RoboFlows Panda envs against panda-gym; same as ``robo-flows bench envs``."""

import sys

from robo_flows.commands import main

if __name__ == "__main__":
    raise SystemExit(main(["bench", "envs", *sys.argv[1:]]))
