"""The flow policy model: a conditional normalizing flow over the flattened action chunk, in raw units.

    a = a_{t:t+H} in R^{H*A} (raw),   c = encoder(normalize(o_{t-Ho+1:t})),
    z = f_c(Bounded(Standardize(a))),   log p(a | c) = log N(z; 0, I) + log|det dz/da|.

One bijection chain (``build_flow(standardize=..., bounds=...)``): ``Standardize`` with the action
normalizer's statistics (per action dimension, repeated over the horizon), then ``Bounded`` on the action box
``[low, high]^H`` (given in raw units, mapped through the standardization), then the flow's layers.  So the
density is exact in raw action units with no hand-added log-determinant, and every sample lies strictly inside
the action box (no clipping).  Sampling at temperature T draws ``z ~ N(0, T^2 I)`` and runs the inverse.  The
loss sees dequantized actions (``dequantize``): saturated expert actions on the box's faces would otherwise
have infinite latents.

The statistics live once, in the base's ``action_normalizer`` and ``action_low`` / ``action_high``; the
chain's two layers hold derived, non-persistent copies that :meth:`FlowChunkModel.statistics_changed` keeps
in step after every ``load_state_dict``.
"""

from __future__ import annotations

from typing import Any

import torch

from robo_flows.config.schema import ModelConfig
from robo_flows.flows import build_flow
from robo_flows.policy.models.base import PolicyModel


class FlowChunkModel(PolicyModel):
    """``kind="flow"``: ``loss`` is the mean negative log-likelihood per chunk in nats (raw action units)."""

    kind = "flow"

    def __init__(self, cfg: ModelConfig, **dims: Any) -> None:
        super().__init__(cfg, **dims)
        h = self.action_horizon
        self.flow = build_flow(
            cfg.flow_kind,
            features=self.chunk_features,
            context_features=cfg.context_features,
            layers=cfg.flow_layers,
            hidden_features=cfg.hidden_features,
            linear=cfg.flow_linear,
            standardize=(self.action_normalizer.shift.repeat(h), self.action_normalizer.scale.repeat(h)),
            bounds=(self.action_low.repeat(h), self.action_high.repeat(h)),
        )
        self.standardize, self.bounded = self.flow.transforms[0], self.flow.transforms[1]
        for layer in (self.standardize, self.bounded):  # derived copies: not stored in the state_dict
            for name, value in list(layer.named_buffers(recurse=False)):
                layer.register_buffer(name, value, persistent=False)

    @torch.no_grad()
    def statistics_changed(self) -> None:
        """Set the chain's ``Standardize`` and ``Bounded`` from the normalizer and the box (raw units)."""
        h = self.action_horizon
        mean, std = self.action_normalizer.shift.repeat(h), self.action_normalizer.scale.repeat(h)
        self.standardize.mean.copy_(mean)
        self.standardize.std.copy_(std)
        self.bounded.low.copy_((self.action_low.repeat(h) - mean) / std)  # the box in standardized units
        self.bounded.high.copy_((self.action_high.repeat(h) - mean) / std)

    def chunk_loss(self, ctx: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
        return -self.chunk_log_prob(ctx, self.check_chunk(self.dequantized(actions))).mean()

    def chunk_log_prob(self, ctx: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
        return self.flow.log_prob(a, ctx)

    def sample_actions(self, ctx: torch.Tensor, n: int, temperature: float) -> torch.Tensor:
        return self.flow.sample((n,), context=ctx, temperature=temperature)

    def sample_actions_and_log_prob(
        self, ctx: torch.Tensor, n: int, temperature: float
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """One pass: the density comes from the inverse's log-det (also for samples on the box's edge)."""
        return self.flow.sample_and_log_prob((n,), context=ctx, temperature=temperature)
