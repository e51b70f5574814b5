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

All functions broadcast over leading dimensions: inputs ``[...]``, unnormalised parameters ``[..., K]``
(widths, heights) and ``[..., K - 1]`` (interior derivatives).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor

DEFAULT_MIN_BIN_SIZE = 1e-3
DEFAULT_MIN_DERIVATIVE = 1e-3


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


def _bins(raw: Tensor, bound: float, min_size: float) -> tuple[Tensor, Tensor]:
    """Left bin edges ``[..., K]`` (the first is ``-bound``) and bin sizes ``[..., K]`` (sum ``2 bound``).

    Sizes are ``2 B (min_size + (1 - K min_size) softmax(raw))``, so each bin is at least ``2 B min_size``
    and zero ``raw`` gives equal bins.  The softmax is written out: ``raw`` is usually a strided slice of a
    conditioner's output, on which ``torch.softmax`` over a short axis is several times slower.
    """
    bins = raw.shape[-1]
    if min_size * bins >= 1.0:
        raise ValueError(f"minimal bin size {min_size} times {bins} bins must be < 1")
    e = torch.exp(raw - raw.detach().amax(dim=-1, keepdim=True))  # a constant shift: same value and gradient
    sizes = (
        e * ((2.0 * bound * (1.0 - min_size * bins)) / e.sum(dim=-1, keepdim=True)) + 2.0 * bound * min_size
    )
    left = torch.cumsum(sizes, dim=-1) - sizes - bound  # exclusive cumulative sum: sum_{j<k} size_j - B
    return left, sizes


def _softplus(x: Tensor) -> Tensor:
    """``log(1 + e^x)`` as ``relu(x) + log1p(e^{-|x|})`` (stable; faster than F.softplus on slices)."""
    return torch.relu(x) + torch.log1p(torch.exp(-x.abs()))


def derivative_offset(min_derivative: float = DEFAULT_MIN_DERIVATIVE) -> float:
    """The shift ``c`` with ``min_d + softplus(0 + c) = 1``, so zero parameters give unit derivatives."""
    return math.log(math.expm1(1.0 - min_derivative))


def spline_knots(
    params: Tensor,
    bound: float,
    min_bin_size: float = DEFAULT_MIN_BIN_SIZE,
    min_derivative: float = DEFAULT_MIN_DERIVATIVE,
) -> SplineKnots:
    """Normalise unconstrained parameters ``[..., 3K - 1]`` into a knot table.

    Layout of the last axis: ``K`` raw widths, ``K`` raw heights, ``K - 1`` raw interior derivatives.
    Widths and heights are at least ``2 B min_bin_size``; interior derivatives are
    ``min_d + softplus(raw + c)`` with ``c`` from :func:`derivative_offset`, so all-zero parameters give the
    identity map.  Boundary derivatives are 1 (matching the linear tails).
    """
    size = params.shape[-1]
    if size < 5 or (size + 1) % 3:
        raise ValueError(
            f"spline parameters need a last axis of 3K - 1 (K >= 2 bins), got {tuple(params.shape)}"
        )
    bins = (size + 1) // 3
    raw_sizes = params[..., : 2 * bins].unflatten(-1, (2, bins)).movedim(-2, 0)  # [2, ..., K]
    edges, sizes = _bins(raw_sizes, bound, min_bin_size)
    inner = min_derivative + _softplus(params[..., 2 * bins :] + derivative_offset(min_derivative))
    return SplineKnots(edges, sizes, F.pad(inner, (1, 1), value=1.0))


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


def rq_spline_inverse(y: Tensor, knots: SplineKnots, bound: float) -> tuple[Tensor, Tensor]:
    """Invert the spline: returns ``(x, log dx/dy)`` with ``log dx/dy = -log dy/dx`` at ``x``."""
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
    x = b.x + xi * b.width
    xi1m = xi * (1.0 - xi)
    denominator = slope + curvature * xi1m
    grad_numerator = slope.square() * (
        b.d_right * xi.square() + 2.0 * slope * xi1m + b.d_left * (1.0 - xi).square()
    )
    log_grad = torch.log(denominator.square() / grad_numerator)
    return torch.where(inside, x, y), torch.where(inside, log_grad, 0.0)
