"""Flow policies vs baselines and experts (success, modes, latency); same as ``robo-flows bench policy``."""

import sys

from robo_flows.benchmarks.policy import main

if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
