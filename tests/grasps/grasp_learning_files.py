"""A small synthetic grasp file in the ``robo-flows grasps generate`` layout, for the grasp-learning tests."""

from __future__ import annotations

import math

import h5py
import numpy as np
import torch

from robo_flows.geometry import exp_map


def write_grasp_file(path, objects: int = 4, grasps: int = 64, seed: int = 0, **overrides) -> str:
    """Boxes of growing size with top-down grasps (approach -z) at a random yaw, jittered, 90% successful."""
    rng = np.random.default_rng(seed)
    n = objects * grasps
    yaw = rng.uniform(0, 2 * math.pi, n)
    top_down = np.diag([1.0, -1.0, -1.0])  # +z approach points down the object's -z
    jitter = exp_map(torch.from_numpy(rng.normal(0, 0.05, (n, 3)))).numpy()
    yaw_R = exp_map(torch.from_numpy(np.stack([0 * yaw, 0 * yaw, yaw], -1))).numpy()
    dims = np.stack([np.full(3, 0.04 + 0.01 * i) for i in range(objects)])
    arrays = {
        "objects/kind": np.array(["box"] * objects, dtype=h5py.string_dtype()),
        "objects/dims": dims,
        "objects/descriptor": np.concatenate([np.tile([1.0, 0, 0], (objects, 1)), dims], 1).astype(
            np.float32
        ),
        "object_index": np.repeat(np.arange(objects), grasps),
        "rotations": (yaw_R @ top_down @ jitter).astype(np.float32),
        "translations": (rng.normal(0, 0.003, (n, 3)) + [0, 0, 0.01]).astype(np.float32),
        "success": rng.random(n) < 0.9,
    }
    attrs = {"format_version": 1, "kind": "grasps", "descriptor_dim": 6}
    for key, value in overrides.items():
        (attrs if key in attrs else arrays)[key] = value
    with h5py.File(path, "w") as f:
        f.attrs.update(attrs)
        for name, value in arrays.items():
            f.create_dataset(name, data=value)
    return str(path)
