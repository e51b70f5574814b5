r"""Set-to-set measures of grasp distributions: symmetry-aware pose distances, coverage and EMD.

Pose distance.  Between grasps (R_a, t_a) and (R_b, t_b): the translation distance |t_a - t_b| (metres) and
the rotation angle θ(R_aᵀ R_b) ∈ [0, π], computed from unit quaternions as 2 acos|⟨q_a, q_b⟩|.  With the
parallel-jaw symmetry, R_b and R_b·Rz(π) are the same grasp and the angle is the smaller of the two.

Coverage(τ_t[, τ_R]).  The fraction of *reference* grasps that have at least one *sampled* grasp within τ_t
(and within τ_R): how much of the true grasp set the model reaches.

EMD.  The earth mover's distance between two equal-size sets with uniform weights, cost
c = |Δt| + λ θ (metres, λ = ``ROTATION_WEIGHT`` m/rad, so 2 cm counts as much as 15°), solved exactly as an
assignment problem.  Its floor is the EMD between two independent draws of the reference distribution.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import Tensor

from robo_flows.geometry.so3 import half_turn_about_z, matrix_to_quaternion

COVERAGE_DISTANCE = 0.02  # m
COVERAGE_ANGLE = math.radians(15.0)
ROTATION_WEIGHT = COVERAGE_DISTANCE / COVERAGE_ANGLE  # m per rad


def pairwise_pose_distances(
    R_a: Tensor, t_a: Tensor, R_b: Tensor, t_b: Tensor, symmetric: bool = True
) -> tuple[Tensor, Tensor]:
    """(|t_a,i - t_b,j| [A, B] in metres, rotation angle [A, B] in radians), symmetry-aware if asked."""
    q_a = matrix_to_quaternion(R_a.double())
    q_b = matrix_to_quaternion(R_b.double())
    dots = (q_a @ q_b.T).abs()
    if symmetric:
        flipped = matrix_to_quaternion(half_turn_about_z(R_b.double()))
        dots = torch.maximum(dots, (q_a @ flipped.T).abs())
    angle = 2 * torch.acos(dots.clamp(max=1.0))
    return torch.cdist(t_a.double(), t_b.double()), angle


def coverage(
    R_ref: Tensor,
    t_ref: Tensor,
    R_samples: Tensor,
    t_samples: Tensor,
    distance: float = COVERAGE_DISTANCE,
    angle: float | None = None,
    symmetric: bool = True,
) -> float:
    """Fraction of reference grasps with a sample within ``distance`` metres (and ``angle`` radians)."""
    if len(R_ref) == 0:
        raise ValueError("coverage needs at least one reference grasp")
    if len(R_samples) == 0:
        return 0.0
    dt, dR = pairwise_pose_distances(R_ref, t_ref, R_samples, t_samples, symmetric)
    close = dt <= distance
    if angle is not None:
        close &= dR <= angle
    return float(close.any(dim=1).double().mean())


def emd(
    R_a: Tensor,
    t_a: Tensor,
    R_b: Tensor,
    t_b: Tensor,
    rotation_weight: float = ROTATION_WEIGHT,
    symmetric: bool = True,
) -> float:
    """Exact EMD (metres) between two equal-size grasp sets with uniform weights (optimal assignment).

    Needs scipy (``scipy.optimize.linear_sum_assignment``), imported here so the rest of the module does not.
    """
    from scipy.optimize import linear_sum_assignment

    if len(R_a) != len(R_b) or len(R_a) == 0:
        raise ValueError(f"emd needs two non-empty sets of equal size, got {len(R_a)} and {len(R_b)}")
    dt, dR = pairwise_pose_distances(R_a, t_a, R_b, t_b, symmetric)
    cost = (dt + rotation_weight * dR).numpy()
    rows, cols = linear_sum_assignment(cost)
    return float(np.mean(cost[rows, cols]))
