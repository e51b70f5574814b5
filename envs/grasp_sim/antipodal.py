"""Antipodal grasp candidates on any loaded object by ray casting, and sim labels for mesh objects.

For objects with no analytic grasp set (the ``pybullet_data`` meshes): cast a line through the object
along a random closing direction y; its first and last surface points p1, p2 are a candidate contact
pair when they are at most ``MAX_GRASP_WIDTH`` apart and antipodal — the outward normals lie within
``cone_deg`` of −y at p1 and of +y at p2 (so friction μ ≥ tan(cone) holds the pair). The TCP goes to
the midpoint m, the approach z is uniform among directions ⟂ y, and the TCP is moved back along z when
m lies deeper than ``DEPTH_MAX`` past the first surface met along z (at most ``MAX_BACKOFF``, so the
contacts stay on the pads). The simulator then labels the candidates.
"""

from __future__ import annotations

import numpy as np
from robo_flows_envs.grasp_sim.analytic import DEPTH_MAX, random_perpendicular, random_unit_vectors
from robo_flows_envs.grasp_sim.evaluator import GraspEvaluator, GraspObject, TrialConfig
from robo_flows_envs.grasp_sim.gripper import MAX_GRASP_WIDTH, grasp_frames

MAX_BACKOFF = 0.005
"""Largest TCP shift back along the approach from the contact midpoint, metres."""
_MAX_ROUNDS = 200


def _cast(evaluator: GraspEvaluator, body: int, start: np.ndarray, end: np.ndarray):
    """First hits of rays start -> end [n, 3] on ``body``: (hit mask [n], points [n, 3], normals [n, 3])."""
    hits = evaluator.client.rayTestBatch(start.tolist(), end.tolist()) if len(start) else []
    ok = np.array([h[0] == body for h in hits], dtype=bool)
    points = np.array([h[3] for h in hits], dtype=float).reshape(-1, 3)
    normals = np.array([h[4] for h in hits], dtype=float).reshape(-1, 3)
    return ok, points, normals


def antipodal_grasps(
    evaluator: GraspEvaluator,
    obj: GraspObject,
    rng: np.random.Generator,
    n: int,
    cone_deg: float = 20.0,
    collision_free: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` antipodal grasp candidates (R [n,3,3], t [n,3], object frame) on ``obj`` (module docstring).

    With ``collision_free`` only candidates whose open hand reaches the grasp pose without touching the
    object (``GraspEvaluator.approach_clear``) are kept.

    Raises RuntimeError if the object yields too few candidates (nothing on it fits the hand).
    """
    body = evaluator.load(obj)
    lo, hi = (np.asarray(v) for v in evaluator.client.getAABB(body))
    reach = float(np.linalg.norm(hi - lo)) + 0.05
    cos_cone = np.cos(np.deg2rad(cone_deg))
    Rs, ts = [], []
    found = 0
    for _ in range(_MAX_ROUNDS):
        if found >= n:
            break
        m = 32 * (n - found) + 1024
        y = random_unit_vectors(rng, m)
        through = rng.uniform(lo, hi, (m, 3))
        ok1, p1, n1 = _cast(evaluator, body, through - reach * y, through + reach * y)
        ok2, p2, n2 = _cast(evaluator, body, through + reach * y, through - reach * y)
        width = np.einsum("ni,ni->n", p2 - p1, y)
        keep = ok1 & ok2 & (width > 0) & (width <= MAX_GRASP_WIDTH)
        keep &= (np.einsum("ni,ni->n", -n1, y) >= cos_cone) & (np.einsum("ni,ni->n", n2, y) >= cos_cone)
        y, mid = y[keep], (p1[keep] + p2[keep]) / 2
        z = random_perpendicular(rng, y)
        ok3, entry, _ = _cast(evaluator, body, mid - reach * z, mid)
        depth = np.einsum("ni,ni->n", mid - entry, z)
        backoff = np.clip(depth - DEPTH_MAX, 0.0, None)
        good = ok3 & (backoff <= MAX_BACKOFF)
        R, t = grasp_frames(y[good], z[good]), mid[good] - backoff[good, None] * z[good]
        if collision_free:
            clear = evaluator.approach_clear(obj, R, t)
            R, t = R[clear], t[clear]
        Rs.append(R)
        ts.append(t)
        found += len(R)
    if found < n:
        raise RuntimeError(f"found only {found} of {n} antipodal grasp candidates on {obj}")
    return np.concatenate(Rs)[:n], np.concatenate(ts)[:n]


def label_object(
    obj: GraspObject, n: int, seed: int, config: TrialConfig | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Antipodal candidates on ``obj`` (a mesh name such as ``"duck"``, or a primitive) labelled by
    simulation: (R [n,3,3], t [n,3], success bool [n]), deterministic under ``seed``."""
    with GraspEvaluator(config) as ev:
        R, t = antipodal_grasps(ev, obj, np.random.default_rng(seed), n)
        return R, t, ev.evaluate(obj, R, t, seed)
