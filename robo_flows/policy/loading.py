"""Rebuilding a policy model from a trainer checkpoint (``robo_flows.training`` format, kind "policy")."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from robo_flows.config import load_config
from robo_flows.data.normalizer import Normalizer
from robo_flows.policy.config import ModelConfig
from robo_flows.policy.models import MODEL_CLASSES, build_policy_model
from robo_flows.policy.models.base import PolicyModel


def load_policy_model(
    path: str | Path, device: str | torch.device = "cpu"
) -> tuple[PolicyModel, dict[str, Any]]:
    """``(model, meta)`` from a checkpoint; the EMA weights when the checkpoint has them.

    Raises ``FileNotFoundError`` / ``CheckpointError`` (from ``load_checkpoint``) for a missing, corrupt,
    other-format or other-kind file, and ``ValueError`` when the weights do not fit the model type the
    checkpoint names.
    """
    from robo_flows.training import load_checkpoint, restore_weights

    ckpt = load_checkpoint(path, kind="policy")
    meta = dict(ckpt["meta"])
    model_section = dict(ckpt["config"].get("model", {}))
    kind = model_section.get("kind", meta.get("model_type"))
    if kind not in MODEL_CLASSES:
        raise ValueError(
            f"checkpoint {str(path)!r} holds a model of type {kind!r}; "
            f"this policy loads {tuple(MODEL_CLASSES)}"
        )
    cfg = load_config(model_section, ModelConfig)
    obs_norm, act_norm = Normalizer(int(meta["obs_dim"])), Normalizer(int(meta["act_dim"]))
    obs_norm.load_state_dict(ckpt["normalizer"]["obs"])
    act_norm.load_state_dict(ckpt["normalizer"]["action"])
    model = build_policy_model(
        cfg,
        obs_dim=int(meta["obs_dim"]),
        act_dim=int(meta["act_dim"]),
        obs_horizon=int(meta["obs_horizon"]),
        action_horizon=int(meta["action_horizon"]),
        obs_normalizer=obs_norm,
        action_normalizer=act_norm,
        action_low=torch.as_tensor(meta["action_low"], dtype=torch.float32),
        action_high=torch.as_tensor(meta["action_high"], dtype=torch.float32),
    )
    restore_weights(model, ckpt, path, f"a {kind!r} policy model")
    return model.to(device).eval(), meta
