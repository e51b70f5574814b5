"""Object point clouds in the object frame: full (surface samples) and partial (one depth camera's view).

Full: ``oversample·n`` points drawn on the surface with probability proportional to triangle area
(``trimesh.sample.sample_surface``), then ``n`` kept by farthest-point subsampling (even spacing) or at
random.  Partial: a depth camera at a random viewpoint (uniform direction on the sphere, at
``CAMERA_DISTANCE``, field of view fitted to the object's bounding sphere), simulated by casting one ray per
pixel in PyBullet: each pixel's first hit on the object is its back-projected depth, so only the side the
camera sees appears; then ``n`` are subsampled (drawn with replacement when fewer pixels saw the object).
Optional noise: i.i.d. N(0, σ² I) added to every point, σ in metres.

Primitives get their surface from trimesh's box / cylinder / icosphere of the same dimensions.
"""

from __future__ import annotations

import numpy as np
from robo_flows_envs.grasp_sim.evaluator import GraspEvaluator, GraspObject, resolve_object
from robo_flows_envs.grasp_sim.meshes import load_trimesh, mesh_urdf_path, resolve_mesh
from robo_flows_envs.grasp_sim.objects import Primitive

POINTS = 1024
"""Default number of points per cloud."""
CAMERA_DISTANCE = 0.5
"""Distance of the depth camera from the object frame's origin, metres."""
IMAGE_SIZE = 128
"""Width and height of the depth image, pixels."""
SUBSAMPLING = ("fps", "random")


def object_trimesh(obj: GraspObject):
    """The surface of ``obj`` as a ``trimesh.Trimesh`` in metres, object frame."""
    import trimesh

    key = resolve_object(obj)
    if isinstance(key, Primitive):
        if key.kind == "box":
            return trimesh.creation.box(extents=key.dims)
        if key.kind == "cylinder":
            return trimesh.creation.cylinder(radius=key.dims[0], height=key.dims[1], sections=48)
        return trimesh.creation.icosphere(subdivisions=3, radius=key.dims[0])
    if isinstance(key, str):
        mesh_urdf_path(key)  # validates the name
        key = resolve_mesh(key)
    return load_trimesh(key)


def farthest_point_indices(points: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """Indices of ``n`` of ``points`` [P, 3] by greedy farthest-point sampling from a random first point:
    each next point maximizes its distance to the chosen set.  O(n·P)."""
    if not 1 <= n <= len(points):
        raise ValueError(f"cannot pick {n} of {len(points)} points")
    columns = np.ascontiguousarray(np.asarray(points, dtype=np.float64).T)  # [3, P]: fast row slices
    chosen = np.empty(n, dtype=np.int64)
    chosen[0] = rng.integers(len(points))
    distance = ((columns - columns[:, chosen[0], None]) ** 2).sum(0)  # squared distance to the chosen set
    for i in range(1, n):
        chosen[i] = int(np.argmax(distance))
        np.minimum(distance, ((columns - columns[:, chosen[i], None]) ** 2).sum(0), out=distance)
    return chosen


def subsample(points: np.ndarray, n: int, rng: np.random.Generator, method: str = "fps") -> np.ndarray:
    """``n`` of ``points`` [P, 3]: "fps" (farthest-point) or "random"; with replacement when P < n."""
    if method not in SUBSAMPLING:
        raise ValueError(f"subsampling must be one of {SUBSAMPLING}, got {method!r}")
    if len(points) == 0:
        raise ValueError("no points to subsample (the object was not seen)")
    if len(points) < n:
        return points[rng.integers(len(points), size=n)]
    index = farthest_point_indices(points, n, rng) if method == "fps" else rng.choice(len(points), n, False)
    return points[index]


def full_cloud(
    obj: GraspObject,
    rng: np.random.Generator,
    n: int = POINTS,
    method: str = "fps",
    noise: float = 0.0,
    oversample: int = 4,
) -> np.ndarray:
    """``n`` area-weighted surface points of ``obj`` (module docstring), float32 [n, 3], object frame."""
    import trimesh

    mesh = object_trimesh(obj)
    points, _ = trimesh.sample.sample_surface(mesh, oversample * n, seed=int(rng.integers(2**31)))
    return _noisy(subsample(np.asarray(points), n, rng, method), noise, rng)


def camera_view(evaluator: GraspEvaluator, obj: GraspObject, rng: np.random.Generator) -> dict:
    """What a depth camera at a random viewpoint sees of ``obj`` alone: {"eye" [3], "points" [P, 3]}.

    The camera (``IMAGE_SIZE``² pixels, looking at the origin from ``CAMERA_DISTANCE``, field of view
    fitted to the object's bounding sphere) casts one ray per pixel centre; each ray's first hit on the
    object's collision shape (the geometry the simulated hand meets) is that pixel's back-projected depth.
    Object frame (the object rests at the origin).
    """
    p = evaluator.client
    body = evaluator.load(obj)
    lo, hi = (np.asarray(v) for v in p.getAABB(body))
    radius = 0.5 * float(np.linalg.norm(hi - lo))
    forward = rng.normal(size=3)
    forward /= -np.linalg.norm(forward)  # from the eye toward the origin
    eye = -CAMERA_DISTANCE * forward
    helper = np.array([0.0, 0.0, 1.0]) if abs(forward[2]) < 0.9 else np.array([1.0, 0.0, 0.0])
    right = np.cross(forward, helper)
    right /= np.linalg.norm(right)
    up = np.cross(right, forward)
    half = 1.15 * radius / CAMERA_DISTANCE  # tan(fov / 2)
    u = (2 * (np.arange(IMAGE_SIZE) + 0.5) / IMAGE_SIZE - 1) * half
    du, dv = (g.ravel() for g in np.meshgrid(u, u))
    directions = forward + du[:, None] * right + dv[:, None] * up
    ends = eye + (CAMERA_DISTANCE + 2 * radius) * directions / np.linalg.norm(
        directions, axis=1, keepdims=True
    )
    hits = []
    for start in range(0, len(ends), 4096):  # PyBullet casts at most 16384 rays per batch
        chunk = ends[start : start + 4096]
        hits += p.rayTestBatch([eye.tolist()] * len(chunk), chunk.tolist())
    points = np.array([h[3] for h in hits if h[0] == body], dtype=np.float64).reshape(-1, 3)
    return {"eye": eye, "points": points}


def partial_cloud(
    evaluator: GraspEvaluator,
    obj: GraspObject,
    rng: np.random.Generator,
    n: int = POINTS,
    method: str = "fps",
    noise: float = 0.0,
) -> np.ndarray:
    """``n`` points of ``obj``'s side seen by one depth camera (module docstring), float32 [n, 3]."""
    return _noisy(subsample(camera_view(evaluator, obj, rng)["points"], n, rng, method), noise, rng)


def _noisy(points: np.ndarray, noise: float, rng: np.random.Generator) -> np.ndarray:
    if noise < 0:
        raise ValueError(f"point noise must be >= 0 metres, got {noise}")
    if noise > 0:
        points = points + rng.normal(scale=noise, size=points.shape)
    return points.astype(np.float32)
