"""A small synthetic grasp file written by the one writer, for the grasp-learning and grasp-file tests."""

from __future__ import annotations

import math

import h5py
import numpy as np
import torch

from robo_flows.data.grasp_file import write_grasp_file
from robo_flows.geometry import exp_map


def synthetic_grasp_file(path, objects: int = 4, grasps: int = 64, seed: int = 0, **corrupt) -> str:
    """Boxes of growing size with top-down grasps (approach -z) at a random yaw, jittered, 90% successful.

    ``corrupt``: root attributes or datasets replaced after writing (h5py, bypassing the writer's checks),
    to make files the reader must reject.
    """
    rng = np.random.default_rng(seed)
    n = objects * grasps
    yaw = rng.uniform(0, 2 * math.pi, n)
    top_down = np.diag([1.0, -1.0, -1.0])  # +z approach points down the object's -z
    jitter = exp_map(torch.from_numpy(rng.normal(0, 0.05, (n, 3)))).numpy()
    yaw_R = exp_map(torch.from_numpy(np.stack([0 * yaw, 0 * yaw, yaw], -1))).numpy()
    dims = np.stack([np.full(3, 0.04 + 0.01 * i) for i in range(objects)])
    write_grasp_file(
        path,
        object_kind=["box"] * objects,
        object_dims=dims,
        object_descriptor=np.concatenate([np.tile([1.0, 0, 0], (objects, 1)), dims], 1),
        object_index=np.repeat(np.arange(objects), grasps),
        rotations=yaw_R @ top_down @ jitter,
        translations=rng.normal(0, 0.003, (n, 3)) + [0, 0, 0.01],
        success=rng.random(n) < 0.9,
    )
    with h5py.File(path, "r+") as f:
        for key, value in corrupt.items():
            if key in f.attrs:
                f.attrs[key] = value
            else:
                del f[key]
                f.create_dataset(key, data=value)
    return str(path)
