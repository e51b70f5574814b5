r"""Coupling layers (Dinh et al., 2017; Durkan et al., 2019).

``k`` features ``A`` (the first ``k``, or the last ``k``) pass unchanged and condition an elementwise map of
the other ``D - k``: ``z_A = x_A``, ``z_B = f(x_B; theta(x_A, c))``.  The Jacobian is block-triangular, so
``log|det dz/dx| = sum_j log|f'(x_{B,j})|``.  :func:`build_flow` alternates which side passes unchanged
(or puts LU layers between couplings), so every feature gets transformed.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from robo_flows.flows.flow import Transform
from robo_flows.flows.maps import AffineMap, ScalarMap, SplineMap
from robo_flows.flows.nets import DEFAULT_INIT, MLP, zero_last_for


class Coupling(Transform):
    """``z = (x_A, f(x_B; MLP(x_A, c)))``, ``A`` the first (``identity_last``: last) ``identity_features``
    features (default ``D // 2``).

    Shapes: ``x [B, D]``, ``c [B, C]``; ``forward`` returns ``(z, log|det dz/dx| [B])``,
    ``inverse`` returns ``(x, log|det dx/dz| [B])``.  ``init="identity"``: the conditioner's last layer
    starts at zero, so the layer starts as the identity; ``"random"``: fan-in init of every layer, a random
    bijection near the identity (see :func:`~robo_flows.flows.nets.zero_last_for`).
    """

    def __init__(
        self,
        features: int,
        scalar_map: ScalarMap,
        context_features: int = 0,
        hidden_features: Sequence[int] = (128, 128),
        identity_features: int | None = None,
        identity_last: bool = False,
        init: str = DEFAULT_INIT,
    ) -> None:
        super().__init__()
        k = features // 2 if identity_features is None else int(identity_features)
        if not 0 <= k < features:
            raise ValueError(f"identity_features must be in [0, {features - 1}], got {k}")
        self.features = int(features)
        self.identity_features = k
        self.identity_last = bool(identity_last)
        # x[:, :split] is the first block; it is A unless identity_last
        self._split = features - k if identity_last else k
        self.map = scalar_map
        changed = features - k
        self.conditioner = MLP(
            k + context_features, changed * scalar_map.num_params, hidden_features, zero_last_for(init)
        )

    def _params(self, x_a: Tensor, context: Tensor | None) -> Tensor:
        inputs = x_a if context is None else torch.cat([x_a, context], dim=-1)
        return self.conditioner(inputs).unflatten(-1, (self.features - self.identity_features, -1))

    def _parts(self, v: Tensor) -> tuple[Tensor, Tensor]:
        """``(v_A, v_B)``: the features that pass unchanged and those the map changes."""
        first, second = v[:, : self._split], v[:, self._split :]
        return (second, first) if self.identity_last else (first, second)

    def _join(self, v_a: Tensor, out_b: Tensor) -> Tensor:
        return torch.cat((out_b, v_a) if self.identity_last else (v_a, out_b), dim=-1)

    def _couple(self, v: Tensor, context: Tensor | None, inverse: bool) -> tuple[Tensor, Tensor]:
        v_a, v_b = self._parts(v)
        params = self._params(v_a, context)
        out_b, ladj = self.map.inverse(v_b, params) if inverse else self.map.forward(v_b, params)
        return self._join(v_a, out_b), ladj.sum(-1)

    def forward(self, x: Tensor, context: Tensor | None = None) -> tuple[Tensor, Tensor]:
        return self._couple(x, context, inverse=False)

    def inverse(self, z: Tensor, context: Tensor | None = None) -> tuple[Tensor, Tensor]:
        return self._couple(z, context, inverse=True)

    def generate(self, z: Tensor, context: Tensor | None = None) -> Tensor:
        z_a, z_b = self._parts(z)
        return self._join(z_a, self.map.generate(z_b, self._params(z_a, context)))


class AffineCoupling(Coupling):
    r"""RealNVP affine coupling: ``z_B = x_B * exp(s(x_A, c)) + t(x_A, c)``, ``z_A = x_A``.

    ``log|det dz/dx| = sum(s)``; scales are soft-clamped, ``s = s_raw / (1 + |s_raw| / k)``,
    ``k = log_scale_bound`` (see :class:`AffineMap`).
    """

    def __init__(
        self,
        features: int,
        context_features: int = 0,
        hidden_features: Sequence[int] = (128, 128),
        identity_features: int | None = None,
        identity_last: bool = False,
        log_scale_bound: float = 3.0,
        init: str = DEFAULT_INIT,
    ) -> None:
        super().__init__(
            features,
            AffineMap(log_scale_bound),
            context_features,
            hidden_features,
            identity_features,
            identity_last,
            init,
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
        identity_last: bool = False,
        bins: int = 8,
        tail_bound: float = 5.0,
        init: str = DEFAULT_INIT,
    ) -> None:
        super().__init__(
            features,
            SplineMap(bins, tail_bound),
            context_features,
            hidden_features,
            identity_features,
            identity_last,
            init,
        )
