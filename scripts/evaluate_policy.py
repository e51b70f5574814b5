"""Evaluate a policy checkpoint or the expert; same as ``robo-flows eval --checkpoint FILE --env ID ...``."""

import sys

from robo_flows.cli import main

if __name__ == "__main__":
    raise SystemExit(main(["eval", *sys.argv[1:]]))
