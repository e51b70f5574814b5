"""``GraspPicker``: pick the object of a ``PandaPickObject`` env with the best reachable proposed grasp.

A *proposer* turns the scene into candidate grasps: ``propose(env, rng) -> (R [n,3,3], t [n,3], score [n])``,
TCP poses in the world frame (``grasp_sim.gripper`` convention), higher score = better.  The picker keeps
the candidates the arm can take (``env.reachable``: inverse kinematics and collision checks in the simulator,
at the grasp and on the approach), executes the best one by score, and drives the arm through the phases

1. *pre-grasp*: the TCP to ``PREGRASP`` metres back along the grasp's approach axis, hand open;
2. *approach*: along the approach axis onto the grasp pose, slowly;
3. *close*: the fingers close for ``CLOSE_PERIODS`` periods, the arm holding still;
4. *lift*: straight up by ``LIFT`` metres, then hold.

Proposers: :func:`cloud_proposer` (any grasp sampler of a point cloud, e.g. a point-cloud ``GraspFlow``,
given the depth camera's view only) and :func:`antipodal_proposer` (the non-learned baseline: antipodal
candidates cast on the object's true shape at its true pose, in random order).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pybullet as p
import torch
from robo_flows_envs.grasp_sim.antipodal import antipodal_grasps
from robo_flows_envs.grasp_sim.evaluator import GraspEvaluator
from robo_flows_envs.grasp_sim.gripper import check_poses
from robo_flows_envs.tasks.base import MAX_EE_STEP
from robo_flows_envs.tasks.pick_object import EE_FROM_TCP, MAX_ROT_STEP

from robo_flows.errors import EnvError
from robo_flows.geometry.so3 import log_map

PREGRASP = 0.10
LIFT = 0.15
CLOSE_PERIODS = 10
CANDIDATES = 64
APPROACH_SPEED = 0.3  # fraction of the full EE speed on the approach
TOLERANCE = (0.004, np.deg2rad(3.0))  # m, rad: a waypoint is reached within this
PHASE_PERIODS = 40  # a phase ends after at most this many periods (the hand may be blocked)

Proposal = tuple[np.ndarray, np.ndarray, np.ndarray]
Proposer = Callable[[object, np.random.Generator], Proposal]


def cloud_proposer(sample: Callable[[np.ndarray], Proposal]) -> Proposer:
    """A proposer from a point-cloud grasp sampler: ``sample(points [N,3] world frame) -> (R, t, score)``
    in the same frame; the cloud is the env's depth camera view (``env.object_cloud``)."""

    def propose(env, rng: np.random.Generator) -> Proposal:
        return sample(env.unwrapped.object_cloud(rng))

    return propose


class antipodal_proposer:  # noqa: N801  (a callable with a simulator to close, used like a function)
    """The baseline proposer: ``CANDIDATES`` antipodal grasps (``antipodal.antipodal_grasps``) cast on the
    object's true shape in its own simulator, moved to its true pose; all scored 0 (random order)."""

    def __init__(self, candidates: int = CANDIDATES) -> None:
        self.candidates = candidates
        self._evaluator: GraspEvaluator | None = None

    def __call__(self, env, rng: np.random.Generator) -> Proposal:
        env = env.unwrapped
        if self._evaluator is None:
            self._evaluator = GraspEvaluator()
        R, t = antipodal_grasps(self._evaluator, env.current, rng, self.candidates, collision_free=True)
        Rw, pw = env.object_pose()
        return Rw @ R, t @ Rw.T + pw, np.zeros(len(R))

    def close(self) -> None:
        if self._evaluator is not None:
            self._evaluator.close()
            self._evaluator = None


class GraspPicker:
    """Plans a grasp for the current episode (:meth:`plan`) and returns the actions executing it
    (:meth:`act`), from the env's state.  ``grasp`` is the chosen (R, t) or None when no candidate was
    reachable (the picker then keeps the hand still and open)."""

    def __init__(self, propose: Proposer, candidates: int = CANDIDATES) -> None:
        self.propose = propose
        self.candidates = candidates
        self.grasp: tuple[np.ndarray, np.ndarray] | None = None
        self.checked = 0

    def close(self) -> None:
        close = getattr(self.propose, "close", None)
        if close is not None:
            close()

    def plan(self, env, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray] | None:
        """Propose (from ``rng``), keep the reachable candidates, choose the best by score: the grasp, or
        None when none of the best ``candidates`` is reachable.  ``checked`` counts the candidates tried."""
        env = env.unwrapped
        R, t, score = self.propose(env, rng)
        R, t = check_poses(R, t)
        order = np.argsort(-np.asarray(score), kind="stable")[: self.candidates]
        self.grasp, self.checked = None, 0
        for i in order:  # best first: the first reachable one is the best reachable one
            self.checked += 1
            if env.reachable(R[i][None], t[i][None], PREGRASP)[0]:
                self.grasp = (R[i], t[i])
                break
        self._phase, self._periods = 0, 0
        return self.grasp

    def _waypoints(self) -> list[tuple[np.ndarray, float, float]]:
        """(TCP position, gripper command, speed) of each phase."""
        R, t = self.grasp
        z = R[:, 2]
        lift = t + np.array([0.0, 0.0, LIFT])
        return [(t - PREGRASP * z, 1.0, 1.0), (t, 1.0, APPROACH_SPEED), (t, -1.0, 0.0), (lift, -1.0, 1.0)]

    def act(self, env) -> np.ndarray:
        """The action [7] for the env's current state (plan first)."""
        env = env.unwrapped
        if self.grasp is None:
            return np.array([0, 0, 0, 0, 0, 0, 1.0], dtype=np.float32)
        R, _ = self.grasp
        waypoints = self._waypoints()
        target, grip, speed = waypoints[min(self._phase, len(waypoints) - 1)]
        ee = np.asarray(env.ee_pos)
        current = np.asarray(p.getMatrixFromQuaternion(env.ee_quat)).reshape(3, 3)
        goal = target + EE_FROM_TCP * R[:, 2]
        error = goal - ee
        turn = log_map(torch.from_numpy(R @ current.T)).numpy()
        self._periods += 1
        reached = np.linalg.norm(error) < TOLERANCE[0] and np.linalg.norm(turn) < TOLERANCE[1]
        if self._phase == 2:  # closing: a fixed number of periods
            advance = self._periods >= CLOSE_PERIODS
        else:  # moving: on reaching the waypoint, or when blocked for too long; the last phase holds
            advance = self._phase < len(waypoints) - 1 and (reached or self._periods >= PHASE_PERIODS)
        if advance:
            self._phase, self._periods = self._phase + 1, 0
        move = np.clip(error / MAX_EE_STEP, -speed, speed) if speed > 0 else np.zeros(3)
        rotate = np.clip(turn / MAX_ROT_STEP, -1.0, 1.0)
        return np.array([*move, *rotate, grip], dtype=np.float32)


def pick_episode(env, picker: GraspPicker, seed: int, frames: list | None = None) -> dict:
    """One episode of ``env`` (a ``PandaPickObject`` env) reset with ``seed``, executed by ``picker``
    (planned from a generator seeded by ``seed``).  Appends ``env.render()`` frames to ``frames`` when given.
    Returns {"seed", "object", "success", "grasp_found", "candidates_checked", "steps", "error"}: an
    episode whose planning fails (``EnvError``, e.g. the camera saw nothing of the object) is a failure
    with no step taken and the error's message."""
    env.reset(seed=seed)
    error = None
    try:
        picker.plan(env, np.random.default_rng(seed))
    except EnvError as exc:
        picker.grasp, error = None, str(exc)
    info, steps, done = {"is_success": False}, 0, picker.grasp is None
    while not done:
        if frames is not None:
            frames.append(env.render())
        _, _, terminated, truncated, info = env.step(picker.act(env))
        steps += 1
        done = terminated or truncated
    return {
        "seed": seed,
        "object": env.unwrapped.current.spec,
        "success": bool(info["is_success"]),
        "grasp_found": picker.grasp is not None,
        "candidates_checked": picker.checked,
        "steps": steps,
        "error": error,
    }
