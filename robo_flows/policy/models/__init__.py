"""Policy model kinds on one base (``PolicyModel``): the registry ``MODEL_CLASSES``, ``build_policy_model``.

A kind is one module here (``flow.py``, ``mse.py``, ``gmm.py``, ...) holding a ``PolicyModel`` subclass;
``build_policy_model`` is the one constructor the trainer and the policy loader call.
"""

from __future__ import annotations

from typing import Any

from robo_flows.config.schema import ModelConfig
from robo_flows.policy.models.base import PolicyModel
from robo_flows.policy.models.diffusion import DiffusionChunkModel
from robo_flows.policy.models.flow import FlowChunkModel
from robo_flows.policy.models.flow_matching import FlowMatchingChunkModel
from robo_flows.policy.models.gmm import MixtureChunkModel
from robo_flows.policy.models.mse import RegressionChunkModel

MODEL_CLASSES: dict[str, type[PolicyModel]] = {
    "flow": FlowChunkModel,
    "mse": RegressionChunkModel,
    "gmm": MixtureChunkModel,
    "diffusion": DiffusionChunkModel,
    "flow_matching": FlowMatchingChunkModel,
}


def build_policy_model(cfg: ModelConfig, **dims: Any) -> PolicyModel:
    """The ``cfg.kind`` model; ``dims`` are :class:`PolicyModel`'s keyword arguments.

    Those are ``obs_dim``, ``act_dim``, ``obs_horizon``, ``action_horizon``, the two normalizers (already
    holding their statistics: the flow's action box is expressed in normalized units at construction) and
    the raw ``[act_dim]`` bounds ``action_low`` / ``action_high``.
    """
    if cfg.kind not in MODEL_CLASSES:
        raise ValueError(f"model.kind must be one of {tuple(MODEL_CLASSES)}, got {cfg.kind!r}")
    return MODEL_CLASSES[cfg.kind](cfg, **dims)
