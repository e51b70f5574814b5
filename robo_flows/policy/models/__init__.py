"""Policy model kinds on one base (``PolicyModel``): the registry ``MODEL_CLASSES``, ``build_policy_model``.

A kind is one module here (``flow.py``, ``mse.py``, ``gmm.py``, ...) holding a ``PolicyModel`` subclass;
``build_policy_model`` is the one constructor the trainer and the policy loader call.
"""

from __future__ import annotations

import torch

from robo_flows.config.schema import ModelConfig
from robo_flows.data.normalizer import Normalizer
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


def build_policy_model(
    cfg: ModelConfig,
    *,
    obs_dim: int,
    act_dim: int,
    obs_horizon: int,
    action_horizon: int,
    obs_normalizer: Normalizer,
    action_normalizer: Normalizer,
    action_low: torch.Tensor,
    action_high: torch.Tensor,
) -> PolicyModel:
    """The ``cfg.kind`` model over chunks of ``action_horizon x act_dim`` given ``obs_horizon x obs_dim``.

    The normalizers must already hold their statistics (the flow's action box is expressed in normalized
    units at construction).  ``action_low`` / ``action_high`` are raw ``[act_dim]`` bounds.
    """
    if cfg.kind not in MODEL_CLASSES:
        raise ValueError(f"model.kind must be one of {tuple(MODEL_CLASSES)}, got {cfg.kind!r}")
    return MODEL_CLASSES[cfg.kind](
        cfg,
        obs_dim=obs_dim,
        act_dim=act_dim,
        obs_horizon=obs_horizon,
        action_horizon=action_horizon,
        obs_normalizer=obs_normalizer,
        action_normalizer=action_normalizer,
        action_low=action_low,
        action_high=action_high,
    )
