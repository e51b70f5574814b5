"""Rational-quadratic spline functions on their own."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from robo_flows.flows.splines import (
    LOG_DERIVATIVE_BOUND,
    LOG_SLOPE_BOUND,
    _inverse_bounds,
    rq_spline_forward,
    rq_spline_inverse,
    search_bins,
    spline_knots,
)

BOUND = 3.0


def random_knots(batch: int, bins: int, scale: float = 2.0, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    return spline_knots(scale * torch.randn(batch, 3 * bins - 1, generator=g, dtype=torch.float64), BOUND)


def test_zero_parameters_give_the_identity():
    knots = spline_knots(torch.zeros(5, 17, dtype=torch.float64), BOUND)
    x = torch.linspace(-4.0, 4.0, 5, dtype=torch.float64)
    y, log_grad = rq_spline_forward(x, knots, BOUND)
    assert torch.allclose(y, x, atol=1e-12) and torch.allclose(log_grad, torch.zeros(5, dtype=torch.float64))


def test_spline_maps_the_interval_onto_itself_monotonically():
    params = 2.0 * torch.randn(1, 23, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    x = torch.linspace(-BOUND, BOUND, 2001, dtype=torch.float64)
    y, _ = rq_spline_forward(x, spline_knots(params.expand(2001, -1), BOUND), BOUND)
    assert torch.all(y[1:] > y[:-1])
    assert torch.allclose(y[[0, -1]], torch.tensor([-BOUND, BOUND], dtype=torch.float64))


def test_log_derivative_matches_autograd():
    knots = random_knots(64, 8)
    x = (torch.rand(64, dtype=torch.float64) * 2 - 1) * 4.0
    x.requires_grad_(True)
    y, log_grad = rq_spline_forward(x, knots, BOUND)
    (grad,) = torch.autograd.grad(y.sum(), x)
    assert torch.allclose(log_grad, grad.log(), atol=1e-10)


def test_linear_tails_are_the_identity():
    knots = random_knots(4, 8)
    x = torch.tensor([-7.0, -3.5, 3.01, 9.0], dtype=torch.float64)
    y, log_grad = rq_spline_forward(x, knots, BOUND)
    assert torch.equal(y, x) and torch.equal(log_grad, torch.zeros(4, dtype=torch.float64))


def test_slopes_and_derivative_ratios_stay_bounded_for_extreme_parameters():
    params = 60.0 * torch.randn(512, 23, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    knots = spline_knots(params, BOUND)
    slope = knots.height / knots.width
    assert slope.log().abs().max() < 2 * LOG_SLOPE_BOUND
    ratio = (knots.derivatives[..., 1:-1] / slope[..., 1:]).log().abs()
    assert ratio.max() < LOG_SLOPE_BOUND + LOG_DERIVATIVE_BOUND
    assert torch.allclose(knots.width.sum(-1), torch.full((512,), 2 * BOUND, dtype=torch.float64))
    assert torch.allclose(knots.height.sum(-1), torch.full((512,), 2 * BOUND, dtype=torch.float64))


def test_spline_derivative_stays_away_from_zero_for_extreme_parameters():
    """A flat bin between steep knots (f' ~ 1e-6) made the float32 inverse lose whole units; the slope
    parametrisation keeps f' >= s min(1, d/s) / max(1, d/s)^2 for every parameter value."""
    params = 20.0 * torch.randn(4096, 23, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    x = (torch.rand(4096, generator=torch.Generator().manual_seed(5), dtype=torch.float64) * 2 - 1) * BOUND
    _, log_grad = rq_spline_forward(x, spline_knots(params, BOUND), BOUND)
    floor = -(2 * LOG_SLOPE_BOUND + 3 * max(LOG_SLOPE_BOUND + LOG_DERIVATIVE_BOUND, 2 * LOG_SLOPE_BOUND))
    assert log_grad.min() > floor
    assert log_grad.min() > -8.0  # far above the worst-case bound in practice


def test_float32_spline_inverse_of_perturbed_parameters_is_accurate():
    g = torch.Generator().manual_seed(6)
    for scale in (1.0, 3.0, 10.0):
        params = scale * torch.randn(20000, 23, generator=g)
        x = (torch.rand(20000, generator=g) * 2 - 1) * 8.0
        knots = spline_knots(params, 5.0)
        y, _ = rq_spline_forward(x, knots, 5.0)
        x_back, _ = rq_spline_inverse(y, knots, 5.0)
        assert (x_back - x).abs().max() < 1e-4, scale


def test_search_bins_agrees_with_searchsorted():
    knots = random_knots(256, 8).x.contiguous()
    v = (torch.rand(256, dtype=torch.float64) * 2 - 1) * BOUND
    expected = torch.searchsorted(knots, v.unsqueeze(-1), right=True).squeeze(-1) - 1
    assert torch.equal(search_bins(knots, v), expected.clamp(0, 7))


@settings(max_examples=40, deadline=None)
@given(
    values=st.lists(st.floats(-8.0, 8.0, allow_nan=False), min_size=1, max_size=16),
    seed=st.integers(0, 10_000),
)
def test_inverse_undoes_forward_property(values, seed):
    x = torch.tensor(values, dtype=torch.float64)
    knots = random_knots(len(values), 6, seed=seed)
    y, log_grad = rq_spline_forward(x, knots, BOUND)
    x_back, log_grad_inv = rq_spline_inverse(y, knots, BOUND)
    assert torch.allclose(x_back, x, atol=1e-9)
    assert torch.allclose(log_grad_inv, -log_grad, atol=1e-9)


def test_mismatched_parameter_shapes_raise():
    with pytest.raises(ValueError, match=r"last axis of 3K - 1 .* got \(2, 12\)"):
        spline_knots(torch.zeros(2, 12), BOUND)


@pytest.mark.parametrize("bins", [4, 7])
def test_knot_tables_first_built_in_inference_mode_still_train(bins):
    """The soft clamp's cached row of inverse bounds is first built here under ``inference_mode`` (sampling
    a float64 flow does not widen, so sampling and training share the row); training then saves it for
    backward, which an inference tensor refuses."""
    _inverse_bounds.cache_clear()  # so that this test builds the row first, whatever ran before
    params = torch.randn(3, 3 * bins - 1, dtype=torch.float64)
    with torch.inference_mode():
        spline_knots(params, 5.0)
    trained = params.clone().requires_grad_(True)
    knots = spline_knots(trained, 5.0)
    (knots.sizes.sum() + knots.derivatives.sum()).backward()
    assert trained.grad is not None and torch.isfinite(trained.grad).all()
