"""Analytic parallel-jaw grasp sets of the primitives for the Panda hand (numpy; SO(3) maths from geometry).

A grasp is built from a closing axis y, an approach axis z ⟂ y and a TCP position p (object frame), and
returned as R = [y × z, y, z] (columns), t = p. The *depth* of a grasp is how far the TCP lies beyond the
first object point met along the approach, d = max_q(-z·q) + z·p over object points q. A grasp is in
the set when

* the object's extent along y is at most ``MAX_GRASP_WIDTH`` (the open fingers clear it),
* ``DEPTH_MIN <= d <= DEPTH_MAX``: the pads overlap the object and the palm (``PALM_DEPTH`` behind the
  TCP) stays clear of it, whatever the approach direction,
* the pads press on the widest part of the object across y: anywhere on the flat faces of a box or a
  cylinder's end caps (TCP at least ``EDGE_MARGIN`` inside the face), on the axis line of a cylinder
  (side grasps) or the centre of a sphere, shifted along the approach by ``SHIFT_RANGE``.

Families, each drawn with equal probability among those the object admits: box — across each of its
graspable sides, approach anywhere in the plane of the other two; cylinder — across the diameter
(approach anywhere in the plane of the axis and the radial direction ⟂ y) or across the height (approach
radial); sphere — any closing axis, any approach ⟂ to it. Within a family the approach angle is uniform
and the TCP uniform over the admissible region (rejection sampling).
"""

from __future__ import annotations

import numpy as np
import torch
from robo_flows_envs.grasp_sim.gripper import MAX_GRASP_WIDTH, PALM_DEPTH, grasp_frames
from robo_flows_envs.grasp_sim.objects import Primitive

from robo_flows.geometry.so3 import exp_map

DEPTH_MIN = 0.01
"""Smallest depth of the TCP past the object's first point along the approach, metres."""
DEPTH_MAX = PALM_DEPTH - 0.006
"""Largest depth, leaving 6 mm between palm and object, metres."""
EDGE_MARGIN = 0.004
"""Distance the TCP keeps inside a flat face's edges, metres (capped at half the face)."""
SHIFT_RANGE = (-0.02, 0.005)
"""Range of TCP shifts along the approach (beyond / short of the contact line) for curved contacts, m."""

_MAX_ROUNDS = 200


def random_unit_vectors(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` directions uniform on the unit sphere (normalized Gaussians), [n, 3]."""
    v = rng.normal(size=(n, 3))
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def random_perpendicular(rng: np.random.Generator, y: np.ndarray) -> np.ndarray:
    """For unit vectors y [n, 3], unit vectors uniform on the circles ⟂ to them, [n, 3]."""
    v = random_unit_vectors(rng, len(y))
    z = v - np.einsum("ni,ni->n", v, y)[:, None] * y
    return z / np.linalg.norm(z, axis=1, keepdims=True)


def _depth_ok(d: np.ndarray) -> np.ndarray:
    return (d >= DEPTH_MIN) & (d <= DEPTH_MAX)


def _box_across(half: np.ndarray, axis: int, rng: np.random.Generator, m: int):
    """Proposals closing across box ``axis``: approach at a uniform angle in the plane of the other two
    axes, TCP uniform on the mid-slice rectangle shrunk by EDGE_MARGIN. Returns (y, z, p, valid)."""
    j, k = (axis + 1) % 3, (axis + 2) % 3
    phi = rng.uniform(0, 2 * np.pi, m)
    y = np.zeros((m, 3))
    y[:, axis] = rng.choice([-1.0, 1.0], m)
    z = np.zeros((m, 3))
    z[:, j], z[:, k] = np.cos(phi), np.sin(phi)
    inner = np.maximum(half - EDGE_MARGIN, half / 2)
    p = np.zeros((m, 3))
    p[:, j] = rng.uniform(-inner[j], inner[j], m)
    p[:, k] = rng.uniform(-inner[k], inner[k], m)
    depth = np.abs(z) @ half + np.einsum("ni,ni->n", z, p)
    return y, z, p, _depth_ok(depth)


def _cylinder_side(r: float, h: float, rng: np.random.Generator, m: int):
    """Proposals closing across the diameter: y radial, approach z = cos β e_z + sin β (e_z × y), TCP on
    the axis shifted along the approach by SHIFT_RANGE."""
    alpha = rng.uniform(0, 2 * np.pi, m)
    beta = rng.uniform(0, 2 * np.pi, m)
    y = np.stack([np.cos(alpha), np.sin(alpha), np.zeros(m)], axis=1)
    u = np.stack([-np.sin(alpha), np.cos(alpha), np.zeros(m)], axis=1)
    z = np.cos(beta)[:, None] * np.array([0.0, 0.0, 1.0]) + np.sin(beta)[:, None] * u
    inner = max(h / 2 - EDGE_MARGIN, h / 4)
    c = np.zeros((m, 3))
    c[:, 2] = rng.uniform(-inner, inner, m)
    p = c - rng.uniform(*SHIFT_RANGE, m)[:, None] * z
    depth = r * np.abs(np.sin(beta)) + h / 2 * np.abs(np.cos(beta)) + np.einsum("ni,ni->n", z, p)
    return y, z, p, _depth_ok(depth)


def _cylinder_ends(r: float, rng: np.random.Generator, m: int):
    """Proposals closing across the height: y = ±e_z, radial approach, TCP uniform on the mid disc."""
    gamma = rng.uniform(0, 2 * np.pi, m)
    y = np.zeros((m, 3))
    y[:, 2] = rng.choice([-1.0, 1.0], m)
    z = np.stack([np.cos(gamma), np.sin(gamma), np.zeros(m)], axis=1)
    inner = max(r - EDGE_MARGIN, r / 2)
    rho = inner * np.sqrt(rng.random(m))
    ang = rng.uniform(0, 2 * np.pi, m)
    p = np.stack([rho * np.cos(ang), rho * np.sin(ang), np.zeros(m)], axis=1)
    depth = r + np.einsum("ni,ni->n", z, p)
    return y, z, p, _depth_ok(depth)


def _sphere(r: float, rng: np.random.Generator, m: int):
    """Proposals for a sphere: uniform closing axis, uniform approach ⟂ to it, TCP at the centre shifted
    along the approach by SHIFT_RANGE."""
    y = random_unit_vectors(rng, m)
    z = random_perpendicular(rng, y)
    p = -rng.uniform(*SHIFT_RANGE, m)[:, None] * z
    depth = r + np.einsum("ni,ni->n", z, p)
    return y, z, p, _depth_ok(depth)


def _families(p: Primitive) -> list:
    """Proposal functions (rng, m) -> (y, z, p, valid) for each grasp family ``p`` admits."""
    if p.kind == "box":
        half = np.asarray(p.dims) / 2
        return [
            (lambda rng, m, a=a: _box_across(half, a, rng, m))
            for a in range(3)
            if p.dims[a] <= MAX_GRASP_WIDTH
        ]
    if p.kind == "cylinder":
        r, h = p.dims
        fams = []
        if 2 * r <= MAX_GRASP_WIDTH:
            fams.append(lambda rng, m: _cylinder_side(r, h, rng, m))
        if h <= MAX_GRASP_WIDTH:
            fams.append(lambda rng, m: _cylinder_ends(r, rng, m))
        return fams
    return [lambda rng, m: _sphere(p.dims[0], rng, m)]


def analytic_grasps(
    p: Primitive,
    rng: np.random.Generator,
    n: int,
    noise_pos: float = 0.003,
    noise_deg: float = 3.0,
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` grasps drawn from the analytic grasp set of ``p`` (see the module docstring), then perturbed.

    Returns R [n, 3, 3] (orthonormal, det +1) and t [n, 3] in the object frame, float64. The perturbation
    is R ← R·exp(ω̂), ω ~ N(0, (noise_deg·π/180)² I), and t ← t + ε, ε ~ N(0, noise_pos² I). With both
    noises 0 this is the exact set, the reference sampler for coverage and EMD metrics.
    """
    if n < 0:
        raise ValueError(f"number of grasps must be >= 0, got {n}")
    if noise_pos < 0 or noise_deg < 0:
        raise ValueError(f"noise must be >= 0, got noise_pos={noise_pos}, noise_deg={noise_deg}")
    families = _families(p)
    which = rng.integers(len(families), size=n)
    R = np.empty((n, 3, 3))
    t = np.empty((n, 3))
    for f, propose in enumerate(families):
        idx = np.flatnonzero(which == f)
        filled = 0
        for _ in range(_MAX_ROUNDS):
            if filled == len(idx):
                break
            y, z, pos, ok = propose(rng, 2 * (len(idx) - filled) + 8)
            take = np.flatnonzero(ok)[: len(idx) - filled]
            R[idx[filled : filled + len(take)]] = grasp_frames(y[take], z[take])
            t[idx[filled : filled + len(take)]] = pos[take]
            filled += len(take)
        if filled < len(idx):
            raise RuntimeError(f"rejection sampling found too few admissible grasps for {p.spec}")
    if noise_deg > 0:
        omega = rng.normal(scale=np.deg2rad(noise_deg), size=(n, 3))
        R = R @ exp_map(torch.from_numpy(omega)).numpy()
    if noise_pos > 0:
        t = t + rng.normal(scale=noise_pos, size=(n, 3))
    return R, t
