r"""Float32 round-trip error of perturbed flows, ours against zuko on the same draws.

A freshly built flow is (near) the identity, which any implementation inverts exactly; the check moves it
away first: every parameter gets ``scale * N(0, 1)`` added (seeded), then ``x -> z -> x`` runs in float32
on ``x ~ 2 N(0, 1)`` (``|x|`` up to about 8, into the spline tails), and the error is
``max |x_back - x|`` over all samples and features.

Two figures tell the arithmetic from the map.  The **storage floor** of our flow is the error of the same
round trip computed exactly (float64) except that every layer's output is rounded to float32: what any
float32 implementation of this very map must lose, however it computes each layer.  The **condition
number** ``kappa = ||J|| ||J^-1||`` of the float64 Jacobian ``dz/dx`` at the worst sample bounds the error
of a backward-stable inverse by about ``eps kappa max(|x|, |z|)`` (``eps = 2^-23``).  Where the floor
itself exceeds a tolerance, no float32 implementation of that map meets it.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

import torch
from torch import Tensor, nn
from torch.autograd.functional import jacobian

from robo_flows.benchmarks.flows_contenders import Architecture, Contender, build_contender

PERTURBATIONS: tuple[float, ...] = (0.05, 0.1, 0.2, 0.3)
# the check's flow: 3 layers on D = 4, hidden (32, 32)
ROUND_TRIP_ARCHITECTURE = {"features": 4, "layers": 3, "hidden_features": (32, 32)}
OURS = "robo_flows"
# {kind: {"ctx<C>": {"<scale>": {"error": {name: e}, "cond": {name: kappa}, "floor": {"robo_flows": f}}}}}
RoundTripTable = dict[str, dict[str, dict[str, dict[str, dict[str, float]]]]]


def perturb_parameters_(module: nn.Module, scale: float, seed: int) -> nn.Module:
    """Add ``scale * N(0, 1)`` to every parameter of ``module`` in place (generator seeded by ``seed``)."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.add_(scale * torch.randn(p.shape, generator=generator, dtype=torch.float64).to(p))
    return module


def round_trip_draws(context_features: int, samples: int, seed: int) -> tuple[Tensor, Tensor | None]:
    """The check's float32 inputs: ``x ~ 2 N(0, 1)`` ``[samples, D]`` and ``c ~ N(0, 1)`` (or ``None``)."""
    generator = torch.Generator().manual_seed(10_000 + seed)
    x = 2.0 * torch.randn(samples, ROUND_TRIP_ARCHITECTURE["features"], generator=generator)
    c = torch.randn(samples, context_features, generator=generator) if context_features else None
    return x, c


def round_trip_errors(contender: Contender, x: Tensor, c: Tensor | None) -> Tensor:
    """Per sample ``max_j |inverse(transform(x))_j - x_j|`` in float32, ``[N]``."""
    if contender.transform is None or contender.inverse is None:
        raise ValueError(f"{contender.name} exposes no transform/inverse pair")
    contender.module.float().eval()
    with torch.no_grad():
        return (contender.inverse(contender.transform(x, c), c) - x).abs().amax(-1)


def round_trip_error(contender: Contender, context_features: int, samples: int, seed: int) -> float:
    """``max |inverse(transform(x)) - x|`` in float32 on :func:`round_trip_draws`."""
    x, c = round_trip_draws(context_features, samples, seed)
    return float(round_trip_errors(contender, x, c).max())


def storage_floor(flow: nn.Module, x: Tensor, c: Tensor | None) -> Tensor:
    """Per sample error of our ``flow``'s round trip in float64 with every layer output rounded to float32.

    ``flow`` is a :class:`~robo_flows.flows.Flow` (its ``transforms`` are run one by one); ``[N]``.
    """
    exact = copy.deepcopy(flow).double().eval()
    c64 = None if c is None else c.double()
    h = x.double()
    with torch.no_grad():
        for layer in exact.transforms:
            h = layer(h, c64)[0].float().double()
        for layer in reversed(exact.transforms):
            h = layer.inverse(h, c64)[0].float().double()
    return (h - x.double()).abs().amax(-1)


def condition_number(contender: Contender, x: Tensor, c: Tensor | None) -> float:
    """``kappa`` of the float64 Jacobian ``dz/dx`` of ``contender``'s transform at one point ``x [D]``.

    The module is cast to float64 for the Jacobian and back to float32 after (exact both ways for float32
    parameters), since the adapter's calls close over it.
    """
    if contender.transform is None:
        raise ValueError(f"{contender.name} exposes no transform")
    transform = contender.transform
    ci = None if c is None else c.double().unsqueeze(0)
    contender.module.double()
    try:
        J = jacobian(lambda v: transform(v.unsqueeze(0), ci)[0], x.double())
    finally:
        contender.module.float()
    return float(torch.linalg.cond(J))


def round_trip_table(
    kinds: Sequence[str],
    names: Sequence[str] = (OURS, "zuko"),
    perturbations: Sequence[float] = PERTURBATIONS,
    contexts: Sequence[int] = (0, 3),
    seeds: Sequence[int] = (0, 1, 2),
    samples: int = 2048,
) -> RoundTripTable:
    """``{kind: {"ctx<C>": {"<scale>": cell}}}`` on identical draws per cell, worst over seeds.

    ``cell = {"error": {name: e}, "cond": {name: kappa at that name's worst sample}, "floor": f}`` with
    ``f`` our flow's :func:`storage_floor` on the seed of our worst error.
    """
    table: RoundTripTable = {}
    for kind in kinds:
        for ctx in contexts:
            arch = Architecture(
                ROUND_TRIP_ARCHITECTURE["features"],
                ctx,
                ROUND_TRIP_ARCHITECTURE["layers"],
                ROUND_TRIP_ARCHITECTURE["hidden_features"],
            )
            for scale in perturbations:
                cell: dict[str, dict[str, float]] = {"error": {}, "cond": {}, "floor": {}}
                for name in names:
                    worst = (-1.0, 0.0, 0.0)  # (error, kappa, floor)
                    for seed in seeds:
                        contender = build_contender(name, kind, arch, seed)
                        perturb_parameters_(contender.module, scale, seed)
                        x, c = round_trip_draws(ctx, samples, seed)
                        errors = round_trip_errors(contender, x, c)
                        i = int(errors.argmax())
                        if float(errors[i]) > worst[0]:
                            kappa = condition_number(contender, x[i], None if c is None else c[i])
                            floor = (
                                float(storage_floor(contender.module, x, c).max()) if name == OURS else 0.0
                            )
                            worst = (float(errors[i]), kappa, floor)
                    cell["error"][name], cell["cond"][name] = worst[0], worst[1]
                    if name == OURS:
                        cell["floor"][name] = worst[2]
                table.setdefault(kind, {}).setdefault(f"ctx{ctx}", {})[f"{scale:g}"] = cell
    return table


def format_round_trip(table: RoundTripTable) -> list[list[object]]:
    """Rows ``[kind, context, perturbation, error per contender..., our floor, kappa per contender...]``."""
    rows: list[list[object]] = []
    for kind, by_ctx in table.items():
        for ctx, by_scale in by_ctx.items():
            for scale, cell in by_scale.items():
                errors = [f"{v:.1e}" for v in cell["error"].values()]
                floors = [f"{v:.1e}" for v in cell["floor"].values()]
                kappas = [f"{v:.0e}" for v in cell["cond"].values()]
                rows.append([kind, ctx, scale, *errors, *floors, *kappas])
    return rows


def round_trip_headers(names: Sequence[str]) -> list[str]:
    """Column names matching :func:`format_round_trip`'s rows."""
    return ["kind", "context", "perturbation", *names, f"{OURS} floor", *(f"kappa {n}" for n in names)]
