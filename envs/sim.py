"""One headless PyBullet physics client per environment, and the static bodies every task shares.

Each env owns its own ``p.connect(p.DIRECT)`` client id and passes it to every call, so many envs live in one
process (and in gymnasium's async vector envs) without touching pybullet's global default client.

Time: one control period of ``CONTROL_PERIOD = 0.04 s`` (as panda-gym) is ``SUBSTEPS`` physics steps of
``PHYSICS_DT`` each.  Frames: world z is up, the table top is the plane z = 0, the robot base sits at the
origin and the workspace lies at x > 0.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pybullet as p

CONTROL_PERIOD = 0.04
SUBSTEPS = 4
PHYSICS_DT = CONTROL_PERIOD / SUBSTEPS
SOLVER_ITERATIONS = 30
GRAVITY = -9.81

# table top z = 0, extends from behind the robot base to well past the workspace
TABLE_HALF_EXTENTS = (0.65, 0.6, 0.02)
TABLE_CENTER = (0.45, 0.0, -0.02)


class Sim:
    """A DIRECT-mode physics client with the task's fixed settings; ``close()`` disconnects it."""

    def __init__(self) -> None:
        self.cid: int = p.connect(p.DIRECT)
        if self.cid < 0:
            raise RuntimeError("pybullet could not open a DIRECT physics client")
        p.setPhysicsEngineParameter(
            fixedTimeStep=PHYSICS_DT,
            numSolverIterations=SOLVER_ITERATIONS,
            deterministicOverlappingPairs=1,
            physicsClientId=self.cid,
        )
        p.setGravity(0.0, 0.0, GRAVITY, physicsClientId=self.cid)
        self.free_bodies: list[int] = []  # bodies with mass, whose contacts ``forget_contacts`` clears
        self.table = self.box(TABLE_HALF_EXTENTS, TABLE_CENTER, mass=0.0, rgba=(0.82, 0.74, 0.62, 1.0))

    def step(self) -> None:
        """Advance one control period (``SUBSTEPS`` physics steps)."""
        for _ in range(SUBSTEPS):
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

    def close(self) -> None:
        if self.cid >= 0 and p.isConnected(self.cid):
            p.disconnect(self.cid)
        self.cid = -1
