"""PandaDetour: reach a goal behind a wall, passing it on the left (+y) or the right (-y).

The wall stands on the table across the straight line from the start (x ~ 0.33) to the goal (x ~ 0.66).
The EE may not rise above z = 0.14 (the workspace box) and the fingers and hand reach up from it past the
wall's top at z = 0.2, so the only ways are around either edge; touching the wall ends the episode as a
failure.  The executed mode is the side of the wall's centre the EE was on when it first crossed the wall's
plane x = wall_x.
"""

from __future__ import annotations

import numpy as np
from robo_flows_envs.experts.detour import detour_action
from robo_flows_envs.rendering import CameraPose
from robo_flows_envs.sim import Sim
from robo_flows_envs.tasks.base import NO_MODE, PandaTaskEnv

SUCCESS_DISTANCE = 0.03
WALL_HALF = np.array([0.015, 0.10, 0.10])
WALL_X = 0.5
START = np.array([0.33, 0.0, 0.07])
GOAL = np.array([0.66, 0.0, 0.07])
START_NOISE = np.array([0.02, 0.04, 0.015])
GOAL_NOISE = np.array([0.02, 0.05, 0.015])
WALL_Y_NOISE = 0.02


class PandaDetourEnv(PandaTaskEnv):
    """Observation ``ee_pos, ee_vel, finger_width, obstacle_pos, goal``; reward ``-|ee - goal|``;
    success within 3 cm of the goal, failure on any contact between robot and wall."""

    task_parts = {"obstacle_pos": 3, "goal": 3}
    mode_names = ("left", "right")
    workspace_low = np.array([0.25, -0.4, 0.03])
    workspace_high = np.array([0.75, 0.4, 0.14])
    scene_footprints = {"obstacle_pos": (float(WALL_HALF[0]), float(WALL_HALF[1]))}
    # from high above the goal's side, so both ways round the wall stay in view past the hand
    scene_pose = CameraPose(target=(0.5, 0.0, 0.0), distance=1.2, yaw=90.0, pitch=-78.0)

    def _build(self, sim: Sim) -> None:
        self.wall_center = np.array([WALL_X, 0.0, WALL_HALF[2]])
        self.wall = sim.box(WALL_HALF, self.wall_center, mass=0.0, rgba=(0.7, 0.2, 0.2, 1.0))
        self.goal = GOAL.copy()
        self._marker = sim.marker(0.02, self.goal, (0.1, 0.8, 0.1, 0.6))

    def _sample_episode(self) -> np.ndarray:
        self.wall_center = np.array([WALL_X, self._uniform(-WALL_Y_NOISE, WALL_Y_NOISE), WALL_HALF[2]])
        self.sim.set_pose(self.wall, self.wall_center)
        self.goal = GOAL + self._uniform(-GOAL_NOISE, GOAL_NOISE)
        self.sim.set_pose(self._marker, self.goal)
        return START + self._uniform(-START_NOISE, START_NOISE)

    def _reset_tracking(self) -> None:
        self._prev_x = float(self.ee_pos[0])
        self._side = NO_MODE

    def _track(self) -> None:
        ee = self.ee_pos
        if self._side == NO_MODE and self._prev_x < self.wall_center[0] <= ee[0]:
            self._side = "left" if ee[1] > self.wall_center[1] else "right"
        self._prev_x = float(ee[0])

    def _executed_mode(self) -> str:
        return self._side

    def _distance(self) -> float:
        return float(np.linalg.norm(self.ee_pos - self.goal))

    def _task_obs(self) -> list[np.ndarray]:
        return [self.wall_center, self.goal]

    def _success(self) -> bool:
        return self._distance() < SUCCESS_DISTANCE

    def _failure(self) -> bool:
        return self.sim.touching(self.robot.uid, self.wall)

    def _reward(self) -> float:
        return -self._distance()

    def _expert_action(self) -> np.ndarray:
        side = 1 if self.expert_mode == "left" else -1
        return detour_action(self.ee_pos, self.goal, self.wall_center, WALL_HALF, side)
