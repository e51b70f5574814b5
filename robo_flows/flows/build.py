"""``build_flow``: the standard flow architectures from a kind name."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from robo_flows.flows.autoregressive import MaskedAffineAutoregressive, MaskedSplineAutoregressive
from robo_flows.flows.bases import DiagGaussian, GaussianMixture, StandardNormal
from robo_flows.flows.coupling import AffineCoupling, SplineCoupling
from robo_flows.flows.elementwise import Bounded, Standardize
from robo_flows.flows.flow import Flow
from robo_flows.flows.linear import ActNorm, LULinear, Permutation
from robo_flows.flows.nets import DEFAULT_INIT, INITS

FLOW_KINDS: tuple[str, ...] = ("realnvp", "nsf", "maf", "nsf_ar")
BASES: tuple[str, ...] = ("normal", "diag_gaussian", "gmm")
LINEAR_LAYERS: tuple[str, ...] = ("permutation", "lu")


def _encoded_size(encoder: nn.Module, context_features: int, given: int | None) -> int:
    """Output size of the context encoder: ``given``, else found by running it once on zeros in eval mode."""
    if given is not None:
        return int(given)
    mode = encoder.training
    param = next(encoder.parameters(), None)
    dtype = param.dtype if param is not None else torch.get_default_dtype()
    device = param.device if param is not None else None
    try:
        encoder.eval()
        with torch.no_grad():
            out = encoder(torch.zeros(2, context_features, dtype=dtype, device=device))
    finally:
        encoder.train(mode)
    if out.dim() != 2 or out.shape[0] != 2:
        raise ValueError(
            f"context_encoder must map [B, {context_features}] to [B, C'], got {tuple(out.shape)}"
        )
    return int(out.shape[1])


def _layer(
    kind: str,
    features: int,
    ctx: int,
    hidden: Sequence[int],
    bins: int,
    bound: float,
    flip: bool,
    init: str,
) -> nn.Module:
    """One coupling (``flip``: the last half passes unchanged) or autoregressive layer of ``kind``."""
    if kind == "realnvp":
        return AffineCoupling(features, ctx, hidden, identity_last=flip, init=init)
    if kind == "nsf":
        return SplineCoupling(
            features, ctx, hidden, identity_last=flip, bins=bins, tail_bound=bound, init=init
        )
    if kind == "maf":
        return MaskedAffineAutoregressive(features, ctx, hidden, init=init)
    return MaskedSplineAutoregressive(features, ctx, hidden, bins=bins, tail_bound=bound, init=init)


def build_flow(
    kind: str,
    features: int,
    context_features: int = 0,
    layers: int = 5,
    hidden_features: Sequence[int] = (128, 128),
    *,
    bins: int = 8,
    tail_bound: float = 5.0,
    base: str = "normal",
    base_components: int = 8,
    context_encoder: nn.Module | None = None,
    encoded_context_features: int | None = None,
    actnorm: bool = False,
    linear: str = "permutation",
    bounds: tuple[Tensor | float, Tensor | float] | None = None,
    standardize: tuple[Tensor | float, Tensor | float] | None = None,
    init: str = DEFAULT_INIT,
) -> Flow:
    """Build a flow of ``layers`` blocks of ``kind`` (one of :data:`FLOW_KINDS`).

    Data -> latent order: ``[Standardize] [Bounded]`` then per block ``[ActNorm] [mixing] layer``.  With
    ``linear="lu"`` the mixing between blocks is an ``LULinear`` (started at the reversal); with
    ``"permutation"`` it is a reversing ``Permutation`` for autoregressive layers, while coupling layers
    alternate which half passes unchanged (the same effect without a permutation op).
    ``bounds=(low, high)`` makes the support the open box (exact log-det included); with ``standardize`` too,
    the box is given in data units and mapped through the standardisation.  The base is ``"normal"``,
    ``"diag_gaussian"`` or ``"gmm"`` (``base_components`` components), conditioned on the encoded context.
    ``init`` (one of :data:`INITS`) starts the layers' conditioners: ``"identity"`` zeroes their last layers,
    so the whole chain of layers starts as ``z = x`` (before ``Standardize``/``Bounded``, ``LULinear``'s
    reversal and ``ActNorm``'s data-dependent start); ``"random"`` gives them the standard fan-in init, so the
    flow starts as a random bijection near the identity (see :func:`~robo_flows.flows.nets.zero_last_for`).
    """
    if kind not in FLOW_KINDS:
        raise ValueError(f"unknown flow kind {kind!r}; expected one of {FLOW_KINDS}")
    if base not in BASES:
        raise ValueError(f"unknown base {base!r}; expected one of {BASES}")
    if init not in INITS:
        raise ValueError(f"unknown init {init!r}; expected one of {INITS}")
    if linear not in LINEAR_LAYERS:
        raise ValueError(f"unknown linear layer {linear!r}; expected one of {LINEAR_LAYERS}")
    if features < 1 or context_features < 0 or layers < 1:
        raise ValueError(
            "need features >= 1, context_features >= 0, layers >= 1; "
            f"got {features}, {context_features}, {layers}"
        )
    if context_encoder is not None and context_features == 0:
        raise ValueError("context_encoder needs context_features > 0")
    hidden = tuple(int(h) for h in hidden_features)
    ctx = context_features
    if context_encoder is not None:
        ctx = _encoded_size(context_encoder, context_features, encoded_context_features)

    transforms: list[nn.Module] = []
    standardizer = None if standardize is None else Standardize(*standardize, features)
    if standardizer is not None:
        transforms.append(standardizer)
    if bounds is not None:
        low, high = bounds
        if standardizer is not None:  # the box is given in data units; Bounded sees standardized values
            low = (torch.as_tensor(low) - standardizer.mean) / standardizer.std
            high = (torch.as_tensor(high) - standardizer.mean) / standardizer.std
        transforms.append(Bounded(low, high, features))
    coupling = kind in ("realnvp", "nsf")
    for i in range(layers):
        if actnorm:
            transforms.append(ActNorm(features))
        if i > 0 and features > 1:
            if linear == "lu":
                transforms.append(LULinear(features))
            elif not coupling:  # couplings alternate their unchanged half instead (same effect, no extra op)
                transforms.append(Permutation(features))
        flip = coupling and linear == "permutation" and i % 2 == 1
        transforms.append(_layer(kind, features, ctx, hidden, bins, tail_bound, flip, init))

    if base == "normal":
        base_dist: nn.Module = StandardNormal(features)
    elif base == "diag_gaussian":
        base_dist = DiagGaussian(features, ctx, hidden)
    else:
        base_dist = GaussianMixture(features, base_components, ctx, hidden)
    return Flow(transforms, base_dist, context_encoder, features=features, context_features=context_features)
