"""Geometry of the Franka Panda parallel-jaw hand, as the grasp code sees it (numpy).

Gripper (TCP) frame: +z is the approach direction (from the palm toward the object), +y the closing
direction (the axis the fingers move along), x = y × z; the origin is the centre between the fingertip
pads. A grasp is the pose (R, t) of this frame in the object frame: R's columns are the gripper axes in
object coordinates, t the TCP position in metres. The hand is symmetric under a half turn about z:
(R, t) and (R·Rz(π), t) are the same grasp (``robo_flows.geometry.so3.half_turn_about_z`` gives the twin).

The numbers below are read off the ``franka_panda`` collision meshes in ``pybullet_data``: the fingers
are mounted 0.0584 m in front of the hand frame and are 0.0538 m long; the flat part of their inner
faces (the pads) spans 0.036 … 0.054 m along each finger; the palm's collision hull ends 0.066 m in
front of the hand frame.
"""

from __future__ import annotations

import numpy as np
import torch

from robo_flows.geometry.validation import check_rotation_matrices

MAX_OPENING = 0.08
"""Distance between the finger pads when the Panda hand is fully open, metres."""

MIN_CLEARANCE = 0.005
"""Gap each open finger keeps from the object along the closing axis, metres."""

MAX_GRASP_WIDTH = MAX_OPENING - 2 * MIN_CLEARANCE
"""Widest object extent along the closing axis that the analytic grasp sets use, metres."""

FINGER_MOUNT = 0.0584
"""Hand frame z of the finger joints, metres."""

FINGER_LENGTH = 0.0538
"""Length of a finger along the approach axis, metres."""

TCP_OFFSET = FINGER_MOUNT + (0.036 + 0.054) / 2
"""Hand frame z of the TCP (centre of the fingertip pads), metres. The hand and TCP axes coincide."""

PALM_DEPTH = TCP_OFFSET - 0.066
"""Distance from the TCP back to the palm along the approach axis, metres."""

PAD_HALF_WIDTH = 0.0087
"""Half the width of a finger pad along the gripper x axis, metres."""


POSE_TOLERANCE = 1e-4
"""Largest |RᵀR − I| entry (and |det R − 1|) accepted for a grasp rotation (float32 data fits inside)."""


def grasp_frames(y: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Rotations [n, 3, 3] with columns (y × z, y, z) from orthonormal closing y and approach z [n, 3]."""
    return np.stack([np.cross(y, z), y, z], axis=-1)


def check_poses(R: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Validate grasp poses: R [n, 3, 3] finite proper rotations (to ``POSE_TOLERANCE``), t [n, 3] finite.

    Returns float64 copies; raises ValueError naming the first offending grasp.
    """
    R = np.asarray(R, dtype=float)
    t = np.asarray(t, dtype=float)
    if R.ndim != 3 or R.shape[1:] != (3, 3):
        raise ValueError(f"rotations must have shape [n, 3, 3], got {list(R.shape)}")
    if t.shape != (len(R), 3):
        raise ValueError(f"translations must have shape [{len(R)}, 3] as R, got {list(t.shape)}")
    check_rotation_matrices(torch.from_numpy(R), "rotations", atol=POSE_TOLERANCE)
    if not np.isfinite(t).all():
        i = int(np.flatnonzero(~np.isfinite(t).all(axis=1))[0])
        raise ValueError(f"translations[{i}] must be finite, got {t[i].tolist()}")
    return R, t


def hand_pose(R: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pose of the hand (URDF base) frame for a TCP pose: same rotation, origin TCP_OFFSET behind along z.

    R [..., 3, 3], t [..., 3] -> (R, t - TCP_OFFSET · R[..., :, 2]).
    """
    return R, t - TCP_OFFSET * R[..., :, 2]
