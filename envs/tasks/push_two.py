"""PandaPushTwo: push two cubes into two target zones, either cube into either zone, one after the other.

The cubes and zones sit on the corners of a rectangle, the cubes on one diagonal and the zones on the other,
so each cube is one straight push (along x or along y) from either zone.  The expert draws one of four orders
per episode (which cube first, and into which zone; the other cube then goes to the other zone): the
demonstrations are multimodal at the stage level, and the first stage decides the second.  The executed
mode is read from the first (cube, zone) pair to come within ``SUCCESS_DISTANCE``; success needs a cube in
each zone.
"""

from __future__ import annotations

import numpy as np
from robo_flows_envs.experts.push_two import Order, push_two_action
from robo_flows_envs.sim import Sim
from robo_flows_envs.tasks.base import NO_MODE, PandaTaskEnv
from robo_flows_envs.tasks.push import CUBE_HALF, CUBE_MASS, START, START_NOISE, SUCCESS_DISTANCE, body_parts

N_CUBES = 2
CENTRE_LOW, CENTRE_HIGH = np.array([0.5, -0.02]), np.array([0.54, 0.02])
HALF_LOW, HALF_HIGH = np.array([0.09, 0.1]), np.array([0.11, 0.13])  # rectangle half sizes (x, y), m
# modes "c{i}z{j}_c{k}z{l}": cube i into zone j first, then cube k into zone l
ORDERS: dict[str, Order] = {
    f"c{i}z{j}_c{1 - i}z{1 - j}": ((i, j), (1 - i, 1 - j)) for i in range(N_CUBES) for j in range(N_CUBES)
}


def pair_parts() -> dict[str, int]:
    """The zone-from-cube differences ``zone_{j}_from_cube_{i}`` (i-major), 3 values each."""
    return {f"zone_{j}_from_cube_{i}": 3 for i in range(N_CUBES) for j in range(N_CUBES)}


class PandaPushTwoEnv(PandaTaskEnv):
    """Observation ``ee_pos, ee_vel, finger_width, cube_0_{pos,quat,linvel,angvel}, cube_1_..., zone_0,
    zone_1, cube_0_from_ee, cube_1_from_ee, zone_{j}_from_cube_{i}`` (the differences a pusher needs to
    centimetre precision, given directly); reward ``-min over the two assignments of the summed cube-zone xy
    distances``; success when each zone has a cube within 4 cm (xy) of its centre."""

    task_parts = {
        **body_parts("cube_0"),
        **body_parts("cube_1"),
        "zone_0": 3,
        "zone_1": 3,
        **{f"cube_{i}_from_ee": 3 for i in range(N_CUBES)},
        **pair_parts(),
    }
    mode_names = tuple(ORDERS)
    scene_footprints = {f"cube_{i}_pos": (CUBE_HALF, CUBE_HALF) for i in range(N_CUBES)}
    workspace_low = np.array([0.2, -0.35, 0.01])

    def _build(self, sim: Sim) -> None:
        colours = ((0.2, 0.4, 0.9, 1.0), (0.9, 0.6, 0.1, 1.0))
        self.cubes = [
            sim.box((CUBE_HALF,) * 3, (0.5, 0.1 * i, CUBE_HALF), CUBE_MASS, c) for i, c in enumerate(colours)
        ]
        self.zones = [np.array([0.6, 0.1 * j, CUBE_HALF]) for j in range(N_CUBES)]
        self._markers = [sim.marker(0.02, z, (0.1, 0.8, 0.1, 0.6)) for z in self.zones]

    def _sample_episode(self) -> np.ndarray:
        centre = self._uniform(CENTRE_LOW, CENTRE_HIGH)
        half = self._uniform(HALF_LOW, HALF_HIGH)
        flip = 1.0 if self._uniform(0.0, 1.0) < 0.5 else -1.0  # which diagonal holds the cubes

        def corner(sx: float, sy: float) -> np.ndarray:
            return np.array([*(centre + half * (sx, sy)), CUBE_HALF])

        for uid, position in zip(self.cubes, (corner(-1, -flip), corner(1, flip)), strict=True):
            self.sim.set_pose(uid, position)
        self.zones = [corner(-1, flip), corner(1, -flip)]
        for marker, zone in zip(self._markers, self.zones, strict=True):
            self.sim.set_pose(marker, zone)
        return START + self._uniform(-START_NOISE, START_NOISE, 3)

    def _read_objects(self) -> None:
        self.cube_states = [self.sim.body_state(uid) for uid in self.cubes]
        # [cube, zone] xy distances, shared by tracking, success and reward
        self.pair_distances = np.array(
            [[np.linalg.norm(s[:2] - z[:2]) for z in self.zones] for s in self.cube_states]
        )

    def _reset_tracking(self) -> None:
        self._first_pair = NO_MODE

    def _track(self) -> None:
        if self._first_pair == NO_MODE:
            for name, ((i, j), _) in ORDERS.items():
                if self.pair_distances[i, j] < SUCCESS_DISTANCE:
                    self._first_pair = name
                    break

    def _executed_mode(self) -> str:
        return self._first_pair

    def _assignment_distances(self) -> np.ndarray:
        """[2, 2]: row a holds the cube-zone distances of assignment a (0: cube i -> zone i, 1: crossed)."""
        d = self.pair_distances
        return np.array([[d[0, 0], d[1, 1]], [d[0, 1], d[1, 0]]])

    def _task_obs(self) -> list[np.ndarray]:
        cubes = [s[:3] for s in self.cube_states]
        return [
            *self.cube_states,
            *self.zones,
            *(c - self.ee_pos for c in cubes),
            *(z - c for c in cubes for z in self.zones),
        ]

    def _success(self) -> bool:
        return bool((self._assignment_distances() < SUCCESS_DISTANCE).all(axis=1).any())

    def _reward(self) -> float:
        return -float(self._assignment_distances().sum(axis=1).min())

    def _expert_action(self) -> np.ndarray:
        cubes = [s[:3] for s in self.cube_states]
        return push_two_action(self.ee_pos, cubes, CUBE_HALF, self.zones, ORDERS[self.expert_mode])
