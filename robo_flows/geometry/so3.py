r"""Batched SO(3) maths in torch: exponential / logarithm maps, quaternions, the 6-D representation.

Conventions (all functions broadcast over leading batch dimensions ``...``):

- A rotation vector ``v = θ u`` ([..., 3], |u| = 1, θ = |v|) means the rotation by angle θ about axis u;
  ``exp(v) = I + sinθ/θ [v]× + (1 - cosθ)/θ² [v]×²`` (Rodrigues), ``log`` returns θ ∈ [0, π].
- Quaternions are scalar first, ``q = (w, x, y, z)`` with ``R(q) = R(-q)``; inputs of either sign and any
  non-zero norm are accepted, outputs are unit and canonical (w ≥ 0).
- The 6-D representation (Zhou et al., 2019) is the first two columns of R, ``[R[:, 0], R[:, 1]]`` ([..., 6]);
  its inverse is Gram-Schmidt, so any pair of independent vectors maps to a rotation.

Numerics: the exponential map goes through the quaternion ``(cos θ/2, sin(θ/2)/θ · v)`` with a Taylor
branch of sin(θ/2)/θ near θ = 0, and the logarithm goes through Shepperd's matrix-to-quaternion method
(the largest of w, x, y, z is taken from the diagonal, the rest from off-diagonal sums/differences) followed
by θ = 2 atan2(|q_v|, w); both are accurate and differentiable near θ = 0 and θ = π, in float32 and float64.
"""

from __future__ import annotations

import torch
from torch import Tensor

# Below this squared angle the Taylor series of sin(θ/2)/θ and θ/sin(θ/2) are used (error < 1e-12).
_SMALL_ANGLE2 = 1e-4


def hat(v: Tensor) -> Tensor:
    """The skew matrix [v]× with [v]× w = v × w.  [..., 3] -> [..., 3, 3]."""
    x, y, z = v.unbind(-1)
    o = torch.zeros_like(x)
    return torch.stack((o, -z, y, z, o, -x, -y, x, o), dim=-1).reshape(*v.shape[:-1], 3, 3)


def vee(m: Tensor) -> Tensor:
    """Inverse of :func:`hat` on the skew part: ((m - mᵀ)/2)^∨.  [..., 3, 3] -> [..., 3]."""
    return 0.5 * torch.stack(
        (m[..., 2, 1] - m[..., 1, 2], m[..., 0, 2] - m[..., 2, 0], m[..., 1, 0] - m[..., 0, 1]), dim=-1
    )


def _half_sinc(theta2: Tensor) -> Tensor:
    """sin(θ/2)/θ as a function of θ², smooth at θ = 0 (limit 1/2)."""
    small = theta2 < _SMALL_ANGLE2
    theta = torch.where(small, torch.ones_like(theta2), theta2).sqrt()
    taylor = 0.5 - theta2 / 48.0 + theta2 * theta2 / 3840.0
    return torch.where(small, taylor, torch.sin(0.5 * theta) / theta)


def quaternion_to_matrix(q: Tensor) -> Tensor:
    """Rotation matrix of a quaternion of either sign and any non-zero norm.  [..., 4] -> [..., 3, 3]."""
    q = q / q.norm(dim=-1, keepdim=True)
    w, x, y, z = q.unbind(-1)
    rows = (
        1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y),
        2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x),
        2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y),
    )  # fmt: skip
    return torch.stack(rows, dim=-1).reshape(*q.shape[:-1], 3, 3)


def matrix_to_quaternion(R: Tensor) -> Tensor:
    """Unit quaternion with w ≥ 0 of a rotation matrix (Shepperd's method).  [..., 3, 3] -> [..., 4].

    For each candidate c ∈ {w, x, y, z}, 4c² is a signed sum of 1 and the diagonal; the largest one (≥ 1 for a
    rotation) is taken by square root and the other three come from off-diagonal sums / differences divided by
    4c, so no division by a small number happens for any rotation, including θ = π.
    """
    r00, r01, r02 = R[..., 0, 0], R[..., 0, 1], R[..., 0, 2]
    r10, r11, r12 = R[..., 1, 0], R[..., 1, 1], R[..., 1, 2]
    r20, r21, r22 = R[..., 2, 0], R[..., 2, 1], R[..., 2, 2]
    four_sq = torch.stack(
        (1 + r00 + r11 + r22, 1 + r00 - r11 - r22, 1 - r00 + r11 - r22, 1 - r00 - r11 + r22), dim=-1
    )
    # The unselected candidates may be ~0; clamping keeps their (discarded) values and gradients finite.
    two_c = four_sq.clamp_min(0.1).sqrt()  # 2|c|
    sxw, syw, szw = r21 - r12, r02 - r20, r10 - r01  # 4wx, 4wy, 4wz
    sxy, sxz, syz = r01 + r10, r02 + r20, r12 + r21  # 4xy, 4xz, 4yz
    candidates = torch.stack(
        (
            torch.stack((four_sq[..., 0], sxw, syw, szw), dim=-1),
            torch.stack((sxw, four_sq[..., 1], sxy, sxz), dim=-1),
            torch.stack((syw, sxy, four_sq[..., 2], syz), dim=-1),
            torch.stack((szw, sxz, syz, four_sq[..., 3]), dim=-1),
        ),
        dim=-2,
    ) / (2 * two_c[..., None])  # row c: 4c·(w, x, y, z) / 4|c| = ±(w, x, y, z)
    best = four_sq.argmax(dim=-1)
    index = best[..., None, None].expand(*best.shape, 1, 4)
    q = candidates.gather(-2, index).squeeze(-2)
    return canonical_quaternion(q / q.norm(dim=-1, keepdim=True))


def canonical_quaternion(q: Tensor) -> Tensor:
    """The representative of ±q with w ≥ 0 (ties at w = 0 keep q as given).  [..., 4] -> [..., 4]."""
    return torch.where(q[..., :1] < 0, -q, q)


def rotvec_to_quaternion(v: Tensor) -> Tensor:
    """Unit quaternion (cos θ/2, sin(θ/2) u) of a rotation vector v = θ u.  [..., 3] -> [..., 4]."""
    theta2 = (v * v).sum(dim=-1, keepdim=True)
    small = theta2 < _SMALL_ANGLE2
    theta = torch.where(small, torch.ones_like(theta2), theta2).sqrt()
    w = torch.where(small, 1 - theta2 / 8 + theta2 * theta2 / 384, torch.cos(0.5 * theta))
    return torch.cat((w, _half_sinc(theta2) * v), dim=-1)


def quaternion_to_rotvec(q: Tensor) -> Tensor:
    """Rotation vector with angle in [0, π] of a quaternion of either sign.  [..., 4] -> [..., 3].

    θ = 2 atan2(|q_v|, |w|) and v = θ q_v / |q_v| · sign(w); near θ = 0 the factor θ/|q_v| uses its series.
    """
    q = canonical_quaternion(q / q.norm(dim=-1, keepdim=True))
    w, qv = q[..., :1], q[..., 1:]
    n2 = (qv * qv).sum(dim=-1, keepdim=True)
    small = n2 < _SMALL_ANGLE2 / 4
    n = torch.where(small, torch.ones_like(n2), n2).sqrt()
    # 2 atan2(n, w) / n: series in n for small n (w ≈ 1): 2/w (1 - n²/(3w²) + n⁴/(5w⁴)).
    r2 = n2 / (w * w).clamp_min(0.5)
    series = 2 / w.clamp_min(0.5) * (1 - r2 / 3 + r2 * r2 / 5)
    factor = torch.where(small, series, 2 * torch.atan2(n, w) / n)
    return factor * qv


def exp_map(v: Tensor) -> Tensor:
    """Exponential map so(3) -> SO(3): rotation vector [..., 3] -> rotation matrix [..., 3, 3]."""
    return quaternion_to_matrix(rotvec_to_quaternion(v))


def log_map(R: Tensor) -> Tensor:
    """Logarithm map SO(3) -> so(3): rotation matrix [..., 3, 3] -> rotation vector [..., 3], |v| ∈ [0, π].

    At θ = π, v and -v are the same rotation; the sign returned there is whichever Shepperd gives.
    """
    return quaternion_to_rotvec(matrix_to_quaternion(R))


def rotation_angle(R: Tensor) -> Tensor:
    """Rotation angle θ ∈ [0, π] of R, 2 atan2(|q_v|, w) (accurate at both ends).  [..., 3, 3] -> [...]."""
    q = matrix_to_quaternion(R)
    return 2 * torch.atan2(q[..., 1:].norm(dim=-1), q[..., 0])


def geodesic_distance(R1: Tensor, R2: Tensor) -> Tensor:
    """Geodesic (angle) distance θ(R1ᵀ R2) ∈ [0, π] in radians.  [..., 3, 3] x [..., 3, 3] -> [...]."""
    return rotation_angle(R1.transpose(-1, -2) @ R2)


def matrix_to_sixd(R: Tensor) -> Tensor:
    """6-D representation: the first two columns of R, concatenated.  [..., 3, 3] -> [..., 6]."""
    return torch.cat((R[..., :, 0], R[..., :, 1]), dim=-1)


def sixd_to_matrix(d6: Tensor) -> Tensor:
    """Rotation from a 6-D representation by Gram-Schmidt.  [..., 6] -> [..., 3, 3].

    b1 = a1/|a1|, b2 = (a2 - (b1·a2) b1)/|...|, b3 = b1 × b2, R = [b1 b2 b3] (columns).  The two 3-vectors
    must be linearly independent (see ``robo_flows.geometry.validation.check_sixd``).
    """
    a1, a2 = d6[..., :3], d6[..., 3:]
    b1 = a1 / a1.norm(dim=-1, keepdim=True)
    a2 = a2 - (b1 * a2).sum(dim=-1, keepdim=True) * b1
    b2 = a2 / a2.norm(dim=-1, keepdim=True)
    b3 = torch.linalg.cross(b1, b2, dim=-1)
    return torch.stack((b1, b2, b3), dim=-1)


def random_rotations(
    n: int,
    *,
    generator: torch.Generator | None = None,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str | None = None,
) -> Tensor:
    """``n`` Haar-uniform rotations (normalized Gaussian quaternions).  -> [n, 3, 3]."""
    q = torch.randn(n, 4, generator=generator, dtype=dtype, device=device)
    return quaternion_to_matrix(q)


def half_turn_about_z(R: Tensor) -> Tensor:
    """R·Rz(π), exactly: the first two columns change sign.  [..., 3, 3] -> [..., 3, 3].

    The parallel-jaw symmetry: (R, t) and (R·Rz(π), t) are the same grasp with the fingers swapped.
    """
    return R * R.new_tensor([-1.0, -1.0, 1.0])


def rotation_about_z(angle: float, *, dtype: torch.dtype = torch.float32, device=None) -> Tensor:
    """Rz(angle), the rotation by ``angle`` radians about +z.  -> [3, 3]."""
    a = torch.tensor(angle, dtype=torch.float64)
    c, s = torch.cos(a).item(), torch.sin(a).item()
    return torch.tensor([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]], dtype=dtype, device=device)
