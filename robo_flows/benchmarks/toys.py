r"""Toy densities for flow benchmarks, as seeded samplers.

Each sampler takes ``(n, generator)`` and returns ``x [n, D]`` (float32); the conditional ones also return
their context ``c [n, C]``.  The 2-D toys are the classic pictures; the conditional sets of 6 to 16
dimensions have narrow (noise 0.05 to 0.3), context-dependent conditionals, multi-modality and smooth
warps, like action chunks and grasp poses.  All are roughly centred with a spread of a few units, i.e.
inside the default spline interval ``[-5, 5]``.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import Tensor


def two_moons(n: int, generator: torch.Generator) -> Tensor:
    """Two interleaved half circles (radius 1, centres ``(0, 0)``, ``(1, 0.5)``), scaled by 2, noise 0.1."""
    upper = torch.rand(n, generator=generator) < 0.5
    angle = math.pi * torch.rand(n, generator=generator)
    x = torch.stack([angle.cos(), angle.sin()], -1)
    lower = torch.stack([1.0 - x[:, 0], 0.5 - x[:, 1]], -1)
    points = torch.where(upper.unsqueeze(-1), x, lower) - torch.tensor([0.5, 0.25])
    return 2.0 * points + 0.1 * torch.randn(n, 2, generator=generator)


def eight_gaussians(n: int, generator: torch.Generator) -> Tensor:
    """Equal mixture of 8 isotropic Gaussians (std 0.2) on a circle of radius 2.5."""
    k = torch.randint(0, 8, (n,), generator=generator)
    angle = k.float() * (2.0 * math.pi / 8.0)
    centres = 2.5 * torch.stack([angle.cos(), angle.sin()], -1)
    return centres + 0.2 * torch.randn(n, 2, generator=generator)


def checkerboard(n: int, generator: torch.Generator) -> Tensor:
    """Uniform on the 8 black squares of a 4x4 checkerboard covering ``[-4, 4]^2``."""
    x1 = 8.0 * torch.rand(n, generator=generator) - 4.0
    column = torch.floor(x1 / 2.0)  # -2..1
    row = 2.0 * torch.randint(0, 2, (n,), generator=generator).float() + (
        column % 2
    )  # rows of the same colour
    x2 = 2.0 * (row - 2.0) + 2.0 * torch.rand(n, generator=generator)
    return torch.stack([x1, x2], -1)


def pinwheel(n: int, generator: torch.Generator, arms: int = 5) -> Tensor:
    """``arms`` spiral arms: Gaussian blobs stretched radially and rotated in proportion to their radius."""
    k = torch.randint(0, arms, (n,), generator=generator)
    radial = 1.0 + 0.3 * torch.randn(n, generator=generator)
    tangential = 0.05 * torch.randn(n, generator=generator)
    angle = k.float() * (2.0 * math.pi / arms) + 0.25 * torch.exp(radial)
    rotation = torch.stack([angle.cos(), -angle.sin(), angle.sin(), angle.cos()], -1).view(n, 2, 2)
    return 2.0 * (rotation @ torch.stack([radial, tangential], -1).unsqueeze(-1)).squeeze(-1)


def rotating_moons(n: int, generator: torch.Generator) -> tuple[Tensor, Tensor]:
    """Conditional toy: ``c ~ U(0, 1)``; ``x | c`` is :func:`two_moons` rotated by ``pi * c`` and shrunk by
    ``0.6 + 0.4 c``, so both the orientation and the scale of the density depend on the context."""
    c = torch.rand(n, 1, generator=generator)
    x = two_moons(n, generator)
    angle = math.pi * c[:, 0]
    rotated = torch.stack(
        [angle.cos() * x[:, 0] - angle.sin() * x[:, 1], angle.sin() * x[:, 0] + angle.cos() * x[:, 1]], -1
    )
    return rotated * (0.6 + 0.4 * c), c


def _normal(n: int, generator: torch.Generator) -> Tensor:
    return torch.randn(n, generator=generator)


def ring_warp6(n: int, generator: torch.Generator) -> tuple[Tensor, Tensor]:
    r"""6-D, 4 context features ``c ~ U(-1, 1)^4``; ``eps`` are independent standard normals.

    ``(x_0, x_1) = r (cos a, sin a)``: a 3-mode ring, ``a = 2 pi k / 3 + 0.8 c_0 + 0.1 eps``, ``k`` uniform
    on ``{0, 1, 2}``, ``r = 2 + 0.1 eps`` (the modes turn with the context);
    ``x_2 = x_0^2 / 2 - 1 + c_1 / 2 + 0.1 eps`` (quadratic warp); ``x_3 = sin(1.5 x_1 + c_2) + 0.1 eps``
    (sine warp); ``x_4 = (1 + c_3) x_2 + 0.05 eps`` (context-weighted linear, narrow);
    ``x_5 = 2 tanh(x_3 + c_0 + 0.3 eps)`` (squashed).
    """
    c = 2.0 * torch.rand(n, 4, generator=generator) - 1.0
    k = torch.randint(0, 3, (n,), generator=generator).float()
    angle = 2.0 * math.pi * k / 3.0 + 0.8 * c[:, 0] + 0.1 * _normal(n, generator)
    radius = 2.0 + 0.1 * _normal(n, generator)
    x0, x1 = radius * angle.cos(), radius * angle.sin()
    x2 = 0.5 * x0.square() - 1.0 + 0.5 * c[:, 1] + 0.1 * _normal(n, generator)
    x3 = torch.sin(1.5 * x1 + c[:, 2]) + 0.1 * _normal(n, generator)
    x4 = (1.0 + c[:, 3]) * x2 + 0.05 * _normal(n, generator)
    x5 = 2.0 * torch.tanh(x3 + c[:, 0] + 0.3 * _normal(n, generator))
    return torch.stack([x0, x1, x2, x3, x4, x5], -1), c


def arm_chain10(n: int, generator: torch.Generator) -> tuple[Tensor, Tensor]:
    r"""10-D, 4 context features ``c ~ U(-1, 1)^4``: a planar 4-link arm (links 0.8) reaching for a target.

    Joint angles ``q_0 = 0.8 c_0 + 0.3 eps``, ``q_j = (0.6 + 0.3 c_1) tanh(q_{j-1}) + 0.4 c_2 + sigma_j eps``
    with ``sigma = (0.05, 0.1, 0.05)``: each a narrow, context-dependent function of the one before; and the
    positions of joints 2, 3 and the hand, ``p_m = sum_{i <= m} 0.8 (cos phi_i, sin phi_i)``,
    ``phi_i = q_0 + ... + q_i``, observed with noise ``0.05``, shifted by ``c_3``;
    ``x = (q, p_1, p_2, p_3)``.
    """
    c = 2.0 * torch.rand(n, 4, generator=generator) - 1.0
    q = [0.8 * c[:, 0] + 0.3 * _normal(n, generator)]
    for sigma in (0.05, 0.1, 0.05):
        gain = 0.6 + 0.3 * c[:, 1]
        q.append(gain * torch.tanh(q[-1]) + 0.4 * c[:, 2] + sigma * _normal(n, generator))
    phi = torch.cumsum(torch.stack(q, -1), -1)
    joints = torch.cumsum(0.8 * torch.stack([phi.cos(), phi.sin()], -1), -2)  # [n, 4, 2]
    positions = joints[:, 1:].flatten(1) + 0.05 * torch.randn(n, 6, generator=generator)
    positions = positions - torch.stack([c[:, 3], torch.zeros(n)], -1).repeat(1, 3)
    return torch.cat([torch.stack(q, -1), positions], -1), c


def switching_chain16(n: int, generator: torch.Generator) -> tuple[Tensor, Tensor]:
    r"""16-D, 6 context features ``c ~ U(-1, 1)^6``: two context-weighted modes, then a chain of warps.

    Mode ``m ~ Bernoulli(sigmoid(3 c_0))``; ``x_{0..3} = (2m - 1) (1.5, -1, 0.5 + c_1, c_2) + 0.2 eps``;
    for ``j = 4..15``: ``x_j = (1 + c_{j mod 6} / 2) sin(x_{j-4} + c_{(j+1) mod 6}) + sigma_j eps`` with
    ``sigma_j`` cycling through ``(0.05, 0.1, 0.2)``: narrow conditionals that follow the context.
    """
    c = 2.0 * torch.rand(n, 6, generator=generator) - 1.0
    sign = 2.0 * (torch.rand(n, generator=generator) < torch.sigmoid(3.0 * c[:, 0])).float() - 1.0
    centre = torch.stack([torch.full((n,), 1.5), torch.full((n,), -1.0), 0.5 + c[:, 1], c[:, 2]], -1)
    x = [sign.unsqueeze(-1) * centre + 0.2 * torch.randn(n, 4, generator=generator)]
    columns = list(x[0].unbind(-1))
    for j in range(4, 16):
        sigma = (0.05, 0.1, 0.2)[j % 3]
        warp = (1.0 + 0.5 * c[:, j % 6]) * torch.sin(columns[j - 4] + c[:, (j + 1) % 6])
        columns.append(warp + sigma * _normal(n, generator))
    return torch.stack(columns, -1), c


UNCONDITIONAL_TOYS: dict[str, Callable[[int, torch.Generator], Tensor]] = {
    "two_moons": two_moons,
    "eight_gaussians": eight_gaussians,
    "checkerboard": checkerboard,
    "pinwheel": pinwheel,
}
CONDITIONAL_TOYS: dict[str, Callable[[int, torch.Generator], tuple[Tensor, Tensor]]] = {
    "rotating_moons": rotating_moons,
    "ring_warp6": ring_warp6,
    "arm_chain10": arm_chain10,
    "switching_chain16": switching_chain16,
}
