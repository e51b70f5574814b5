"""Evaluate a policy checkpoint or the expert; same as ``robo-flows eval --checkpoint FILE --out DIR``."""

import sys

from robo_flows.commands import main

if __name__ == "__main__":
    raise SystemExit(main(["eval", *sys.argv[1:]]))
