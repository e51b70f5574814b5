r"""Scalar bijections parametrised by a conditioner's output, applied elementwise.

A map takes values ``x [...]`` and parameters ``p [..., P]`` (``P = map.num_params`` per scalar) and
returns ``(y, log|dy/dx|)`` elementwise; ``inverse`` returns ``(x, log|dx/dy|)``.  All-zero parameters give
the identity, so a conditioner whose last layer is zero-initialised makes its layer start at the identity.
Coupling and autoregressive layers share these maps; they differ only in how ``p`` is computed.
"""

from __future__ import annotations

import torch
from torch import Tensor

from robo_flows.flows.splines import rq_spline_forward, rq_spline_inverse, spline_knots


class AffineMap:
    r"""``y = (x - m) exp(s)`` with a soft-clamped log-scale ``s = k tanh(s_raw / k)``; ``p = (m, s_raw)``.

    ``log|dy/dx| = s`` lies in ``[-k, k]``, so one layer scales by at most ``e^k`` either way.  The inverse is
    ``x = y * exp(-s) + m``.  The location ``m`` is in the input's units (the original MAF form), not a shift
    after scaling (``x e^s + t``, where ``t = -m e^s``): a narrow conditional (``e^s ~ 20``) then needs no
    large ``t``, and the float32 inverse has no cancellation ``(y - t)`` between two large numbers.
    """

    num_params = 2

    def __init__(self, log_scale_bound: float = 3.0) -> None:
        if log_scale_bound <= 0:
            raise ValueError(f"log_scale_bound must be > 0, got {log_scale_bound}")
        self.log_scale_bound = float(log_scale_bound)

    def forward(self, x: Tensor, params: Tensor) -> tuple[Tensor, Tensor]:
        k = self.log_scale_bound
        loc, raw = params.unbind(-1)
        log_scale = torch.tanh(raw * (1.0 / k)) * k
        return (x - loc) * log_scale.exp(), log_scale

    def inverse(self, y: Tensor, params: Tensor) -> tuple[Tensor, Tensor]:
        k = self.log_scale_bound
        loc, raw = params.unbind(-1)
        neg_log_scale = torch.tanh(raw * (1.0 / k)) * (-k)  # -s, computed directly (batch-1 sampling)
        return torch.addcmul(loc, y, neg_log_scale.exp()), neg_log_scale


class SplineMap:
    r"""Monotonic rational-quadratic spline on ``[-B, B]`` with identity tails (see :mod:`splines`).

    ``p = (widths [K], heights [K], interior derivatives [K - 1])``, ``P = 3K - 1``.
    """

    def __init__(self, bins: int = 8, bound: float = 5.0) -> None:
        if bins < 2:
            raise ValueError(f"a spline needs at least 2 bins, got {bins}")
        if bound <= 0:
            raise ValueError(f"tail_bound must be > 0, got {bound}")
        self.bins = int(bins)
        self.bound = float(bound)
        self.num_params = 3 * self.bins - 1

    def forward(self, x: Tensor, params: Tensor) -> tuple[Tensor, Tensor]:
        return rq_spline_forward(x, spline_knots(params, self.bound), self.bound)

    def inverse(self, y: Tensor, params: Tensor) -> tuple[Tensor, Tensor]:
        return rq_spline_inverse(y, spline_knots(params, self.bound), self.bound)


ScalarMap = AffineMap | SplineMap
