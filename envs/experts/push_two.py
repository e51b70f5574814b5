"""Push-two expert: two cubes into two zones, one after the other, in the episode's order.

An order is ``((i, j), (k, l))``: push cube ``i`` into zone ``j``, then cube ``k`` into zone ``l``.  The stage
is read from the state alone: while cube ``i`` is farther than ``STAGE_DISTANCE`` (xy) from zone ``j`` the
expert works on the first pair, else on the second (so a first cube knocked out of its zone is pushed back).
Each push is the single-cube push expert's (``experts.push.push_action``), with the larger axis of the
remaining offset as its first leg.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from robo_flows_envs.experts.push import push_action

STAGE_DISTANCE = 0.02  # m: the first cube counts as placed within this xy distance of its zone

Order = tuple[tuple[int, int], tuple[int, int]]


def current_pair(cubes: Sequence[np.ndarray], zones: Sequence[np.ndarray], order: Order) -> tuple[int, int]:
    """``(cube, zone)`` the expert works on: the order's first pair until that cube is within
    ``STAGE_DISTANCE`` of its zone (xy), then the second."""
    (i, j), second = order
    if np.linalg.norm(cubes[i][:2] - zones[j][:2]) < STAGE_DISTANCE:
        return second
    return i, j


def push_two_action(
    ee: np.ndarray, cubes: Sequence[np.ndarray], cube_half: float, zones: Sequence[np.ndarray], order: Order
) -> np.ndarray:
    """Action [4] for one step: ``cubes`` are cube centres [3], ``zones`` zone centres [3] (on the table)."""
    cube, zone = current_pair(cubes, zones, order)
    offset = np.abs(zones[zone][:2] - cubes[cube][:2])
    return push_action(ee, cubes[cube], cube_half, zones[zone], x_first=bool(offset[0] >= offset[1]))
