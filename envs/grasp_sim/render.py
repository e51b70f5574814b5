"""PyBullet pictures of grasps: the Panda hand placed at each grasp pose around the object (TinyRenderer)."""

from __future__ import annotations

from pathlib import Path

import imageio.v3 as iio
import numpy as np
from robo_flows_envs.grasp_sim.evaluator import GraspEvaluator, GraspObject
from robo_flows_envs.grasp_sim.gripper import MAX_OPENING


def render_grasps(
    obj: GraspObject,
    R: np.ndarray,
    t: np.ndarray,
    path: str | Path,
    size: int = 240,
    distance: float = 0.45,
) -> Path:
    """One frame per grasp (R [N,3,3], t [N,3], object frame), tiled in a row, saved as a PNG at ``path``."""
    R, t = np.asarray(R, dtype=float), np.asarray(t, dtype=float)
    if len(R) == 0:
        raise ValueError("render_grasps needs at least one grasp")
    frames = []
    with GraspEvaluator() as ev:
        ev.load(obj)
        p = ev.client
        view = p.computeViewMatrixFromYawPitchRoll((0, 0, 0), distance, 45.0, -30.0, 0.0, 2)
        projection = p.computeProjectionMatrixFOV(50.0, 1.0, 0.02, 3.0)
        for Ri, ti in zip(R, t, strict=True):
            ev.place(Ri, ti)
            for j in ev.fingers:
                p.resetJointState(ev.hand, j, MAX_OPENING / 2)
            _, _, rgba, _, _ = p.getCameraImage(size, size, view, projection, renderer=p.ER_TINY_RENDERER)
            frames.append(np.asarray(rgba, dtype=np.uint8).reshape(size, size, 4)[:, :, :3])
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    iio.imwrite(path, np.concatenate(frames, axis=1))
    return path
