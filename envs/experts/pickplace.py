"""Pick-and-place expert: grasp the episode's chosen cube from above, carry it over the goal, set it down.

Decided from the state alone (no phase memory): whether the cube is held (between closed fingers), whether it
is already on the goal, and where the EE is relative to the cube.
"""

from __future__ import annotations

import numpy as np
from robo_flows_envs.experts.steering import CLOSED, OPEN, action, toward

CARRY_Z = 0.10
ALIGN_TOL = 0.008  # xy error to start the descent onto a cube or the goal
DESCEND_TOL = 0.02  # xy error tolerated (and corrected) once descending


def pickplace_action(
    ee: np.ndarray, finger_width: float, cube_pos: np.ndarray, cube_size: float, goal: np.ndarray
) -> np.ndarray:
    """Action [4] moving the cube at ``cube_pos`` [3] (edge ``cube_size``) onto ``goal`` [3] (its centre
    height)."""
    # held: at the fingers and either squeezed (closed to the cube's size) or already off the table (a cube
    # turned in the grasp holds the fingers wider)
    lifted = cube_pos[2] > goal[2] + 0.01
    held = np.linalg.norm(ee - cube_pos) < 0.02 and (finger_width < cube_size + 0.004 or lifted)
    cube_at_goal = np.linalg.norm(cube_pos[:2] - goal[:2]) < 0.012 and cube_pos[2] < goal[2] + 0.01
    if cube_at_goal:
        if finger_width < cube_size + 0.01:  # let go
            return action(np.zeros(3), OPEN)
        return action(toward(ee, np.array([*ee[:2], CARRY_Z])), OPEN)
    if held:
        if np.linalg.norm(cube_pos[:2] - goal[:2]) > ALIGN_TOL:
            if ee[2] < CARRY_Z - 0.03:  # lift before travelling
                return action(toward(ee, np.array([*ee[:2], CARRY_Z]), gain=1.0), CLOSED)
            return action(toward(ee, np.array([*goal[:2], CARRY_Z]), gain=0.8), CLOSED)
        return action(toward(ee, goal + (ee - cube_pos), gain=0.6), CLOSED)  # lower onto the goal
    above = np.array([*cube_pos[:2], cube_pos[2] + CARRY_Z - 0.02])
    xy_error = np.linalg.norm(ee[:2] - cube_pos[:2])
    descending = xy_error < DESCEND_TOL and ee[2] < above[2] - 0.01
    if xy_error > ALIGN_TOL and not descending:
        if ee[2] < cube_pos[2] + 0.05:  # clear the cubes before travelling
            return action(toward(ee, np.array([*ee[:2], above[2]]), gain=1.0), OPEN)
        return action(toward(ee, above, gain=0.8), OPEN)
    if finger_width < cube_size + 0.02 and ee[2] > cube_pos[2] + 0.01:  # open before descending
        return action(toward(ee, np.array([*cube_pos[:2], ee[2]])), OPEN)
    if ee[2] > cube_pos[2] + 0.004:
        return action(toward(ee, cube_pos, gain=0.6), OPEN)
    return action(toward(ee, cube_pos), CLOSED)
