"""The flow implementations the flows benchmark compares, behind one small adapter.

Architectures are matched per kind: ``layers`` transforms with reversing permutations (or reversed
autoregressive orders) between them, ReLU conditioners with ``hidden_features``, ``bins`` spline bins on
``[-tail_bound, tail_bound]`` with linear tails, a standard-normal base.  Each library keeps its own
parametrisation and initialisation.  Coupling kinds meet coupling flows: zuko's ``RealNVP`` and, for
``nsf``, zuko's coupling flow (``NICE``) with its rational-quadratic spline as the univariate transform
(alternating checkered masks; the inverse is one network pass, like ours).  Autoregressive kinds meet
zuko's ``MAF`` / ``NSF`` (fully autoregressive, inverse in ``D`` passes).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from robo_flows.flows import FLOW_KINDS, build_flow

CONTENDERS: tuple[str, ...] = ("robo_flows", "zuko", "nflows")


@dataclass
class Contender:
    """A flow under test: ``log_prob(x [B, D], c [B, C] | None) -> [B]``,
    ``sample(c [B, C] | None, n) -> [B, D]`` (one sample per context row, or ``n`` without context) and,
    where the library exposes them, the two directions ``transform`` (data -> latent) and ``inverse``."""

    name: str
    kind: str
    module: nn.Module
    log_prob: Callable[[Tensor, Tensor | None], Tensor]
    sample: Callable[[Tensor | None, int], Tensor]
    transform: Callable[[Tensor, Tensor | None], Tensor] | None = None  # data -> latent
    inverse: Callable[[Tensor, Tensor | None], Tensor] | None = None  # latent -> data


@dataclass(frozen=True)
class Architecture:
    features: int
    context_features: int
    layers: int = 5
    hidden_features: tuple[int, ...] = (128, 128)
    bins: int = 8
    tail_bound: float = 5.0


def _ours(kind: str, a: Architecture) -> Contender:
    flow = build_flow(
        kind,
        a.features,
        a.context_features,
        a.layers,
        a.hidden_features,
        bins=a.bins,
        tail_bound=a.tail_bound,
    )

    def sample(c: Tensor | None, n: int) -> Tensor:
        return flow.sample((), c) if c is not None else flow.sample((n,))

    def transform(x: Tensor, c: Tensor | None) -> Tensor:
        return flow.transform(x, c)[0]

    def inverse(z: Tensor, c: Tensor | None) -> Tensor:
        return flow.inverse(z, c)[0]

    return Contender("robo_flows", kind, flow, flow.log_prob, sample, transform, inverse)


def _zuko(kind: str, a: Architecture) -> Contender:
    import zuko

    if a.tail_bound != 5.0:
        raise ValueError(f"zuko's splines live on [-5, 5]; tail_bound={a.tail_bound} cannot be matched")
    common = {"transforms": a.layers, "hidden_features": a.hidden_features}
    if kind == "realnvp":
        flow = zuko.flows.RealNVP(a.features, a.context_features, **common)
    elif kind == "nsf":
        spline_shapes = [(a.bins,), (a.bins,), (a.bins - 1,)]
        univariate = zuko.transforms.MonotonicRQSTransform
        flow = zuko.flows.NICE(
            a.features, a.context_features, univariate=univariate, shapes=spline_shapes, **common
        )
    elif kind == "maf":
        flow = zuko.flows.MAF(a.features, a.context_features, **common)
    else:
        flow = zuko.flows.NSF(a.features, a.context_features, bins=a.bins, **common)

    def log_prob(x: Tensor, c: Tensor | None) -> Tensor:
        return flow(c).log_prob(x)

    def sample(c: Tensor | None, n: int) -> Tensor:
        return flow(c).sample() if c is not None else flow().sample((n,))

    def transform(x: Tensor, c: Tensor | None) -> Tensor:
        return flow(c).transform(x)

    def inverse(z: Tensor, c: Tensor | None) -> Tensor:
        return flow(c).transform.inv(z)

    return Contender("zuko", kind, flow, log_prob, sample, transform, inverse)


class _ConcatMLP(nn.Module):
    """nflows coupling conditioner ``(x, c) -> MLP([x, c])`` (nflows calls its nets with a context)."""

    def __init__(self, in_features: int, out_features: int, hidden: Sequence[int]) -> None:
        super().__init__()
        sizes = [in_features, *hidden]
        layers: list[nn.Module] = []
        for a, b in zip(sizes[:-1], sizes[1:], strict=True):
            layers += [nn.Linear(a, b), nn.ReLU()]
        self.net = nn.Sequential(*layers, nn.Linear(sizes[-1], out_features))

    def forward(self, x: Tensor, context: Tensor | None = None) -> Tensor:
        return self.net(x if context is None else torch.cat([x, context], -1))


def _nflows(kind: str, a: Architecture) -> Contender:
    from nflows import distributions, flows, transforms

    if len(set(a.hidden_features)) != 1:
        raise ValueError(f"nflows' MADE needs equal hidden widths, got {a.hidden_features}")
    width, blocks = a.hidden_features[0], len(a.hidden_features) - 1
    ctx = a.context_features or None
    mask = torch.cat([-torch.ones(a.features // 2), torch.ones(a.features - a.features // 2)])

    def net(i: int, o: int) -> nn.Module:
        return _ConcatMLP(i + a.context_features, o, a.hidden_features)

    def layer() -> nn.Module:
        if kind == "realnvp":
            return transforms.AffineCouplingTransform(mask, net)
        if kind == "nsf":
            return transforms.PiecewiseRationalQuadraticCouplingTransform(
                mask, net, num_bins=a.bins, tails="linear", tail_bound=a.tail_bound
            )
        if kind == "maf":
            return transforms.MaskedAffineAutoregressiveTransform(
                a.features, width, ctx, num_blocks=blocks, use_residual_blocks=False
            )
        return transforms.MaskedPiecewiseRationalQuadraticAutoregressiveTransform(
            a.features,
            width,
            ctx,
            num_bins=a.bins,
            tails="linear",
            tail_bound=a.tail_bound,
            num_blocks=blocks,
            use_residual_blocks=False,
        )

    chain: list[nn.Module] = []
    for i in range(a.layers):
        if i > 0:
            chain.append(transforms.ReversePermutation(a.features))
        chain.append(layer())
    flow = flows.Flow(transforms.CompositeTransform(chain), distributions.StandardNormal([a.features]))

    def log_prob(x: Tensor, c: Tensor | None) -> Tensor:
        return flow.log_prob(x, context=c)

    def sample(c: Tensor | None, n: int) -> Tensor:
        return flow.sample(1, context=c)[:, 0] if c is not None else flow.sample(n)

    return Contender("nflows", kind, flow, log_prob, sample)


_BUILDERS: dict[str, Callable[[str, Architecture], Contender]] = {
    "robo_flows": _ours,
    "zuko": _zuko,
    "nflows": _nflows,
}


def build_contender(name: str, kind: str, architecture: Architecture, seed: int = 0) -> Contender:
    """Build contender ``name`` (one of :data:`CONTENDERS`) of flow ``kind`` with its weights seeded."""
    if name not in _BUILDERS:
        raise ValueError(f"unknown contender {name!r}; expected one of {CONTENDERS}")
    if kind not in FLOW_KINDS:
        raise ValueError(f"unknown flow kind {kind!r}; expected one of {FLOW_KINDS}")
    torch.manual_seed(seed)
    return _BUILDERS[name](kind, architecture)
