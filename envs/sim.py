"""One headless PyBullet physics client per environment, and the static bodies every task shares.

Each env owns its own ``p.connect(p.DIRECT)`` client id and passes it to every call, so many envs live in one
process (and in gymnasium's async vector envs) without touching pybullet's global default client.

Time: one control period of ``CONTROL_PERIOD = 0.04 s`` (as panda-gym) is ``substeps`` physics steps of
``timestep`` seconds each, ``timestep * substeps = CONTROL_PERIOD``; the default is ``SUBSTEPS = 4`` steps of
``PHYSICS_DT = 10 ms`` (panda-gym: 20 steps of 2 ms).  The control period is the task's, not the physics':
actions move the EE at most 5 cm per 0.04 s whatever the physics resolution, so episodes, time limits and
demonstrations mean the same at every setting.  Frames: world z is up, the table top is the plane z = 0, the
robot base sits at the origin and the workspace lies at x > 0.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pybullet as p

from robo_flows.errors import EnvError

CONTROL_PERIOD = 0.04
SUBSTEPS = 4
PHYSICS_DT = CONTROL_PERIOD / SUBSTEPS
SOLVER_ITERATIONS = 30
GRAVITY = -9.81

# table top z = 0, extends from behind the robot base to well past the workspace
TABLE_HALF_EXTENTS = (0.65, 0.6, 0.02)
TABLE_CENTER = (0.45, 0.0, -0.02)
PERIOD_TOLERANCE = 1e-9  # s: how closely timestep * substeps must give the control period


def physics_settings(timestep: float | None = None, substeps: int | None = None) -> tuple[float, int]:
    """Validated ``(timestep, substeps)`` with ``timestep * substeps == CONTROL_PERIOD`` (within 1e-9 s).

    Either may be left out and follows from the other (``substeps = 20`` gives 2 ms steps; ``timestep =
    0.002`` gives 20 substeps); both left out give the default 4 x 10 ms.  Raises ``EnvError`` for a
    non-positive or non-finite timestep, a substep count that is not a positive int, or a product that is not
    the control period."""
    if substeps is not None and (
        isinstance(substeps, bool) or not isinstance(substeps, int | np.integer) or substeps < 1
    ):
        raise EnvError(f"physics_substeps must be a positive int, got {substeps!r}")
    if timestep is not None:
        if isinstance(timestep, bool) or not isinstance(timestep, int | float | np.floating | np.integer):
            raise EnvError(f"physics_timestep must be a number of seconds, got {timestep!r}")
        if not math.isfinite(timestep) or timestep <= 0.0:
            raise EnvError(f"physics_timestep must be a finite number of seconds > 0, got {timestep!r}")
    if timestep is None and substeps is None:
        return PHYSICS_DT, SUBSTEPS
    if timestep is None:
        return CONTROL_PERIOD / int(substeps), int(substeps)
    n = int(substeps) if substeps is not None else max(1, round(CONTROL_PERIOD / float(timestep)))
    if abs(float(timestep) * n - CONTROL_PERIOD) > PERIOD_TOLERANCE:
        raise EnvError(
            f"physics_timestep * physics_substeps must equal the control period {CONTROL_PERIOD} s, got "
            f"{timestep} * {n} = {float(timestep) * n:.9g} s "
            "(e.g. physics_timestep=0.002, physics_substeps=20)"
        )
    return float(timestep), n


class Sim:
    """A DIRECT-mode physics client with the task's fixed settings; ``close()`` disconnects it.

    ``timestep`` / ``substeps``: the physics step (s) and the steps per control period, validated by
    :func:`physics_settings`."""

    def __init__(self, timestep: float | None = None, substeps: int | None = None) -> None:
        self.timestep, self.substeps = physics_settings(timestep, substeps)
        self.cid: int = p.connect(p.DIRECT)
        if self.cid < 0:
            raise RuntimeError("pybullet could not open a DIRECT physics client")
        p.setPhysicsEngineParameter(
            fixedTimeStep=self.timestep,
            numSolverIterations=SOLVER_ITERATIONS,
            deterministicOverlappingPairs=1,
            physicsClientId=self.cid,
        )
        p.setGravity(0.0, 0.0, GRAVITY, physicsClientId=self.cid)
        self.free_bodies: list[int] = []  # bodies with mass, whose contacts ``forget_contacts`` clears
        self.table = self.box(TABLE_HALF_EXTENTS, TABLE_CENTER, mass=0.0, rgba=(0.82, 0.74, 0.62, 1.0))

    def step(self) -> None:
        """Advance one control period (``substeps`` physics steps)."""
        for _ in range(self.substeps):
            p.stepSimulation(physicsClientId=self.cid)

    def box(
        self,
        half_extents: Sequence[float],
        position: Sequence[float],
        mass: float,
        rgba: Sequence[float],
        friction: float = 1.0,
    ) -> int:
        """A box body with collision; ``mass = 0`` makes it static.  Returns the body id."""
        col = p.createCollisionShape(p.GEOM_BOX, halfExtents=half_extents, physicsClientId=self.cid)
        vis = p.createVisualShape(
            p.GEOM_BOX, halfExtents=half_extents, rgbaColor=rgba, physicsClientId=self.cid
        )
        uid = p.createMultiBody(mass, col, vis, basePosition=position, physicsClientId=self.cid)
        p.changeDynamics(uid, -1, lateralFriction=friction, physicsClientId=self.cid)
        if mass > 0.0:
            self.free_bodies.append(uid)
        return uid

    def marker(self, radius: float, position: Sequence[float], rgba: Sequence[float]) -> int:
        """A visual-only sphere (no collision shape, never simulated): goals drawn in rendered frames."""
        vis = p.createVisualShape(p.GEOM_SPHERE, radius=radius, rgbaColor=rgba, physicsClientId=self.cid)
        return p.createMultiBody(0.0, -1, vis, basePosition=position, physicsClientId=self.cid)

    def set_pose(
        self, uid: int, position: Sequence[float], orientation: Sequence[float] = (0, 0, 0, 1)
    ) -> None:
        """Teleport a body and zero its velocity."""
        p.resetBasePositionAndOrientation(uid, position, orientation, physicsClientId=self.cid)
        p.resetBaseVelocity(uid, (0.0, 0.0, 0.0), (0.0, 0.0, 0.0), physicsClientId=self.cid)

    def body_state(self, uid: int) -> np.ndarray:
        """[13] = position (3), quaternion xyzw with w >= 0 (4), linear velocity (3), angular velocity (3)."""
        pos, quat = p.getBasePositionAndOrientation(uid, physicsClientId=self.cid)
        lin, ang = p.getBaseVelocity(uid, physicsClientId=self.cid)
        q = np.asarray(quat)
        if q[3] < 0.0:  # q and -q are the same rotation; keep one representative
            q = -q
        return np.concatenate([pos, q, lin, ang])

    def touching(self, a: int, b: int) -> bool:
        """Whether bodies ``a`` and ``b`` had a contact in the last physics step."""
        return len(p.getContactPoints(a, b, physicsClientId=self.cid)) > 0

    def forget_contacts(self) -> None:
        """Drop the cached contact manifolds (and their warm-start impulses) of every free body.

        ``restoreState`` leaves manifolds of the previous episode in place, so a cube resting on the table
        would start its next episode warm-started by its old contact.  Moving the free bodies out of every
        overlap for one collision pass destroys those manifolds; the bodies then go back unchanged."""
        poses = [p.getBasePositionAndOrientation(uid, physicsClientId=self.cid) for uid in self.free_bodies]
        for i, uid in enumerate(self.free_bodies):  # far apart, far from everything
            self.set_pose(uid, (0.0, 0.0, 100.0 + 10.0 * i))
        p.performCollisionDetection(physicsClientId=self.cid)
        for uid, (position, orientation) in zip(self.free_bodies, poses, strict=True):
            self.set_pose(uid, position, orientation)

    def save(self) -> int:
        """Snapshot of the whole world (poses, velocities, contact cache) for deterministic resets."""
        return p.saveState(physicsClientId=self.cid)

    def restore(self, state_id: int) -> None:
        p.restoreState(stateId=state_id, physicsClientId=self.cid)

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` has disconnected the client."""
        return self.cid < 0

    def close(self) -> None:
        """Disconnect the client; closing twice is harmless."""
        if self.cid >= 0 and p.isConnected(self.cid):
            p.disconnect(self.cid)
        self.cid = -1
