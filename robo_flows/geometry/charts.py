r"""The Gaussian-Haar chart: a radial bijection R^3 -> so(3) ball that pushes N(0, I) onto the uniform SO(3).

Haar measure in exponential coordinates.  With v = θu (θ = |v| ∈ [0, π)) and R = exp(v), the normalized Haar
measure on SO(3) has density

    h(v) = (1 - cos θ) / (4π² θ²)        w.r.t. Lebesgue d³v on the open ball |v| < π,

so the rotation angle of a uniform rotation has density f(θ) = 4πθ² h = (1 - cos θ)/π on [0, π] and
CDF F(θ) = (θ - sin θ)/π (F(π) = 1: the ball covers SO(3) up to the null set θ = π).

The chart.  A standard normal y ∈ R^3 has radius ρ = |y| ~ χ₃ with density g(ρ) = √(2/π) ρ² e^{-ρ²/2} and
CDF G(ρ) = erf(ρ/√2) - √(2/π) ρ e^{-ρ²/2}.  The radial map

    y -> v = θ(ρ) y/ρ,   θ(ρ) = F⁻¹(G(ρ)),

keeps directions and matches the radial laws, so it maps N(0, I) onto h, and is a bijection from R^3 onto
the open ball (hence onto SO(3) up to a null set).  Its log-det is log|det ∂v/∂y| = log θ'(ρ) + 2 log(θ/ρ)
with θ'(ρ) = g(ρ)/f(θ), and the identity  log h(v) + log|det ∂v/∂y| = log N(y; 0, I)  holds.  Hence a density
p_y on chart coordinates becomes the density on SO(3) relative to the normalized Haar measure

    log p(R) = log p_y(y) - log N(y; 0, I),

which is 0 (uniform) when p_y is the standard normal.  F⁻¹ and G⁻¹ have no closed form; they are solved by a
few Newton steps in float64 (on the lower or upper tail, whichever is better conditioned) without autograd,
then one Newton step is replayed with autograd so derivatives are exact (implicit function theorem).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from robo_flows.geometry.so3 import exp_map, log_map

_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_LOG_SQRT_2_OVER_PI = 0.5 * math.log(2.0 / math.pi)
_LOG_4PI2 = math.log(4.0 * math.pi**2)
_LOG_2PI = math.log(2.0 * math.pi)
_SERIES_BELOW = 0.1  # radius / angle below which the CDFs use their power series (cancellation otherwise)
_NEWTON_STEPS = 12
# The angle is kept at most π - _MIN_ANGLE_GAP (and the radius finite) so the chart of a rotation at
# exactly θ = π, a null set, is a far but finite point.
_MIN_ANGLE_GAP = 1e-12


# --- the angle law of a uniform rotation: f(θ) = (1 - cos θ)/π, F(θ) = (θ - sin θ)/π -----------------------
def _theta_minus_sin(theta: Tensor) -> Tensor:
    """θ - sin θ, with its series θ³/6 - θ⁵/120 + θ⁷/5040 - θ⁹/362880 below 0.1 (no cancellation)."""
    t2 = theta * theta
    series = theta * t2 * (1 / 6 - t2 * (1 / 120 - t2 * (1 / 5040 - t2 / 362880)))
    return torch.where(theta < _SERIES_BELOW, series, theta - torch.sin(theta))


def haar_angle_cdf(theta: Tensor) -> Tensor:
    """F(θ) = (θ - sin θ)/π, the CDF of the angle of a uniform rotation."""
    return _theta_minus_sin(theta) / math.pi


def haar_angle_sf(theta: Tensor) -> Tensor:
    """1 - F(θ) = (φ + sin φ)/π with φ = π - θ (accurate near θ = π)."""
    phi = math.pi - theta
    return (phi + torch.sin(phi)) / math.pi


def haar_angle_log_pdf(theta: Tensor) -> Tensor:
    """log f(θ) = log((1 - cos θ)/π) = log(2 sin²(θ/2)/π)."""
    return math.log(2.0 / math.pi) + 2 * torch.log(torch.sin(0.5 * theta))


def log_haar_density_rotvec(v: Tensor) -> Tensor:
    """log h(v) = log((1 - cos θ)/(4π² θ²)), the normalized Haar density in exponential coordinates.

    [..., 3] -> [...]; written as log(sinc²(θ/2)/2) - log 4π², finite at θ = 0 (h(0) = 1/(8π²)).
    """
    theta = v.norm(dim=-1)
    half_sinc = torch.sinc(theta / (2 * math.pi))  # sin(θ/2)/(θ/2)
    return 2 * torch.log(half_sinc) - math.log(2.0) - _LOG_4PI2


# --- the radius law of a standard normal in R^3: χ₃ ----------------------------------------------------
def chi3_cdf(rho: Tensor) -> Tensor:
    """G(ρ) = erf(ρ/√2) - √(2/π) ρ e^{-ρ²/2}; series √(2/π)(ρ³/3 - ρ⁵/10 + ρ⁷/56 - ρ⁹/432) below 0.1."""
    r2 = rho * rho
    series = _SQRT_2_OVER_PI * rho * r2 * (1 / 3 - r2 * (1 / 10 - r2 * (1 / 56 - r2 / 432)))
    direct = torch.erf(rho / math.sqrt(2.0)) - _SQRT_2_OVER_PI * rho * torch.exp(-0.5 * r2)
    return torch.where(rho < _SERIES_BELOW, series, direct)


def chi3_sf(rho: Tensor) -> Tensor:
    """1 - G(ρ) = erfc(ρ/√2) + √(2/π) ρ e^{-ρ²/2} (accurate in the upper tail)."""
    return torch.erfc(rho / math.sqrt(2.0)) + _SQRT_2_OVER_PI * rho * torch.exp(-0.5 * rho * rho)


def chi3_log_pdf(rho: Tensor) -> Tensor:
    """log g(ρ) = log √(2/π) + 2 log ρ - ρ²/2."""
    return _LOG_SQRT_2_OVER_PI + 2 * torch.log(rho) - 0.5 * rho * rho


# --- the radial bijection θ(ρ) and its inverse ----------------------------------------------------------
def _solve_angle(rho: Tensor) -> Tensor:
    """θ = F⁻¹(G(ρ)) by Newton, float64, no autograd.

    Lower half (G ≤ 1/2): solve θ - sin θ = π G(ρ) (convex in θ) from (6π G)^{1/3}, a lower bound since
    θ - sin θ ≤ θ³/6.  Upper half: solve φ + sin φ = π (1 - G(ρ)) for φ = π - θ (concave) from π(1-G)/2, a
    lower bound since φ + sin φ ≤ 2φ; Newton then increases φ monotonically to the root.
    """
    lower_target = math.pi * chi3_cdf(rho)
    upper_target = math.pi * chi3_sf(rho)
    lower = lower_target <= 0.5 * math.pi
    tiny = torch.finfo(rho.dtype).tiny
    theta = (6 * lower_target).clamp_min(0).pow(1 / 3)
    phi = 0.5 * upper_target
    for _ in range(_NEWTON_STEPS):
        slope = (2 * torch.sin(0.5 * theta) ** 2).clamp_min(tiny)  # 1 - cos θ
        theta = (theta - (_theta_minus_sin(theta) - lower_target) / slope).clamp(0, math.pi)
        slope = (1 + torch.cos(phi)).clamp_min(tiny)
        phi = (phi - (phi + torch.sin(phi) - upper_target) / slope).clamp(0, math.pi)
    return torch.where(lower, theta, math.pi - phi.clamp_min(_MIN_ANGLE_GAP))


def _solve_radius(theta: Tensor) -> Tensor:
    """ρ = G⁻¹(F(θ)) by Newton, float64, no autograd.

    Lower half (F ≤ 1/2): Newton on log G(ρ) = log F(θ) in ℓ = log ρ from the leading term
    ρ₀ = (3F/√(2/π))^{1/3} (nearly linear in ℓ).  Upper half: Newton on log(1 - G(ρ)) = log(1 - F(θ)), which
    is concave in ρ (χ₃ is log-concave), from the Gaussian-tail guess √(-2 log(1 - F)).
    """
    theta = theta.clamp(0, math.pi - _MIN_ANGLE_GAP)
    u = haar_angle_cdf(theta)
    s = haar_angle_sf(theta)
    lower = u <= 0.5
    tiny = torch.finfo(theta.dtype).tiny
    log_u, log_s = torch.log(u.clamp_min(tiny)), torch.log(s.clamp_min(tiny))
    ell = torch.log((3 * u.clamp_min(tiny) / _SQRT_2_OVER_PI).pow(1 / 3)).clamp(max=math.log(1.6))
    rho_up = torch.sqrt(-2 * log_s.clamp(max=math.log(0.5))).clamp_min(1.0)
    for _ in range(_NEWTON_STEPS):
        r = torch.exp(ell)
        cdf = chi3_cdf(r).clamp_min(tiny)
        ell = ell - (torch.log(cdf) - log_u) / (r * torch.exp(chi3_log_pdf(r)) / cdf)
        ell = ell.clamp(max=math.log(1.6))
        sf = chi3_sf(rho_up).clamp_min(tiny)
        rho_up = (rho_up + (torch.log(sf) - log_s) / (torch.exp(chi3_log_pdf(rho_up)) / sf)).clamp_min(1.0)
    return torch.where(lower, torch.exp(ell), rho_up)


def radius_to_angle(rho: Tensor) -> Tensor:
    """θ(ρ) = F⁻¹(G(ρ)) ∈ [0, π), differentiable with θ'(ρ) = g(ρ)/f(θ).  Computed in float64."""
    rho64 = rho.double()
    with torch.no_grad():
        theta = _solve_angle(rho64)
    if rho.requires_grad:  # replay one Newton step on F(θ) = G(ρ) with autograd: exact first derivative
        theta = theta - (haar_angle_cdf(theta) - chi3_cdf(rho64)) / torch.exp(haar_angle_log_pdf(theta))
    return theta.to(rho.dtype)


def angle_to_radius(theta: Tensor) -> Tensor:
    """ρ(θ) = G⁻¹(F(θ)) ∈ [0, ∞), the inverse of :func:`radius_to_angle`.  Computed in float64."""
    theta64 = theta.double()
    with torch.no_grad():
        rho = _solve_radius(theta64)
    if theta.requires_grad:
        rho = rho - (chi3_cdf(rho) - haar_angle_cdf(theta64)) / torch.exp(chi3_log_pdf(rho))
    return rho.to(theta.dtype)


# --- the chart on vectors and on rotations ----------------------------------------------------------------
def _radial(x: Tensor, new_radius) -> Tensor:
    """x scaled radially to |x| -> new_radius(|x|); the ratio's limit at x = 0 comes from a tiny radius."""
    r = x.norm(dim=-1, keepdim=True)
    tiny = torch.full_like(r, 1e-8)
    safe = torch.where(r > 1e-8, r, tiny)
    return x * (new_radius(safe) / safe)


def chart_to_rotvec(y: Tensor) -> Tensor:
    """v = θ(|y|) y/|y|: chart coordinates [..., 3] -> rotation vector in the open ball |v| < π."""
    return _radial(y, radius_to_angle)


def rotvec_to_chart(v: Tensor) -> Tensor:
    """y = ρ(|v|) v/|v|, the inverse of :func:`chart_to_rotvec`.  [..., 3] -> [..., 3]."""
    return _radial(v, angle_to_radius)


def log_abs_det_chart(y: Tensor) -> Tensor:
    """log|det ∂v/∂y| of :func:`chart_to_rotvec`, [..., 3] -> [...].

    Analytically log θ'(ρ) + 2 log(θ/ρ) with θ'(ρ) = g(ρ)/f(θ), which simplifies to log N(y; 0, I) - log h(v)
    (the chart pushes N(0, I) to the Haar density h); that form is evaluated, as it is finite at ρ = 0.
    """
    return log_standard_normal(y) - log_haar_density_rotvec(chart_to_rotvec(y))


def log_standard_normal(y: Tensor) -> Tensor:
    """log N(y; 0, I) = -|y|²/2 - (d/2) log 2π.  [..., d] -> [...]."""
    return -0.5 * (y * y).sum(dim=-1) - 0.5 * y.shape[-1] * _LOG_2PI


def chart_to_rotation(y: Tensor, centre: Tensor) -> Tensor:
    """R = centre · exp(v(y)).  y [..., 3], centre [..., 3, 3] (broadcast) -> [..., 3, 3]."""
    return centre @ exp_map(chart_to_rotvec(y))


def rotation_to_chart(R: Tensor, centre: Tensor) -> Tensor:
    """y = v⁻¹(log(centreᵀ R)), the chart coordinates of R around ``centre``.  [..., 3, 3] -> [..., 3]."""
    return rotvec_to_chart(log_map(centre.transpose(-1, -2) @ R))
