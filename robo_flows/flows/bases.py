r"""Base (latent) distributions of a flow, optionally conditioned on the (encoded) context.

Interface shared by all bases, for ``z [N, D]`` and an optional context ``c [N, C]``:

- ``log_prob(z, c) -> [N]``, the log-density;
- ``sample(num, c, temperature) -> z [num, D]`` (``c`` then has ``num`` rows).  The temperature ``T``
  scales the spread around the mode: ``z = mu + T * sigma * eps``; ``T = 0`` returns the mode
  deterministically (for the mixture: the mean of the heaviest component).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from robo_flows.flows.nets import MLP

_LOG_2PI = math.log(2.0 * math.pi)


def diag_normal_log_prob(z: Tensor, mean: Tensor, log_std: Tensor) -> Tensor:
    """``log N(z; mean, diag(exp(2 log_std)))`` summed over the last axis."""
    eps = (z - mean) * torch.exp(-log_std)
    return -0.5 * eps.square().sum(-1) - log_std.sum(-1) - 0.5 * _LOG_2PI * z.shape[-1]


def tempered_normal_sample(mean: Tensor, log_std: Tensor, temperature: float) -> Tensor:
    """``mean + T * exp(log_std) * eps`` with ``eps ~ N(0, I)``; ``T = 0`` returns (a copy of) the mean."""
    if temperature == 0:
        return mean.clone()
    return mean + temperature * log_std.exp() * torch.randn_like(mean)


class StandardNormal(nn.Module):
    """``N(0, I_D)``; ignores the context."""

    def __init__(self, features: int) -> None:
        super().__init__()
        self.features = int(features)
        self.register_buffer("_anchor", torch.zeros(()))  # follows .to()/.double() for dtype and device

    def log_prob(self, z: Tensor, context: Tensor | None = None) -> Tensor:
        return -0.5 * z.square().sum(-1) - 0.5 * _LOG_2PI * self.features

    def sample(self, num: int, context: Tensor | None = None, temperature: float = 1.0) -> Tensor:
        shape = (num, self.features)
        if temperature == 0:
            return self._anchor.new_zeros(shape)
        eps = torch.randn(shape, dtype=self._anchor.dtype, device=self._anchor.device)
        return eps if temperature == 1 else temperature * eps


class DiagGaussian(nn.Module):
    """``N(mu(c), diag(sigma(c)^2))``; with ``context_features = 0`` a learned unconditional Gaussian.

    The conditional version's MLP starts at zero output, i.e. at ``N(0, I)``.
    """

    def __init__(
        self, features: int, context_features: int = 0, hidden_features: Sequence[int] = (128, 128)
    ) -> None:
        super().__init__()
        self.features = int(features)
        if context_features > 0:
            self.net: nn.Module | None = MLP(context_features, 2 * features, hidden_features)
        else:
            self.net = None
            self.mean = nn.Parameter(torch.zeros(features))
            self.log_std = nn.Parameter(torch.zeros(features))

    def _stats(self, num: int, context: Tensor | None) -> tuple[Tensor, Tensor]:
        if self.net is None:
            return self.mean.expand(num, -1), self.log_std.expand(num, -1)
        mean, log_std = self.net(context).chunk(2, dim=-1)
        return mean, log_std

    def log_prob(self, z: Tensor, context: Tensor | None = None) -> Tensor:
        mean, log_std = self._stats(z.shape[0], context)
        return diag_normal_log_prob(z, mean, log_std)

    def sample(self, num: int, context: Tensor | None = None, temperature: float = 1.0) -> Tensor:
        mean, log_std = self._stats(num, context)
        return tempered_normal_sample(mean, log_std, temperature)


class GaussianMixture(nn.Module):
    r"""``sum_k w_k(c) N(mu_k(c), diag(sigma_k(c)^2))`` with ``K = components``.

    Means start spread out (standard-normal draws) so that the components can separate during training; the
    conditional version's MLP has zero last-layer weights and those means as its bias.  Sampling picks a
    component (not reparametrisable; gradients flow through the chosen component's mean and scale).
    """

    def __init__(
        self,
        features: int,
        components: int = 8,
        context_features: int = 0,
        hidden_features: Sequence[int] = (128, 128),
    ) -> None:
        super().__init__()
        if components < 1:
            raise ValueError(f"components must be >= 1, got {components}")
        self.features = int(features)
        self.components = int(components)
        init = torch.cat(
            [torch.zeros(components), torch.randn(components * features), torch.zeros(components * features)]
        )
        if context_features > 0:
            self.net: nn.Module | None = MLP(context_features, init.numel(), hidden_features)
            with torch.no_grad():
                self.net.layer(-1)[1].copy_(init)
        else:
            self.net = None
            self.params = nn.Parameter(init)

    def _stats(self, num: int, context: Tensor | None) -> tuple[Tensor, Tensor, Tensor]:
        """Log-weights ``[N, K]``, means and log-stds ``[N, K, D]``."""
        raw = self.params.expand(num, -1) if self.net is None else self.net(context)
        K, D = self.components, self.features
        logits, means, log_stds = raw.split([K, K * D, K * D], dim=-1)
        return F.log_softmax(logits, -1), means.unflatten(-1, (K, D)), log_stds.unflatten(-1, (K, D))

    def log_prob(self, z: Tensor, context: Tensor | None = None) -> Tensor:
        log_w, means, log_stds = self._stats(z.shape[0], context)
        return torch.logsumexp(log_w + diag_normal_log_prob(z.unsqueeze(-2), means, log_stds), dim=-1)

    def sample(self, num: int, context: Tensor | None = None, temperature: float = 1.0) -> Tensor:
        log_w, means, log_stds = self._stats(num, context)
        k = log_w.argmax(-1) if temperature == 0 else torch.multinomial(log_w.exp(), 1).squeeze(-1)
        rows = torch.arange(num, device=k.device)
        return tempered_normal_sample(means[rows, k], log_stds[rows, k], temperature)
