"""Float32 invertibility of perturbed flows: every kind, with and without context, against zuko.

The flows are the check's size (3 layers on D = 4, hidden (32, 32)), moved away from their identity start by
adding ``scale * N(0, 1)`` to every parameter, and run ``x -> z -> x`` in float32 on ``x ~ 2 N(0, 1)``.
"""

from __future__ import annotations

import pytest
import torch
from torch.autograd.functional import jacobian

from robo_flows.benchmarks.flows_contenders import Architecture, Contender, build_contender
from robo_flows.benchmarks.flows_roundtrip import (
    ROUND_TRIP_ARCHITECTURE,
    perturb_parameters_,
    round_trip_draws,
    round_trip_error,
    round_trip_errors,
    round_trip_table,
    storage_floor,
)
from robo_flows.flows import FLOW_KINDS
from robo_flows.flows.maps import AffineMap, SplineMap

CASES = [(k, c) for k in FLOW_KINDS for c in (0, 3)]
IDS = [f"{k}-ctx{c}" for k, c in CASES]
SEEDS = (0, 1, 2)


def perturbed(kind: str, ctx: int, scale: float, seed: int) -> Contender:
    """Our flow of the check's size with ``scale * N(0, 1)`` added to every parameter."""
    arch = Architecture(
        ROUND_TRIP_ARCHITECTURE["features"],
        ctx,
        ROUND_TRIP_ARCHITECTURE["layers"],
        ROUND_TRIP_ARCHITECTURE["hidden_features"],
    )
    contender = build_contender("robo_flows", kind, arch, seed)
    perturb_parameters_(contender.module, scale, seed)
    return contender


@pytest.mark.parametrize(("kind", "ctx"), CASES, ids=IDS)
@pytest.mark.parametrize("scale", [0.05, 0.1, 0.2])
def test_float32_round_trip_of_perturbed_flow_below_1e4(kind, ctx, scale):
    """Failed for the spline kinds before their slopes were bounded (errors of 1 to 6 at 0.2)."""
    for seed in SEEDS:
        assert round_trip_error(perturbed(kind, ctx, scale, seed), ctx, 2048, seed) < 1e-4, seed


@pytest.mark.parametrize(("kind", "ctx"), CASES, ids=IDS)
def test_float32_round_trip_at_strong_perturbation_is_limited_by_conditioning(kind, ctx):
    """At perturbation 0.3 the perturbed maps themselves are ill-conditioned (||dx/dz|| up to ~1e3); the
    float32 error at the worst points stays within a small factor of ``eps kappa max(|x|, |z|)``, ``kappa``
    the condition number of the Jacobian (forward rounding, amplified by the inverse): the arithmetic adds
    nothing beyond what the map's conditioning forces."""
    eps = torch.finfo(torch.float32).eps
    for seed in SEEDS:
        flow = perturbed(kind, ctx, 0.3, seed).module.eval()
        g = torch.Generator().manual_seed(10_000 + seed)
        x = 2.0 * torch.randn(2048, 4, generator=g)
        c = torch.randn(2048, ctx, generator=g) if ctx else None
        with torch.no_grad():
            error = (flow.inverse(flow.transform(x, c)[0], c)[0] - x).abs().amax(-1)
        flow64 = flow.double()
        for i in error.argsort(descending=True)[:3].tolist():
            ci = None if c is None else c[i : i + 1].double()
            z = flow64.transform(x[i : i + 1].double(), ci)[0][0].detach()
            J = jacobian(lambda v, ci=ci, f=flow64: f.inverse(v.unsqueeze(0), ci)[0][0], z).detach()
            scale = max(float(z.abs().max()), float(x[i].abs().max()), 1.0)
            limit = eps * float(torch.linalg.cond(J)) * scale
            assert error[i] <= 8.0 * limit + 1e-6, (seed, float(error[i]), limit)


@pytest.mark.parametrize("kind", FLOW_KINDS)
def test_float32_round_trip_no_worse_than_zuko_on_the_same_draws(kind):
    """Every perturbation of the issue (0.05 to 0.3), with and without context: wherever ours misses the
    1e-4 target, zuko's flow of the same size, under the same perturbation noise and inputs, misses it by at
    least as much (below the target the two differ by rounding noise).  The table also carries our storage
    floor, which never exceeds our error by much, and both condition numbers."""
    pytest.importorskip("zuko")
    table = round_trip_table([kind], seeds=(0, 1), samples=512)
    for ctx, by_scale in table[kind].items():
        for scale, cell in by_scale.items():
            ours, zuko = cell["error"]["robo_flows"], cell["error"]["zuko"]
            assert ours <= max(zuko, 1e-4), (ctx, scale, cell)
            assert cell["floor"]["robo_flows"] <= ours * 4 + 1e-6, (ctx, scale, cell)
            assert cell["cond"]["robo_flows"] >= 1.0 and cell["cond"]["zuko"] >= 1.0


@pytest.mark.parametrize(
    ("scalar_map", "directions"),
    [(SplineMap(8, 5.0), ("forward", "inverse")), (AffineMap(3.0), ("forward",))],
    ids=["spline", "affine"],
)
def test_inference_map_is_the_float64_map_rounded_once(scalar_map, directions):
    """Outside autograd a float32 map equals the float64 map of the same float32 parameters rounded once
    (half an ulp of the output).  Failed before the maps widened: errors of 1e4 to 1e5 ulps of outputs near
    zero (the spline knots' and the soft clamp's float32 rounding, about ulp(tail_bound) absolute)."""
    g = torch.Generator().manual_seed(0)
    params = 2.0 * torch.randn(4096, scalar_map.num_params, generator=g)
    x = 2.0 * torch.randn(4096, generator=g)
    eps = torch.finfo(torch.float32).eps
    with torch.no_grad():
        for direction in directions:
            out, ladj = getattr(scalar_map, direction)(x, params)
            exact, exact_ladj = getattr(scalar_map, direction)(x.double(), params.double())
            assert out.dtype == ladj.dtype == torch.float32
            ulps = (out.double() - exact).abs() / (eps * exact.abs().clamp_min(1e-30))
            assert float(ulps.max()) <= 0.5 + 1e-6, direction
            assert float((ladj.double() - exact_ladj).abs().max()) <= 2 * eps, direction


def test_maps_keep_float32_while_autograd_records():
    """Training (a graph being recorded) computes in the parameters' dtype; the gradient still arrives."""
    params = torch.randn(8, 4, 23, requires_grad=True)
    y, ladj = SplineMap(8, 5.0).forward(torch.randn(8, 4), params)
    assert y.dtype == ladj.dtype == torch.float32
    (y.sum() + ladj.sum()).backward()
    assert params.grad is not None and torch.isfinite(params.grad).all()


@pytest.mark.parametrize(
    ("kind", "ctx", "factor"),
    [("nsf", 3, 2.0), ("nsf_ar", 0, 2.0), ("nsf_ar", 3, 2.0), ("maf", 3, 2.5)],
    ids=["nsf-ctx3", "nsf_ar-ctx0", "nsf_ar-ctx3", "maf-ctx3"],
)
def test_float32_round_trip_at_strong_perturbation_near_the_storage_floor(kind, ctx, factor):
    """At perturbation 0.3 the worst round trip over the seeds stays within ``factor`` of our storage floor
    (every layer output rounded to float32 once, the rest exact), the benchmark's measure.  Failed before
    the maps widened: 13x (nsf ctx3), 4.0x (nsf_ar ctx3), 3.0x (maf ctx3).  The MAF keeps 2.2x: its affine
    inverse stays float32 (batch-1 sampling cost) and its MADE's float32 rounding differs between the
    one-pass forward and the D-pass inverse."""
    worst = (-1.0, 0.0)
    for seed in SEEDS:
        contender = perturbed(kind, ctx, 0.3, seed)
        x, c = round_trip_draws(ctx, 2048, seed)
        error = float(round_trip_errors(contender, x, c).max())
        if error > worst[0]:
            worst = (error, float(storage_floor(contender.module, x, c).max()))
    assert worst[0] <= factor * worst[1], worst
