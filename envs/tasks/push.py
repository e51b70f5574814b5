"""PandaPush: push a cube across the table onto a target.

The target is offset from the cube by 8-12 cm along both x and y, so the expert's two approaches (push along x
first, or along y first, then to the target) give two distinct motions.  The executed mode is read from the
cube's path: the axis along which it had moved more when it first got 4 cm from its start.
"""

from __future__ import annotations

import numpy as np
from robo_flows_envs.experts.push import push_action
from robo_flows_envs.sim import Sim
from robo_flows_envs.tasks.base import NO_MODE, PandaTaskEnv

CUBE_HALF = 0.02
CUBE_MASS = 0.1
SUCCESS_DISTANCE = 0.04
MODE_DISTANCE = 0.04
CUBE_LOW, CUBE_HIGH = np.array([0.52, -0.12]), np.array([0.6, 0.12])
OFFSET_LOW, OFFSET_HIGH = 0.08, 0.12
START = np.array([0.35, 0.0, 0.15])
START_NOISE = 0.02
BODY_PARTS = {"pos": 3, "quat": 4, "linvel": 3, "angvel": 3}


def body_parts(name: str) -> dict[str, int]:
    """Observation parts of one free body's state (``Sim.body_state`` order), prefixed by ``name``."""
    return {f"{name}_{k}": v for k, v in BODY_PARTS.items()}


class PandaPushEnv(PandaTaskEnv):
    """Observation ``ee_pos, ee_vel, finger_width, cube_{pos,quat,linvel,angvel}, goal, cube_from_ee,
    goal_from_cube`` (the last two are the differences ``cube_pos - ee_pos`` and ``goal - cube_pos``, which
    a policy needs to centimetre precision and an MLP finds hard to form from absolute positions); reward
    ``-|cube_xy - goal_xy|``; success when the cube's centre is within 4 cm of the target (in xy)."""

    task_parts = {**body_parts("cube"), "goal": 3, "cube_from_ee": 3, "goal_from_cube": 3}
    mode_names = ("x_first", "y_first")
    scene_footprints = {"cube_pos": (CUBE_HALF, CUBE_HALF)}
    workspace_low = np.array([0.2, -0.35, 0.01])

    def _build(self, sim: Sim) -> None:
        self.cube = sim.box((CUBE_HALF,) * 3, (0.5, 0.0, CUBE_HALF), CUBE_MASS, (0.2, 0.4, 0.9, 1.0))
        self.goal = np.array([0.5, 0.0, CUBE_HALF])
        self._marker = sim.marker(0.02, self.goal, (0.1, 0.8, 0.1, 0.6))

    def _sample_episode(self) -> np.ndarray:
        cube_xy = self._uniform(CUBE_LOW, CUBE_HIGH)
        signs = np.where(self._uniform(0.0, 1.0, 2) < 0.5, -1.0, 1.0)
        goal_xy = cube_xy + signs * self._uniform(OFFSET_LOW, OFFSET_HIGH, 2)
        self.goal = np.array([*goal_xy, CUBE_HALF])
        self.sim.set_pose(self.cube, (*cube_xy, CUBE_HALF))
        self.sim.set_pose(self._marker, self.goal)
        return START + self._uniform(-START_NOISE, START_NOISE, 3)

    def _read_objects(self) -> None:
        self.cube_state = self.sim.body_state(self.cube)

    def _reset_tracking(self) -> None:
        self._cube_start = self.cube_state[:2]
        self._first_axis = NO_MODE

    def _track(self) -> None:
        if self._first_axis == NO_MODE:
            moved = self.cube_state[:2] - self._cube_start
            if np.linalg.norm(moved) >= MODE_DISTANCE:
                self._first_axis = "x_first" if abs(moved[0]) >= abs(moved[1]) else "y_first"

    def _executed_mode(self) -> str:
        return self._first_axis

    def _distance(self) -> float:
        return float(np.linalg.norm(self.cube_state[:2] - self.goal[:2]))

    def _task_obs(self) -> list[np.ndarray]:
        cube = self.cube_state[:3]
        return [self.cube_state, self.goal, cube - self.ee_pos, self.goal - cube]

    def _success(self) -> bool:
        return self._distance() < SUCCESS_DISTANCE

    def _reward(self) -> float:
        return -self._distance()

    def _expert_action(self) -> np.ndarray:
        return push_action(
            self.ee_pos, self.cube_state[:3], CUBE_HALF, self.goal, self.expert_mode == "x_first"
        )
