"""Push expert: an L-shaped push, x leg first or y leg first, with a closed gripper.

For a push towards ``target`` (xy), with unit direction ``d`` from cube to target, the EE stands at
``cube - (CUBE_HALF + STANDOFF) d`` at ``PUSH_Z`` and drives along ``d``, aiming a little past the cube's back
face so it stays in contact; when it is not behind the cube it lifts to ``TRAVEL_Z``, moves over the stand
point and comes down, so it never drags across the cube.
"""

from __future__ import annotations

import numpy as np
from robo_flows_envs.experts.steering import CLOSED, action, toward

TRAVEL_Z = 0.08
PUSH_Z = 0.015
STANDOFF = 0.04  # gap between the cube's back face and the EE at the stand point
LEG_TOLERANCE = 0.025  # first leg is done when the cube is this close to the corner on that axis
PUSH_REACH = 0.04  # how far past the back face the EE aims while pushing
PUSH_SPEED = 0.35  # fraction of full speed while in contact (slow, so the cube does not slide on)
LATERAL_TOLERANCE = 0.015
STAND_TOLERANCE = 0.02


def push_target(cube_xy: np.ndarray, goal_xy: np.ndarray, x_first: bool) -> np.ndarray:
    """Where to push the cube next: the corner of the L while the first leg is open, else the goal."""
    axis = 0 if x_first else 1
    if abs(goal_xy[axis] - cube_xy[axis]) > LEG_TOLERANCE:
        corner = cube_xy.copy()
        corner[axis] = goal_xy[axis]
        return corner
    return goal_xy


def push_action(
    ee: np.ndarray, cube_pos: np.ndarray, cube_half: float, goal: np.ndarray, x_first: bool
) -> np.ndarray:
    """Action [4] for one step of the L-shaped push of the cube at ``cube_pos`` [3] to ``goal`` [3]."""
    target = push_target(cube_pos[:2], goal[:2], x_first)
    offset = target - cube_pos[:2]
    distance = float(np.linalg.norm(offset))
    d = offset / max(distance, 1e-9)
    rel = ee[:2] - cube_pos[:2]
    along, across = rel @ d, abs(rel[0] * d[1] - rel[1] * d[0])
    stand = cube_pos[:2] - (cube_half + STANDOFF) * d
    if along < -cube_half and across < LATERAL_TOLERANCE and ee[2] < PUSH_Z + 0.02:  # behind it: push
        aim = cube_pos[:2] + (min(distance, PUSH_REACH) - cube_half) * d
        return action(toward(ee, np.array([*aim, PUSH_Z]), gain=1.0) * PUSH_SPEED, CLOSED)
    if np.linalg.norm(ee[:2] - stand) < STAND_TOLERANCE:  # over the stand point: come down
        return action(toward(ee, np.array([*stand, PUSH_Z]), gain=0.6), CLOSED)
    if ee[2] < TRAVEL_Z - 0.02:  # too low to pass over the cube: go up first
        return action(toward(ee, np.array([*ee[:2], TRAVEL_Z + 0.01]), gain=1.0), CLOSED)
    return action(toward(ee, np.array([*stand, TRAVEL_Z]), gain=1.0), CLOSED)
