"""Out-of-distribution objects: meshes from ``pybullet_data``, named for the grasp evaluator.

Names: ``"duck"``, ``"mug"`` and ``"random_urdfs/NNN"`` (NNN = 000 … 999). Their object frame
is the URDF base link frame. They have no descriptor and no analytic grasp set; they are labelled by
antipodal sampling and simulation (``robo_flows_envs.grasp_sim.antipodal``).
"""

from __future__ import annotations

import os
import re

import pybullet_data

MESH_OBJECTS: dict[str, str] = {
    "duck": "duck_vhacd.urdf",
    "mug": os.path.join("objects", "mug.urdf"),
}
_RANDOM = re.compile(r"random_urdfs/(\d{3})")


def mesh_urdf_path(name: str) -> str:
    """Absolute path of the URDF for mesh object ``name``; ValueError for unknown names."""
    match = _RANDOM.fullmatch(name)
    rel = os.path.join("random_urdfs", match[1], f"{match[1]}.urdf") if match else MESH_OBJECTS.get(name)
    if rel is None:
        raise ValueError(
            f"unknown mesh object {name!r}; expected one of {', '.join(MESH_OBJECTS)} or 'random_urdfs/NNN'"
        )
    path = os.path.join(pybullet_data.getDataPath(), rel)
    if not os.path.exists(path):
        raise ValueError(f"mesh object {name!r}: {path} does not exist in this pybullet_data")
    return path
