"""``robo-flows merge IN... --out FILE``: robomimic demo files into one (``robo_flows.data.merge``).

Every input is opened and checked against the first (same env id and kwargs, obs layout and action box; the
same obs keys with the same per-step shapes and dtypes; the same actions; ``mask/`` splits in all or none)
before ``--out`` is claimed, so a mismatch or a damaged input costs no existing file, ``--force`` included.
The merged demos are ``demo_0 .. demo_{N-1}`` in input order, each with its attributes and its
``source_file`` / ``source_demo``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from robo_flows.commands.output import claim_output


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "inputs", type=Path, nargs="+", metavar="IN", help="robomimic HDF5 demo files, in order"
    )
    parser.add_argument("--out", type=Path, required=True, help="the merged HDF5 file to write")
    parser.add_argument("--force", action="store_true", help="replace an existing --out file")


def run(args: argparse.Namespace) -> int:
    from robo_flows.data.merge import plan_merge, write_merge

    plan = plan_merge(args.inputs, args.out)
    claim_output(
        args.out, force=args.force, kind="file"
    )  # every input is valid: only now is an old file removed
    write_merge(plan, args.out, overwrite=True)
    summary = {
        "inputs": [
            {"path": layout.path, "demos": len(layout.demos), "samples": sum(d.steps for d in layout.demos)}
            for layout in plan.layouts
        ],
        "demos": plan.demos,
        "samples": plan.samples,
        "masks": {split: len(names) for split, names in plan.masks.items()},
        "path": str(args.out),
    }
    print(json.dumps(summary, indent=2))
    return 0
