r"""Float32 round-trip error of perturbed flows, ours against zuko on the same draws.

A freshly built flow is (near) the identity, which any implementation inverts exactly; the check moves it
away first: every parameter gets ``scale * N(0, 1)`` added (seeded), then ``x -> z -> x`` runs in float32
on ``x ~ 2 N(0, 1)`` (``|x|`` up to about 8, into the spline tails), and the error is
``max |x_back - x|`` over all samples and features.  The float32 inverse errs by about
``||dx/dz|| ulp(z)``, so the error measures both the arithmetic and how well conditioned a library's
parametrisation keeps a perturbed flow.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from robo_flows.benchmarks.flows_contenders import Architecture, Contender, build_contender

PERTURBATIONS: tuple[float, ...] = (0.05, 0.1, 0.2, 0.3)
# the check's flow: 3 layers on D = 4, hidden (32, 32)
ROUND_TRIP_ARCHITECTURE = {"features": 4, "layers": 3, "hidden_features": (32, 32)}


def perturb_parameters_(module: nn.Module, scale: float, seed: int) -> nn.Module:
    """Add ``scale * N(0, 1)`` to every parameter of ``module`` in place (generator seeded by ``seed``)."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.add_(scale * torch.randn(p.shape, generator=generator, dtype=torch.float64).to(p))
    return module


def round_trip_error(contender: Contender, context_features: int, samples: int, seed: int) -> float:
    """``max |inverse(transform(x)) - x|`` in float32 for ``x ~ 2 N(0, 1)`` ``[samples, D]``, seeded."""
    if contender.transform is None or contender.inverse is None:
        raise ValueError(f"{contender.name} exposes no transform/inverse pair")
    generator = torch.Generator().manual_seed(10_000 + seed)
    features = ROUND_TRIP_ARCHITECTURE["features"]
    x = 2.0 * torch.randn(samples, features, generator=generator)
    c = torch.randn(samples, context_features, generator=generator) if context_features else None
    contender.module.float().eval()
    with torch.no_grad():
        x_back = contender.inverse(contender.transform(x, c), c)
    return float((x_back - x).abs().max())


def round_trip_table(
    kinds: Sequence[str],
    names: Sequence[str] = ("robo_flows", "zuko"),
    perturbations: Sequence[float] = PERTURBATIONS,
    contexts: Sequence[int] = (0, 3),
    seeds: Sequence[int] = (0, 1, 2),
    samples: int = 2048,
) -> dict[str, dict[str, dict[str, dict[str, float]]]]:
    """``{kind: {"ctx<C>": {"<scale>": {name: worst error over seeds}}}}`` on identical draws per cell."""
    table: dict[str, dict[str, dict[str, dict[str, float]]]] = {}
    for kind in kinds:
        for ctx in contexts:
            arch = Architecture(
                ROUND_TRIP_ARCHITECTURE["features"],
                ctx,
                ROUND_TRIP_ARCHITECTURE["layers"],
                ROUND_TRIP_ARCHITECTURE["hidden_features"],
            )
            for scale in perturbations:
                cell = {}
                for name in names:
                    errors = []
                    for seed in seeds:
                        contender = build_contender(name, kind, arch, seed)
                        perturb_parameters_(contender.module, scale, seed)
                        errors.append(round_trip_error(contender, ctx, samples, seed))
                    cell[name] = max(errors)
                table.setdefault(kind, {}).setdefault(f"ctx{ctx}", {})[f"{scale:g}"] = cell
    return table


def format_round_trip(table: dict[str, dict[str, dict[str, dict[str, float]]]]) -> list[list[object]]:
    """Rows ``[kind, context, perturbation, error per contender...]`` for :func:`harness.format_table`."""
    rows: list[list[object]] = []
    for kind, by_ctx in table.items():
        for ctx, by_scale in by_ctx.items():
            for scale, cell in by_scale.items():
                rows.append([kind, ctx, scale, *(f"{v:.1e}" for v in cell.values())])
    return rows
