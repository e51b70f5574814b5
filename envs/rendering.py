"""Headless rgb frames from pybullet's CPU TinyRenderer: the fixed and the hand-mounted cameras of a task.

A camera is a view matrix (where it is and looks) and a projection matrix (field of view, aspect, clipping).
The projection of every camera and the view of a fixed camera are computed once; a wrist camera's view is
rebuilt each frame from the hand's link pose.  Frames are drawn without shadows and without a segmentation
mask (neither is used, and TinyRenderer's shadow pass doubles a frame's cost).

What a frame costs (``docs/envs.md``, "Camera observations"): TinyRenderer shades every covered pixel on the
CPU, so the cost grows with the pixels that show geometry (an 84 x 84 frame of the table alone costs more than
a whole control step of the physics), not with the scene's triangles once the Panda is drawn with its
collision hulls.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pybullet as p

from robo_flows.errors import EnvError

NEAR, FAR = 0.02, 5.0  # m: clipping planes of every camera


@dataclass(frozen=True)
class CameraPose:
    """A fixed camera looking at ``target`` [3] from ``distance`` (m), as pybullet's
    ``computeViewMatrixFromYawPitchRoll``: ``yaw`` degrees about world z (90: the camera on the +x side,
    facing the robot), ``pitch`` degrees of tilt (negative: looking down); ``fov``: vertical field of view
    in degrees."""

    target: tuple[float, float, float]
    distance: float
    yaw: float
    pitch: float
    fov: float = 50.0


def check_size(name: str, value: object) -> int:
    """A frame dimension in pixels: a positive int, else ``EnvError`` naming the argument."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise EnvError(f"{name} must be a positive int (pixels), got {value!r}")
    return int(value)


def capture(
    cid: int, width: int, height: int, view: Sequence[float], projection: Sequence[float]
) -> np.ndarray:
    """One TinyRenderer frame of client ``cid``: uint8 ``[height, width, 3]``."""
    _, _, rgba, _, _ = p.getCameraImage(
        width,
        height,
        view,
        projection,
        shadow=0,
        renderer=p.ER_TINY_RENDERER,
        flags=p.ER_NO_SEGMENTATION_MASK,
        physicsClientId=cid,
    )
    return np.asarray(rgba, dtype=np.uint8).reshape(height, width, 4)[:, :, :3]


class FixedCamera:
    """A camera at a fixed pose; both matrices are computed once."""

    def __init__(self, pose: CameraPose, width: int, height: int) -> None:
        self.width, self.height = check_size("width", width), check_size("height", height)
        self.view = p.computeViewMatrixFromYawPitchRoll(
            cameraTargetPosition=pose.target,
            distance=pose.distance,
            yaw=pose.yaw,
            pitch=pose.pitch,
            roll=0.0,
            upAxisIndex=2,
        )
        self.projection = p.computeProjectionMatrixFOV(pose.fov, self.width / self.height, NEAR, FAR)

    def render(self, cid: int) -> np.ndarray:
        return capture(cid, self.width, self.height, self.view, self.projection)


class WristCamera:
    """A camera fixed to a link (the Panda's hand), moving with it; the view follows the link pose.

    In the link frame (z along the approach, the fingers closing along y) the camera sits at ``EYE``, behind
    the fingertips and to the side of the hand, and looks at ``LOOK_AT`` beyond them, its image up along the
    link's x axis; so the fingertips are in view at the bottom of the frame and the table below the hand
    fills the rest."""

    EYE = np.array([0.12, 0.0, -0.08])
    LOOK_AT = np.array([-0.02, 0.0, 0.10])
    UP = np.array([1.0, 0.0, 0.0])
    FOV = 80.0

    def __init__(self, body: int, link: int, width: int, height: int) -> None:
        self.body, self.link = body, link
        self.width, self.height = check_size("width", width), check_size("height", height)
        self.projection = p.computeProjectionMatrixFOV(self.FOV, self.width / self.height, NEAR, FAR)

    def view(self, cid: int) -> Sequence[float]:
        """View matrix from the link's current world pose: eye = x + R EYE, target = x + R LOOK_AT."""
        state = p.getLinkState(self.body, self.link, physicsClientId=cid)
        position = np.asarray(state[4])
        rotation = np.asarray(p.getMatrixFromQuaternion(state[5])).reshape(3, 3)
        return p.computeViewMatrix(
            cameraEyePosition=position + rotation @ self.EYE,
            cameraTargetPosition=position + rotation @ self.LOOK_AT,
            cameraUpVector=rotation @ self.UP,
        )

    def render(self, cid: int) -> np.ndarray:
        return capture(cid, self.width, self.height, self.view(cid), self.projection)
