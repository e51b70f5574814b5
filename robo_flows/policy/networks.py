"""Plain MLPs of the policy models (the observation encoders are ``robo_flows.policy.encoders``)."""

from __future__ import annotations

from collections.abc import Sequence

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
