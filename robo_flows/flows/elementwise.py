r"""Fixed elementwise bijections on the data side of a flow: ``Standardize`` and ``Bounded``.

Convention as everywhere: ``forward`` is data -> latent, returns ``(z, log|det dz/dx| [B])``;
``inverse`` returns ``(x, log|det dx/dz| [B])``.  Their statistics are buffers (saved, not trained).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from robo_flows.flows.flow import Transform


def _feature_vector(value: Tensor | float, features: int, name: str) -> Tensor:
    t = torch.as_tensor(value, dtype=torch.get_default_dtype())
    if t.dim() == 0:
        t = t.expand(features)
    if t.shape != (features,):
        raise ValueError(f"{name} must be a scalar or have shape [{features}], got {tuple(t.shape)}")
    if not torch.isfinite(t).all():
        raise ValueError(f"{name} must be finite, got {t.tolist()}")
    return t.clone()


class Standardize(Transform):
    r"""``z = (x - mean) / std`` with fixed statistics; ``log|det dz/dx| = -sum(log std)``."""

    def __init__(self, mean: Tensor | float, std: Tensor | float, features: int | None = None) -> None:
        super().__init__()
        n = features if features is not None else torch.as_tensor(mean).numel()
        std_t = _feature_vector(std, n, "std")
        if (std_t <= 0).any():
            raise ValueError(f"std must be > 0, got {std_t.tolist()}")
        self.register_buffer("mean", _feature_vector(mean, n, "mean"))
        self.register_buffer("std", std_t)

    def forward(self, x: Tensor, context: Tensor | None = None) -> tuple[Tensor, Tensor]:
        return (x - self.mean) / self.std, (-self.std.log().sum()).expand(x.shape[0])

    def inverse(self, z: Tensor, context: Tensor | None = None) -> tuple[Tensor, Tensor]:
        return self.generate(z), self.std.log().sum().expand(z.shape[0])

    def generate(self, z: Tensor, context: Tensor | None = None) -> Tensor:
        return torch.addcmul(self.mean, z, self.std)


class Bounded(Transform):
    r"""Maps the open box ``(low, high)`` onto ``R^D``: ``u = (x - low) / (high - low)``, ``z = logit(u)``.

    ``log|det dz/dx| = sum(-log(high - low) - log u - log(1 - u))``; the inverse is
    ``x = low + (high - low) s(z)`` (``s`` the sigmoid) with
    ``log|det dx/dz| = sum(log(high - low) + log s(z) + log s(-z))``.
    A flow whose first layer is ``Bounded`` has its support in the box; ``forward`` raises ``ValueError`` for
    points outside it (their density is zero and is not silently clipped).
    """

    def __init__(self, low: Tensor | float, high: Tensor | float, features: int | None = None) -> None:
        super().__init__()
        n = features if features is not None else torch.as_tensor(low).numel()
        low_t, high_t = _feature_vector(low, n, "low"), _feature_vector(high, n, "high")
        if (high_t <= low_t).any():
            raise ValueError(f"need low < high per feature, got low={low_t.tolist()}, high={high_t.tolist()}")
        self.register_buffer("low", low_t)
        self.register_buffer("high", high_t)

    def forward(self, x: Tensor, context: Tensor | None = None) -> tuple[Tensor, Tensor]:
        u = (x - self.low) / (self.high - self.low)
        outside = ~((u > 0) & (u < 1))
        if outside.any():
            raise ValueError(
                f"{int(outside.sum())} value(s) lie outside the open box (low={self.low.tolist()}, "
                f"high={self.high.tolist()}) that is this flow's support, "
                f"e.g. {x[outside.any(-1)][0].tolist()}"
            )
        log_u, log_1mu = torch.log(u), torch.log1p(-u)
        z = log_u - log_1mu
        ladj = -(torch.log(self.high - self.low) + log_u + log_1mu).sum(-1)
        return z, ladj

    def inverse(self, z: Tensor, context: Tensor | None = None) -> tuple[Tensor, Tensor]:
        ladj = (torch.log(self.high - self.low) + F.logsigmoid(z) + F.logsigmoid(-z)).sum(-1)
        return self.generate(z), ladj

    def generate(self, z: Tensor, context: Tensor | None = None) -> Tensor:
        return torch.addcmul(self.low, self.high - self.low, torch.sigmoid(z))
