"""The ``gmm`` baseline: a mixture density head over the flattened action chunk.

The head predicts the mixture in normalized coordinates ``y = (a - m) / s`` (per action dimension),

    p(y | c) = sum_k pi_k(c) N(y; mu_k(c), diag sigma_k(c)^2),   k = 1..K,
    log sigma = m + h tanh((r - m) / h) with m, h the middle and half-width of [LOG_STD_MIN, LOG_STD_MAX],
    a soft clamp that is close to the identity r around 0,

which is the mixture ``sum_k pi_k N(a; s mu_k + m, diag (s sigma_k)^2)`` over raw actions: the density in raw
units is evaluated with those raw parameters (``raw_parameters``), no log-determinant added by hand.
``loss`` is the mean negative log-likelihood per chunk in nats (raw action units) of the dequantized
actions (``dequantize``), as for the flow.  Sampling at temperature T picks a component by pi and scales its
sigma by T.  Gaussians have unbounded support, so samples are clamped into the action box (the documented
output clamp of ``PolicyModel.clip_to_bounds``); the density is that of the unclamped mixture.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from robo_flows.config.schema import ModelConfig
from robo_flows.policy.models.base import PolicyModel
from robo_flows.policy.networks import mlp

LOG_STD_MIN, LOG_STD_MAX = -7.0, 2.0


def mixture_log_prob(
    logits: torch.Tensor, mean: torch.Tensor, log_std: torch.Tensor, y: torch.Tensor
) -> torch.Tensor:
    """``log sum_k softmax(logits)_k N(y; mean_k, diag exp(log_std_k)^2)``.

    Shapes: logits ``[B, K]``, mean / log_std ``[B, K, D]``, y ``[B, D]`` -> ``[B]``.
    """
    z = (y.unsqueeze(1) - mean) * torch.exp(-log_std)
    comp = -0.5 * (z**2).sum(-1) - log_std.sum(-1) - 0.5 * y.shape[-1] * math.log(2 * math.pi)
    return torch.logsumexp(torch.log_softmax(logits, dim=-1) + comp, dim=-1)


class MixtureChunkModel(PolicyModel):
    """``kind="gmm"`` with ``cfg.gmm_components`` diagonal Gaussian components."""

    kind = "gmm"
    clips_samples = True

    def __init__(self, cfg: ModelConfig, **dims: Any) -> None:
        super().__init__(cfg, **dims)
        self.components = cfg.gmm_components
        self.head = mlp(
            cfg.context_features, cfg.hidden_features, self.components * (1 + 2 * self.chunk_features)
        )

    def parameters_of(self, ctx: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Mixture logits ``[B, K]``, means and log-stds ``[B, K, D]`` for context ``[B, C]``."""
        k, d = self.components, self.chunk_features
        out = self.head(ctx)
        logits, mean, raw = out[:, :k], out[:, k : k + k * d], out[:, k + k * d :]
        half, mid = (LOG_STD_MAX - LOG_STD_MIN) / 2, (LOG_STD_MAX + LOG_STD_MIN) / 2
        log_std = mid + half * torch.tanh((raw - mid) / half)
        return logits, mean.unflatten(-1, (k, d)), log_std.unflatten(-1, (k, d))

    def raw_parameters(self, ctx: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The mixture over raw flat chunks: logits ``[B, K]``, means ``s mu + m`` and log-stds
        ``log sigma + log s`` ``[B, K, D]`` (``m``, ``s`` the action normalizer's shift and scale)."""
        logits, mean, log_std = self.parameters_of(ctx)
        log_scale = self.action_normalizer.scale.log().repeat(self.action_horizon).to(log_std.dtype)
        return logits, self.unnormalize_chunk(mean).flatten(start_dim=-2), log_std + log_scale

    def chunk_loss(self, ctx: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
        return -self.chunk_log_prob(ctx, self.check_chunk(self.dequantized(actions))).mean()

    def chunk_log_prob(self, ctx: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
        return mixture_log_prob(*self.raw_parameters(ctx), a)

    def sample_normalized(self, ctx: torch.Tensor, n: int, temperature: float) -> torch.Tensor:
        logits, mean, log_std = self.parameters_of(ctx)
        b = ctx.shape[0]
        k = torch.distributions.Categorical(logits=logits).sample((n,))  # [n, B]
        rows = torch.arange(b, device=ctx.device).expand(n, b)
        eps = torch.randn(n, b, self.chunk_features, device=ctx.device, dtype=mean.dtype)
        return mean[rows, k] + temperature * torch.exp(log_std[rows, k]) * eps
