"""Headless rgb frames from pybullet's CPU TinyRenderer: the fixed and the hand-mounted cameras of a task.

A camera is a view matrix (where it is and looks) and a projection matrix (field of view, aspect, clipping).
The projection of every camera and the view of a fixed camera are computed once; a wrist camera's view is
rebuilt each frame from the hand's link pose.  Frames are drawn without shadows and without a segmentation
mask (neither is used, and TinyRenderer's shadow pass doubles a frame's cost).

What a frame costs (``docs/envs.md``, "Camera observations"): TinyRenderer shades every covered pixel on the
CPU (~0.35 us each; an 84 x 84 frame of the table alone costs more than a control step's physics), spends
~0.25 us per triangle drawn, and ~0.03 us per pixel of any frame.  So a fixed camera draws its still bodies
once and each frame only what moves (``FixedCamera``, layered), and the Panda is drawn with 560-triangle
render hulls (``render_hull``) instead of its 3.5k-triangle collision meshes.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pybullet as p

from robo_flows.atomic import atomic_write
from robo_flows.errors import EnvError

NEAR, FAR = 0.02, 5.0  # m: clipping planes of every camera
HULL_VERTICES = 32  # vertices of a link's render hull (at most 2 * 32 - 4 = 60 triangles)
HULL_FORMAT = 1  # in the hull files' names: a change to how hulls are built writes new files


@dataclass(frozen=True)
class CameraPose:
    """A fixed camera looking at ``target`` [3] from ``distance`` (m), as pybullet's
    ``computeViewMatrixFromYawPitchRoll``: ``yaw`` degrees about world z (90: the camera on the +x side,
    facing the robot), ``pitch`` degrees of tilt (negative: looking down); ``fov``: vertical field of view
    in degrees."""

    target: tuple[float, float, float]
    distance: float
    yaw: float
    pitch: float
    fov: float = 50.0


def check_size(name: str, value: object) -> int:
    """A frame dimension in pixels: a positive int, else ``EnvError`` naming the argument."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise EnvError(f"{name} must be a positive int (pixels), got {value!r}")
    return int(value)


def capture(
    cid: int, width: int, height: int, view: Sequence[float], projection: Sequence[float]
) -> np.ndarray:
    """One TinyRenderer frame of client ``cid``: uint8 ``[height, width, 3]``."""
    return capture_rgba_depth(cid, width, height, view, projection)[0][:, :, :3]


def capture_rgba_depth(
    cid: int, width: int, height: int, view: Sequence[float], projection: Sequence[float]
) -> tuple[np.ndarray, np.ndarray]:
    """One TinyRenderer frame of client ``cid`` and its depth buffer: uint8 ``[height, width, 4]`` (RGBA)
    and float32 ``[height, width]`` (pybullet's non-linear depth in [0, 1], smaller is nearer, 1 where
    nothing is drawn)."""
    _, _, rgba, depth, _ = p.getCameraImage(
        width,
        height,
        view,
        projection,
        shadow=0,
        renderer=p.ER_TINY_RENDERER,
        flags=p.ER_NO_SEGMENTATION_MASK,
        physicsClientId=cid,
    )
    rgba = np.ascontiguousarray(np.asarray(rgba, dtype=np.uint8).reshape(height, width, 4))
    return rgba, np.asarray(depth, dtype=np.float32).reshape(height, width)


def in_front(front: tuple[np.ndarray, np.ndarray], back: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """The z-test of two layers ``(rgba uint8 [H, W, 4], depth [H, W])``: per pixel the nearer layer's colour
    (the front one at equal depth), as uint8 ``[H, W, 3]``.  Each RGBA pixel is taken as one uint32, so the
    select is one pass over the pixels."""
    (front_rgba, front_depth), (back_rgba, back_depth) = front, back
    pixels = np.where(front_depth <= back_depth, _as_words(front_rgba), _as_words(back_rgba))
    return pixels.view(np.uint8).reshape(*pixels.shape, 4)[:, :, :3]


def _as_words(rgba: np.ndarray) -> np.ndarray:
    return rgba.view(np.uint32)[:, :, 0]


@contextmanager
def hidden(cid: int, bodies: Sequence[int]) -> Iterator[None]:
    """Draw ``bodies`` of client ``cid`` invisible inside the block: every visual shape's alpha set to 0
    (TinyRenderer skips such shapes), its colour put back on exit.  Visual only: physics never sees it."""
    shapes = [shape for body in bodies for shape in visual_shapes(cid, body)]
    for body, link, index, rgba in shapes:
        p.changeVisualShape(body, link, shapeIndex=index, rgbaColor=(*rgba[:3], 0.0), physicsClientId=cid)
    try:
        yield
    finally:
        for body, link, index, rgba in shapes:
            p.changeVisualShape(body, link, shapeIndex=index, rgbaColor=rgba, physicsClientId=cid)


def visual_shapes(cid: int, body: int) -> list[tuple[int, int, int, tuple[float, ...]]]:
    """``(body, link, shape index within the link, rgba)`` of each of ``body``'s visual shapes."""
    out, count = [], {}
    for shape in p.getVisualShapeData(body, physicsClientId=cid):
        link = shape[1]
        out.append((body, link, count.get(link, 0), tuple(shape[7])))
        count[link] = count.get(link, 0) + 1
    return out


class FixedCamera:
    """A camera at a fixed pose; both matrices are computed once.

    ``layered`` (default): a frame is drawn in two layers, since TinyRenderer without shadows shades each
    body on its own.  The still bodies (no mass, no moving joint: the table, walls, goal markers) are drawn
    once with their depth, and again only when one of them has moved or changed colour (checked each frame;
    tasks place them at reset); each frame draws only the moving bodies (:func:`moving_bodies`: the robot,
    free objects) and puts them in front of the still layer where they are nearer.  The frame equals the
    one-pass frame (up to pixels where two bodies lie at exactly the same depth) and costs what the moving
    bodies cost: in an 84 x 84 agentview the table alone costs more than a control step's physics, the
    arm far less.  ``layered=False`` draws every frame in one pass."""

    def __init__(self, pose: CameraPose, width: int, height: int, layered: bool = True) -> None:
        self.width, self.height = check_size("width", width), check_size("height", height)
        self.view = p.computeViewMatrixFromYawPitchRoll(
            cameraTargetPosition=pose.target,
            distance=pose.distance,
            yaw=pose.yaw,
            pitch=pose.pitch,
            roll=0.0,
            upAxisIndex=2,
        )
        self.projection = p.computeProjectionMatrixFOV(pose.fov, self.width / self.height, NEAR, FAR)
        self.layered = layered
        self._still_key: object = None
        self._still: tuple[np.ndarray, np.ndarray] = (np.zeros(0), np.zeros(0))
        self._moves: dict[int, bool] = {}  # body id -> whether it is drawn in the moving layer

    def render(self, cid: int) -> np.ndarray:
        if not self.layered:
            return self._draw(cid)[0][:, :, :3]
        bodies = [
            p.getBodyUniqueId(i, physicsClientId=cid) for i in range(p.getNumBodies(physicsClientId=cid))
        ]
        new = [b for b in bodies if b not in self._moves]
        new_moving = set(moving_bodies(cid, new))
        self._moves.update({b: b in new_moving for b in new})
        moving = [b for b in bodies if self._moves[b]]  # which layer only sets the cost, never the frame
        still = [b for b in bodies if b not in moving]
        key = (cid, tuple(moving), tuple(_look(cid, b) for b in still))
        if key != self._still_key:
            with hidden(cid, moving):
                self._still = self._draw(cid)
            self._still_key = key
        with hidden(cid, still):
            front = self._draw(cid)
        return in_front(front, self._still)

    def _draw(self, cid: int) -> tuple[np.ndarray, np.ndarray]:
        return capture_rgba_depth(cid, self.width, self.height, self.view, self.projection)


def moving_bodies(cid: int, bodies: Sequence[int]) -> list[int]:
    """Those of ``bodies`` that can move within an episode: a base with mass, or a joint that is not fixed."""
    return [
        b
        for b in bodies
        if p.getDynamicsInfo(b, -1, physicsClientId=cid)[0] > 0.0
        or any(
            p.getJointInfo(b, j, physicsClientId=cid)[2] != p.JOINT_FIXED
            for j in range(p.getNumJoints(b, physicsClientId=cid))
        )
    ]


def _look(cid: int, body: int) -> tuple:
    """What a still body's image depends on: its base pose and its shapes' colours."""
    pose = p.getBasePositionAndOrientation(body, physicsClientId=cid)
    return body, pose, tuple(shape[3] for shape in visual_shapes(cid, body))


class WristCamera:
    """A camera fixed to a link (the Panda's hand), moving with it; the view follows the link pose.

    In the link frame (z along the approach, the fingers closing along y) the camera sits at ``EYE``, behind
    the fingertips and to the side of the hand, and looks at ``LOOK_AT`` beyond them, its image up along the
    link's x axis; so the fingertips are in view at the bottom of the frame and the table below the hand
    fills the rest."""

    EYE = np.array([0.12, 0.0, -0.08])
    LOOK_AT = np.array([-0.02, 0.0, 0.10])
    UP = np.array([1.0, 0.0, 0.0])
    FOV = 80.0

    def __init__(self, body: int, link: int, width: int, height: int) -> None:
        self.body, self.link = body, link
        self.width, self.height = check_size("width", width), check_size("height", height)
        self.projection = p.computeProjectionMatrixFOV(self.FOV, self.width / self.height, NEAR, FAR)

    def view(self, cid: int) -> Sequence[float]:
        """View matrix from the link's current world pose: eye = x + R EYE, target = x + R LOOK_AT."""
        state = p.getLinkState(self.body, self.link, physicsClientId=cid)
        position = np.asarray(state[4])
        rotation = np.asarray(p.getMatrixFromQuaternion(state[5])).reshape(3, 3)
        return p.computeViewMatrix(
            cameraEyePosition=position + rotation @ self.EYE,
            cameraTargetPosition=position + rotation @ self.LOOK_AT,
            cameraUpVector=rotation @ self.UP,
        )

    def render(self, cid: int) -> np.ndarray:
        return capture(cid, self.width, self.height, self.view(cid), self.projection)


# ---- render meshes ---------------------------------------------------------------------------------------
def farthest_points(points: np.ndarray, k: int) -> np.ndarray:
    """``k`` rows of ``points`` [N, 3] by greedy farthest-point sampling from row 0 (all when N <= k):
    each next point maximises its distance to those already chosen, so the sample spans the shape."""
    if len(points) <= k:
        return points
    chosen = [0]
    distance = np.linalg.norm(points - points[0], axis=1)
    for _ in range(k - 1):
        chosen.append(int(distance.argmax()))
        distance = np.minimum(distance, np.linalg.norm(points - points[chosen[-1]], axis=1))
    return points[chosen]


def convex_hull(points: np.ndarray, tol: float = 1e-9) -> list[tuple[int, int, int]]:
    """Triangles (row indices of ``points`` [N, 3], N small) of the convex hull, wound counter-clockwise
    seen from outside (``(b - a) x (c - a)`` points out).

    Brute force for the few points of a render hull: a plane through three points bounds a face when no
    point lies beyond it (signed distance > ``tol`` times the shape's size); the points on that plane form
    a convex polygon, ordered by angle about their centre and cut into a fan.  (Points all on one plane
    give that polygon once, facing either way.)"""
    pts = np.asarray(points, dtype=np.float64)
    n = len(pts)
    eps = tol * max(float(np.ptp(pts, axis=0).max()), 1e-12)
    i, j, k = np.array(list(_triples(n))).T
    normals = np.cross(pts[j] - pts[i], pts[k] - pts[i])
    length = np.linalg.norm(normals, axis=1)
    keep = length > eps * eps
    i, normals = i[keep], normals[keep] / length[keep, None]
    distances = np.einsum("tpd,td->tp", pts[None, :, :] - pts[i][:, None, :], normals)  # [planes, N]
    above, below = (distances > eps).any(axis=1), (distances < -eps).any(axis=1)
    triangles, seen = [], set()
    for plane in np.flatnonzero(~(above & below)):  # all points on one side: a face's plane
        d = distances[plane]
        outward = -normals[plane] if above[plane] else normals[plane]
        face = tuple(int(v) for v in np.flatnonzero(np.abs(d) <= eps))
        if face in seen:
            continue
        seen.add(face)
        triangles += _fan(pts, list(face), outward)
    return triangles


def _triples(n: int):
    for a in range(n):
        for b in range(a + 1, n):
            for c in range(b + 1, n):
                yield a, b, c


def _fan(pts: np.ndarray, face: list[int], outward: np.ndarray) -> list[tuple[int, int, int]]:
    """The convex polygon of the coplanar points ``face`` as a fan of triangles wound about ``outward``:
    the polygon's corners (points inside it or on its edges dropped) counter-clockwise seen from outside."""
    centre = pts[face].mean(axis=0)
    u = pts[face[0]] - centre
    u /= np.linalg.norm(u)
    v = np.cross(outward, u)
    uv = [(float(np.dot(pts[f] - centre, u)), float(np.dot(pts[f] - centre, v)), f) for f in face]
    ring = _corners(sorted(uv))
    return [(ring[0], ring[t], ring[t + 1]) for t in range(1, len(ring) - 1)]


def _corners(points: list[tuple[float, float, int]]) -> list[int]:
    """Corners of the 2-d convex hull of ``points`` (x, y, id) sorted by (x, y), counter-clockwise
    (Andrew's monotone chain; collinear points are not corners)."""

    def chain(seq: list[tuple[float, float, int]]) -> list[tuple[float, float, int]]:
        out: list[tuple[float, float, int]] = []
        for q in seq:
            while len(out) >= 2:
                (ax, ay, _), (bx, by, _) = out[-2], out[-1]
                if (bx - ax) * (q[1] - ay) - (by - ay) * (q[0] - ax) > 1e-12:
                    break
                out.pop()
            out.append(q)
        return out[:-1]

    return [q[2] for q in chain(points) + chain(points[::-1])]


def hull_obj_text(vertices: np.ndarray, k: int = HULL_VERTICES) -> str:
    """Wavefront OBJ text of the convex hull (:func:`convex_hull`) of ``k`` farthest points of
    ``vertices`` [N, 3], one flat normal per triangle."""
    points = farthest_points(np.unique(np.asarray(vertices, dtype=np.float64), axis=0), k)
    lines = [f"v {x:.6f} {y:.6f} {z:.6f}" for x, y, z in points]
    faces = []
    for t, (a, b, c) in enumerate(convex_hull(points)):
        normal = np.cross(points[b] - points[a], points[c] - points[a])
        lines.append("vn {:.6f} {:.6f} {:.6f}".format(*(normal / np.linalg.norm(normal))))
        faces.append(f"f {a + 1}//{t + 1} {b + 1}//{t + 1} {c + 1}//{t + 1}")
    return "\n".join(lines + faces) + "\n"


def obj_vertices(path: str | Path) -> np.ndarray:
    """The ``v`` lines of a Wavefront OBJ file as float [N, 3]."""
    rows = [line.split()[1:4] for line in Path(path).read_text().splitlines() if line.startswith("v ")]
    if not rows:
        raise EnvError(f"{path} holds no vertices ('v' lines); expected a Wavefront OBJ mesh")
    return np.asarray(rows, dtype=np.float64)


def render_hull(mesh: str | Path, k: int = HULL_VERTICES) -> str:
    """Path of a render-only stand-in for the OBJ ``mesh``: the convex hull of ``k`` of its vertices
    (:func:`hull_obj_text`), written once per machine to the temp folder (atomically, named by a digest
    of the source and ``k``).

    TinyRenderer's cost per frame grows with the triangles drawn (~0.25 us each, vertex shading and
    set-up, whatever their size on screen): the Panda's collision meshes hold 3.5k triangles, a third of
    an 84 x 84 frame; their 32-vertex hulls hold 560 in all and look the same at that size."""
    source = Path(mesh).read_bytes()
    digest = hashlib.sha256(source + f"|hull{k}|v{HULL_FORMAT}".encode()).hexdigest()[:16]
    path = Path(tempfile.gettempdir()) / f"robo_flows_hull_{digest}.obj"
    if not path.exists():
        with atomic_write(path) as tmp:
            tmp.write_text(hull_obj_text(obj_vertices(mesh), k))
    return str(path)
