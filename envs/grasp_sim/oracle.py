"""``robo-flows grasps oracle``: how the evaluator scores analytic grasps, and perturbed or random ones.

Draws ``--objects`` primitives (training or held-out sizes) and, for each row of the ladder below, the
same number of grasps per object, simulates them all, and prints success per row and per object kind:

* the exact analytic set, then the set perturbed by growing noise (the default noise is the oracle);
* uniformly random grasps: Haar-uniform rotations, TCP uniform in the object's bounding box.

A discriminating evaluator scores the oracle near 1 and the perturbed and random rows far lower.
"""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np
from robo_flows_envs.grasping.objects import KINDS, Primitive

LADDER: tuple[tuple[str, float, float], ...] = (
    ("exact set (0 mm, 0 deg)", 0.0, 0.0),
    ("oracle: default noise (3 mm, 3 deg)", 0.003, 3.0),
    ("noise 6 mm, 10 deg", 0.006, 10.0),
    ("noise 12 mm, 20 deg", 0.012, 20.0),
)
RANDOM_ROW = "random: uniform rotation, TCP in bounding box"


def random_grasps(p: Primitive, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Haar-uniform rotations (QR of Gaussian matrices, signs fixed) and TCPs uniform in p's bounding box."""
    Q, Rr = np.linalg.qr(rng.normal(size=(n, 3, 3)))
    Q = Q * np.sign(np.diagonal(Rr, axis1=1, axis2=2))[:, None, :]
    Q[np.linalg.det(Q) < 0, :, 0] *= -1
    if p.kind == "box":
        half = np.asarray(p.dims) / 2
    elif p.kind == "cylinder":
        half = np.array([p.dims[0], p.dims[0], p.dims[1] / 2])
    else:
        half = np.full(3, p.dims[0])
    return Q, rng.uniform(-half, half, (n, 3))


def oracle_table(seed: int, objects: int, grasps_per_object: int, workers: int, held_out: bool) -> dict:
    """Success per ladder row and kind: {row: {"all": rate, kind: rate, "n": count}}."""
    from robo_flows_envs.grasping.analytic import analytic_grasps
    from robo_flows_envs.grasping.evaluator import GraspJob, evaluate_grasps
    from robo_flows_envs.grasping.objects import sample_primitives

    rng = np.random.default_rng(seed)
    prims = sample_primitives(rng, objects, held_out=held_out)
    rows = [name for name, _, _ in LADDER] + [RANDOM_ROW]
    n = grasps_per_object
    jobs = [GraspJob(p, *analytic_grasps(p, rng, n, pos, deg), seed) for _, pos, deg in LADDER for p in prims]
    jobs += [GraspJob(p, *random_grasps(p, rng, n), seed) for p in prims]
    outcomes = evaluate_grasps(jobs, workers=workers)
    table = {}
    for r, name in enumerate(rows):
        per_object = outcomes[r * objects : (r + 1) * objects]
        flat = np.concatenate(per_object)
        entry = {"n": int(len(flat)), "all": float(flat.mean())}
        for kind in KINDS:
            mine = [o for o, p in zip(per_object, prims, strict=True) if p.kind == kind]
            if mine:
                entry[kind] = float(np.concatenate(mine).mean())
        table[name] = entry
    return table


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seed", type=int, default=7, help="seeds objects, grasps and trials (default 7)")
    parser.add_argument("--objects", type=int, default=30, help="primitive objects (default 30)")
    parser.add_argument("--grasps-per-object", type=int, default=10, help="grasps per object and row (10)")
    parser.add_argument("--workers", type=int, default=2, help="simulator processes (default 2)")
    parser.add_argument("--held-out", action="store_true", help="held-out object sizes")
    parser.add_argument("--json", help="also write the table to this JSON file")


def run(args: argparse.Namespace) -> int:
    if args.objects < 1 or args.grasps_per_object < 1:
        print(
            "robo-flows grasps oracle: error: need --objects, --grasps-per-object >= 1, "
            f"got {args.objects}, {args.grasps_per_object}",
            file=sys.stderr,
        )
        return 2
    table = oracle_table(args.seed, args.objects, args.grasps_per_object, args.workers, args.held_out)
    sizes = "held-out" if args.held_out else "training"
    print(
        f"seed {args.seed}, {args.objects} objects ({sizes} sizes) x {args.grasps_per_object} grasps per row"
    )
    print(f"| grasps | n | all | {' | '.join(KINDS)} |")
    print("|---|---|---|" + "---|" * len(KINDS))
    for name, e in table.items():
        cells = " | ".join(f"{e[k]:.3f}" if k in e else "-" for k in KINDS)
        print(f"| {name} | {e['n']} | {e['all']:.3f} | {cells} |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"seed": args.seed, "held_out": args.held_out, "table": table}, f, indent=2)
    return 0
