r"""Point-cloud encoders: an object's points -> the context vector of the grasp flow.

PointNet (Qi et al., "PointNet: Deep learning on point sets for 3D classification and segmentation", 2017,
arXiv:1612.00593), without its alignment networks: one MLP h shared by every point, then a max over points,

    f(p_1, ..., p_N) = max_i h(p_i)   (per feature).

Basis point set (Prokudin et al., "Efficient learning on point clouds with basis point sets", ICCV 2019,
arXiv:1908.09186): a fixed set of B basis points b_k, drawn once uniformly in a ball of radius r from a fixed
seed, encodes the cloud as the distance from each basis point to its nearest cloud point, then an MLP g,

    f(p_1, ..., p_N) = g(d_1, ..., d_B),   d_k = min_i |b_k - p_i|.

Both depend on the set of points only (a permutation leaves every maximum / minimum unchanged) and take any
number of points.  The points come in the object frame, centred and standardized by the model.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from robo_flows.flows.nets import MLP
from robo_flows.geometry.validation import check_finite

BPS_SEED = 0
"""Seed of the basis points (fixed, so every model of a given size uses the same basis)."""
BPS_RADIUS = 2.5
"""Radius of the ball of basis points in standardized coordinates (a cloud's points lie within ~±2.5)."""


def _check_points(points: Tensor) -> None:
    if points.dim() < 2 or points.shape[-1] != 3 or points.shape[-2] < 1:
        raise ValueError(f"points must have shape [..., N >= 1, 3], got {list(points.shape)}")
    check_finite(points, "points")


def _widths(name: str, hidden_features: Sequence[int]) -> tuple[int, ...]:
    widths = tuple(int(w) for w in hidden_features)
    if not widths or min(widths) < 1:
        raise ValueError(f"{name} needs positive hidden widths, got {tuple(hidden_features)}")
    return widths


class PointNetEncoder(nn.Module):
    """Shared MLP + max pool: points [..., N, 3] -> features [..., F], F = ``hidden_features[-1]``.

    Example:
        >>> import torch
        >>> enc = PointNetEncoder((32, 64))
        >>> points = torch.randn(2, 100, 3)
        >>> enc(points).shape
        torch.Size([2, 64])
        >>> bool((enc(points[:, torch.randperm(100)]) == enc(points)).all())
        True
    """

    def __init__(self, hidden_features: Sequence[int] = (64, 128, 256)) -> None:
        super().__init__()
        widths = _widths("PointNetEncoder", hidden_features)
        self.out_features = widths[-1]
        self.point_mlp = MLP(3, widths[-1], widths[:-1], zero_last=False)

    def forward(self, points: Tensor) -> Tensor:
        _check_points(points)
        per_point = self.point_mlp(points.reshape(-1, 3)).reshape(*points.shape[:-1], self.out_features)
        return per_point.amax(dim=-2)


def basis_points(count: int, radius: float = BPS_RADIUS, seed: int = BPS_SEED) -> Tensor:
    """``count`` points uniform in the ball of ``radius`` [count, 3] (direction ~ N(0, I) normalized, radius
    r·u^(1/3)), from a generator seeded by ``seed``."""
    if count < 1:
        raise ValueError(f"need at least one basis point, got {count}")
    g = torch.Generator().manual_seed(seed)
    direction = torch.randn(count, 3, generator=g, dtype=torch.float64)
    direction /= direction.norm(dim=1, keepdim=True)
    r = radius * torch.rand(count, 1, generator=g, dtype=torch.float64) ** (1.0 / 3.0)
    return (r * direction).float()


class BPSEncoder(nn.Module):
    """Basis-point-set distances + MLP: points [..., N, 3] -> features [..., F], F = ``hidden_features[-1]``.

    The basis (:func:`basis_points`, ``basis`` buffer [B, 3]) is part of the state dict, so a checkpoint
    carries it.  Distances are exact (``torch.cdist`` then a min over the cloud).

    Example:
        >>> import torch
        >>> enc = BPSEncoder(64, (32, 16))
        >>> points = torch.randn(2, 100, 3)
        >>> enc(points).shape
        torch.Size([2, 16])
        >>> bool(torch.allclose(enc(points[:, torch.randperm(100)]), enc(points)))
        True
    """

    def __init__(self, basis: int = 256, hidden_features: Sequence[int] = (256, 256)) -> None:
        super().__init__()
        widths = _widths("BPSEncoder", hidden_features)
        self.out_features = widths[-1]
        self.register_buffer("basis", basis_points(int(basis)))
        self.mlp = MLP(int(basis), widths[-1], widths[:-1], zero_last=False)

    def distances(self, points: Tensor, chunk: int = 16) -> Tensor:
        """d_k = min_i |b_k - p_i|: points [..., N, 3] -> [..., B].  Squared distances |b|² + |p|² - 2 b·p
        of ``chunk`` clouds at a time, the minimum taken before the square root."""
        _check_points(points)
        flat = points.reshape(-1, *points.shape[-2:])
        basis = self.basis.to(flat)
        b2 = (basis**2).sum(-1)[None, :, None]
        out = []
        for part in flat.split(chunk):
            d2 = torch.baddbmm(b2 + (part**2).sum(-1)[:, None, :], basis.expand(len(part), -1, -1),
                               part.transpose(1, 2), alpha=-2.0)  # fmt: skip
            out.append(d2.amin(dim=-1).clamp_min(0.0).sqrt())
        return torch.cat(out).reshape(*points.shape[:-2], -1)

    def head(self, distances: Tensor) -> Tensor:
        """The MLP on the distances [..., B] -> [..., F]."""
        return self.mlp(distances.reshape(-1, distances.shape[-1])).reshape(*distances.shape[:-1], -1)

    def forward(self, points: Tensor) -> Tensor:
        return self.head(self.distances(points))
