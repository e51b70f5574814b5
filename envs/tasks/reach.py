"""PandaReach: bring the end effector to a goal point in free space (unimodal)."""

from __future__ import annotations

import numpy as np
from robo_flows_envs.experts.reach import reach_action
from robo_flows_envs.sim import Sim
from robo_flows_envs.tasks.base import PandaTaskEnv

SUCCESS_DISTANCE = 0.03
GOAL_LOW, GOAL_HIGH = np.array([0.3, -0.25, 0.05]), np.array([0.7, 0.25, 0.35])
START = np.array([0.4, 0.0, 0.25])


class PandaReachEnv(PandaTaskEnv):
    """Observation ``ee_pos, ee_vel, finger_width, goal``; reward ``-|ee - goal|``; success within 3 cm."""

    task_parts = {"goal": 3}

    def _build(self, sim: Sim) -> None:
        self.goal = START.copy()
        self._marker = sim.marker(0.02, self.goal, (0.1, 0.8, 0.1, 0.6))

    def _sample_episode(self) -> np.ndarray:
        self.goal = self._uniform(GOAL_LOW, GOAL_HIGH)
        self.sim.set_pose(self._marker, self.goal)
        return START + self._uniform(-0.03, 0.03, 3)

    def _distance(self) -> float:
        return float(np.linalg.norm(self.ee_pos - self.goal))

    def _task_obs(self) -> list[np.ndarray]:
        return [self.goal]

    def _success(self) -> bool:
        return self._distance() < SUCCESS_DISTANCE

    def _reward(self) -> float:
        return -self._distance()

    def _expert_action(self) -> np.ndarray:
        return reach_action(self.ee_pos, self.goal)
