"""The observation-density monitor: an unconditional flow fitted to the training observations.

It models normalized single observations ``x = normalize(o)``; ``PolicyModel.obs_log_prob`` turns that into
the density of raw observations, ``log p(o) = log p_flow(x) - sum_d log s_d``.  A low ``log p(o)`` flags a
state far from every demonstration -- where the policy's actions are extrapolation.  The monitor is fitted
once by :meth:`ObservationMonitor.fit` (through ``PolicyModel.fit_extra``, before policy training) and is
frozen (``requires_grad=False``) outside ``fit``, from construction on, so the policy's optimizer, DDP and EMA
leave it unchanged, on fresh and resumed runs alike.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from robo_flows.flows import build_flow

MONITOR_BATCH = 256
MONITOR_LR = 1e-3
MONITOR_SEED = 0
# Gaussian dequantization noise (normalized units) on the fitted observations: constant or discrete
# dimensions would otherwise let the density grow without bound.
MONITOR_NOISE = 0.05


class ObservationMonitor(nn.Module):
    """``log_prob(x [B, obs_dim]) -> [B]`` of normalized single observations."""

    def __init__(self, obs_dim: int, layers: int, hidden: Sequence[int], flow_kind: str) -> None:
        super().__init__()
        self.obs_dim = int(obs_dim)
        self.flow = build_flow(
            flow_kind, features=self.obs_dim, context_features=0, layers=layers, hidden_features=tuple(hidden)
        )
        # frozen from construction, not only after fit(): a resumed run (which never calls fit) then builds
        # its policy optimizer over the same parameters as the fresh run did
        self.flow.requires_grad_(False)

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        return self.flow.log_prob(x)

    def fit(self, x: torch.Tensor, steps: int) -> float:
        """Maximum likelihood on normalized observations ``x [N, obs_dim]`` with Adam; returns the mean NLL.

        Batches and noise come from a private generator (seed ``MONITOR_SEED``), so the global RNG
        the policy's training relies on is untouched.  The flow is frozen afterwards.
        """
        gen = torch.Generator().manual_seed(MONITOR_SEED)
        self.flow.requires_grad_(True)
        opt = torch.optim.Adam(self.flow.parameters(), lr=MONITOR_LR)
        for _ in range(steps):
            idx = torch.randint(len(x), (min(MONITOR_BATCH, len(x)),), generator=gen).to(x.device)
            jitter = MONITOR_NOISE * torch.randn(len(idx), x.shape[1], generator=gen).to(x)
            loss = -self.log_prob(x[idx] + jitter).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        self.flow.requires_grad_(False)
        for p in self.flow.parameters():
            p.grad = None
        with torch.no_grad():
            return float(-self.log_prob(x).mean())
