"""Sample grasps for an object from a grasp checkpoint; same as ``robo-flows grasps sample``.

Example: python scripts/sample_grasps.py --checkpoint runs/grasp_flow/checkpoints/best.pt \\
         --object box:0.05,0.04,0.12 --n 500 --out runs/grasp_samples
"""

import argparse
import sys

from robo_flows_envs.grasping.sample_cmd import add_arguments, run

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_arguments(parser)
    raise SystemExit(run(parser.parse_args(sys.argv[1:])))
