"""Detour expert: around the wall on the side chosen for the episode.

The wall blocks the segment start -> goal along +x.  The expert goes to a point in front of the wall's
chosen edge (``before``), along that edge to a point behind it (``after``), then to the goal.  ``side`` is
+1 (left, +y) or -1 (right, -y).
"""

from __future__ import annotations

import numpy as np
from robo_flows_envs.experts.steering import CLOSED, action, toward

# lateral clearance between the wall's edge and the EE path: the hand is ~0.2 m across the finger axis (y)
EDGE_CLEARANCE = 0.14
# how far in front of / behind the wall's faces the EE turns
FACE_CLEARANCE = 0.07


def detour_action(
    ee: np.ndarray, goal: np.ndarray, wall_center: np.ndarray, wall_half: np.ndarray, side: int
) -> np.ndarray:
    """Action [4] for the EE at ``ee`` heading to ``goal`` around the wall (center [3], half extents [3])."""
    lane_y = wall_center[1] + side * (wall_half[1] + EDGE_CLEARANCE)
    front_x = wall_center[0] - wall_half[0] - FACE_CLEARANCE
    back_x = wall_center[0] + wall_half[0] + FACE_CLEARANCE
    in_lane = side * (ee[1] - lane_y) > -0.02
    if ee[0] < front_x + 0.02 and not in_lane:
        target = np.array([front_x, lane_y, goal[2]])
        return action(toward(ee, target, gain=1.0), CLOSED)
    if ee[0] < back_x - 0.02:
        target = np.array([back_x, lane_y, goal[2]])
        return action(toward(ee, target, gain=1.0), CLOSED)
    return action(toward(ee, goal), CLOSED)
