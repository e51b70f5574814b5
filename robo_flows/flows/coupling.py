r"""Coupling layers (Dinh et al., 2017; Durkan et al., 2019).

The first ``k`` features pass unchanged and condition an elementwise map of the other ``D - k``:
``z_A = x_A``, ``z_B = f(x_B; theta(x_A, c))``.  The Jacobian is block-triangular, so
``log|det dz/dx| = sum_j log|f'(x_{B,j})|``.  Layers alternate which features they change through the
permutations or LU layers that :func:`build_flow` puts between them.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from robo_flows.flows.maps import AffineMap, ScalarMap, SplineMap
from robo_flows.flows.nets import MLP


class Coupling(nn.Module):
    """``z = (x_A, f(x_B; MLP(x_A, c)))`` with ``A`` the first ``identity_features`` (default ``D // 2``).

    Shapes: ``x [B, D]``, ``c [B, C]``; ``forward`` returns ``(z, log|det dz/dx| [B])``,
    ``inverse`` returns ``(x, log|det dx/dz| [B])``.  The conditioner's last layer starts at zero, so the
    layer starts as the identity.
    """

    def __init__(
        self,
        features: int,
        scalar_map: ScalarMap,
        context_features: int = 0,
        hidden_features: Sequence[int] = (128, 128),
        identity_features: int | None = None,
    ) -> None:
        super().__init__()
        k = features // 2 if identity_features is None else int(identity_features)
        if not 0 <= k < features:
            raise ValueError(f"identity_features must be in [0, {features - 1}], got {k}")
        self.features = int(features)
        self.identity_features = k
        self.map = scalar_map
        changed = features - k
        self.conditioner = MLP(k + context_features, changed * scalar_map.num_params, hidden_features)

    def _params(self, x_a: Tensor, context: Tensor | None) -> Tensor:
        inputs = x_a if context is None else torch.cat([x_a, context], dim=-1)
        return self.conditioner(inputs).unflatten(-1, (self.features - self.identity_features, -1))

    def forward(self, x: Tensor, context: Tensor | None = None) -> tuple[Tensor, Tensor]:
        x_a, x_b = x[:, : self.identity_features], x[:, self.identity_features :]
        z_b, ladj = self.map.forward(x_b, self._params(x_a, context))
        return torch.cat([x_a, z_b], dim=-1), ladj.sum(-1)

    def inverse(self, z: Tensor, context: Tensor | None = None) -> tuple[Tensor, Tensor]:
        z_a, z_b = z[:, : self.identity_features], z[:, self.identity_features :]
        x_b, ladj = self.map.inverse(z_b, self._params(z_a, context))
        return torch.cat([z_a, x_b], dim=-1), ladj.sum(-1)


class AffineCoupling(Coupling):
    r"""RealNVP affine coupling: ``z_B = x_B * exp(s(x_A, c)) + t(x_A, c)``, ``z_A = x_A``.

    ``log|det dz/dx| = sum(s)``; scales are soft-clamped, ``s = k tanh(s_raw / k)``, ``k = log_scale_bound``.
    """

    def __init__(
        self,
        features: int,
        context_features: int = 0,
        hidden_features: Sequence[int] = (128, 128),
        identity_features: int | None = None,
        log_scale_bound: float = 3.0,
    ) -> None:
        super().__init__(
            features, AffineMap(log_scale_bound), context_features, hidden_features, identity_features
        )


class SplineCoupling(Coupling):
    """NSF coupling: ``z_B`` = a rational-quadratic spline of ``x_B`` on ``[-tail_bound, tail_bound]`` with
    ``bins`` bins, identity outside, its knots given by an MLP of ``(x_A, c)``."""

    def __init__(
        self,
        features: int,
        context_features: int = 0,
        hidden_features: Sequence[int] = (128, 128),
        identity_features: int | None = None,
        bins: int = 8,
        tail_bound: float = 5.0,
    ) -> None:
        super().__init__(
            features, SplineMap(bins, tail_bound), context_features, hidden_features, identity_features
        )
