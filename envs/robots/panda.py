"""The Franka Panda of ``pybullet_data``: loading, Cartesian control through inverse kinematics, gripper.

The end effector (EE) is the ``panda_grasptarget`` link, the point between the fingertips.  Its orientation is
held fixed, pointing straight down with the fingers closing along the world y axis, so a command is only an EE
position target and a finger opening.
"""

from __future__ import annotations

import hashlib
import re
import tempfile
from collections.abc import Sequence
from functools import cache
from pathlib import Path

import numpy as np
import pybullet as p
import pybullet_data
from robo_flows_envs.rendering import render_hull

from robo_flows.atomic import atomic_write

ARM_JOINTS = (0, 1, 2, 3, 4, 5, 6)
FINGER_JOINTS = (9, 10)
EE_LINK = 11
MAX_FINGER_WIDTH = 0.08  # each finger travels 0 .. 0.04 m
# torque / force limits from the URDF (the fingers squeeze with their 20 N, geared together in Panda())
ARM_FORCES = (87.0, 87.0, 87.0, 87.0, 12.0, 12.0, 12.0)
FINGER_FORCE = 20.0
# Position-control gains as the fraction of the joint error a motor closes in one 10 ms physics step
# (pybullet's POSITION_CONTROL asks for the velocity ``gain * error / dt`` in every step, so a fixed gain
# would make the arm faster at finer steps); ``step_gain`` turns them into the same response at any step.
GAIN_STEP = 0.01  # s: the physics step the gains below are given for
ARM_POSITION_GAIN = 0.3  # pybullet's default 0.1 lags a 5 cm target by ~3 control periods; 0.3 by ~1
FINGER_POSITION_GAIN = 0.1  # pybullet's default
GEAR_ERP = 0.1  # finger gear constraint's error reduction per step
HOME = (0.0, 0.2, 0.0, -2.2, 0.0, 2.4, 0.785)  # elbow up, hand above the table
EE_DOWN = tuple(p.getQuaternionFromEuler((np.pi, 0.0, 0.0)))


def step_gain(gain: float, timestep: float) -> float:
    r"""The per-step gain that closes the same fraction of an error per second as ``gain`` does per
    ``GAIN_STEP``: an error left as :math:`(1 - g)` per step decays as :math:`(1 - g)^{t / \Delta t}`, so
    :math:`g(\Delta t) = 1 - (1 - g)^{\Delta t / 0.01\,s}`; ``gain`` itself, bit for bit, at 10 ms (the
    formula's rounding would move every default trajectory)."""
    if timestep == GAIN_STEP:
        return gain
    return 1.0 - (1.0 - gain) ** (timestep / GAIN_STEP)


def urdf_path(detailed_meshes: bool) -> str:
    """The Panda URDF of ``pybullet_data``, or (default) a copy drawn with coarse render hulls.

    The visual meshes hold ~100k triangles, which make TinyRenderer frames cost ~15 ms whatever their size
    and env creation ~0.2 s; the copy draws each link as the 32-vertex convex hull of its collision mesh
    (``rendering.render_hull``, 560 triangles in all), which looks coarser and renders ~20x faster.
    Physics is identical: both use the same collision meshes and inertias."""
    original = Path(pybullet_data.getDataPath()) / "franka_panda" / "panda.urdf"
    return str(original) if detailed_meshes else _coarse_urdf(str(original))


@cache
def _coarse_urdf(original: str) -> str:
    mesh_dir = Path(original).parent / "meshes"

    def hull(visual: re.Match) -> str:  # a <visual> block drawing its link's collision mesh as a hull
        return re.sub(
            r"package://meshes/(?:visual|collision)/(\w+)\.\w+",
            lambda m: render_hull(mesh_dir / "collision" / f"{m.group(1)}.obj"),
            visual.group(0),
        )

    text = re.sub(r"<visual>.*?</visual>", hull, Path(original).read_text(), flags=re.S)
    text = text.replace("package://meshes/", f"{mesh_dir.as_posix()}/")
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    path = Path(tempfile.gettempdir()) / f"robo_flows_panda_{digest}.urdf"
    if (
        not path.exists()
    ):  # written once per machine, atomically, so concurrent workers never read a partial file
        with atomic_write(path) as tmp:
            tmp.write_text(text)
    return str(path)


class Panda:
    """One Panda in a physics client.  Joint indices are cached; state is read with one call per kind.

    ``timestep``: the client's physics step (s), which the motor and gear gains are scaled to
    (:func:`step_gain`), so the arm responds the same to a command at every physics resolution."""

    def __init__(self, cid: int, detailed_meshes: bool = False, timestep: float = GAIN_STEP) -> None:
        self.cid = cid
        self._arm_gains = (step_gain(ARM_POSITION_GAIN, timestep),) * len(ARM_JOINTS)
        self._finger_gains = (step_gain(FINGER_POSITION_GAIN, timestep),) * len(FINGER_JOINTS)
        self.uid = p.loadURDF(
            urdf_path(detailed_meshes),
            basePosition=(0.0, 0.0, 0.0),
            useFixedBase=True,
            flags=p.URDF_ENABLE_CACHED_GRAPHICS_SHAPES,
            physicsClientId=cid,
        )
        info = [p.getJointInfo(self.uid, j, physicsClientId=cid) for j in ARM_JOINTS + FINGER_JOINTS]
        self._lower = [i[8] for i in info]
        self._upper = [i[9] for i in info]
        self._ranges = [u - lo for lo, u in zip(self._lower, self._upper, strict=True)]
        self._rest = list(HOME) + [0.02, 0.02]
        for j in FINGER_JOINTS:
            p.changeDynamics(self.uid, j, lateralFriction=1.5, physicsClientId=cid)
        # the real fingers are geared together; two independent saturated motors would let a grasped object
        # creep sideways along the closing axis (their forces cancel for any common offset)
        gear = p.createConstraint(
            self.uid,
            FINGER_JOINTS[0],
            self.uid,
            FINGER_JOINTS[1],
            p.JOINT_GEAR,
            (1, 0, 0),
            (0, 0, 0),
            (0, 0, 0),
            physicsClientId=cid,
        )
        p.changeConstraint(
            gear, gearRatio=-1, erp=step_gain(GEAR_ERP, timestep), maxForce=50, physicsClientId=cid
        )

    def ik(self, ee_position: Sequence[float], orientation: Sequence[float] = EE_DOWN) -> list[float]:
        """Joint positions (7 arm + 2 fingers) that put the EE at ``ee_position`` with ``orientation`` (xyzw;
        default pointing down), starting from the current joint state.  The null space is pulled towards
        ``HOME`` turned to face the target (joint 1 = atan2(y, x)), so the elbow stays in the vertical plane
        through the EE, not beside it."""
        self._rest[0] = float(np.arctan2(ee_position[1], ee_position[0]))
        return p.calculateInverseKinematics(
            self.uid,
            EE_LINK,
            ee_position,
            orientation,
            lowerLimits=self._lower,
            upperLimits=self._upper,
            jointRanges=self._ranges,
            restPoses=self._rest,
            maxNumIterations=20,
            physicsClientId=self.cid,
        )

    def reset(self, ee_position: Sequence[float], finger_width: float) -> None:
        """Teleport the arm (zero velocity) so the EE is at ``ee_position``; motors hold that pose."""
        for j, q in zip(ARM_JOINTS, HOME, strict=True):
            p.resetJointState(self.uid, j, q, 0.0, physicsClientId=self.cid)
        for _ in range(4):  # IK from the current state; a few resets converge to the exact pose
            q = self.ik(ee_position)
            for j, qj in zip(ARM_JOINTS, q[:7], strict=True):
                p.resetJointState(self.uid, j, qj, 0.0, physicsClientId=self.cid)
        for j in FINGER_JOINTS:
            p.resetJointState(self.uid, j, finger_width / 2.0, 0.0, physicsClientId=self.cid)
        self.command(ee_position, finger_width)

    def command(
        self, ee_target: Sequence[float], finger_width: float, orientation: Sequence[float] = EE_DOWN
    ) -> None:
        """Position-control the arm towards the IK solution for ``ee_target`` (at ``orientation``, xyzw) and
        the fingers to ``finger_width`` (total opening, m)."""
        q = self.ik(ee_target, orientation)
        p.setJointMotorControlArray(
            self.uid,
            ARM_JOINTS,
            p.POSITION_CONTROL,
            targetPositions=q[:7],
            forces=ARM_FORCES,
            positionGains=self._arm_gains,
            physicsClientId=self.cid,
        )
        half = finger_width / 2.0
        p.setJointMotorControlArray(
            self.uid,
            FINGER_JOINTS,
            p.POSITION_CONTROL,
            targetPositions=(half, half),
            forces=(FINGER_FORCE, FINGER_FORCE),
            positionGains=self._finger_gains,
            physicsClientId=self.cid,
        )

    def ee_state(self) -> tuple[np.ndarray, np.ndarray]:
        """EE world position [3] (m) and linear velocity [3] (m/s)."""
        s = p.getLinkState(self.uid, EE_LINK, computeLinkVelocity=1, physicsClientId=self.cid)
        return np.asarray(s[4]), np.asarray(s[6])

    def finger_width(self) -> float:
        """Current opening between the fingers (m), 0 .. 0.08."""
        a, b = p.getJointStates(self.uid, FINGER_JOINTS, physicsClientId=self.cid)
        return a[0] + b[0]
