r"""The ``flow_matching`` baseline: conditional flow matching on the rectified (linear) path, pi0-style.

On the normalized flat chunk ``y_1 = normalize(a)`` and noise ``y_0 ~ N(0, I)`` (Lipman et al. 2023,
arXiv:2210.02747; Liu et al. 2023, arXiv:2209.03003):

    t ~ U[0, 1],   y_t = (1 - t) y_0 + t y_1,   loss = mean || v(y_t, t, c) - (y_1 - y_0) ||^2,

with ``v`` the conditional 1-D U-Net (``policy/unet1d.py``) fed the time as ``TIME_SCALE * t`` (the range of
the diffusion kind's integer steps, which its sinusoidal embedding resolves).  Sampling integrates
``dy/dt = v(y, t, c)`` with ``N`` Euler steps (:func:`euler_integrate`) from ``y_0 ~ N(0, T_s^2 I)``
(``T_s`` the sampling temperature).  The ODE's end point is not bounded, so the raw chunk is clamped into
the action box, as the mse / gmm outputs are.  No exact density (that needs the divergence integral).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from robo_flows.config.schema import ModelConfig
from robo_flows.policy.models.base import PolicyModel
from robo_flows.policy.unet1d import ConditionalUnet1d

TIME_SCALE = 100.0


def euler_integrate(
    velocity: Callable[[torch.Tensor, float], torch.Tensor], y: torch.Tensor, steps: int
) -> torch.Tensor:
    r"""``y(1)`` of ``dy/dt = velocity(y, t)`` from ``y(0) = y`` by ``steps`` Euler steps of ``1 / steps``.

    ``y_{k+1} = y_k + velocity(y_k, k / steps) / steps``; the velocity is never evaluated at ``t = 1``.
    Exact when every trajectory is a straight line traversed at constant speed, as on the rectified path
    towards a single target.
    """
    if steps < 1:
        raise ValueError(f"need at least one Euler step, got {steps}")
    dt = 1.0 / steps
    for k in range(steps):
        y = y + dt * velocity(y, k * dt)
    return y


class FlowMatchingChunkModel(PolicyModel):
    """``kind="flow_matching"``: ``loss`` is the mean squared velocity error, normalized units."""

    kind = "flow_matching"
    has_density = False
    clips_samples = True

    def __init__(self, cfg: ModelConfig, **dims: Any) -> None:
        super().__init__(cfg, **dims)
        self.net = ConditionalUnet1d.from_config(self.act_dim, cfg.context_features, cfg.unet)

    def velocity(self, y: torch.Tensor, t: float | torch.Tensor, ctx: torch.Tensor) -> torch.Tensor:
        """``v(y, t, c)`` for flat chunks ``y [B, D]`` at times ``t`` (a float or ``[B]``) in [0, 1]."""
        t = torch.as_tensor(t, dtype=y.dtype, device=y.device).expand(y.shape[0])
        return self.net.forward_chunk(y, TIME_SCALE * t, ctx)

    def chunk_loss(self, ctx: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
        y1 = self.normalize_chunk(actions)
        y0 = torch.randn_like(y1)
        t = torch.rand(y1.shape[0], device=y1.device, dtype=y1.dtype)
        y_t = (1 - t[:, None]) * y0 + t[:, None] * y1
        return torch.mean((self.velocity(y_t, t, ctx) - (y1 - y0)) ** 2)

    def sample_normalized(self, ctx: torch.Tensor, n: int, temperature: float) -> torch.Tensor:
        b = ctx.shape[0]
        ctx_n = ctx.repeat(n, 1)
        y = temperature * torch.randn(n * b, self.chunk_features, device=ctx.device, dtype=ctx.dtype)
        y = euler_integrate(
            lambda y_t, t: self.velocity(y_t, t, ctx_n), y, self.cfg.flow_matching.inference_steps
        )
        return y.reshape(n, b, self.chunk_features)
