"""Small numpy rotation helpers for the grasp code: frames from axes, Rodrigues, quaternions, checks.

Quaternions are PyBullet's (x, y, z, w) order. Batched: leading dimension n.
"""

from __future__ import annotations

import numpy as np

ORTHONORMAL_TOL = 1e-4
"""Largest |RᵀR − I| entry (and |det R − 1|) accepted for a rotation."""


def frames_from_axes(y: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Rotations [n, 3, 3] with columns (y × z, y, z) from orthonormal closing y and approach z [n, 3]."""
    return np.stack([np.cross(y, z), y, z], axis=-1)


def random_unit_vectors(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` directions uniform on the unit sphere (normalized Gaussians), [n, 3]."""
    v = rng.normal(size=(n, 3))
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def random_perpendicular(rng: np.random.Generator, y: np.ndarray) -> np.ndarray:
    """For unit vectors y [n, 3], unit vectors uniform on the circles ⟂ to them, [n, 3]."""
    v = random_unit_vectors(rng, len(y))
    z = v - np.einsum("ni,ni->n", v, y)[:, None] * y
    return z / np.linalg.norm(z, axis=1, keepdims=True)


def rotvec_to_matrix(w: np.ndarray) -> np.ndarray:
    """Rodrigues: rotation vectors w [n, 3] (axis × angle, radians) -> rotations exp(ŵ) [n, 3, 3]."""
    theta = np.linalg.norm(w, axis=-1)[:, None, None]
    K = np.zeros((len(w), 3, 3))
    K[:, 0, 1], K[:, 0, 2], K[:, 1, 2] = -w[:, 2], w[:, 1], -w[:, 0]
    K = K - K.transpose(0, 2, 1)
    small = theta < 1e-8
    safe = np.where(small, 1.0, theta)
    a = np.where(small, 1.0 - theta**2 / 6, np.sin(safe) / safe)
    b = np.where(small, 0.5 - theta**2 / 24, (1 - np.cos(safe)) / safe**2)
    return np.eye(3) + a * K + b * (K @ K)


def matrix_to_quaternion(R: np.ndarray) -> np.ndarray:
    """Rotation [3, 3] -> unit quaternion (x, y, z, w), by the largest-diagonal branch (stable at π)."""
    m = np.asarray(R, dtype=float)
    tr = np.trace(m)
    if tr > 0:
        s = 2.0 * np.sqrt(1.0 + tr)
        q = [(m[2, 1] - m[1, 2]) / s, (m[0, 2] - m[2, 0]) / s, (m[1, 0] - m[0, 1]) / s, s / 4]
    else:
        i = int(np.argmax(np.diag(m)))
        j, k = (i + 1) % 3, (i + 2) % 3
        s = 2.0 * np.sqrt(1.0 + m[i, i] - m[j, j] - m[k, k])
        q = [0.0, 0.0, 0.0, (m[k, j] - m[j, k]) / s]
        q[i] = s / 4
        q[j] = (m[j, i] + m[i, j]) / s
        q[k] = (m[k, i] + m[i, k]) / s
    q = np.asarray(q)
    return q / np.linalg.norm(q)


def check_poses(R: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Validate grasp poses: R [n, 3, 3] finite rotations (orthonormal, det +1), t [n, 3] finite.

    Returns float64 copies; raises ValueError naming the first offending grasp.
    """
    R = np.asarray(R, dtype=float)
    t = np.asarray(t, dtype=float)
    if R.ndim != 3 or R.shape[1:] != (3, 3):
        raise ValueError(f"rotations must have shape [n, 3, 3], got {list(R.shape)}")
    if t.shape != (len(R), 3):
        raise ValueError(f"translations must have shape [{len(R)}, 3] as R, got {list(t.shape)}")
    bad = ~np.isfinite(R).all(axis=(1, 2)) | ~np.isfinite(t).all(axis=1)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(f"grasp {i} is not finite: R={R[i].tolist()}, t={t[i].tolist()}")
    err = np.abs(R.transpose(0, 2, 1) @ R - np.eye(3)).max(axis=(1, 2))
    det = np.linalg.det(R)
    bad = (err > ORTHONORMAL_TOL) | (np.abs(det - 1) > ORTHONORMAL_TOL)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"grasp {i}: rotation is not orthonormal with det +1 (max |RᵀR − I| = {err[i]:.3g}, "
            f"det = {det[i]:.6g}, tolerance {ORTHONORMAL_TOL})"
        )
    return R, t
