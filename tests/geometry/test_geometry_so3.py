"""SO(3) maths: round trips, agreement with independent formulas, stability at θ = 0 and θ = π."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from robo_flows.geometry import (
    exp_map,
    geodesic_distance,
    hat,
    log_map,
    matrix_to_quaternion,
    matrix_to_sixd,
    quaternion_to_matrix,
    quaternion_to_rotvec,
    random_rotations,
    rotation_angle,
    rotvec_to_quaternion,
    sixd_to_matrix,
    vee,
)
from robo_flows.geometry.charts import haar_angle_cdf

DTYPES = [torch.float32, torch.float64]
TOL = {torch.float32: 2e-5, torch.float64: 1e-11}
floats = st.floats(-1.0, 1.0, allow_nan=False)


def _axes(n: int, dtype: torch.dtype, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    a = torch.randn(n, 3, generator=g, dtype=torch.float64)
    return (a / a.norm(dim=-1, keepdim=True)).to(dtype)


@settings(max_examples=60, deadline=None)
@given(st.tuples(floats, floats, floats), st.floats(0.0, math.pi - 1e-6))
def test_log_undoes_exp_below_pi(direction, angle):
    u = torch.tensor(direction, dtype=torch.float64)
    if u.norm() < 1e-3:
        u = torch.tensor([0.0, 0.0, 1.0], dtype=torch.float64)
    v = angle * u / u.norm()
    torch.testing.assert_close(log_map(exp_map(v)), v, atol=1e-9, rtol=0)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("gap", [0.0, 1e-9, 1e-6, 1e-3, 0.1])
def test_exp_undoes_log_near_pi(dtype, gap):
    axes = _axes(64, torch.float64)
    R = exp_map((math.pi - gap) * axes).to(dtype)
    v = log_map(R)
    torch.testing.assert_close(exp_map(v), R, atol=TOL[dtype] * 10, rtol=0)
    angle_tol = 1e-4 if dtype == torch.float32 else 1e-7  # float32 cannot resolve θ closer to π than ~1e-4
    torch.testing.assert_close(v.norm(dim=-1).double(), torch.full((64,), math.pi - gap, dtype=torch.float64),
                               atol=angle_tol, rtol=0)  # fmt: skip


@pytest.mark.parametrize("dtype", DTYPES)
def test_exp_matches_matrix_exponential(dtype):
    v = 3.0 * torch.randn(256, 3, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    expected = torch.linalg.matrix_exp(hat(v))
    torch.testing.assert_close(exp_map(v.to(dtype)).double(), expected, atol=TOL[dtype] * 5, rtol=0)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("scale", [0.0, 1e-12, 1e-7, 1e-4, 1e-2])
def test_small_angles_match_the_series(dtype, scale):
    v = scale * _axes(16, dtype)
    R = exp_map(v)
    eye = torch.eye(3, dtype=dtype)
    second_order = eye + hat(v) + hat(v) @ hat(v) / 2  # error θ³/6
    torch.testing.assert_close(R, second_order, atol=TOL[dtype] + scale**3 / 6, rtol=0)
    torch.testing.assert_close(log_map(R), v, atol=TOL[dtype] * 0.1 + 1e-3 * scale, rtol=0)


def test_exp_and_log_gradients_are_finite_at_zero_and_pi():
    v = torch.zeros(2, 3, dtype=torch.float64, requires_grad=True)
    exp_map(v).sum().backward()
    assert torch.isfinite(v.grad).all()
    R = exp_map(math.pi * _axes(8, torch.float64)).requires_grad_(True)
    log_map(R).square().sum().backward()
    assert torch.isfinite(R.grad).all()


def test_hat_vee_round_trip_and_cross_product():
    a, b = torch.randn(2, 10, 3, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    torch.testing.assert_close((hat(a) @ b[..., None])[..., 0], torch.linalg.cross(a, b))
    torch.testing.assert_close(vee(hat(a)), a)


@pytest.mark.parametrize("dtype", DTYPES)
def test_quaternions_of_either_sign_give_the_same_rotation(dtype):
    q = torch.randn(128, 4, generator=torch.Generator().manual_seed(3), dtype=dtype)
    R = quaternion_to_matrix(q)
    torch.testing.assert_close(quaternion_to_matrix(-q), R)
    torch.testing.assert_close(quaternion_to_matrix(3.0 * q), R, atol=TOL[dtype], rtol=0)
    back = matrix_to_quaternion(R)
    unit = q / q.norm(dim=-1, keepdim=True)
    sign = torch.sign((back * unit).sum(-1, keepdim=True))
    torch.testing.assert_close(back, sign * unit, atol=TOL[dtype] * 5, rtol=0)
    assert (back[:, 0] >= 0).all()
    torch.testing.assert_close(quaternion_to_rotvec(-q), quaternion_to_rotvec(q), atol=TOL[dtype] * 5, rtol=0)


def test_rotvec_quaternion_round_trip():
    v = 3.0 * _axes(50, torch.float64) * torch.rand(50, 1, generator=torch.Generator().manual_seed(4),
                                                     dtype=torch.float64)  # fmt: skip
    torch.testing.assert_close(quaternion_to_rotvec(rotvec_to_quaternion(v)), v)


@pytest.mark.parametrize("dtype", DTYPES)
def test_sixd_round_trip_and_gram_schmidt_gives_rotations(dtype):
    R = random_rotations(64, generator=torch.Generator().manual_seed(5), dtype=dtype)
    torch.testing.assert_close(sixd_to_matrix(matrix_to_sixd(R)), R, atol=TOL[dtype] * 5, rtol=0)
    d6 = torch.randn(64, 6, generator=torch.Generator().manual_seed(6), dtype=dtype)
    M = sixd_to_matrix(d6)
    eye = torch.eye(3, dtype=dtype).expand(64, 3, 3)
    torch.testing.assert_close(M.transpose(-1, -2) @ M, eye, atol=TOL[dtype] * 5, rtol=0)
    torch.testing.assert_close(torch.linalg.det(M), torch.ones(64, dtype=dtype), atol=TOL[dtype] * 5, rtol=0)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("angle", [0.0, 1e-6, 1e-3, 1.0, 3.0, math.pi - 1e-3, math.pi])
def test_geodesic_distance_is_the_relative_angle(dtype, angle):
    R1 = random_rotations(32, generator=torch.Generator().manual_seed(7), dtype=torch.float64)
    R2 = R1 @ exp_map(angle * _axes(32, torch.float64, seed=8))
    d = geodesic_distance(R1.to(dtype), R2.to(dtype))
    tol = {torch.float32: 5e-4 if angle in (0.0, 1e-6) else 2e-4, torch.float64: 1e-7}[dtype]
    torch.testing.assert_close(d.double(), torch.full((32,), angle, dtype=torch.float64), atol=tol, rtol=0)
    torch.testing.assert_close(d, geodesic_distance(R2.to(dtype), R1.to(dtype)))


def test_random_rotations_have_the_haar_angle_law():
    R = random_rotations(20000, generator=torch.Generator().manual_seed(9), dtype=torch.float64)
    u = haar_angle_cdf(rotation_angle(R)).sort().values  # F(θ) of Haar angles is uniform on [0, 1]
    ks = (u - torch.arange(1, len(u) + 1, dtype=torch.float64) / len(u)).abs().max()
    assert ks < 1.63 / math.sqrt(len(u))  # 1% Kolmogorov-Smirnov level
    assert R.mean(0).abs().max() < 0.03
