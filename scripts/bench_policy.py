"""Flow policies vs baselines and experts (success, modes, latency); same as ``robo-flows bench policy``."""

import sys

from robo_flows.commands import main

if __name__ == "__main__":
    raise SystemExit(main(["bench", "policy", *sys.argv[1:]]))
