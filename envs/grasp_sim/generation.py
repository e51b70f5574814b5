"""Sim-verified grasp datasets: generation on seeded primitives, written as the HDF5 grasp file.

The file is read (and validated) by :func:`robo_flows.data.grasps.read_grasp_file` in the core library.

File layout (``format_version`` 1)::

    /                  attrs: format_version=1, kind="grasps", seed, descriptor_dim, held_out,
                              noise_pos, noise_deg, trial_config (JSON)
    objects/kind       str [M]          "box" | "cylinder" | "sphere"
    objects/dims       float64 [M, 3]   Primitive dims, zero padded
    objects/descriptor float32 [M, K]   describe(p), K = descriptor_dim
    object_index       int64 [N]        row of objects/ each grasp belongs to
    rotations          float32 [N, 3, 3] TCP rotation in the object frame (columns = gripper axes)
    translations       float32 [N, 3]   TCP position in the object frame, metres
    success            bool [N]         outcome of the simulated trial
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from collections.abc import Callable

import h5py
import numpy as np
from robo_flows_envs.grasping.analytic import analytic_grasps
from robo_flows_envs.grasping.evaluator import GraspJob, TrialConfig, evaluate_grasps
from robo_flows_envs.grasping.objects import DESCRIPTOR_DIM, KINDS, describe, sample_primitives

from robo_flows.atomic import atomic_write
from robo_flows.data.grasps import GRASP_FILE_KIND, GRASP_FORMAT_VERSION


def generate_grasp_dataset(
    out: str | os.PathLike,
    seed: int,
    objects: int = 50,
    grasps_per_object: int = 100,
    workers: int = 2,
    force: bool = False,
    progress: Callable[[int], object] | None = None,
    held_out: bool = False,
    noise_pos: float = 0.003,
    noise_deg: float = 3.0,
    config: TrialConfig | None = None,
) -> dict:
    """Draw ``objects`` primitives and ``grasps_per_object`` analytic grasps each (seeded by ``seed``),
    simulate every grasp, and write the file ``out`` atomically (temp file + rename).

    Refuses to overwrite an existing ``out`` unless ``force``. ``progress`` is called with the number of
    objects just finished. Returns a summary: counts, success rates (overall and per kind), timing.
    """
    out = os.fspath(out)
    if os.path.exists(out) and not force:
        raise FileExistsError(f"{out} exists; pass force=True (--force) to overwrite it")
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
    attrs = {
        "format_version": GRASP_FORMAT_VERSION,
        "kind": GRASP_FILE_KIND,
        "seed": int(seed),
        "descriptor_dim": DESCRIPTOR_DIM,
        "held_out": bool(held_out),
        "noise_pos": float(noise_pos),
        "noise_deg": float(noise_deg),
        "trial_config": json.dumps(dataclasses.asdict(config)),
    }
    arrays = {
        "objects/kind": kinds.astype(h5py.string_dtype()),
        "objects/dims": np.stack([p.padded_dims() for p in prims]),
        "objects/descriptor": np.stack([describe(p) for p in prims]),
        "object_index": object_index.astype(np.int64),
        "rotations": np.concatenate([R for R, _ in poses]).astype(np.float32),
        "translations": np.concatenate([t for _, t in poses]).astype(np.float32),
        "success": success.astype(bool),
    }
    with atomic_write(out) as tmp, h5py.File(tmp, "w") as f:
        f.attrs.update(attrs)
        for name, value in arrays.items():
            f.create_dataset(name, data=value)
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
