"""Shared helpers for the flow tests: small layers, a perturbation away from the identity start."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from robo_flows.flows import (
    ActNorm,
    AffineCoupling,
    Bounded,
    LULinear,
    MaskedAffineAutoregressive,
    MaskedSplineAutoregressive,
    Permutation,
    SplineCoupling,
    Standardize,
)

HIDDEN = (16, 16)

# name -> factory(features, context_features, **kwargs such as init=); conditioned layers use the context
CONDITIONED_LAYERS: dict[str, Callable[..., nn.Module]] = {
    "affine_coupling": lambda d, c, **kw: AffineCoupling(d, c, HIDDEN, **kw),
    "spline_coupling": lambda d, c, **kw: SplineCoupling(d, c, HIDDEN, bins=5, tail_bound=3.0, **kw),
    "spline_coupling_last": lambda d, c, **kw: SplineCoupling(
        d, c, HIDDEN, identity_features=1, identity_last=True, bins=5, tail_bound=3.0, **kw
    ),
    "maf": lambda d, c, **kw: MaskedAffineAutoregressive(d, c, HIDDEN, **kw),
    "nsf_ar": lambda d, c, **kw: MaskedSplineAutoregressive(d, c, HIDDEN, bins=5, tail_bound=3.0, **kw),
}
FIXED_LAYERS: dict[str, Callable[[int, int], nn.Module]] = {
    "actnorm": lambda d, c: ActNorm(d),
    "lu_linear": lambda d, c: LULinear(d),
    "permutation": lambda d, c: Permutation(d, torch.randperm(d, generator=torch.Generator().manual_seed(1))),
    "standardize": lambda d, c: Standardize(torch.linspace(-1.0, 2.0, d), torch.linspace(0.5, 3.0, d)),
    "bounded": lambda d, c: Bounded(torch.full((d,), -2.0), torch.linspace(1.0, 4.0, d)),
}
ALL_LAYERS = {**CONDITIONED_LAYERS, **FIXED_LAYERS}


def perturb_(module: nn.Module, scale: float = 0.3, seed: int = 0) -> nn.Module:
    """Add ``scale * N(0, 1)`` to every parameter (leave the start); mark ActNorms initialised."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.add_(scale * torch.randn(p.shape, generator=generator).to(p))
        for m in module.modules():
            if isinstance(m, ActNorm):
                m.initialized.fill_(True)
    return module


def layer_inputs(name: str, batch: int, features: int, dtype: torch.dtype, seed: int = 0) -> torch.Tensor:
    """Inputs in the layer's domain: inside the box for ``bounded``, else ``2 N(0, 1)`` (into the tails)."""
    generator = torch.Generator().manual_seed(seed)
    if name == "bounded":
        u = torch.rand(batch, features, generator=generator, dtype=torch.float64) * 0.98 + 0.01
        low, high = torch.full((features,), -2.0), torch.linspace(1.0, 4.0, features)
        return (low + (high - low) * u).to(dtype)
    return (2.0 * torch.randn(batch, features, generator=generator, dtype=torch.float64)).to(dtype)
