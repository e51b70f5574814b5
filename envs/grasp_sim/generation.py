"""Sim-verified grasp datasets, written as a grasp file: seeded primitives with analytic grasps
(:func:`generate_grasp_dataset`), or mesh objects with antipodal grasps and point clouds
(:func:`generate_mesh_dataset`); every grasp is simulated.

The file's schema, reader and writer are :mod:`robo_flows.data.grasp_file`; this module adds the root
attributes ``seed``, ``trial_config`` (JSON) and ``held_out``, ``noise_pos``, ``noise_deg`` (primitives)
or ``mesh_split``, ``views``, ``points``, ``point_noise`` (meshes).
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from robo_flows_envs.grasp_sim.analytic import analytic_grasps
from robo_flows_envs.grasp_sim.antipodal import antipodal_grasps
from robo_flows_envs.grasp_sim.evaluator import (
    GraspJob,
    TrialConfig,
    evaluate_grasps,
    process_evaluator,
    run_in_workers,
)
from robo_flows_envs.grasp_sim.meshes import MeshObject, graspable_scale, load_trimesh, resolve_mesh
from robo_flows_envs.grasp_sim.objects import KINDS, describe, sample_primitives
from robo_flows_envs.grasp_sim.point_clouds import POINTS, full_cloud, partial_cloud

from robo_flows.data.grasp_file import write_grasp_file
from robo_flows.errors import DataError


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


@dataclass(frozen=True)
class MeshLabelJob:
    """One mesh object to label: ``grasps`` antipodal candidates, each simulated, and its point clouds."""

    obj: MeshObject
    grasps: int
    views: int
    points: int
    point_noise: float
    seed: int
    index: int
    config: TrialConfig


def label_mesh_object(job: MeshLabelJob) -> dict | None:
    """Candidates (R, t), their trial outcomes, the full cloud and ``views`` partial clouds of one object,
    from the generator seeded by (seed, index); None when the object yields too few antipodal candidates."""
    rng = np.random.default_rng([job.seed, job.index])
    ev = process_evaluator(job.config)
    try:
        R, t = antipodal_grasps(ev, job.obj, rng, job.grasps)
    except RuntimeError:
        return None
    return {
        "R": R,
        "t": t,
        "success": ev.evaluate(job.obj, R, t, job.seed),
        "points": full_cloud(job.obj, rng, job.points, noise=job.point_noise),
        "partial": np.stack(
            [partial_cloud(ev, job.obj, rng, job.points, noise=job.point_noise) for _ in range(job.views)]
        ),
    }


def mesh_objects(names: list[str]) -> tuple[list[MeshObject], list[str]]:
    """The named meshes at the dataset scale (``meshes.graspable_scale``, the one scaling rule), and the
    names left out because their file is broken (a ``DataError``: e.g. ``random_urdfs/168`` has NaN
    vertices)."""
    objects, broken = [], []
    for name in names:
        try:
            objects.append(graspable_scale(resolve_mesh(name)))
        except DataError:
            broken.append(name)
    return objects, broken


def generate_mesh_dataset(
    out: str | os.PathLike,
    objects: list[MeshObject],
    seed: int,
    grasps_per_object: int = 64,
    views: int = 4,
    points: int = POINTS,
    point_noise: float = 0.0,
    workers: int = 2,
    progress: Callable[[int], object] | None = None,
    split: str = "",
    config: TrialConfig | None = None,
) -> dict:
    """Label ``objects`` (module docstring) and write the grasp file ``out`` with their point clouds.

    Each object gets ``grasps_per_object`` antipodal candidates (``antipodal.antipodal_grasps``), all
    simulated, a full cloud and ``views`` single-camera clouds of ``points`` points.  Objects on which too
    few candidates are found are left out and named in the summary.  Returns the summary.
    """
    out = os.fspath(out)
    if not objects or min(grasps_per_object, views, points) < 1:
        raise ValueError(
            f"need objects, grasps_per_object, views, points >= 1; got {len(objects)}, {grasps_per_object}, "
            f"{views}, {points}"
        )
    config = config or TrialConfig()
    jobs = [MeshLabelJob(o, grasps_per_object, views, points, point_noise, seed, i, config)
            for i, o in enumerate(objects)]  # fmt: skip
    start = time.perf_counter()
    labelled = run_in_workers(label_mesh_object, jobs, workers, progress)
    seconds = time.perf_counter() - start
    kept = [(o, lab) for o, lab in zip(objects, labelled, strict=True) if lab is not None]
    if not kept:
        raise ValueError("no object yielded antipodal grasp candidates")
    success = np.concatenate([lab["success"] for _, lab in kept])
    write_grasp_file(
        out,
        object_kind=["mesh"] * len(kept),
        object_dims=np.stack([load_trimesh(o).extents for o, _ in kept]),
        object_descriptor=np.zeros((len(kept), 0)),
        object_index=np.repeat(np.arange(len(kept)), grasps_per_object),
        rotations=np.concatenate([lab["R"] for _, lab in kept]),
        translations=np.concatenate([lab["t"] for _, lab in kept]),
        success=success,
        object_source=[o.name for o, _ in kept],
        object_scale=np.array([o.scale for o, _ in kept]),
        object_points=np.stack([lab["points"] for _, lab in kept]),
        object_partial_points=np.stack([lab["partial"] for _, lab in kept]),
        attrs={"seed": int(seed), "mesh_split": split, "views": views, "points": points,
               "point_noise": float(point_noise), "trial_config": json.dumps(dataclasses.asdict(config))},
    )  # fmt: skip
    return {
        "path": out,
        "seed": int(seed),
        "objects": len(kept),
        "skipped": [o.name for o, lab in zip(objects, labelled, strict=True) if lab is None],
        "grasps": int(len(success)),
        "success_rate": float(success.mean()),
        "seconds": seconds,
        "grasps_per_s": len(success) / seconds,
        "workers": workers,
    }
