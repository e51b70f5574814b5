"""Rebuilding a policy model from a trainer checkpoint (``robo_flows.training`` format, kind "policy").

The normalizer statistics and the action box are stored once, in the weights (the base model's
``obs_normalizer.*``, ``action_normalizer.*``, ``action_low``, ``action_high``).  They are read from there
first, because a model kind may derive other buffers from them at construction.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from robo_flows.config import load_config
from robo_flows.config.schema import ModelConfig, SamplingConfig
from robo_flows.data.normalizer import Normalizer
from robo_flows.errors import CheckpointError
from robo_flows.policy.models import MODEL_CLASSES, build_policy_model
from robo_flows.policy.models.base import PolicyModel


def load_policy_model(
    path: str | Path, device: str | torch.device = "cpu"
) -> tuple[PolicyModel, dict[str, Any]]:
    """``(model, meta)`` from a checkpoint; the EMA weights when the checkpoint has them.

    ``meta["sampling"]`` is the run's :class:`SamplingConfig` (the config's ``sampling`` section).

    Raises ``FileNotFoundError`` / ``CheckpointError`` (from ``load_checkpoint``) for a missing, corrupt,
    other-format or other-kind file, and ``CheckpointError`` when the weights do not fit the model type the
    checkpoint names.
    """
    from robo_flows.training.checkpoint import load_checkpoint, restore_weights, weights_of

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
    meta["sampling"] = load_config(dict(ckpt["config"].get("sampling", {})), SamplingConfig)
    model = build_policy_model(
        cfg,
        obs_dim=int(meta["obs_dim"]),
        act_dim=int(meta["act_dim"]),
        obs_horizon=int(meta["obs_horizon"]),
        action_horizon=int(meta["action_horizon"]),
        **statistics_of(weights_of(ckpt), path),
    )
    restore_weights(model, ckpt, path, f"a {kind!r} policy model")
    return model.to(device).eval(), meta


def statistics_of(weights: dict[str, torch.Tensor], path: str | Path) -> dict[str, Any]:
    """The ``build_policy_model`` keywords ``obs_normalizer``, ``action_normalizer``, ``action_low``,
    ``action_high`` from a policy model's ``state_dict``; CheckpointError when they are missing."""
    keys = [
        "obs_normalizer.shift",
        "obs_normalizer.scale",
        "action_normalizer.shift",
        "action_normalizer.scale",
    ]
    missing = [key for key in [*keys, "action_low", "action_high"] if key not in weights]
    if missing:
        raise CheckpointError(f"checkpoint {str(path)!r}: its weights lack the policy statistics {missing}")
    normalizers = {}
    for name in ("obs_normalizer", "action_normalizer"):
        shift, scale = weights[f"{name}.shift"], weights[f"{name}.scale"]
        normalizers[name] = Normalizer(len(shift))
        normalizers[name].load_state_dict({"shift": shift, "scale": scale})
    return {**normalizers, "action_low": weights["action_low"], "action_high": weights["action_high"]}
