"""Proportional EE steering shared by the experts."""

from __future__ import annotations

import numpy as np
from robo_flows_envs.tasks.base import MAX_EE_STEP

OPEN, CLOSED = 1.0, -1.0


def toward(ee: np.ndarray, target: np.ndarray, gain: float = 0.6) -> np.ndarray:
    """Velocity command [3] in [-1, 1] moving the EE a fraction ``gain`` of the way to ``target`` per control
    period: ``clip(gain * (target - ee) / MAX_EE_STEP, -1, 1)``; saturated far away, proportional near."""
    return np.clip(gain * (np.asarray(target) - ee) / MAX_EE_STEP, -1.0, 1.0)


def action(velocity: np.ndarray, gripper: float) -> np.ndarray:
    """Concatenate a velocity command [3] and a gripper command into an action [4]."""
    return np.append(velocity, gripper)
