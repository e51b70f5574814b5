"""Reach expert: straight to the goal."""

from __future__ import annotations

import numpy as np
from robo_flows_envs.experts.steering import CLOSED, action, toward


def reach_action(ee: np.ndarray, goal: np.ndarray) -> np.ndarray:
    """Proportional velocity towards ``goal`` [3], gripper closed."""
    return action(toward(ee, goal), CLOSED)
