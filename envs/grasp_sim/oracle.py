"""How the evaluator scores analytic grasps, and perturbed or random ones (``robo-flows grasps oracle``).

Draws ``--objects`` primitives (training or held-out sizes) and, for each row of the ladder below, the
same number of grasps per object, simulates them all, and prints success per row and per object kind:

* the exact analytic set, then the set perturbed by growing noise (the default noise is the oracle);
* uniformly random grasps: Haar-uniform rotations, TCP uniform in the object's bounding box.

A discriminating evaluator scores the oracle near 1 and the perturbed and random rows far lower.
"""

from __future__ import annotations

import numpy as np
import torch
from robo_flows_envs.grasp_sim.analytic import analytic_grasps
from robo_flows_envs.grasp_sim.evaluator import GraspJob, evaluate_grasps
from robo_flows_envs.grasp_sim.objects import KINDS, Primitive, sample_primitives

from robo_flows.geometry.so3 import random_rotations

LADDER: tuple[tuple[str, float, float], ...] = (
    ("exact set (0 mm, 0 deg)", 0.0, 0.0),
    ("oracle: default noise (3 mm, 3 deg)", 0.003, 3.0),
    ("noise 6 mm, 10 deg", 0.006, 10.0),
    ("noise 12 mm, 20 deg", 0.012, 20.0),
)
RANDOM_ROW = "random: uniform rotation, TCP in bounding box"


def random_grasps(p: Primitive, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Haar-uniform rotations (``random_rotations``, seeded by ``rng``), TCPs uniform in the bounding box."""
    generator = torch.Generator().manual_seed(int(rng.integers(2**63)))
    Q = random_rotations(n, generator=generator, dtype=torch.float64).numpy()
    if p.kind == "box":
        half = np.asarray(p.dims) / 2
    elif p.kind == "cylinder":
        half = np.array([p.dims[0], p.dims[0], p.dims[1] / 2])
    else:
        half = np.full(3, p.dims[0])
    return Q, rng.uniform(-half, half, (n, 3))


def oracle_table(seed: int, objects: int, grasps_per_object: int, workers: int, held_out: bool) -> dict:
    """Success per ladder row and kind: {row: {"all": rate, kind: rate, "n": count}}."""
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
