"""Uniform-rotation NLL of PoseFlow and grasp sampling speed; same as ``robo-flows bench grasps``."""

import sys

from robo_flows.commands import main

if __name__ == "__main__":
    raise SystemExit(main(["bench", "grasps", *sys.argv[1:]]))
