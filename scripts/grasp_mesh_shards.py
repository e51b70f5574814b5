"""Label the mesh training split in shards (one grasp file each, so a stopped run keeps what it finished),
then merge the finished shards into one grasp file.

python scripts/grasp_mesh_shards.py --out runs/grasps/shards [--size 40] [--grasps-per-object 32] [--views 3]
python scripts/grasp_mesh_shards.py --out runs/grasps/shards --merge runs/grasps/meshes.hdf5

Shard k labels objects k·size … (k+1)·size - 1 of the split (broken files left out) with
``generate_mesh_dataset`` seeded by 100 + k; existing shards are skipped, so rerunning resumes.  The merge
concatenates the finished shards in order (``shard_00``, ``shard_01``, …) into one file.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

SEED = 100


def label_shards(out: Path, size: int, grasps_per_object: int, views: int, workers: int) -> None:
    from robo_flows_envs.grasp_sim.generation import generate_mesh_dataset, mesh_objects
    from robo_flows_envs.grasp_sim.meshes import mesh_split

    objects, broken = mesh_objects(mesh_split("train"))
    print(f"{len(objects)} objects ({len(broken)} broken: {broken}), shards of {size}", flush=True)
    out.mkdir(parents=True, exist_ok=True)
    for k in range(len(objects) // size):
        path = out / f"shard_{k:02d}.hdf5"
        if path.exists():
            continue
        summary = generate_mesh_dataset(path, objects[k * size : (k + 1) * size], seed=SEED + k,
                                        grasps_per_object=grasps_per_object, views=views, workers=workers,
                                        split="train")  # fmt: skip
        print(json.dumps({key: v for key, v in summary.items() if key != "skipped"}), flush=True)


def merge_shards(out: Path, merged: Path) -> None:
    from robo_flows.data.grasp_file import read_grasp_file, write_grasp_file

    paths = sorted(out.glob("shard_*.hdf5"))
    if not paths:
        raise SystemExit(f"no shard_*.hdf5 in {out}")
    shards = [read_grasp_file(p) for p in paths]
    offsets = np.cumsum([0] + [d.num_objects for d in shards[:-1]])

    def cat(name: str) -> np.ndarray:
        return np.concatenate([getattr(d, name) for d in shards])

    write_grasp_file(
        merged,
        object_kind=sum((d.object_kind for d in shards), ()),
        object_dims=cat("object_dims"),
        object_descriptor=cat("object_descriptor"),
        object_index=np.concatenate([d.object_index + o for d, o in zip(shards, offsets, strict=True)]),
        rotations=cat("rotations"),
        translations=cat("translations"),
        success=cat("success"),
        object_source=sum((d.object_source for d in shards), ()),
        object_scale=cat("object_scale"),
        object_points=cat("object_points"),
        object_partial_points=cat("object_partial_points"),
        attrs={
            "mesh_split": "train",
            "shards": json.dumps([p.name for p in paths]),
            "seed": f"{SEED} + shard",
        },
    )
    success = cat("success")
    print(f"merged {len(paths)} shards: {sum(d.num_objects for d in shards)} objects, {len(success)} grasps, "
          f"success {success.mean():.3f} -> {merged}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="folder of the shard files")
    parser.add_argument("--size", type=int, default=40, help="objects per shard (40)")
    parser.add_argument("--grasps-per-object", type=int, default=32, help="antipodal candidates (32)")
    parser.add_argument("--views", type=int, default=3, help="partial clouds per object (3)")
    parser.add_argument("--workers", type=int, default=2, help="simulator processes (2)")
    parser.add_argument("--merge", type=Path, help="merge the finished shards into this grasp file instead")
    args = parser.parse_args()
    if args.merge is not None:
        merge_shards(args.out, args.merge)
    else:
        label_shards(args.out, args.size, args.grasps_per_object, args.views, args.workers)


if __name__ == "__main__":
    main()
