"""Collect scripted-expert demonstrations; same as ``robo-flows collect``."""

import argparse
import sys

from robo_flows_envs.collect import add_arguments, run

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Collect scripted-expert demonstrations to HDF5.")
    add_arguments(parser)
    raise SystemExit(run(parser.parse_args(sys.argv[1:])))
