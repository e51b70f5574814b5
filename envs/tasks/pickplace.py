"""PandaPickPlace: two identical cubes on the table; pick either and set it down on the target.

The expert picks one of the two at random and sticks to it in a way the observation shows (see
:meth:`PandaPickPlaceEnv.target_cube`).  The executed mode is the cube that was lifted first (its centre
raised 4 cm above its resting height); success needs a cube within 3 cm of the target and out of the gripper.
"""

from __future__ import annotations

import numpy as np
from robo_flows_envs.experts.pickplace import pickplace_action
from robo_flows_envs.sim import Sim
from robo_flows_envs.tasks.base import NO_MODE, PandaTaskEnv
from robo_flows_envs.tasks.push import body_parts

CUBE_HALF = 0.02
CUBE_MASS = 0.1
SUCCESS_DISTANCE = 0.03
LIFT_HEIGHT = 0.04
PLACE_LOW, PLACE_HIGH = np.array([0.38, -0.2]), np.array([0.62, 0.2])
MIN_SEPARATION = 0.1
START = np.array([0.4, 0.0, 0.2])
START_NOISE = 0.02
N_CUBES = 2
NEAR_XY = 0.03  # m: within this horizontal distance of a cube the expert works on the nearest cube
MOVING_SPEED = 0.1  # m/s: a horizontal EE speed above this shows which cube the EE is heading for


class PandaPickPlaceEnv(PandaTaskEnv):
    """Observation ``ee_pos, ee_vel, finger_width, cube_0_{pos,quat,linvel,angvel}, cube_1_..., goal,
    cube_0_from_ee, cube_1_from_ee, goal_from_cube_0, goal_from_cube_1, cube_0_committed, cube_1_committed``
    (the differences ``cube_i_pos - ee_pos`` and ``goal - cube_i_pos``: the millimetre alignments the task
    needs, given directly; ``cube_i_committed``: 1 where :meth:`committed_cube` is ``i``, a function of the
    observed state spelled out so that a policy need not learn its argmax); reward
    ``-min_i |cube_i - goal|``."""

    task_parts = {
        **body_parts("cube_0"),
        **body_parts("cube_1"),
        "goal": 3,
        **{f"cube_{i}_from_ee": 3 for i in range(N_CUBES)},
        **{f"goal_from_cube_{i}": 3 for i in range(N_CUBES)},
        **{f"cube_{i}_committed": 1 for i in range(N_CUBES)},
    }
    mode_names = ("cube_0", "cube_1")
    scene_footprints = {f"cube_{i}_pos": (CUBE_HALF, CUBE_HALF) for i in range(N_CUBES)}
    start_finger_width = 0.08

    def _build(self, sim: Sim) -> None:
        colours = ((0.2, 0.4, 0.9, 1.0), (0.9, 0.6, 0.1, 1.0))
        self.cubes = [
            sim.box((CUBE_HALF,) * 3, (0.5, 0.1 * i, CUBE_HALF), CUBE_MASS, c) for i, c in enumerate(colours)
        ]
        self.goal = np.array([0.5, 0.0, CUBE_HALF])
        self._marker = sim.marker(0.02, self.goal, (0.1, 0.8, 0.1, 0.6))

    def _sample_episode(self) -> np.ndarray:
        points: list[np.ndarray] = []
        while len(points) < N_CUBES + 1:  # two cubes and the goal, pairwise apart (rejection sampling)
            xy = self._uniform(PLACE_LOW, PLACE_HIGH)
            if all(np.linalg.norm(xy - q) >= MIN_SEPARATION for q in points):
                points.append(xy)
        for uid, xy in zip(self.cubes, points, strict=False):
            self.sim.set_pose(uid, (*xy, CUBE_HALF))
        self.goal = np.array([*points[-1], CUBE_HALF])
        self.sim.set_pose(self._marker, self.goal)
        return START + self._uniform(-START_NOISE, START_NOISE, 3)

    def _read_objects(self) -> None:
        self.cube_states = [self.sim.body_state(uid) for uid in self.cubes]
        self.cube_distances = self._distances()  # shared by success and reward

    def _reset_tracking(self) -> None:
        self._lifted = NO_MODE

    def _track(self) -> None:
        if self._lifted == NO_MODE:
            for name, state in zip(self.mode_names, self.cube_states, strict=True):
                if state[2] > CUBE_HALF + LIFT_HEIGHT:
                    self._lifted = name
                    break

    def _executed_mode(self) -> str:
        return self._lifted

    def _distances(self) -> np.ndarray:
        return np.array([np.linalg.norm(s[:3] - self.goal) for s in self.cube_states])

    def _task_obs(self) -> list[np.ndarray]:
        cubes = [s[:3] for s in self.cube_states]
        committed = self.committed_cube()
        return [
            *self.cube_states,
            self.goal,
            *(c - self.ee_pos for c in cubes),
            *(self.goal - c for c in cubes),
            *(np.array([float(i == committed)]) for i in range(N_CUBES)),
        ]

    def _success(self) -> bool:
        return any(
            d < SUCCESS_DISTANCE and not self.sim.touching(self.robot.uid, uid)
            for d, uid in zip(self.cube_distances, self.cubes, strict=True)
        )

    def _reward(self) -> float:
        return -float(self.cube_distances.min())

    def committed_cube(self) -> int | None:
        """Index of the cube the observed state commits the expert to, or None (at rest away from the cubes).

        Near a cube (horizontally within ``NEAR_XY`` of one: aligning, grasping, carrying, releasing): the
        cube nearest the EE in 3-D.  Away from the cubes and moving (horizontal speed above
        ``MOVING_SPEED``): the cube the EE is heading for, ``argmax_i cos(ee_vel_xy, cube_i_xy - ee_xy)``."""
        cubes = np.array([s[:3] for s in self.cube_states])
        offsets = cubes - self.ee_pos
        horizontal = np.linalg.norm(offsets[:, :2], axis=1)
        if horizontal.min() < NEAR_XY:
            return int(np.argmin(np.linalg.norm(offsets, axis=1)))
        velocity = self.ee_vel[:2]
        speed = float(np.linalg.norm(velocity))
        if speed > MOVING_SPEED:
            return int(np.argmax(offsets[:, :2] @ velocity / (horizontal * speed)))
        return None

    def target_cube(self) -> int:
        """Index of the cube the expert works on: :meth:`committed_cube`, and where the state commits to none
        (the start) the hidden random draw ``expert_mode`` -- the task's bimodality, which the motion shows
        from the first step on."""
        committed = self.committed_cube()
        return self.mode_names.index(self.expert_mode) if committed is None else committed

    def _expert_action(self) -> np.ndarray:
        cube = self.cube_states[self.target_cube()]
        return pickplace_action(self.ee_pos, self.finger_width, cube[:3], 2 * CUBE_HALF, self.goal)
