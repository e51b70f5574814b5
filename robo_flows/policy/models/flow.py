"""The flow policy model: a conditional normalizing flow over the flattened, normalized action chunk.

    y = normalize(a_{t:t+H}) in R^{H*A},   c = encoder(normalize(o_{t-Ho+1:t})),
    log p(y | c) = log N(z; 0, I) + log|det dz/dy|,   z = flow.transform(y, c).

The flow's data side carries a ``Bounded`` bijector on the box ``[normalize(low), normalize(high)]^H``,
so every sample lies strictly inside the action space and the density stays exact (no clipping).  Sampling at
temperature T draws ``z ~ N(0, T^2 I)`` and runs the inverse.  The loss sees dequantized actions
(``dequantize``): saturated expert actions on the box's faces would otherwise have infinite latents.
"""

from __future__ import annotations

from typing import Any

import torch

from robo_flows.flows import build_flow
from robo_flows.policy.config import ModelConfig
from robo_flows.policy.models.base import PolicyModel


class FlowChunkModel(PolicyModel):
    """``kind="flow"``: ``loss`` is the mean negative log-likelihood per chunk in nats (raw action units)."""

    kind = "flow"

    def __init__(self, cfg: ModelConfig, **dims: Any) -> None:
        super().__init__(cfg, **dims)
        low, high = self.normalized_bounds()
        self.flow = build_flow(
            cfg.flow_kind,
            features=self.chunk_features,
            context_features=cfg.context_features,
            layers=cfg.flow_layers,
            hidden_features=cfg.hidden_features,
            linear=cfg.flow_linear,
            bounds=(low, high),
        )

    def normalized_bounds(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The action box in normalized chunk coordinates, two ``[H*A]`` tensors."""
        low = self.action_normalizer.normalize(self.action_low).repeat(self.action_horizon)
        high = self.action_normalizer.normalize(self.action_high).repeat(self.action_horizon)
        return low, high

    def chunk_loss(self, ctx: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
        y = self.normalize_chunk(self.dequantized(actions))
        return -(self.flow.log_prob(y, ctx) + self.chunk_log_det(y)).mean()

    def sample_normalized(self, ctx: torch.Tensor, n: int, temperature: float) -> torch.Tensor:
        return self.flow.sample((n,), context=ctx, temperature=temperature)

    def normalized_log_prob(self, ctx: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.flow.log_prob(y, ctx)

    def sample_normalized_and_log_prob(
        self, ctx: torch.Tensor, n: int, temperature: float
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """One pass: the density comes from the inverse's log-det (also for samples on the box's edge)."""
        return self.flow.sample_and_log_prob((n,), context=ctx, temperature=temperature)
