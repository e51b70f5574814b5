"""Simulated grasp trials with a floating Panda hand in PyBullet, one DIRECT client per evaluator.

A trial of grasp (R, t) — the TCP pose in the object frame (see ``gripper``) — on an object resting at the
world origin with identity orientation, free and dynamic but weightless until the lift:

1. *Pre-grasp and approach*: the open hand is swept along its approach axis z = R[:, 2] from the
   pre-grasp pose (TCP at t − ``pregrasp``·z) to the grasp pose, checked for contact with the object at
   ``approach_steps`` + 1 evenly spaced poses. Any contact — at the pre-grasp pose or on the way in —
   fails the trial (the hand would have knocked the object).
2. *Close*: both fingers, coupled by a gear constraint like the Panda's, close under force control
   (``finger_force`` newtons per finger); a light object is centred between them as they close.
3. *Lift and shake*: gravity is switched on; the hand, held by a fixed constraint of bounded force that
   follows its target with a lag of a few steps, lifts ``lift_height`` along world +z with a smooth
   profile, then shakes for one sinusoidal period: a translation along a random horizontal direction
   and a rotation about a random axis (drawn from ``seed`` and the grasp's index).
4. *Success*: the object still touches both fingers.

Each trial starts from a saved simulator state (``restoreState``), so outcomes do not depend on which
trials ran before; the same (object, grasp, seed, index) always gives the same outcome.
"""

from __future__ import annotations

import multiprocessing
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np
import pybullet
import torch
from pybullet_utils.bullet_client import BulletClient
from robo_flows_envs.grasp_sim.gripper import MAX_OPENING, check_poses, hand_pose
from robo_flows_envs.grasp_sim.hand_urdf import hand_urdf
from robo_flows_envs.grasp_sim.meshes import MeshObject, mesh_urdf_path
from robo_flows_envs.grasp_sim.objects import Primitive, parse_object_spec

from robo_flows.geometry.so3 import matrix_to_quaternion

Job = TypeVar("Job")
Result = TypeVar("Result")
GRAVITY = 9.81
_PARK = (0.0, 0.0, 2.0)


def pybullet_quaternion(R: np.ndarray) -> tuple[float, float, float, float]:
    """PyBullet's (x, y, z, w) quaternion of a rotation R [3, 3]; the one place the xyzw order appears.

    The quaternion is ``robo_flows.geometry.so3.matrix_to_quaternion`` (w, x, y, z, w >= 0), reordered.
    """
    w, x, y, z = matrix_to_quaternion(torch.as_tensor(R, dtype=torch.float64)).tolist()
    return (x, y, z, w)


@dataclass(frozen=True)
class TrialConfig:
    """Physics and timeline of a grasp trial (SI units; step counts at ``timestep``).

    The defaults make the analytic grasp sets succeed in ≥ 97% of trials while a 12 mm / 20° perturbation
    of them succeeds in about half (see docs/grasps.md). Contact at the fingers uses ``friction``
    (Coulomb μ) and ``spinning_friction`` (torsional, metres); objects get ``object_density``.
    """

    timestep: float = 1.0 / 240.0
    solver_iterations: int = 50
    pregrasp: float = 0.1
    approach_steps: int = 15
    close_steps: int = 32
    lift_steps: int = 25
    shake_steps: int = 40
    lift_height: float = 0.1
    shake_translation: float = 0.03
    shake_angle_deg: float = 15.0
    finger_force: float = 40.0
    finger_speed: float = 0.4
    finger_coupling_force: float = 1000.0
    hand_force: float = 500.0
    friction: float = 1.0
    spinning_friction: float = 0.003
    object_density: float = 400.0
    min_object_mass: float = 0.05
    mesh_object_mass: float = 0.15

    def __post_init__(self) -> None:
        for name in ("timestep", "finger_force", "hand_force", "friction", "object_density", "pregrasp"):
            if not getattr(self, name) > 0:
                raise ValueError(f"TrialConfig.{name} must be > 0, got {getattr(self, name)}")
        for name in ("approach_steps", "close_steps", "lift_steps", "shake_steps"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"TrialConfig.{name} must be a step count >= 1, got {getattr(self, name)}")
        if self.solver_iterations < 50:
            raise ValueError(
                f"TrialConfig.solver_iterations must be >= 50 (PyBullet drops the finger coupling below), "
                f"got {self.solver_iterations}"
            )


GraspObject = Primitive | MeshObject | str
"""What a trial grasps: a primitive, a mesh file at a scale, a primitive spec ``"box:…"`` or a mesh name."""


def resolve_object(obj: GraspObject) -> Primitive | MeshObject | str:
    """A Primitive for primitives and primitive specs (``"box:…"``), a MeshObject as it is, a mesh name
    (its pybullet_data URDF at the file's scale) otherwise."""
    if isinstance(obj, Primitive | MeshObject):
        return obj
    if not isinstance(obj, str):
        raise ValueError(f"object must be a Primitive or a string, got {type(obj).__name__}")
    if ":" in obj:
        return parse_object_spec(obj)
    mesh_urdf_path(obj)  # raises ValueError for unknown names
    return obj


class GraspEvaluator:
    """Runs grasp trials (module docstring) in its own PyBullet DIRECT client. Not thread safe.

    ``evaluate(obj, R [N,3,3], t [N,3], seed) -> bool [N]``. Keep one evaluator per process and reuse
    it: the hand is loaded once, and the object only when it changes.
    """

    def __init__(self, config: TrialConfig | None = None) -> None:
        self.config = config or TrialConfig()
        self._p = BulletClient(connection_mode=pybullet.DIRECT)
        p, c = self._p, self.config
        p.setPhysicsEngineParameter(fixedTimeStep=c.timestep, numSolverIterations=c.solver_iterations)
        with tempfile.NamedTemporaryFile("w", suffix=".urdf") as f:
            f.write(hand_urdf())
            f.flush()
            self.hand = p.loadURDF(f.name, _PARK, useFixedBase=False)
        self.fingers = (0, 1)
        for link in (-1, *self.fingers):
            p.changeDynamics(
                self.hand,
                link,
                lateralFriction=c.friction,
                spinningFriction=c.spinning_friction,
                linearDamping=0.0,
                angularDamping=0.0,
            )
        # The Panda's fingers are coupled (one mimics the other): a gear constraint keeps q_left = q_right.
        gear = p.createConstraint(self.hand, 0, self.hand, 1, p.JOINT_GEAR, (0, 1, 0), (0, 0, 0), (0, 0, 0))
        p.changeConstraint(gear, gearRatio=-1, erp=0.8, maxForce=c.finger_coupling_force)
        self._hold = p.createConstraint(self.hand, -1, -1, -1, p.JOINT_FIXED, (0, 0, 0), (0, 0, 0), _PARK)
        self._object_key: Primitive | MeshObject | str | None = None
        self._object = -1
        self._state = -1

    def close(self) -> None:
        """Disconnect the simulator."""
        if self._p is not None:
            self._p.disconnect()
            self._p = None

    def __enter__(self) -> GraspEvaluator:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def client(self) -> BulletClient:
        """The PyBullet client (for rendering and ray casts on the loaded scene)."""
        return self._p

    def load(self, obj: GraspObject) -> int:
        """Put ``obj`` at the origin (replacing any other object), the open hand parked out of the way.

        The scene is left in the trial's start state (saved on the object's first load, restored after),
        so ray casts and renders see the object alone. Returns the object's body id.
        """
        key = resolve_object(obj)
        if key == self._object_key:
            self._restore_scene()
            return self._object
        p, c = self._p, self.config
        if self._object >= 0:
            p.removeBody(self._object)
            p.removeState(self._state)
        if isinstance(key, Primitive):
            self._object = self._create_primitive(key)
        else:
            if isinstance(key, MeshObject):
                shape = {"fileName": key.mesh_file, "meshScale": [key.scale] * 3}
                self._object = p.createMultiBody(
                    c.mesh_object_mass,
                    p.createCollisionShape(p.GEOM_MESH, **shape),
                    p.createVisualShape(p.GEOM_MESH, **shape),
                    (0, 0, 0),
                    (0, 0, 0, 1),
                )
            else:
                self._object = p.loadURDF(mesh_urdf_path(key), (0, 0, 0))
            # Mesh files carry no (or placeholder, 1 kg·m²) inertias: use a solid box of the object's
            # bounding box and mesh_object_mass, I_x = m (b² + c²) / 12 etc.
            lo, hi = p.getAABB(self._object)
            sq = np.square(np.subtract(hi, lo))
            inertia = c.mesh_object_mass / 12 * (sq.sum() - sq)
            p.changeDynamics(self._object, -1, mass=c.mesh_object_mass, localInertiaDiagonal=inertia.tolist())
        p.changeDynamics(
            self._object,
            -1,
            lateralFriction=c.friction,
            spinningFriction=c.spinning_friction,
            rollingFriction=0.0,
            linearDamping=0.0,
            angularDamping=0.0,
        )
        p.resetBasePositionAndOrientation(self.hand, _PARK, (0, 0, 0, 1))
        p.changeConstraint(self._hold, _PARK, (0, 0, 0, 1), maxForce=c.hand_force)
        for j in self.fingers:
            p.resetJointState(self.hand, j, MAX_OPENING / 2)
            p.setJointMotorControl2(self.hand, j, p.VELOCITY_CONTROL, targetVelocity=0, force=0)
        self._state = p.saveState()
        self._object_key = key
        # Collision detection initialises the meshes' convex-hull features, which ray casts then use; run
        # it now so that casts on a fresh object and on a restored one agree.
        p.performCollisionDetection()
        return self._object

    def _create_primitive(self, prim: Primitive) -> int:
        p, c = self._p, self.config
        if prim.kind == "box":
            shape = p.createCollisionShape(p.GEOM_BOX, halfExtents=[d / 2 for d in prim.dims])
        elif prim.kind == "cylinder":
            shape = p.createCollisionShape(p.GEOM_CYLINDER, radius=prim.dims[0], height=prim.dims[1])
        else:
            shape = p.createCollisionShape(p.GEOM_SPHERE, radius=prim.dims[0])
        mass = max(c.object_density * prim.volume(), c.min_object_mass)
        return p.createMultiBody(mass, shape, -1, (0, 0, 0), (0, 0, 0, 1))

    def evaluate(self, obj: GraspObject, R: np.ndarray, t: np.ndarray, seed: int) -> np.ndarray:
        """Success of each grasp (R [N,3,3], t [N,3], object frame) on ``obj``: bool [N].

        Deterministic: the same (obj, R[i], t[i], seed, i) gives the same outcome whatever ran before.
        """
        R, t = check_poses(R, t)
        self.load(obj)
        outcomes = [self._trial(R[i], t[i], np.random.default_rng([seed, i])) for i in range(len(R))]
        return np.array(outcomes, dtype=bool)

    def in_collision(self, obj: GraspObject, R: np.ndarray, t: np.ndarray) -> bool:
        """Whether the open hand with its TCP at (R [3,3], t [3]) touches ``obj`` (no stepping)."""
        R, t = check_poses(R[None], t[None])
        self.load(obj)
        touching = self._touching(R[0], t[0], pybullet_quaternion(R[0]))
        self._restore_scene()
        return touching

    def approach_clear(self, obj: GraspObject, R: np.ndarray, t: np.ndarray) -> np.ndarray:
        """Whether each grasp's approach sweep (trial step 1) is free of contact with ``obj``: bool [N]."""
        R, t = check_poses(R, t)
        self.load(obj)
        clear = np.array([self._path_clear(Ri, ti) for Ri, ti in zip(R, t, strict=True)], dtype=bool)
        self._restore_scene()
        return clear

    def _path_clear(self, R: np.ndarray, t: np.ndarray, q: tuple[float, ...] | None = None) -> bool:
        """Sweep the open hand from the pre-grasp to the grasp pose; False at the first contact.  ``q``: R as
        a PyBullet quaternion (converted once per sweep when not given: it costs more than a query)."""
        c, q = self.config, pybullet_quaternion(R) if q is None else q
        return not any(
            self._touching(R, t - back * R[:, 2], q)
            for back in np.linspace(c.pregrasp, 0.0, c.approach_steps + 1)
        )

    def _touching(self, R: np.ndarray, t: np.ndarray, q: tuple[float, ...]) -> bool:
        """Place the open hand's TCP at (R, t) (``q``: R as a PyBullet quaternion) and report any contact
        with the object (no stepping)."""
        self.place(R, t, q)
        return len(self._p.getClosestPoints(self.hand, self._object, 0.0)) > 0

    def _restore_scene(self) -> None:
        """Start state, with collision data refreshed (restoreState leaves stale data for ray casts)."""
        self._reset()
        self._p.performCollisionDetection()

    def _reset(self) -> None:
        """Back to the saved start state; motor settings are not part of it, so re-command open fingers."""
        p = self._p
        p.restoreState(self._state)
        for j in self.fingers:
            p.setJointMotorControl2(
                self.hand,
                j,
                p.POSITION_CONTROL,
                targetPosition=MAX_OPENING / 2,
                force=self.config.finger_force,
            )

    def place(self, R: np.ndarray, t: np.ndarray, q: tuple[float, ...] | None = None) -> None:
        """Teleport the hand (and its constraint target) so its TCP is at (R, t); ``q`` is R as a PyBullet
        quaternion when the caller has it."""
        _, pos = hand_pose(R, t)
        q = pybullet_quaternion(R) if q is None else q
        self._p.resetBasePositionAndOrientation(self.hand, pos, q)
        self._p.changeConstraint(self._hold, pos, q, maxForce=self.config.hand_force)

    def _drive(self, pos: np.ndarray, orn: np.ndarray) -> None:
        self._p.changeConstraint(self._hold, pos, orn, maxForce=self.config.hand_force)
        self._p.stepSimulation()

    def _trial(self, R: np.ndarray, t: np.ndarray, rng: np.random.Generator) -> bool:
        p, c = self._p, self.config
        self._reset()
        q = pybullet_quaternion(R)
        if not self._path_clear(R, t, q):
            return False
        p.setGravity(0, 0, 0)
        _, goal = hand_pose(R, t)
        for j in self.fingers:
            p.setJointMotorControl2(
                self.hand,
                j,
                p.POSITION_CONTROL,
                targetPosition=0.0,
                force=c.finger_force,
                maxVelocity=c.finger_speed,
            )
        for _ in range(c.close_steps):
            self._drive(goal, q)
        p.setGravity(0, 0, -GRAVITY)
        hand_now = np.asarray(p.getBasePositionAndOrientation(self.hand)[0])
        up = np.array([0.0, 0.0, c.lift_height])
        for s in _smooth(c.lift_steps):
            self._drive(hand_now + s * up, q)
        lifted = hand_now + up
        heading = rng.uniform(0, 2 * np.pi)
        shift = c.shake_translation * np.array([np.cos(heading), np.sin(heading), 0.0])
        axis = rng.normal(size=3)
        for s in np.sin(np.linspace(0, 2 * np.pi, c.shake_steps + 1)[1:]):
            turn = p.getQuaternionFromAxisAngle(axis, s * np.deg2rad(c.shake_angle_deg))
            self._drive(lifted + s * shift, p.multiplyTransforms((0, 0, 0), turn, (0, 0, 0), q)[1])
        return all(len(p.getContactPoints(self.hand, self._object, j, -1)) > 0 for j in self.fingers)


def _smooth(steps: int) -> np.ndarray:
    """Fractions 0 → 1 of a smooth (cosine) profile at ``steps`` steps, the start excluded."""
    return 0.5 - 0.5 * np.cos(np.linspace(0, np.pi, steps + 1)[1:])


@dataclass(frozen=True)
class GraspJob:
    """A batch of grasps on one object for ``evaluate_grasps``: R [N,3,3], t [N,3] in the object frame."""

    obj: GraspObject
    R: np.ndarray
    t: np.ndarray
    seed: int
    config: TrialConfig = field(default_factory=TrialConfig)


_process_evaluators: dict[TrialConfig, GraspEvaluator] = {}
"""This process's evaluators, one per trial config (a pool worker keeps them for its lifetime)."""


def process_evaluator(config: TrialConfig) -> GraspEvaluator:
    """This process's evaluator for ``config``, created on first use."""
    if config not in _process_evaluators:
        _process_evaluators[config] = GraspEvaluator(config)
    return _process_evaluators[config]


def _run_job(job: GraspJob) -> np.ndarray:
    return process_evaluator(job.config).evaluate(job.obj, job.R, job.t, job.seed)


def run_in_workers(
    fn: Callable[[Job], Result],
    jobs: Sequence[Job],
    workers: int = 1,
    progress: Callable[[int], object] | None = None,
) -> list[Result]:
    """``[fn(job) for job in jobs]`` on ``workers`` processes, in order (spawned, so safe to call from a
    process that holds threads, e.g. torch's; a calling script needs the usual ``if __name__ ==
    "__main__":`` guard).  ``fn`` (a module-level function) gets its simulator from
    :func:`process_evaluator`; in-process, the evaluators it made are closed at the end.

    ``progress``: optional callable taking the number of jobs just finished (e.g. a tqdm ``update``).
    """
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    out: list[Result] = []
    if workers == 1 or len(jobs) <= 1:
        before = set(_process_evaluators)
        try:
            for job in jobs:
                out.append(fn(job))
                if progress is not None:
                    progress(1)
        finally:
            for config in set(_process_evaluators) - before:
                _process_evaluators.pop(config).close()
        return out
    with multiprocessing.get_context("spawn").Pool(min(workers, len(jobs))) as pool:
        for res in pool.imap(fn, jobs, chunksize=1):
            out.append(res)
            if progress is not None:
                progress(1)
    return out


def evaluate_grasps(
    jobs: Sequence[GraspJob], workers: int = 1, progress: Callable[[int], object] | None = None
) -> list[np.ndarray]:
    """Success arrays (bool [N_i]) of ``jobs``, in order, on ``workers`` processes (:func:`run_in_workers`).
    Results equal a single-process run's."""
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    for job in jobs:
        check_poses(job.R, job.t)
        resolve_object(job.obj)
    return run_in_workers(_run_job, jobs, workers, progress)
