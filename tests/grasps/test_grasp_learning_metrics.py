"""Grasp-set measures: symmetry-aware distances, coverage and EMD on sets with known answers."""

from __future__ import annotations

import math

import torch

from robo_flows.geometry import geodesic_distance, random_rotations, rotation_about_z
from robo_flows.grasps.metrics import coverage, emd, pairwise_pose_distances


def _grasps(n: int, seed: int):
    g = torch.Generator().manual_seed(seed)
    return random_rotations(n, generator=g, dtype=torch.float64), 0.05 * torch.randn(
        n, 3, generator=g, dtype=torch.float64
    )


def test_pairwise_angle_is_the_geodesic_distance():
    (R_a, t_a), (R_b, t_b) = _grasps(20, 0), _grasps(30, 1)
    _, angle = pairwise_pose_distances(R_a, t_a, R_b, t_b, symmetric=False)
    expected = geodesic_distance(R_a[:, None], R_b[None])
    torch.testing.assert_close(angle, expected, atol=1e-6, rtol=0)


def test_symmetric_angle_identifies_the_jaw_flip():
    R, t = _grasps(10, 2)
    flipped = R @ rotation_about_z(math.pi, dtype=torch.float64)
    _, plain = pairwise_pose_distances(R, t, flipped, t, symmetric=False)
    _, sym = pairwise_pose_distances(R, t, flipped, t, symmetric=True)
    torch.testing.assert_close(
        plain.diagonal(), torch.full((10,), math.pi, dtype=torch.float64), atol=1e-6, rtol=0
    )
    assert sym.diagonal().max() < 1e-6


def test_coverage_counts_reference_grasps_reached_by_samples():
    R, t = _grasps(40, 3)
    assert coverage(R, t, R, t, 0.02, math.radians(15)) == 1.0
    # Samples cover only the first half; the rest are 10 cm away.
    t_far = t.clone()
    t_far[20:] += 0.1
    assert coverage(R, t, R, t_far, 0.02) == 0.5
    flipped = R @ rotation_about_z(math.pi, dtype=torch.float64)
    assert coverage(R, t, flipped, t, 0.02, math.radians(15), symmetric=True) == 1.0
    assert coverage(R, t, flipped, t, 0.02, math.radians(15), symmetric=False) < 0.2


def test_emd_is_zero_for_equal_sets_and_the_shift_for_translated_ones():
    R, t = _grasps(50, 4)
    perm = torch.randperm(50, generator=torch.Generator().manual_seed(5))
    assert emd(R, t, R[perm], t[perm]) < 1e-9
    shift = torch.tensor([0.01, 0.0, 0.0], dtype=torch.float64)
    assert abs(emd(R, t, R, t + shift) - 0.01) < 1e-9
