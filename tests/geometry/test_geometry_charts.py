"""The Gaussian-Haar chart: bijectivity, exact log-det, and that it pushes N(0, I) onto the Haar measure."""

from __future__ import annotations

import math

import pytest
import torch

from robo_flows.geometry import chart_to_rotation, log_haar_density_rotvec, rotation_angle, rotation_to_chart
from robo_flows.geometry.charts import (
    angle_to_radius,
    chart_to_rotvec,
    haar_angle_cdf,
    log_abs_det_chart,
    log_standard_normal,
    radius_to_angle,
    rotvec_to_chart,
)


def _gaussian(n: int, seed: int, dtype=torch.float64) -> torch.Tensor:
    return torch.randn(n, 3, generator=torch.Generator().manual_seed(seed), dtype=dtype)


def test_haar_density_in_exponential_coordinates_integrates_to_one():
    # ∫_{|v|<π} h(v) d³v = ∫_0^π 4πθ² h(θ) dθ, by the trapezoid rule on a fine grid.
    theta = torch.linspace(0, math.pi, 200001, dtype=torch.float64)
    v = theta[:, None] * torch.tensor([0.0, 0.0, 1.0], dtype=torch.float64)
    integrand = 4 * math.pi * theta**2 * log_haar_density_rotvec(v).exp()
    assert abs(torch.trapezoid(integrand, theta).item() - 1.0) < 1e-9


def test_haar_density_at_identity_and_pi():
    v = torch.tensor([[0.0, 0.0, 0.0], [0.0, math.pi, 0.0]], dtype=torch.float64)
    expected = torch.tensor([1 / (8 * math.pi**2), 2 / (4 * math.pi**4)], dtype=torch.float64)
    torch.testing.assert_close(log_haar_density_rotvec(v).exp(), expected)


def test_radius_to_angle_is_increasing_and_reaches_pi():
    rho = torch.linspace(0, 8, 4001, dtype=torch.float64)
    theta = radius_to_angle(rho)
    assert theta[0] == 0 and (theta.diff() >= 0).all() and (theta.diff()[:3000] > 0).all()
    assert math.pi - theta[-1].item() < 1e-11


@pytest.mark.parametrize(
    ("dtype", "max_radius", "tol"), [(torch.float32, 4.0, 1e-4), (torch.float64, 6.5, 1e-9)]
)
def test_inverse_undoes_forward_on_radii(dtype, max_radius, tol):
    # Radius ρ maps to θ with π - θ ≈ e^{-ρ²/2}: float32 resolves θ near π, hence ρ, only up to about 4.
    rho = torch.cat(
        [torch.tensor([0.0, 1e-9, 1e-4, 0.0999, 0.1, 0.1001]), torch.linspace(0.2, max_radius, 500)]
    )
    back = angle_to_radius(radius_to_angle(rho.to(dtype)))
    torch.testing.assert_close(back.double(), rho.to(dtype).double(), atol=tol, rtol=tol)


def test_inverse_undoes_forward_on_rotations():
    y = 1.5 * _gaussian(2000, 0)
    centre = chart_to_rotation(_gaussian(1, 1), torch.eye(3, dtype=torch.float64))
    R = chart_to_rotation(y, centre)
    torch.testing.assert_close(rotation_to_chart(R, centre), y, atol=1e-8, rtol=1e-8)
    v = rotvec_to_chart(chart_to_rotvec(y))
    torch.testing.assert_close(v, y, atol=1e-10, rtol=1e-10)


def test_rotation_at_exactly_pi_has_finite_chart_coordinates():
    R = torch.diag(torch.tensor([1.0, -1.0, -1.0], dtype=torch.float64))  # θ = π about x
    y = rotation_to_chart(R, torch.eye(3, dtype=torch.float64))
    assert torch.isfinite(y).all() and y.norm() > 7


def test_log_det_matches_autograd_jacobian():
    y = torch.cat([_gaussian(20, 2), 1e-3 * _gaussian(2, 3), 2.0 * _gaussian(3, 4)])  # radii up to ~6
    expected = torch.stack(
        [torch.linalg.slogdet(torch.autograd.functional.jacobian(chart_to_rotvec, yi))[1] for yi in y]
    )
    torch.testing.assert_close(log_abs_det_chart(y), expected, atol=1e-7, rtol=1e-7)


def test_chart_pushes_the_standard_normal_onto_the_haar_density():
    # Change of variables with an autograd Jacobian: log N(y) = log h(v(y)) + log|det ∂v/∂y|.
    y = _gaussian(30, 5)
    v = chart_to_rotvec(y)
    ladj = torch.stack(
        [torch.linalg.slogdet(torch.autograd.functional.jacobian(chart_to_rotvec, yi))[1] for yi in y]
    )
    torch.testing.assert_close(log_haar_density_rotvec(v) + ladj, log_standard_normal(y), atol=1e-8, rtol=0)


def test_gaussian_chart_samples_are_uniform_rotations():
    R = chart_to_rotation(_gaussian(20000, 6), torch.eye(3, dtype=torch.float64))
    u = haar_angle_cdf(rotation_angle(R)).sort().values
    ks = (u - torch.arange(1, len(u) + 1, dtype=torch.float64) / len(u)).abs().max()
    assert ks < 1.63 / math.sqrt(len(u))
    assert R.mean(0).abs().max() < 0.03  # E[R] = 0 for the Haar measure
