"""Sim-verified grasp datasets on seeded primitives: analytic grasps, each simulated, written as a grasp file.

The file's schema, reader and writer are :mod:`robo_flows.data.grasp_file`; this module adds the root
attributes ``seed``, ``held_out``, ``noise_pos``, ``noise_deg`` and ``trial_config`` (JSON).
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from collections.abc import Callable

import numpy as np
from robo_flows_envs.grasp_sim.analytic import analytic_grasps
from robo_flows_envs.grasp_sim.evaluator import GraspJob, TrialConfig, evaluate_grasps
from robo_flows_envs.grasp_sim.objects import KINDS, describe, sample_primitives

from robo_flows.data.grasp_file import write_grasp_file


def generate_grasp_dataset(
    out: str | os.PathLike,
    seed: int,
    objects: int = 50,
    grasps_per_object: int = 100,
    workers: int = 2,
    progress: Callable[[int], object] | None = None,
    held_out: bool = False,
    noise_pos: float = 0.003,
    noise_deg: float = 3.0,
    config: TrialConfig | None = None,
) -> dict:
    """Draw ``objects`` primitives and ``grasps_per_object`` analytic grasps each (seeded by ``seed``),
    simulate every grasp, and write the grasp file ``out`` (atomically; an existing file is replaced, so a
    caller that must not overwrite checks first). ``progress`` is called with the number of objects just
    finished. Returns a summary: counts, success rates (overall and per kind), timing.
    """
    out = os.fspath(out)
    if objects < 1 or grasps_per_object < 1:
        raise ValueError(
            f"need objects >= 1 and grasps_per_object >= 1, got {objects} and {grasps_per_object}"
        )
    config = config or TrialConfig()
    rng = np.random.default_rng(seed)
    prims = sample_primitives(rng, objects, held_out=held_out)
    poses = [analytic_grasps(p, rng, grasps_per_object, noise_pos, noise_deg) for p in prims]
    jobs = [GraspJob(p, R, t, seed, config) for p, (R, t) in zip(prims, poses, strict=True)]
    start = time.perf_counter()
    success = np.concatenate(evaluate_grasps(jobs, workers=workers, progress=progress))
    seconds = time.perf_counter() - start

    kinds = np.array([p.kind for p in prims])
    object_index = np.repeat(np.arange(objects), grasps_per_object)
    write_grasp_file(
        out,
        object_kind=[p.kind for p in prims],
        object_dims=np.stack([p.padded_dims() for p in prims]),
        object_descriptor=np.stack([describe(p) for p in prims]),
        object_index=object_index,
        rotations=np.concatenate([R for R, _ in poses]),
        translations=np.concatenate([t for _, t in poses]),
        success=success,
        attrs={
            "seed": int(seed),
            "held_out": bool(held_out),
            "noise_pos": float(noise_pos),
            "noise_deg": float(noise_deg),
            "trial_config": json.dumps(dataclasses.asdict(config)),
        },
    )
    per_grasp_kind = kinds[object_index]
    return {
        "path": out,
        "seed": int(seed),
        "objects": objects,
        "grasps": int(len(success)),
        "success_rate": float(success.mean()),
        "success_rate_by_kind": {
            k: float(success[per_grasp_kind == k].mean()) for k in KINDS if (kinds == k).any()
        },
        "seconds": seconds,
        "grasps_per_s": len(success) / seconds,
        "workers": workers,
    }
