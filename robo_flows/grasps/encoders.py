r"""Point-cloud encoders: an object's points -> the context vector of the grasp flow.

PointNet (Qi et al., "PointNet: Deep learning on point sets for 3D classification and segmentation", 2017,
arXiv:1612.00593), without its alignment networks: one MLP h shared by every point, then a max over points,

    f(p_1, ..., p_N) = max_i h(p_i)   (per feature),

so f does not depend on the order of the points (a permutation of the set leaves every maximum unchanged)
and takes any number of points.  The points come in the object frame, standardized by the model.
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor, nn

from robo_flows.flows.nets import MLP
from robo_flows.geometry.validation import check_finite


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
        widths = tuple(int(w) for w in hidden_features)
        if not widths or min(widths) < 1:
            raise ValueError(f"PointNetEncoder needs positive hidden widths, got {tuple(hidden_features)}")
        self.out_features = widths[-1]
        self.point_mlp = MLP(3, widths[-1], widths[:-1], zero_last=False)

    def forward(self, points: Tensor) -> Tensor:
        if points.dim() < 2 or points.shape[-1] != 3 or points.shape[-2] < 1:
            raise ValueError(f"points must have shape [..., N >= 1, 3], got {list(points.shape)}")
        check_finite(points, "points")
        per_point = self.point_mlp(points.reshape(-1, 3)).reshape(*points.shape[:-1], self.out_features)
        return per_point.amax(dim=-2)
