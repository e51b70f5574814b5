"""Collect scripted-expert demonstrations to a demo file; same as ``robo-flows collect``."""

import sys

from robo_flows.commands import main

if __name__ == "__main__":
    raise SystemExit(main(["collect", *sys.argv[1:]]))
