"""Bad rotations and 6-D vectors are rejected with messages that name the value and the tolerance."""

from __future__ import annotations

import math

import pytest
import torch

from robo_flows.geometry import check_rotation_matrices, check_sixd, exp_map, random_rotations


def test_valid_rotations_pass_in_both_dtypes():
    R = random_rotations(10, generator=torch.Generator().manual_seed(0))
    check_rotation_matrices(R)
    check_rotation_matrices(R.double())
    check_rotation_matrices(exp_map(torch.tensor([math.pi, 0.0, 0.0])))


def test_scaled_matrix_is_named_with_its_error_and_tolerance():
    R = random_rotations(4, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    R[2] = R[2] * 1.01
    with pytest.raises(ValueError, match=r"R\[2\] is not orthonormal.*0\.0201.*tolerance 1e-06"):
        check_rotation_matrices(R)


def test_reflection_is_rejected_as_not_proper():
    R = torch.diag(torch.tensor([1.0, 1.0, -1.0]))
    with pytest.raises(ValueError, match=r"^R is not proper: \|det R - 1\| = 2"):
        check_rotation_matrices(R)


def test_non_finite_rotation_is_rejected():
    R = torch.eye(3).repeat(3, 1, 1)
    R[1, 0, 2] = float("nan")
    with pytest.raises(ValueError, match=r"R must be finite, got nan at index \(1, 0, 2\)"):
        check_rotation_matrices(R)


def test_wrong_shape_is_rejected():
    with pytest.raises(ValueError, match=r"shape \[\.\.\., 3, 3\], got \[4, 3\]"):
        check_rotation_matrices(torch.zeros(4, 3))


def test_custom_tolerance_is_honoured():
    R = torch.eye(3) * (1 + 1e-3)
    check_rotation_matrices(R, atol=1e-2)
    with pytest.raises(ValueError, match="tolerance 0.0001"):
        check_rotation_matrices(R)


def test_parallel_sixd_vectors_are_rejected():
    check_sixd(torch.tensor([1.0, 0.0, 0.0, 0.0, 1.0, 0.0]))
    with pytest.raises(ValueError, match="parallel or zero"):
        check_sixd(torch.tensor([[1.0, 0.0, 0.0, 0.0, 1.0, 0.0], [1.0, 2.0, 3.0, 2.0, 4.0, 6.0]]))
