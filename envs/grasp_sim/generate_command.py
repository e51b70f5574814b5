"""``robo-flows grasps generate``: a sim-verified grasp dataset on seeded primitive objects."""

from __future__ import annotations

import argparse
import json
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", required=True, help="HDF5 file to write")
    parser.add_argument("--seed", type=int, required=True, help="seeds objects, grasps and trials")
    parser.add_argument("--objects", type=int, default=50, help="number of primitive objects (default 50)")
    parser.add_argument("--grasps-per-object", type=int, default=100, help="analytic grasps per object (100)")
    parser.add_argument("--workers", type=int, default=2, help="simulator processes (default 2)")
    parser.add_argument("--held-out", action="store_true", help="draw sizes from the held-out bands")
    parser.add_argument("--force", action="store_true", help="overwrite --out if it exists")


def run(args: argparse.Namespace) -> int:
    from robo_flows_envs.grasping.dataset import generate_grasp_dataset
    from tqdm import tqdm

    with tqdm(total=args.objects, unit="object", desc="simulating grasps") as bar:
        try:
            summary = generate_grasp_dataset(
                args.out,
                seed=args.seed,
                objects=args.objects,
                grasps_per_object=args.grasps_per_object,
                workers=args.workers,
                force=args.force,
                progress=bar.update,
                held_out=args.held_out,
            )
        except (FileExistsError, ValueError) as e:
            bar.close()
            print(f"robo-flows grasps generate: error: {e}", file=sys.stderr)
            return 2
    print(json.dumps(summary, indent=2))
    return 0
