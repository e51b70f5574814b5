"""The ``mse`` baseline: the same encoder and chunking, a deterministic regression of the normalized chunk.

    y_hat = MLP(c),   loss = mean_{b,d} (y_hat - y)^2   (normalized units).

It has no density; its (raw) predictions are clamped into the action box.  Trained on bimodal demonstrations
it predicts their conditional mean, which is exactly the failure the flow policy avoids.
"""

from __future__ import annotations

from typing import Any

import torch

from robo_flows.config.schema import ModelConfig
from robo_flows.policy.models.base import PolicyModel
from robo_flows.policy.networks import mlp


class RegressionChunkModel(PolicyModel):
    """``kind="mse"``."""

    kind = "mse"
    has_density = False
    clips_samples = True

    def __init__(self, cfg: ModelConfig, **dims: Any) -> None:
        super().__init__(cfg, **dims)
        self.head = mlp(cfg.context_features, cfg.hidden_features, self.chunk_features)

    def chunk_loss(self, ctx: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
        return torch.mean((self.head(ctx) - self.normalize_chunk(actions)) ** 2)

    def sample_normalized(self, ctx: torch.Tensor, n: int, temperature: float) -> torch.Tensor:
        return self.head(ctx).expand(n, -1, -1)
