"""Pick-and-place expert: grasp the episode's chosen cube from above, carry it over the goal, set it down.

Decided from the state alone (no phase memory): whether the cube is held (between closed fingers), whether it
is already on the goal, and where the EE is relative to the cube.

Both the approach to the cube and the lowering onto the goal follow a funnel instead of an "align, then
descend" threshold: the target height above the object is a continuous function of the horizontal error
``e``, ``h(e) = clip(FUNNEL_SLOPE * (e - FUNNEL_TOL), 0, h_max)``, so the EE goes down exactly as fast as it
lines up.  Every action is then a continuous function of the observation (except the gripper switches),
which a learnt policy can imitate without having to reproduce a millimetre test.
"""

from __future__ import annotations

import numpy as np
from robo_flows_envs.experts.steering import CLOSED, OPEN, action, toward

CARRY_Z = 0.10
FUNNEL_SLOPE = 3.0  # m of allowed height above the target per m of horizontal error
FUNNEL_TOL = 0.003  # horizontal error (m) at which the funnel reaches the bottom
CLEARANCE = 0.03  # m below the funnel at which sideways motion stops (rise first, then travel)


def funnel_step(ee: np.ndarray, target: np.ndarray, h_max: float, gain: float) -> np.ndarray:
    """Velocity command [3] bringing the EE onto ``target`` [3] down the funnel of height ``h_max``.

    The vertical target is ``target_z + h(e)`` with ``e = |ee_xy - target_xy|``; sideways motion is scaled by
    ``s = clip(1 + (ee_z - z_funnel) / CLEARANCE, 0, 1)``, so an EE well below the funnel rises before it
    travels (clearing the cubes) and one on or above it travels at full gain."""
    error = float(np.linalg.norm(ee[:2] - target[:2]))
    z_funnel = target[2] + float(np.clip(FUNNEL_SLOPE * (error - FUNNEL_TOL), 0.0, h_max))
    s = float(np.clip(1.0 + (ee[2] - z_funnel) / CLEARANCE, 0.0, 1.0))
    velocity = toward(ee, np.array([*target[:2], z_funnel]), gain=gain)
    velocity[:2] *= s
    return velocity


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
    if held:  # carry: the EE target is the goal shifted by the grasp offset
        return action(funnel_step(ee, goal + (ee - cube_pos), CARRY_Z - goal[2], gain=0.8), CLOSED)
    if finger_width < cube_size + 0.02 and ee[2] > cube_pos[2] + 0.01:  # reopen after a missed grasp
        return action(toward(ee, np.array([*ee[:2], cube_pos[2] + CARRY_Z - 0.02])), OPEN)
    if ee[2] > cube_pos[2] + 0.004:
        return action(funnel_step(ee, cube_pos, CARRY_Z - 0.02, gain=0.8), OPEN)
    return action(toward(ee, cube_pos), CLOSED)
