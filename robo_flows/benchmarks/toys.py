r"""2-D toy densities for flow benchmarks, as seeded samplers.

Each sampler takes ``(n, generator)`` and returns ``x [n, 2]`` (float32); the conditional one also returns
its context ``c [n, 1]``.  All are roughly centred with a spread of a few units, i.e. inside the default
spline interval ``[-5, 5]``.
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


UNCONDITIONAL_TOYS: dict[str, Callable[[int, torch.Generator], Tensor]] = {
    "two_moons": two_moons,
    "eight_gaussians": eight_gaussians,
    "checkerboard": checkerboard,
    "pinwheel": pinwheel,
}
CONDITIONAL_TOYS: dict[str, Callable[[int, torch.Generator], tuple[Tensor, Tensor]]] = {
    "rotating_moons": rotating_moons,
}
