"""Conditional normalizing flows: layers, bases, ``Flow`` and ``build_flow`` (see DESIGN "Flows").

Convention: a layer's ``forward(x, context)`` maps data -> latent and returns ``(z, log|det dz/dx|)``;
``inverse(z, context)`` maps latent -> data and returns ``(x, log|det dx/dz|)``; ``generate(z, context)``
(:class:`Transform`) is that ``x`` alone, the sampling path.
"""

from robo_flows.flows.autoregressive import (
    MaskedAffineAutoregressive,
    MaskedAutoregressive,
    MaskedSplineAutoregressive,
)
from robo_flows.flows.bases import DiagGaussian, GaussianMixture, StandardNormal
from robo_flows.flows.build import BASES, FLOW_KINDS, LINEAR_LAYERS, build_flow
from robo_flows.flows.coupling import AffineCoupling, Coupling, SplineCoupling
from robo_flows.flows.elementwise import Bounded, Standardize
from robo_flows.flows.flow import Flow, FlowDistribution, Transform
from robo_flows.flows.linear import ActNorm, LULinear, Permutation
from robo_flows.flows.made import MADE
from robo_flows.flows.maps import AffineMap, SplineMap
from robo_flows.flows.nets import DEFAULT_INIT, INITS, MLP

__all__ = [
    "BASES",
    "DEFAULT_INIT",
    "FLOW_KINDS",
    "INITS",
    "LINEAR_LAYERS",
    "MADE",
    "MLP",
    "ActNorm",
    "AffineCoupling",
    "AffineMap",
    "Bounded",
    "Coupling",
    "DiagGaussian",
    "Flow",
    "FlowDistribution",
    "GaussianMixture",
    "LULinear",
    "MaskedAffineAutoregressive",
    "MaskedAutoregressive",
    "MaskedSplineAutoregressive",
    "Permutation",
    "SplineCoupling",
    "SplineMap",
    "Standardize",
    "StandardNormal",
    "Transform",
    "build_flow",
]
