r"""Scalar bijections parametrised by a conditioner's output, applied elementwise.

A map takes values ``x [...]`` and parameters ``p [..., P]`` (``P = map.num_params`` per scalar) and
returns ``(y, log|dy/dx|)`` elementwise; ``inverse`` returns ``(x, log|dx/dy|)``, ``generate`` its ``x``
alone.  All-zero parameters give
the identity, so a conditioner whose last layer is zero-initialised makes its layer start at the identity.
Coupling and autoregressive layers share these maps; they differ only in how ``p`` is computed.

Outside autograd (sampling, ``torch.no_grad`` evaluation) float32 spline maps, both ways, and the affine
map's forward compute in float64 (:func:`widened`), from the conditioner's raw output to the map's output,
which is rounded back once.  Why: a layer's inverse recomputes its parameters from inputs that differ from
the forward's in the last bits (the round trip of the later layers), so the rounding noise of the parameter
transforms (the spline knots' softmaxes and cumulative sums, the soft clamps, ``exp``) differs between the
two directions and does not cancel.  In float32 it made round trips of perturbed flows (perturbation 0.3)
up to 14x worse than rounding each layer's output once (the storage floor, benchmarks/results/
flows_roundtrip.json).  While autograd records (training), maps stay in the input's dtype: the widened
knots cost a spline flow's training step about 30% and a gradient has no use for the extra bits.  The
affine inverse, on the batch-1 sampling path, stays float32 too: its four casts cost about 25% of a MAF's
batch-1 sample, for a residual excess of about 2x the floor (tests/flows/test_flow_float32.py).
"""

from __future__ import annotations

import torch
from torch import Tensor

from robo_flows.flows.splines import (
    rq_spline_forward,
    rq_spline_inverse,
    rq_spline_solve,
    soft_clamp,
    spline_knots,
)


def widened(x: Tensor, params: Tensor) -> torch.dtype:
    """The dtype a map computes in for values ``x`` and parameters ``params``: float64 for float32 outside
    autograd, else ``x``'s dtype (also on MPS, which has no float64)."""
    if x.dtype != torch.float32 or x.device.type == "mps":
        return x.dtype
    if torch.is_grad_enabled() and (x.requires_grad or params.requires_grad):
        return x.dtype
    return torch.float64


class AffineMap:
    r"""``y = x exp(s) + t``, log-scale soft-clamped: ``s = s_raw / (1 + |s_raw| / k)``; ``p = (t, s_raw)``.

    ``log|dy/dx| = s`` lies in ``(-k, k)``, so one layer scales by less than ``e^k`` either way; the inverse
    is ``x = (y - t) exp(-s)``.  The clamp is algebraic (:func:`~robo_flows.flows.splines.soft_clamp`), not
    ``k tanh(s_raw / k)``: its gradient decays as ``(1 + |s_raw| / k)^-2`` instead of exponentially, and a
    large raw value lands farther from the bound (``s(5) = 1.9`` against ``tanh``'s 2.8 for ``k = 3``), which
    keeps strongly perturbed or over-confident conditioners better conditioned (float32 round trips in
    docs/flows).

    Why a shift after the scale and not a location before it (``(x - m) exp(s)``, tried before): the loss
    gradient w.r.t. the location is ``-exp(s) dL/dy``, so as a conditional narrows (``exp(s) ~ 20``) its
    location gradients grow by ``exp(s)`` and dominate what a shared conditioner (a MADE's hidden layers)
    learns, at the expense of the other features; the shift's gradient is ``dL/dy`` for every feature.  On
    ``ring_warp6`` (6-D, noise down to 0.05; 1500 steps, 3 seeds) the MAF went from 0.07 nats behind zuko's
    MAF to 0.04 ahead, lower on every seed (benchmarks/results/flows_nll_maf.json).
    """

    num_params = 2

    def __init__(self, log_scale_bound: float = 3.0) -> None:
        if log_scale_bound <= 0:
            raise ValueError(f"log_scale_bound must be > 0, got {log_scale_bound}")
        self.log_scale_bound = float(log_scale_bound)

    def forward(self, x: Tensor, params: Tensor) -> tuple[Tensor, Tensor]:
        wide = widened(x, params)
        shift, raw = params.to(wide).unbind(-1)
        log_scale = soft_clamp(raw, self.log_scale_bound)
        y = torch.addcmul(shift, x.to(wide), log_scale.exp())
        return y.to(x.dtype), log_scale.to(x.dtype)

    def inverse(self, y: Tensor, params: Tensor) -> tuple[Tensor, Tensor]:
        shift, raw = params.unbind(-1)
        neg_log_scale = -soft_clamp(raw, self.log_scale_bound)
        return (y - shift) * neg_log_scale.exp(), neg_log_scale

    def generate(self, y: Tensor, params: Tensor) -> Tensor:
        """``x`` of :meth:`inverse` (its log-scale is needed for ``x`` anyway)."""
        return self.inverse(y, params)[0]


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
        wide = widened(x, params)
        y, log_grad = rq_spline_forward(x.to(wide), spline_knots(params.to(wide), self.bound), self.bound)
        return y.to(x.dtype), log_grad.to(x.dtype)

    def inverse(self, y: Tensor, params: Tensor) -> tuple[Tensor, Tensor]:
        wide = widened(y, params)
        x, log_grad = rq_spline_inverse(y.to(wide), spline_knots(params.to(wide), self.bound), self.bound)
        return x.to(y.dtype), log_grad.to(y.dtype)

    def generate(self, y: Tensor, params: Tensor) -> Tensor:
        """``x`` of :meth:`inverse` without the log-derivative (the sampling path)."""
        wide = widened(y, params)
        return rq_spline_solve(y.to(wide), spline_knots(params.to(wide), self.bound), self.bound).to(y.dtype)


ScalarMap = AffineMap | SplineMap
