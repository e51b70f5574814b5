"""PandaPickObject: one object on the table, a primitive or a mesh; pick it up.

Objects (``objects=``): the split ``"train"``, ``"val"`` or ``"held-out"`` — each episode draws, with equal
odds, a primitive (``PRIMITIVES`` of the split's size bands: training bands for train and val, held-out bands
for held-out; ``grasp_sim.objects``) or a mesh of the split (``grasp_sim.meshes.mesh_split``, at the dataset
scale ``graspable_scale``), or a list of object specs / mesh names to draw from.  The object is placed in
its file orientation turned by a random yaw, at a random spot of ``PLACE_LOW .. PLACE_HIGH``, just above the
table, and left to settle for ``SETTLE_PERIODS`` control periods.  Mesh objects collide through their convex
hull and weigh ``TrialConfig.mesh_object_mass``, as in the grasp trials.

Action ``a`` in ``Box(-1, 1, (7,))``: ``a[:3]`` the EE velocity command of the other tasks (``MAX_EE_STEP``
per period), ``a[3:6]`` an angular velocity command (the EE orientation target is the current orientation
turned by ``MAX_ROT_STEP · a[3:6]`` as a world-frame rotation vector), ``a[6]`` the gripper (-1 closed, +1
open).  The EE is the Panda's ``panda_grasptarget`` link: the TCP of ``grasp_sim.gripper`` moved
``EE_FROM_TCP`` along the approach axis, with the same axes.

Success: the object's centre ``LIFT_HEIGHT`` (10 cm) above its resting height and touching the hand for
``HOLD_PERIODS`` control periods in a row (1 s).  The depth camera (:meth:`PandaPickObjectEnv.object_cloud`)
gives the object's point cloud in the world frame; the scripted expert is the antipodal
``grasp_sim.picker.GraspPicker`` (which knows the object's shape and pose).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pybullet as p
from robo_flows_envs.grasp_sim.evaluator import TrialConfig, pybullet_quaternion
from robo_flows_envs.grasp_sim.generation import mesh_objects
from robo_flows_envs.grasp_sim.gripper import TCP_OFFSET, check_poses
from robo_flows_envs.grasp_sim.meshes import MeshObject, mesh_split, mesh_urdf_path
from robo_flows_envs.grasp_sim.objects import Primitive, parse_object_spec, sample_primitives
from robo_flows_envs.grasp_sim.point_clouds import POINTS, subsample
from robo_flows_envs.robots.panda import ARM_JOINTS, EE_LINK, FINGER_JOINTS, MAX_FINGER_WIDTH
from robo_flows_envs.sim import Sim
from robo_flows_envs.tasks.base import MAX_EE_STEP, PandaTaskEnv
from robo_flows_envs.tasks.push import body_parts

from robo_flows.errors import EnvError

MAX_ROT_STEP = 0.25  # rad of EE rotation per control period at |a| = 1
EE_FROM_TCP = 0.105 - TCP_OFFSET  # m: panda_grasptarget sits 0.105 m in front of the hand frame
LIFT_HEIGHT = 0.10
HOLD_PERIODS = 25  # 1 s of control periods
SETTLE_PERIODS = 12
PLACE_LOW, PLACE_HIGH = np.array([0.47, -0.08]), np.array([0.57, 0.08])
START = np.array([0.4, 0.0, 0.3])
PRIMITIVES = 40  # primitives per split (seeded by PRIMITIVE_SEED; the held-out ones from held-out bands)
PRIMITIVE_SEED = 11
SPLITS = ("train", "val", "held-out")
CAMERA_EYE = np.array([0.95, 0.0, 0.42])
CAMERA_TARGET = np.array([0.52, 0.0, 0.02])
CAMERA_PIXELS = 192
CAMERA_HALF_FOV = 0.2  # tan of the half field of view: ±0.12 m at the target
REACH_TOLERANCE = (0.004, np.deg2rad(4.0))  # m, rad: IK poses farther off than this are unreachable
TableObject = Primitive | MeshObject


def object_pool(objects: str | Sequence[str]) -> list[Primitive | str]:
    """The objects episodes draw from: a split's primitives and mesh names (module docstring), or the given
    primitive specs (``"box:0.04,0.05,0.1"``) and mesh names.  Meshes are loaded when first drawn."""
    if isinstance(objects, str):
        if objects not in SPLITS:
            raise EnvError(f"objects must be one of {SPLITS} or a list of object specs, got {objects!r}")
        rng = np.random.default_rng([PRIMITIVE_SEED, SPLITS.index(objects)])
        return [*sample_primitives(rng, PRIMITIVES, held_out=objects == "held-out"), *mesh_split(objects)]
    pool = [parse_object_spec(spec) if ":" in spec else spec for spec in objects]
    if not pool:
        raise EnvError("objects is an empty list")
    for name in pool:
        if isinstance(name, str):
            mesh_urdf_path(name)  # unknown names fail here, not in some later episode
    return pool


class PandaPickObjectEnv(PandaTaskEnv):
    """Observation ``ee_pos, ee_vel, finger_width, ee_quat, object_{pos,quat,linvel,angvel},
    object_from_ee``; reward: the object's height above its resting height (m, at most ``LIFT_HEIGHT``).

    Extra kwargs: ``objects`` (module docstring, default ``"train"``)."""

    task_parts = {"ee_quat": 4, **body_parts("object"), "object_from_ee": 3}
    action_names = ("vx", "vy", "vz", "wx", "wy", "wz", "gripper")
    start_finger_width = MAX_FINGER_WIDTH
    workspace_low = np.array([0.2, -0.4, 0.005])
    workspace_high = np.array([0.8, 0.4, 0.5])

    def __init__(self, *args, objects: str | Sequence[str] = "train", **kwargs) -> None:
        self.pool = object_pool(objects)
        self._meshes: dict[str, MeshObject | None] = {}  # mesh name -> the mesh at the dataset scale
        self._shapes: dict[str, tuple[int, int]] = {}
        self.object_uid = -1
        self.current: TableObject | None = None
        self._expert = None
        super().__init__(*args, **kwargs)

    # ---- scene ---------------------------------------------------------------------------------------
    def _build(self, sim: Sim) -> None:
        self.ee_quat = np.array([0.0, 0.0, 0.0, 1.0])

    def _shape(self, obj: TableObject) -> tuple[int, int]:
        """(collision, visual) shape of ``obj``, made once per env (PyBullet keeps shapes till disconnect)."""
        key = obj.spec
        if key not in self._shapes:
            cid = self.sim.cid
            if isinstance(obj, MeshObject):
                mesh = {"fileName": obj.mesh_file, "meshScale": [obj.scale] * 3}
                col = p.createCollisionShape(p.GEOM_MESH, physicsClientId=cid, **mesh)
                vis = p.createVisualShape(
                    p.GEOM_MESH, rgbaColor=(0.2, 0.5, 0.9, 1), physicsClientId=cid, **mesh
                )
            elif obj.kind == "box":
                half = [d / 2 for d in obj.dims]
                col = p.createCollisionShape(p.GEOM_BOX, halfExtents=half, physicsClientId=cid)
                vis = p.createVisualShape(p.GEOM_BOX, halfExtents=half, rgbaColor=(0.9, 0.5, 0.2, 1),
                                          physicsClientId=cid)  # fmt: skip
            elif obj.kind == "cylinder":
                r, h = obj.dims
                col = p.createCollisionShape(p.GEOM_CYLINDER, radius=r, height=h, physicsClientId=cid)
                vis = p.createVisualShape(p.GEOM_CYLINDER, radius=r, length=h, rgbaColor=(0.9, 0.5, 0.2, 1),
                                          physicsClientId=cid)  # fmt: skip
            else:
                col = p.createCollisionShape(p.GEOM_SPHERE, radius=obj.dims[0], physicsClientId=cid)
                vis = p.createVisualShape(p.GEOM_SPHERE, radius=obj.dims[0], rgbaColor=(0.9, 0.5, 0.2, 1),
                                          physicsClientId=cid)  # fmt: skip
            self._shapes[key] = (col, vis)
        return self._shapes[key]

    def _remove_object(self) -> None:
        if self.object_uid >= 0:
            p.removeBody(self.object_uid, physicsClientId=self.sim.cid)
            self.sim.free_bodies.remove(self.object_uid)
            self.object_uid = -1

    def reset(self, *, seed=None, options=None):
        self._check_open("reset")
        self._remove_object()  # the saved start state holds no object
        self._expert = None
        return super().reset(seed=seed, options=options)

    def _sample_episode(self) -> np.ndarray:
        cid = self.sim.cid
        self.current = None
        while self.current is None:  # a broken mesh file (random_urdfs/168) is drawn again
            self.current = self._resolve(self.pool[self._pick_index()])
        col, vis = self._shape(self.current)
        config = TrialConfig()
        if isinstance(self.current, MeshObject):
            mass = config.mesh_object_mass
        else:
            mass = max(config.object_density * self.current.volume(), config.min_object_mass)
        yaw = float(self._uniform(0.0, 2 * np.pi))
        orn = p.getQuaternionFromEuler((0.0, 0.0, yaw))
        self.object_uid = p.createMultiBody(mass, col, vis, (0.0, 0.0, 1.0), orn, physicsClientId=cid)
        self.sim.free_bodies.append(self.object_uid)
        if isinstance(self.current, MeshObject):  # mesh files carry no inertia: a solid box of its bounds
            lo, hi = p.getAABB(self.object_uid, physicsClientId=cid)
            sq = np.square(np.subtract(hi, lo))
            p.changeDynamics(self.object_uid, -1, localInertiaDiagonal=(mass / 12 * (sq.sum() - sq)).tolist(),
                             physicsClientId=cid)  # fmt: skip
        p.changeDynamics(self.object_uid, -1, lateralFriction=config.friction,
                         spinningFriction=config.spinning_friction, physicsClientId=cid)  # fmt: skip
        lowest = p.getAABB(self.object_uid, physicsClientId=cid)[0][2] - 1.0
        xy = self._uniform(PLACE_LOW, PLACE_HIGH)
        self.sim.set_pose(self.object_uid, (*xy, 0.002 - lowest), orn)
        # motor targets are not part of the saved state: hold the arm at the start while the object settles,
        # or it would sweep toward where the last episode left its targets
        self.robot.reset(START, self.start_finger_width)
        for _ in range(SETTLE_PERIODS):
            self.sim.step()
        self.rest_height = float(p.getBasePositionAndOrientation(self.object_uid, physicsClientId=cid)[0][2])
        return START.copy()

    def _resolve(self, entry: Primitive | str) -> TableObject | None:
        """A primitive as it is; a mesh name as its mesh at the dataset scale (None for a broken file)."""
        if isinstance(entry, Primitive):
            return entry
        if entry not in self._meshes:
            found, _ = mesh_objects([entry])
            self._meshes[entry] = found[0] if found else None
        return self._meshes[entry]

    def _pick_index(self) -> int:
        """Primitive or mesh with equal odds (when the pool has both), then uniform within the kind."""
        meshes = [i for i, o in enumerate(self.pool) if isinstance(o, str)]
        prims = [i for i, o in enumerate(self.pool) if isinstance(o, Primitive)]
        kinds = [k for k in (prims, meshes) if k]
        chosen = kinds[int(self.np_random.integers(len(kinds)))]
        return chosen[int(self.np_random.integers(len(chosen)))]

    def close(self) -> None:
        if self._expert is not None:
            self._expert.close()
            self._expert = None
        super().close()

    # ---- state, action, score ------------------------------------------------------------------------
    def _read_objects(self) -> None:
        cid = self.sim.cid
        self.ee_quat = np.asarray(p.getLinkState(self.robot.uid, EE_LINK, physicsClientId=cid)[5])
        self.object_state = self.sim.body_state(self.object_uid) if self.object_uid >= 0 else np.zeros(13)

    def _reset_tracking(self) -> None:
        self._held_for = 0

    def _track(self) -> None:
        up = self.object_state[2] >= self.rest_height + LIFT_HEIGHT
        held = up and self.sim.touching(self.robot.uid, self.object_uid)
        self._held_for = self._held_for + 1 if held else 0

    def _task_obs(self) -> list[np.ndarray]:
        return [self.ee_quat, *np.split(self.object_state, [3, 7, 10]), self.object_state[:3] - self.ee_pos]

    def _success(self) -> bool:
        return self._held_for >= HOLD_PERIODS

    def _reward(self) -> float:
        return float(np.clip(self.object_state[2] - self.rest_height, 0.0, LIFT_HEIGHT))

    def _command(self, a: np.ndarray) -> None:
        target = np.clip(self.ee_pos + MAX_EE_STEP * a[:3], self.workspace_low, self.workspace_high)
        turn = MAX_ROT_STEP * a[3:6]
        angle = float(np.linalg.norm(turn))
        orn = self.ee_quat
        if angle > 0:
            delta = p.getQuaternionFromAxisAngle((turn / angle).tolist(), angle)
            orn = p.multiplyTransforms((0, 0, 0), delta, (0, 0, 0), orn)[1]
        self.robot.command(target, (a[6] + 1.0) / 2.0 * MAX_FINGER_WIDTH, orn)

    def _expert_action(self) -> np.ndarray:
        from robo_flows_envs.grasp_sim.picker import GraspPicker, antipodal_proposer

        if self._expert is None:
            self._expert = GraspPicker(antipodal_proposer())
            self._expert.plan(self, np.random.default_rng(int(self.np_random.integers(2**31))))
        return self._expert.act(self)

    # ---- what the picker uses ------------------------------------------------------------------------
    def object_pose(self) -> tuple[np.ndarray, np.ndarray]:
        """The object's true pose: rotation [3, 3] and position [3] of its frame in the world."""
        pos, quat = p.getBasePositionAndOrientation(self.object_uid, physicsClientId=self.sim.cid)
        R = np.asarray(p.getMatrixFromQuaternion(quat)).reshape(3, 3)
        return R, np.asarray(pos)

    def object_cloud(self, rng: np.random.Generator, n: int = POINTS) -> np.ndarray:
        """The object as the fixed depth camera sees it: float32 [n, 3], world frame.

        The camera at ``CAMERA_EYE`` looks at ``CAMERA_TARGET`` with ``CAMERA_PIXELS``² pixels; one ray per
        pixel meets the scene's collision geometry (arm and table included, so they occlude), and the pixels
        whose first hit is the object (a segmented depth image) are back-projected, then ``n`` are kept by
        farthest-point subsampling (with replacement when fewer were seen)."""
        self._check_open("object_cloud")
        # resets teleport the arm without moving its collision objects: refresh them, or rays meet the arm
        # where the last episode left it
        p.performCollisionDetection(physicsClientId=self.sim.cid)
        forward = CAMERA_TARGET - CAMERA_EYE
        distance = float(np.linalg.norm(forward))
        forward /= distance
        right = np.cross(forward, [0.0, 0.0, 1.0])
        right /= np.linalg.norm(right)
        up = np.cross(right, forward)
        u = (2 * (np.arange(CAMERA_PIXELS) + 0.5) / CAMERA_PIXELS - 1) * CAMERA_HALF_FOV
        du, dv = (g.ravel() for g in np.meshgrid(u, u))
        rays = forward + du[:, None] * right + dv[:, None] * up
        ends = CAMERA_EYE + 2 * distance * rays / np.linalg.norm(rays, axis=1, keepdims=True)
        hits = []
        for start in range(0, len(ends), 8192):
            chunk = ends[start : start + 8192].tolist()
            hits += p.rayTestBatch([CAMERA_EYE.tolist()] * len(chunk), chunk, physicsClientId=self.sim.cid)
        points = np.array([h[3] for h in hits if h[0] == self.object_uid], dtype=np.float64).reshape(-1, 3)
        if len(points) == 0:
            raise EnvError("the depth camera does not see the object")
        return subsample(points, n, rng).astype(np.float32)

    def reachable(self, R: np.ndarray, t: np.ndarray, pregrasp: float) -> np.ndarray:
        """Which world-frame TCP poses (R [n, 3, 3], t [n, 3]) the arm can take, with the hand open, at the
        grasp and at ``pregrasp`` metres back along the approach: bool [n].

        Per pose: inverse kinematics from the current joint state (iterated on the reset arm), then the
        reached EE pose must be within ``REACH_TOLERANCE`` of the target, and no link of the hand and
        forearm may touch the table or the object.  The simulator state is restored afterwards."""
        R, t = check_poses(R, t)
        cid, uid = self.sim.cid, self.robot.uid
        state = p.saveState(physicsClientId=cid)
        links = list(range(4, EE_LINK + 1))
        try:
            out = np.zeros(len(R), dtype=bool)
            for i in range(len(R)):
                quat = pybullet_quaternion(R[i])
                ok = True
                for back in (pregrasp, pregrasp / 2, 0.0):
                    target = t[i] + (EE_FROM_TCP - back) * R[i][:, 2]
                    if not self._reach(target, quat, R[i]):
                        ok = False
                        break
                    p.performCollisionDetection(physicsClientId=cid)
                    if any(p.getClosestPoints(uid, body, 0.0, linkIndexA=link, physicsClientId=cid)
                           for body in (self.sim.table, self.object_uid) for link in links):  # fmt: skip
                        ok = False
                        break
                out[i] = ok
                p.restoreState(state, physicsClientId=cid)
            return out
        finally:
            p.restoreState(state, physicsClientId=cid)
            p.removeState(state, physicsClientId=cid)

    def _reach(self, position: np.ndarray, quat: Sequence[float], R: np.ndarray) -> bool:
        """Reset the arm (hand open) to an IK solution for the EE pose; whether it is within tolerance."""
        cid, uid = self.sim.cid, self.robot.uid
        for _ in range(6):
            q = self.robot.ik(position, quat)
            for j, qj in zip(ARM_JOINTS, q[:7], strict=True):
                p.resetJointState(uid, j, qj, 0.0, physicsClientId=cid)
        for j in FINGER_JOINTS:
            p.resetJointState(uid, j, MAX_FINGER_WIDTH / 2, 0.0, physicsClientId=cid)
        state = p.getLinkState(uid, EE_LINK, computeForwardKinematics=1, physicsClientId=cid)
        reached = np.asarray(p.getMatrixFromQuaternion(state[5])).reshape(3, 3)
        angle = np.arccos(np.clip((np.trace(reached.T @ R) - 1) / 2, -1.0, 1.0))
        return bool(np.linalg.norm(np.asarray(state[4]) - position) < REACH_TOLERANCE[0]
                    and angle < REACH_TOLERANCE[1])  # fmt: skip
