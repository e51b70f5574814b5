"""``build_flow`` / ``Flow``: every kind, conditional and unconditional, against the DESIGN contract."""

from __future__ import annotations

import io
import math

import numpy as np
import pytest
import torch
from flow_test_helpers import perturb_
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from torch import nn
from torch.autograd.functional import jacobian

from robo_flows.flows import FLOW_KINDS, Flow, build_flow

SMALL = {"layers": 3, "hidden_features": (16, 16), "bins": 5, "tail_bound": 4.0}
KINDS_CTX = [(k, c) for k in FLOW_KINDS for c in (0, 2)]
IDS = [f"{k}-ctx{c}" for k, c in KINDS_CTX]


def make_flow(kind: str, features: int, ctx: int, seed: int = 0, scale: float = 0.2, **kwargs) -> Flow:
    torch.manual_seed(seed)
    flow = build_flow(kind, features, ctx, **{**SMALL, **kwargs})
    return perturb_(flow, scale=scale, seed=seed).double().eval()


def context_rows(ctx: int, batch: int) -> torch.Tensor | None:
    return None if ctx == 0 else torch.randn(batch, ctx, dtype=torch.float64)


def grid_integral_1d(flow: Flow, context: torch.Tensor | None, low: float, high: float, n: int = 12001):
    x = torch.linspace(low, high, n, dtype=torch.float64).unsqueeze(-1)
    c = None if context is None else context.expand(n, -1)
    with torch.no_grad():
        density = flow.log_prob(x, c).exp()
    return torch.trapezoid(density, x[:, 0]).item(), torch.trapezoid(density * x[:, 0], x[:, 0]).item()


def grid_integral_2d(
    flow: Flow, context: torch.Tensor | None, half_width: float = 12.0, n: int = 241
) -> float:
    axis = torch.linspace(-half_width, half_width, n, dtype=torch.float64)
    xx, yy = torch.meshgrid(axis, axis, indexing="ij")
    points = torch.stack([xx.flatten(), yy.flatten()], -1)
    c = None if context is None else context.expand(points.shape[0], -1)
    with torch.no_grad():
        density = flow.log_prob(points, c).exp().reshape(n, n)
    return torch.trapezoid(torch.trapezoid(density, axis), axis).item()


# ------------------------------------------------------------------ densities
@pytest.mark.parametrize(("kind", "ctx"), KINDS_CTX, ids=IDS)
def test_density_integrates_to_one_in_1d_and_samples_match_its_mean(kind, ctx):
    flow = make_flow(kind, 1, ctx, scale=0.3)
    c = context_rows(ctx, 1)
    mass, mean = grid_integral_1d(flow, c, -30.0, 30.0)
    assert mass == pytest.approx(1.0, abs=2e-3)
    samples = flow.sample((8000,), c).reshape(-1)
    assert abs(samples.mean().item() - mean) < 4 * samples.std().item() / math.sqrt(8000)


@pytest.mark.parametrize(("kind", "ctx"), KINDS_CTX, ids=IDS)
def test_density_integrates_to_one_in_2d(kind, ctx):
    flow = make_flow(kind, 2, ctx, scale=0.15)
    assert grid_integral_2d(flow, context_rows(ctx, 1)) == pytest.approx(1.0, abs=5e-3)


@pytest.mark.parametrize(("base", "ctx"), [("diag_gaussian", 0), ("gmm", 2)])
def test_density_with_learned_bases_lu_and_actnorm_integrates_to_one(base, ctx):
    flow = make_flow("nsf", 2, ctx, scale=0.15, base=base, base_components=3, linear="lu", actnorm=True)
    assert grid_integral_2d(flow, context_rows(ctx, 1)) == pytest.approx(1.0, abs=5e-3)


def test_bounded_flow_integrates_to_one_over_its_box():
    flow = make_flow("nsf_ar", 2, 0, bounds=(torch.tensor([-1.0, 0.0]), torch.tensor([1.0, 3.0])))
    n = 241
    ax0 = torch.linspace(-1.0, 1.0, n, dtype=torch.float64)[1:-1]
    ax1 = torch.linspace(0.0, 3.0, n, dtype=torch.float64)[1:-1]
    xx, yy = torch.meshgrid(ax0, ax1, indexing="ij")
    with torch.no_grad():
        density = flow.log_prob(torch.stack([xx.flatten(), yy.flatten()], -1)).exp().reshape(n - 2, n - 2)
    assert torch.trapezoid(torch.trapezoid(density, ax1), ax0).item() == pytest.approx(1.0, abs=1e-2)
    samples = flow.sample((5000,))
    assert torch.all(samples > torch.tensor([-1.0, 0.0])) and torch.all(samples < torch.tensor([1.0, 3.0]))


def test_standardize_and_bounds_compose_to_the_box_in_data_units():
    mean, std = torch.tensor([10.0, -5.0]), torch.tensor([2.0, 0.5])
    bounds = (torch.tensor([6.0, -6.0]), torch.tensor([14.0, -4.0]))
    flow = make_flow("realnvp", 2, 0, scale=0.05, standardize=(mean, std), bounds=bounds)
    samples = flow.sample((4000,))
    assert torch.all(samples > bounds[0].double()) and torch.all(samples < bounds[1].double())
    with pytest.raises(ValueError, match="outside the open box"):
        flow.log_prob(torch.tensor([[15.0, -5.0]], dtype=torch.float64))


# ------------------------------------------------------------------ exact log-dets and inverses
@pytest.mark.parametrize(("kind", "ctx"), KINDS_CTX, ids=IDS)
def test_flow_log_det_matches_autograd_jacobian(kind, ctx):
    flow = make_flow(kind, 3, ctx, linear="lu", actnorm=True)
    x = 2.0 * torch.randn(4, 3, dtype=torch.float64)
    c = context_rows(ctx, 4)
    _, ladj = flow.transform(x, c)
    for i in range(4):
        ci = None if c is None else c[i]
        J = jacobian(lambda v, ci=ci: flow.transform(v, ci)[0], x[i])
        assert torch.allclose(ladj[i], torch.linalg.slogdet(J).logabsdet, atol=1e-9)


@pytest.mark.parametrize(("kind", "ctx"), KINDS_CTX, ids=IDS)
def test_flow_inverse_undoes_transform_and_negates_log_det(kind, ctx):
    flow = make_flow(kind, 3, ctx, linear="lu", actnorm=True)
    x = 3.0 * torch.randn(64, 3, dtype=torch.float64)
    c = context_rows(ctx, 64)
    z, ladj = flow.transform(x, c)
    x_back, ladj_inv = flow.inverse(z, c)
    assert torch.allclose(x_back, x, atol=1e-10) and torch.allclose(ladj_inv, -ladj, atol=1e-10)


@pytest.mark.parametrize(("kind", "ctx"), KINDS_CTX, ids=IDS)
def test_float32_flow_round_trip_error_below_1e4_up_to_8(kind, ctx):
    torch.manual_seed(0)
    # a moderate perturbation: the error is bounded by conditioning (|dx/dz| amplifies float32 rounding)
    flow = perturb_(build_flow(kind, 4, ctx, **SMALL), scale=0.05).eval()
    x = torch.rand(2048, 4) * 16.0 - 8.0
    c = None if ctx == 0 else torch.randn(2048, ctx)
    with torch.no_grad():
        x_back, _ = flow.inverse(flow.transform(x, c)[0], c)
    assert (x_back - x).abs().max() < 1e-4


@pytest.mark.parametrize(("kind", "ctx"), KINDS_CTX, ids=IDS)
def test_sample_and_log_prob_agrees_with_log_prob(kind, ctx):
    flow = make_flow(kind, 3, ctx, base="gmm" if ctx else "diag_gaussian", base_components=2)
    c = context_rows(ctx, 5)
    x, log_prob = flow.sample_and_log_prob((7,), c)
    assert torch.allclose(log_prob, flow.log_prob(x, c), atol=1e-9)


_ROUND_TRIP_FLOWS = {kind: make_flow(kind, 3, 2, linear="lu") for kind in FLOW_KINDS}


@settings(max_examples=25, deadline=None)
@given(
    kind=st.sampled_from(FLOW_KINDS),
    x=arrays(np.float64, (5, 3), elements=st.floats(-20.0, 20.0, allow_nan=False)),
    c=arrays(np.float64, (5, 2), elements=st.floats(-5.0, 5.0, allow_nan=False)),
)
def test_round_trip_property(kind, x, c):
    flow = _ROUND_TRIP_FLOWS[kind]
    x_t, c_t = torch.from_numpy(x), torch.from_numpy(c)
    z, ladj = flow.transform(x_t, c_t)
    x_back, ladj_inv = flow.inverse(z, c_t)
    assert torch.allclose(x_back, x_t, atol=1e-8, rtol=1e-8)
    assert torch.allclose(ladj_inv, -ladj, atol=1e-8)


# ------------------------------------------------------------------ sampling contract
@pytest.mark.parametrize(("kind", "ctx"), KINDS_CTX, ids=IDS)
def test_sample_shapes_follow_torch_distributions(kind, ctx):
    flow = make_flow(kind, 3, ctx)
    c = context_rows(ctx, 4)
    batch = () if ctx == 0 else (4,)
    assert flow.sample((), c).shape == (*batch, 3)
    assert flow.sample((2, 5), c).shape == (2, 5, *batch, 3)
    x, log_prob = flow.sample_and_log_prob((6,), c)
    assert x.shape == (6, *batch, 3) and log_prob.shape == (6, *batch)
    dist = flow(c)
    assert dist.batch_shape == batch and dist.event_shape == (3,)
    assert dist.sample((2,)).shape == (2, *batch, 3)
    assert dist.log_prob(dist.sample((2,))).shape == (2, *batch)


@pytest.mark.parametrize(("kind", "ctx"), KINDS_CTX, ids=IDS)
@pytest.mark.parametrize("base", ["normal", "diag_gaussian", "gmm"])
def test_temperature_zero_is_deterministic(kind, ctx, base):
    flow = make_flow(kind, 3, ctx, base=base, base_components=3)
    c = context_rows(ctx, 4)
    a = flow.sample((3,), c, temperature=0.0)
    torch.manual_seed(123)
    b = flow.sample((3,), c, temperature=0.0)
    assert torch.equal(a, b) and torch.allclose(a[0], a[1], atol=1e-12)


def test_temperature_scales_the_base_sample():
    flow = make_flow("maf", 2, 0)
    torch.manual_seed(7)
    x_half = flow.sample((10,), temperature=0.5)
    torch.manual_seed(7)
    eps = torch.randn(10, 2, dtype=torch.float64)
    assert torch.allclose(x_half, flow.inverse(0.5 * eps)[0], atol=1e-12)


def test_rsample_is_differentiable_and_sample_is_not():
    flow = make_flow("nsf_ar", 2, 2)
    c = torch.randn(3, 2, dtype=torch.float64, requires_grad=True)
    dist = flow(c)
    dist.rsample((4,)).sum().backward()
    assert c.grad is not None and c.grad.abs().sum() > 0
    assert not flow.sample((4,), c).requires_grad


# ------------------------------------------------------------------ parameters and state
@pytest.mark.parametrize(("kind", "ctx"), KINDS_CTX, ids=IDS)
def test_gradients_reach_every_parameter(kind, ctx):
    flow = make_flow(kind, 3, ctx, base="gmm" if ctx else "diag_gaussian", linear="lu", actnorm=True)
    c = context_rows(ctx, 32)
    x = torch.randn(32, 3, dtype=torch.float64)
    (-flow.log_prob(x, c).mean()).backward()
    for name, p in flow.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name


@pytest.mark.parametrize(("kind", "ctx"), KINDS_CTX, ids=IDS)
def test_state_dict_round_trip_gives_identical_log_prob(kind, ctx):
    options = {"base": "gmm", "linear": "lu", "actnorm": True}
    flow = make_flow(kind, 3, ctx, seed=0, **options)
    fresh = make_flow(kind, 3, ctx, seed=1, **options)
    buffer = io.BytesIO()
    torch.save(flow.state_dict(), buffer)
    buffer.seek(0)
    fresh.load_state_dict(torch.load(buffer, weights_only=True))
    x, c = torch.randn(16, 3, dtype=torch.float64), context_rows(ctx, 16)
    assert torch.equal(flow.log_prob(x, c), fresh.log_prob(x, c))


def test_actnorm_initialises_on_first_training_log_prob():
    flow = build_flow("realnvp", 2, 0, **SMALL, actnorm=True).double()
    x = torch.randn(512, 2, dtype=torch.float64) * 5.0 + 3.0
    z, _ = flow.transform(x)
    assert z.std(0).max() < 2.0
    assert all(bool(b) for n, b in flow.named_buffers() if n.endswith("initialized"))


@pytest.mark.parametrize("kind", FLOW_KINDS)
def test_identity_init_starts_every_kind_at_the_base_distribution(kind):
    flow = build_flow(kind, 3, 2, **SMALL, init="identity").double()
    x, c = torch.randn(8, 3, dtype=torch.float64), torch.randn(8, 2, dtype=torch.float64)
    z, ladj = flow.transform(x, c)
    if kind in ("realnvp", "maf"):  # (x - 0) * exp(0) is exact; the splines' zero-parameter knots round
        assert torch.equal(z, x) and torch.equal(ladj, torch.zeros(8, dtype=torch.float64))
    assert torch.allclose(z, x, atol=1e-12) and torch.allclose(ladj, torch.zeros(8, dtype=torch.float64))
    expected = -0.5 * x.square().sum(-1) - 1.5 * math.log(2 * math.pi)
    assert torch.allclose(flow.log_prob(x, c), expected, atol=1e-12)


@pytest.mark.parametrize("kind", FLOW_KINDS)
def test_default_init_is_random_and_depends_on_the_context(kind):
    torch.manual_seed(0)
    flow = build_flow(kind, 3, 2, **SMALL).double()
    x, c = torch.randn(8, 3, dtype=torch.float64), torch.randn(8, 2, dtype=torch.float64)
    z, ladj = flow.transform(x, c)
    assert (z - x).abs().max() > 1e-3 and ladj.abs().max() > 1e-3
    assert not torch.allclose(flow.transform(x, c + 1.0)[0], z)


def test_unknown_init_is_refused_by_build_flow():
    with pytest.raises(ValueError, match=r"unknown init 'zero'; expected one of \('random', 'identity'\)"):
        build_flow("maf", 3, 2, init="zero")


class CountingEncoder(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Linear(5, 4)
        self.calls = 0

    def forward(self, c: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        return torch.tanh(self.net(c))


def test_context_encoder_runs_once_per_call_and_sets_the_conditioner_width():
    encoder = CountingEncoder()
    flow = build_flow("maf", 3, 5, **SMALL, context_encoder=encoder, base="diag_gaussian")
    assert encoder.calls == 1  # the width was inferred by one probe call
    encoder.calls = 0
    c = torch.randn(6, 5)
    flow.log_prob(torch.randn(6, 3), c)
    assert encoder.calls == 1
    flow.sample((10,), c)
    assert encoder.calls == 2
    (-flow.log_prob(torch.randn(6, 3), c).mean()).backward()
    assert encoder.net.weight.grad is not None


def test_log_prob_broadcasts_samples_against_the_context():
    flow = make_flow("nsf", 2, 2)
    c = context_rows(2, 3)
    x = flow.sample((4,), c)
    expected = torch.stack([flow.log_prob(x[i], c) for i in range(4)])
    assert torch.allclose(flow.log_prob(x, c), expected, atol=1e-12)


# ------------------------------------------------------------------ bad input
def test_wrong_feature_size_names_expected_and_given_shapes():
    flow = make_flow("maf", 3, 2)
    with pytest.raises(ValueError, match=r"shape \[\.\.\., 3\].*got \(4, 5\)"):
        flow.log_prob(torch.zeros(4, 5, dtype=torch.float64), torch.zeros(4, 2, dtype=torch.float64))


def test_wrong_context_size_names_expected_and_given_shapes():
    flow = make_flow("nsf", 3, 2)
    with pytest.raises(ValueError, match=r"context must have shape \[\.\.\., 2\].*got \(4, 7\)"):
        flow.sample((), torch.zeros(4, 7, dtype=torch.float64))


def test_missing_or_unexpected_context_raises():
    with pytest.raises(ValueError, match="conditional: expected a context"):
        make_flow("realnvp", 2, 3).log_prob(torch.zeros(1, 2, dtype=torch.float64))
    with pytest.raises(ValueError, match="unconditional"):
        make_flow("realnvp", 2, 0).sample((), torch.zeros(1, 3))


def test_non_broadcasting_batch_shapes_raise():
    with pytest.raises(ValueError, match="do not broadcast"):
        make_flow("maf", 2, 2).log_prob(torch.zeros(4, 2, dtype=torch.float64), torch.zeros(3, 2))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"kind": "glow"}, "unknown flow kind 'glow'"),
        ({"base": "laplace"}, "unknown base 'laplace'"),
        ({"linear": "conv"}, "unknown linear layer 'conv'"),
        ({"features": 0}, "need features >= 1"),
        ({"bounds": (1.0, 1.0)}, "need low < high"),
        ({"standardize": (0.0, -1.0)}, "std must be > 0"),
        ({"bounds": (torch.zeros(3), torch.ones(3))}, r"low must be a scalar or have shape \[2\]"),
        ({"context_encoder": nn.Linear(2, 2)}, "context_encoder needs context_features > 0"),
    ],
)
def test_bad_build_arguments_raise(kwargs, message):
    args = {"kind": "nsf", "features": 2, "context_features": 0, **kwargs}
    with pytest.raises(ValueError, match=message):
        build_flow(**args)


def test_negative_temperature_raises():
    with pytest.raises(ValueError, match="temperature must be >= 0"):
        make_flow("maf", 2, 0).sample((), temperature=-1.0)


# ------------------------------------------------------------------ CUDA
@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("kind", FLOW_KINDS)
def test_cuda_round_trip_and_sampling(kind):
    flow = make_flow(kind, 3, 2, base="gmm", linear="lu", actnorm=True).float().cuda()
    c = torch.randn(64, 2, device="cuda")
    x = torch.randn(64, 3, device="cuda") * 3.0
    z, ladj = flow.transform(x, c)
    x_back, ladj_inv = flow.inverse(z, c)
    assert (x_back - x).abs().max() < 1e-4 and (ladj + ladj_inv).abs().max() < 1e-3
    assert flow.sample((5,), c).device.type == "cuda"
    cpu = make_flow(kind, 3, 2, base="gmm", linear="lu", actnorm=True).float()
    assert torch.allclose(flow.log_prob(x, c).cpu(), cpu.log_prob(x.cpu(), c.cpu()), atol=1e-3)
