"""Plain MLPs and the observation encoder shared by the flow policy and its baselines."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn


def mlp(in_features: int, hidden: Sequence[int], out_features: int) -> nn.Sequential:
    """``Linear -> SiLU`` per hidden width, then a final ``Linear`` to ``out_features`` (no activation)."""
    layers: list[nn.Module] = []
    width = in_features
    for h in hidden:
        layers += [nn.Linear(width, h), nn.SiLU()]
        width = h
    layers.append(nn.Linear(width, out_features))
    return nn.Sequential(*layers)


class ObservationEncoder(nn.Module):
    r"""Maps a window of normalized observations to a context vector: c = MLP(flatten(o)).

    Input ``[B, obs_horizon, obs_dim]`` (already normalized), output ``[B, context_features]``.
    The final activation (SiLU) keeps the context a nonlinear feature, as the flow conditioners expect.
    """

    def __init__(self, obs_dim: int, obs_horizon: int, hidden: Sequence[int], context_features: int) -> None:
        super().__init__()
        self.obs_dim = int(obs_dim)
        self.obs_horizon = int(obs_horizon)
        self.net = nn.Sequential(mlp(self.obs_dim * self.obs_horizon, hidden, context_features), nn.SiLU())

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return self.net(obs.flatten(start_dim=-2))
