"""Uniform-rotation NLL of PoseFlow and grasp sampling speed; same as ``robo-flows bench grasps``."""

import sys

from robo_flows.benchmarks.grasps import main

if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
