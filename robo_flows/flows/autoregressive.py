r"""Masked autoregressive layers (Papamakarios et al., 2017; Durkan et al., 2019).

``z_i = f(x_i; theta_i(x_{<i}, c))`` with ``theta`` from one :class:`MADE` evaluation, so the normalizing
direction (data -> latent, used for ``log_prob`` and training) costs one network pass, and
``log|det dz/dx| = sum_i log|f'(x_i)|`` (triangular Jacobian).  The generative direction is exact and
sequential: ``D`` passes, see :meth:`MADE.autoregressive_inverse`.
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor

from robo_flows.flows.flow import Transform
from robo_flows.flows.made import MADE
from robo_flows.flows.maps import AffineMap, ScalarMap, SplineMap
from robo_flows.flows.nets import DEFAULT_INIT, zero_last_for


class MaskedAutoregressive(Transform):
    """Autoregressive layer: elementwise ``scalar_map`` with parameters from a MADE of ``(x_{<i}, c)``.

    Shapes: ``x [B, D]``, ``c [B, C]``; ``forward`` returns ``(z, log|det dz/dx| [B])``; ``inverse`` returns
    ``(x, log|det dx/dz| [B])``.  ``init="identity"``: the MADE's last layer is zero, so the layer starts as
    the identity; ``"random"``: fan-in init throughout (see :func:`~robo_flows.flows.nets.zero_last_for`).
    """

    def __init__(
        self,
        features: int,
        scalar_map: ScalarMap,
        context_features: int = 0,
        hidden_features: Sequence[int] = (128, 128),
        init: str = DEFAULT_INIT,
    ) -> None:
        super().__init__()
        self.map = scalar_map
        self.made = MADE(
            features, context_features, hidden_features, scalar_map.num_params, zero_last_for(init)
        )

    def forward(self, x: Tensor, context: Tensor | None = None) -> tuple[Tensor, Tensor]:
        z, ladj = self.map.forward(x, self.made(x, context))
        return z, ladj.sum(-1)

    def inverse(self, z: Tensor, context: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """The ``D`` sequential passes solve for ``x``; the log-determinant then comes from one vectorised map
        call at the parameters those passes found (the same elementwise values as per feature)."""
        x, params = self.made.autoregressive_inverse(z, context, self.map.generate)
        return x, self.map.inverse(z, params)[1].sum(-1)

    def generate(self, z: Tensor, context: Tensor | None = None) -> Tensor:
        return self.made.autoregressive_inverse(z, context, self.map.generate)[0]


class MaskedAffineAutoregressive(MaskedAutoregressive):
    """MAF layer: ``z_i = x_i exp(s_i) + t_i``, ``(t_i, s_i)`` from ``(x_{<i}, c)``, ``s`` soft-clamped
    (:class:`~robo_flows.flows.maps.AffineMap`)."""

    def __init__(
        self,
        features: int,
        context_features: int = 0,
        hidden_features: Sequence[int] = (128, 128),
        log_scale_bound: float = 3.0,
        init: str = DEFAULT_INIT,
    ) -> None:
        super().__init__(features, AffineMap(log_scale_bound), context_features, hidden_features, init)


class MaskedSplineAutoregressive(MaskedAutoregressive):
    """NSF-AR layer: ``z_i`` = rational-quadratic spline of ``x_i`` with knots from ``(x_{<i}, c)``."""

    def __init__(
        self,
        features: int,
        context_features: int = 0,
        hidden_features: Sequence[int] = (128, 128),
        bins: int = 8,
        tail_bound: float = 5.0,
        init: str = DEFAULT_INIT,
    ) -> None:
        super().__init__(features, SplineMap(bins, tail_bound), context_features, hidden_features, init)
