"""Headless rgb frames of a task's workspace from pybullet's CPU TinyRenderer."""

from __future__ import annotations

import numpy as np
import pybullet as p


class Camera:
    """A fixed camera beside the robot looking at the workspace; frames are uint8 [height, width, 3]."""

    def __init__(self, width: int, height: int, fov_deg: float = 50.0) -> None:
        for name, v in (("width", width), ("height", height)):
            if not isinstance(v, int | np.integer) or v < 1:
                raise ValueError(f"{name} must be a positive int (pixels), got {v!r}")
        self.width, self.height = int(width), int(height)
        self.view = p.computeViewMatrixFromYawPitchRoll(
            cameraTargetPosition=(0.5, 0.0, 0.05),
            distance=1.1,
            yaw=90.0,
            pitch=-40.0,
            roll=0.0,
            upAxisIndex=2,
        )
        self.projection = p.computeProjectionMatrixFOV(fov_deg, self.width / self.height, 0.05, 5.0)

    def render(self, cid: int) -> np.ndarray:
        _, _, rgba, _, _ = p.getCameraImage(
            self.width,
            self.height,
            self.view,
            self.projection,
            renderer=p.ER_TINY_RENDERER,
            flags=p.ER_NO_SEGMENTATION_MASK,
            physicsClientId=cid,
        )
        return np.asarray(rgba, dtype=np.uint8).reshape(self.height, self.width, 4)[:, :, :3]
