"""Benchmark robo_flows' flows against zuko and nflows; same as ``robo-flows bench flows``."""

import sys

from robo_flows.commands import main

if __name__ == "__main__":
    raise SystemExit(main(["bench", "flows", *sys.argv[1:]]))
