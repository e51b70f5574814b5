"""MADE masks and the fast autoregressive inverse."""

from __future__ import annotations

import pytest
import torch
from flow_test_helpers import perturb_
from torch.autograd.functional import jacobian

from robo_flows.flows import MADE
from robo_flows.flows.made import hidden_degrees, made_masks


@pytest.mark.parametrize(("features", "hidden"), [(1, (4,)), (3, (5, 7)), (6, (16, 16, 16)), (8, (8,))])
def test_masks_make_output_i_depend_only_on_earlier_inputs(features, hidden):
    masks = made_masks(features, hidden, context_features=2, params_per_feature=3)
    connectivity = masks[0][:, :features]
    for m in masks[1:]:
        connectivity = (m @ connectivity).clamp(max=1.0)
    per_feature = connectivity.reshape(features, 3, features).amax(1)  # [output i, input j]
    assert torch.equal(per_feature, torch.ones(features, features).tril(-1))  # full x_{<i}, nothing else


def test_hidden_degrees_are_sorted_and_cover_every_degree():
    degrees = hidden_degrees(5, 13)
    assert torch.equal(degrees, degrees.sort().values) and set(degrees.tolist()) == set(range(5))


def test_made_jacobian_is_strictly_lower_triangular():
    made = perturb_(MADE(5, 2, (40, 40), params_per_feature=2)).double()
    c = torch.randn(1, 2, dtype=torch.float64)
    dependence = sum(  # [output i, input j], summed over a few points so no ReLU pattern hides a link
        jacobian(lambda v: made(v.unsqueeze(0), c)[0], x).abs().amax(1)
        for x in torch.randn(4, 5, dtype=torch.float64)
    )
    lower = torch.ones(5, 5, dtype=torch.bool).tril(-1)
    assert torch.all(dependence[~lower] == 0) and torch.all(dependence[lower] > 0)


@pytest.mark.parametrize("context_features", [0, 3])
def test_autoregressive_inverse_solves_the_triangular_system(context_features):
    made = perturb_(MADE(6, context_features, (16, 12), params_per_feature=2)).double()
    c = torch.randn(10, context_features, dtype=torch.float64) if context_features else None
    x = torch.randn(10, 6, dtype=torch.float64)

    def shift(v, p):  # z_i = v_i + p_i0, inverted below
        return v - p[..., 0]

    params = made(x, c)
    z = x + params[..., 0]
    x_back, found = made.autoregressive_inverse(z, c, shift)
    assert torch.allclose(x_back, x, atol=1e-12)
    assert found.shape == params.shape and torch.allclose(found, params, atol=1e-12)


def test_made_without_hidden_layers_or_with_narrow_layers_is_rejected():
    with pytest.raises(ValueError, match="at least one hidden layer"):
        MADE(3, 0, ())
    with pytest.raises(ValueError, match="at least 8 units"):
        MADE(8, 0, (4,))


def _plain_made(made: MADE, x: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
    """The same MADE with ordinary autograd ops: masked ``F.linear`` + ReLU per layer."""
    h = torch.cat([x, c], dim=-1)
    weights = made.masked_weights()
    for i, (w, layer) in enumerate(zip(weights, made.layers, strict=True)):
        h = torch.nn.functional.linear(h, w, layer.bias)
        if i < len(weights) - 1:
            h = torch.relu(h)
    return h.unflatten(-1, (made.features, made.params_per_feature))


@pytest.mark.parametrize(("dtype", "tol"), [(torch.float64, 1e-12), (torch.float32, 1e-4)])
def test_fused_made_forward_and_backward_match_plain_autograd(dtype, tol):
    made = perturb_(MADE(6, 3, (32, 24), params_per_feature=3)).to(dtype)
    x = torch.randn(64, 6, dtype=dtype, requires_grad=True)
    c = torch.randn(64, 3, dtype=dtype, requires_grad=True)
    weights = torch.randn(64, 6, 3, dtype=dtype)  # a generic upstream gradient
    results = []
    for fn in (made, lambda a, b: _plain_made(made, a, b)):
        made.zero_grad()
        out = fn(x, c)
        grads = torch.autograd.grad((out * weights).sum(), [x, c, *made.parameters()])
        results.append((out, grads))
    (out, grads), (ref_out, ref_grads) = results
    torch.testing.assert_close(out, ref_out, rtol=tol, atol=tol)
    for g, ref in zip(grads, ref_grads, strict=True):
        torch.testing.assert_close(g, ref, rtol=tol, atol=tol)


def test_fused_made_passes_gradcheck_in_float64():
    made = perturb_(MADE(3, 2, (8,), params_per_feature=2)).double()
    x = torch.randn(5, 3, dtype=torch.float64, requires_grad=True)
    c = torch.randn(5, 2, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda a, b: made(a, b), (x, c))
