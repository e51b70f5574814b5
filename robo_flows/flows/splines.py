r"""Monotonic rational-quadratic splines (Durkan et al., 2019) as pure tensor functions.

A spline with ``K`` bins maps ``[-B, B]`` onto itself through knots ``(x_k, y_k)``, ``k = 0..K``, with
``x_0 = y_0 = -B``, ``x_K = y_K = B`` and positive knot derivatives ``d_k``.  Inside bin ``k``, with
``w_k = x_{k+1} - x_k``, ``h_k = y_{k+1} - y_k``, ``s_k = h_k / w_k`` and ``xi = (x - x_k) / w_k``:

.. math::

    y = y_k + \frac{h_k (s_k \xi^2 + d_k \xi (1 - \xi))}{s_k + (d_k + d_{k+1} - 2 s_k) \xi (1 - \xi)}, \qquad
    \frac{dy}{dx} = \frac{s_k^2 (d_{k+1} \xi^2 + 2 s_k \xi (1 - \xi) + d_k (1 - \xi)^2)}
                         {(s_k + (d_k + d_{k+1} - 2 s_k) \xi (1 - \xi))^2}.

Outside ``[-B, B]`` the map is the identity (linear tails); the boundary derivatives are fixed to 1 so the
map is C^1.  The inverse inside a bin solves the quadratic ``a xi^2 + b xi + c = 0`` in closed form with the
numerically stable root ``xi = 2c / (-b - sqrt(b^2 - 4ac))``.

All functions broadcast over leading dimensions: inputs ``[...]``, unnormalised parameters ``[..., 3K - 1]``
(``K`` widths, ``K`` log-slopes, ``K - 1`` interior derivatives; see :func:`spline_knots`).
"""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor

# Soft bounds of the three raw parameter groups (see :func:`spline_knots`): log width ratios between bins
# stay below 2 * WIDTH_BOUND, slopes within exp(+-2 * LOG_SLOPE_BOUND), and a knot derivative within
# exp(+-LOG_DERIVATIVE_BOUND) of the geometric mean of its two bins' slopes.
WIDTH_BOUND = 3.0
LOG_SLOPE_BOUND = 2.0
LOG_DERIVATIVE_BOUND = 2.0


class SplineKnots(NamedTuple):
    """Knot table of a spline: per bin ``k``, its left knot ``(x_k, y_k)``, size ``(w_k, h_k)`` and the
    derivatives at both ends.  x and y rows are stacked on a leading axis so one gather serves both."""

    edges: Tensor  # [2, ..., K]: x_k (row 0) and y_k (row 1)
    sizes: Tensor  # [2, ..., K]: w_k (row 0) and h_k (row 1)
    derivatives: Tensor  # [..., K + 1]: d_0 .. d_K

    @property
    def x(self) -> Tensor:
        return self.edges[0]

    @property
    def y(self) -> Tensor:
        return self.edges[1]

    @property
    def width(self) -> Tensor:
        return self.sizes[0]

    @property
    def height(self) -> Tensor:
        return self.sizes[1]


class _Bin(NamedTuple):
    """One selected bin per element, each field ``[...]``."""

    x: Tensor
    width: Tensor
    y: Tensor
    height: Tensor
    d_left: Tensor
    d_right: Tensor


def soft_clamp(x: Tensor, bound: float) -> Tensor:
    r"""``x / (1 + |x| / bound)``: the identity near 0, odd, monotonic, ``|.| < bound``.

    Saturates slowly (algebraically), so large raw values keep a useful gradient ``(1 + |x| / bound)^-2``.
    """
    return _soft_clamp_by(x, 1.0 / bound)


def _soft_clamp_by(x: Tensor, inverse_bound: Tensor | float) -> Tensor:
    """:func:`soft_clamp` with ``1 / bound`` given, a scalar or a row broadcast over ``x``'s last axis."""
    return x / (1.0 + x.abs() * inverse_bound)


@lru_cache(maxsize=64)
def _inverse_bounds(
    bins: int, bounds: tuple[float, float, float], dtype: torch.dtype, device: torch.device
) -> Tensor:
    """``1 / bound`` per raw spline parameter ``[3K - 1]`` (widths, log-slopes, derivatives), so the three
    groups are soft-clamped in one pass instead of three (a batch-1 sample runs this once per feature).
    Built outside inference mode: a cached row first made while sampling must still serve training."""
    counts = (bins, bins, bins - 1)
    with torch.inference_mode(False):
        rows = [torch.full((n,), 1.0 / b, dtype=torch.float64) for n, b in zip(counts, bounds, strict=True)]
        return torch.cat(rows).to(dtype=dtype, device=device)


def spline_knots(
    params: Tensor,
    bound: float,
    width_bound: float = WIDTH_BOUND,
    log_slope_bound: float = LOG_SLOPE_BOUND,
    log_derivative_bound: float = LOG_DERIVATIVE_BOUND,
) -> SplineKnots:
    r"""Normalise unconstrained parameters ``[..., 3K - 1]`` into a knot table on ``[-B, B]``.

    Layout of the last axis: ``K`` raw widths ``u``, ``K`` raw log-slopes ``v``, ``K - 1`` raw derivatives
    ``r``; ``sc(., a)`` is :func:`soft_clamp`.  Widths are ``w = 2B softmax(sc(u, a_w))``.  Heights are
    ``h = 2B softmax(log w + sc(v, a_s))``, so the slope of bin ``k`` is
    ``s_k = h_k / w_k = e^{v_k} / sum_j (w_j / 2B) e^{v_j}`` (divided by a weighted mean of ``e^v``),
    which lies in ``[e^{-2 a_s}, e^{2 a_s}]`` however the widths come out.  Interior derivatives are
    ``d_k = sqrt(s_{k-1} s_k) exp(sc(r_k, a_d))``; boundary derivatives are 1 (matching the linear tails).

    Why slopes and not heights: the float32 inverse errs by about ``ulp(y) / f'(x)``.  With
    ``delta = d / s_k`` at both ends of bin ``k``, ``f' >= s_k min(1, delta_l, delta_r) / max(1, delta_l,
    delta_r)^2`` inside it (about ``4 s_k^2 / (d_k + d_{k+1})`` at the centre of a flat bin between steep
    knots).  Free heights and derivatives let a perturbed or sharply trained conditioner build exactly that
    (``s ~ 1e-3``, ``d ~ 10``: ``f' ~ 1e-6``, and the float32 round trip loses whole units).  Here every
    ``delta`` lies in ``exp(+-max(a_s + a_d, 2 a_s))`` and ``s`` in ``exp(+-2 a_s)``, so ``f'`` has a lower
    bound for every parameter value (a loose one, ``e^-16`` for the defaults; typical splines are far above).
    All-zero parameters give equal bins, unit slopes and derivatives: the identity.
    """
    size = params.shape[-1]
    if size < 5 or (size + 1) % 3:
        raise ValueError(
            f"spline parameters need a last axis of 3K - 1 (K >= 2 bins), got {tuple(params.shape)}"
        )
    bins = (size + 1) // 3
    inverse_bounds = _inverse_bounds(
        bins, (width_bound, log_slope_bound, log_derivative_bound), params.dtype, params.device
    )
    # split, not three slices: its backward is one cat, where each slice's is a zero-filled full-size copy
    clamped_w, clamped_v, clamped_d = _soft_clamp_by(params, inverse_bounds).split([bins, bins, bins - 1], -1)
    log_w = torch.log_softmax(clamped_w, dim=-1)
    log_h = torch.log_softmax(log_w + clamped_v, dim=-1)
    log_slope = log_h - log_w
    log_d = 0.5 * (log_slope[..., 1:] + log_slope[..., :-1]) + clamped_d
    sizes = torch.stack([log_w, log_h]).exp() * (2.0 * bound)  # [2, ..., K]
    edges = torch.cumsum(sizes, dim=-1) - sizes - bound  # exclusive cumulative sum: sum_{j<k} size_j - B
    return SplineKnots(edges, sizes, F.pad(log_d.exp(), (1, 1), value=1.0))


def search_bins(knots: Tensor, values: Tensor) -> Tensor:
    """Bin index of each value: ``k`` with ``knots[k] <= v < knots[k + 1]``, clamped to ``[0, K - 1]``.

    ``knots``: left bin edges ``[..., K]`` (sorted increasingly along the last axis); ``values``: ``[...]``.
    Returns a long tensor ``[...]``.  Counting the interior edges at or below the value is exact and, for the
    small ``K`` of flows, cheaper than a binary search.
    """
    return (values.unsqueeze(-1) >= knots[..., 1:]).sum(dim=-1)


def _gather_bin(knots: SplineKnots, index: Tensor) -> _Bin:
    """Select each element's bin (``index [...]``) from the knot table; every field comes out contiguous."""
    index = index.unsqueeze(-1)
    pair = index.unsqueeze(0).expand(2, *index.shape)
    (x, y), (w, h) = knots.edges.gather(-1, pair).squeeze(-1), knots.sizes.gather(-1, pair).squeeze(-1)
    d = knots.derivatives
    return _Bin(x, w, y, h, d.gather(-1, index).squeeze(-1), d.gather(-1, index + 1).squeeze(-1))


def rq_spline_forward(x: Tensor, knots: SplineKnots, bound: float) -> tuple[Tensor, Tensor]:
    """Apply the spline: returns ``(y, log dy/dx)``, both shaped like ``x``; identity outside ``[-B, B]``."""
    inside = (x > -bound) & (x < bound)
    xc = x.clamp(-bound, bound)
    b = _gather_bin(knots, search_bins(knots.x, xc))
    slope = b.height / b.width
    xi = ((xc - b.x) / b.width).clamp(0.0, 1.0)
    xi1m = xi * (1.0 - xi)
    denominator = slope + (b.d_left + b.d_right - 2.0 * slope) * xi1m
    y = b.y + b.height * (slope * xi.square() + b.d_left * xi1m) / denominator
    grad_numerator = slope.square() * (
        b.d_right * xi.square() + 2.0 * slope * xi1m + b.d_left * (1.0 - xi).square()
    )
    log_grad = torch.log(grad_numerator / denominator.square())
    return torch.where(inside, y, x), torch.where(inside, log_grad, 0.0)


class _Solved(NamedTuple):
    """An inverse's solution inside ``[-B, B]`` and what its log-derivative reuses, each ``[...]``."""

    inside: Tensor
    x: Tensor
    xi: Tensor
    bin: _Bin
    slope: Tensor
    curvature: Tensor


def _solve(y: Tensor, knots: SplineKnots, bound: float) -> _Solved:
    """Each value's bin and its root ``xi`` of the bin's quadratic (module doc)."""
    inside = (y > -bound) & (y < bound)
    yc = y.clamp(-bound, bound)
    b = _gather_bin(knots, search_bins(knots.y, yc))
    slope = b.height / b.width
    dy = yc - b.y
    curvature = b.d_left + b.d_right - 2.0 * slope
    # a xi^2 + b xi + c = 0 with a = h (s - d_k) + dy kappa, b = h d_k - dy kappa, c = -s dy; the stable root
    # 2c / (-b - sqrt(b^2 - 4ac)) = 2 s dy / (b + sqrt(b^2 + 4 a s dy))
    curved = dy * curvature
    qa = b.height * (slope - b.d_left) + curved
    qb = b.height * b.d_left - curved
    s_dy = slope * dy
    discriminant = torch.addcmul(qb.square(), qa, s_dy, value=4.0).clamp_min(0.0)
    xi = ((s_dy + s_dy) / (qb + torch.sqrt(discriminant))).clamp(0.0, 1.0)
    return _Solved(inside, torch.addcmul(b.x, xi, b.width), xi, b, slope, curvature)


def rq_spline_solve(y: Tensor, knots: SplineKnots, bound: float) -> Tensor:
    """Invert the spline, the value alone (the sampling path): ``x`` shaped like ``y``."""
    solved = _solve(y, knots, bound)
    return torch.where(solved.inside, solved.x, y)


def rq_spline_inverse(y: Tensor, knots: SplineKnots, bound: float) -> tuple[Tensor, Tensor]:
    """Invert the spline: returns ``(x, log dx/dy)`` with ``log dx/dy = -log dy/dx`` at ``x``."""
    inside, x, xi, b, slope, curvature = _solve(y, knots, bound)
    xi1m = xi * (1.0 - xi)
    denominator = slope + curvature * xi1m
    grad_numerator = slope.square() * (
        b.d_right * xi.square() + 2.0 * slope * xi1m + b.d_left * (1.0 - xi).square()
    )
    log_grad = torch.log(denominator.square() / grad_numerator)
    return torch.where(inside, x, y), torch.where(inside, log_grad, 0.0)
