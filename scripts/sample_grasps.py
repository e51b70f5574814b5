"""Sample grasps for an object from a grasp checkpoint; same as ``robo-flows grasps sample``.

Example: python scripts/sample_grasps.py --checkpoint runs/grasp_flow/checkpoints/best.pt \\
         --object box:0.05,0.04,0.12 --n 500 --out runs/grasp_samples
"""

import sys

from robo_flows.commands import main

if __name__ == "__main__":
    raise SystemExit(main(["grasps", "sample", *sys.argv[1:]]))
