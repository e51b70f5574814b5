"""``train_policy``: a ``PolicyExperimentConfig`` -> datasets, normalizers, policy model, Trainer.

The checkpoint's ``meta`` carries what a policy needs to run without the data file: ``obs_dim``,
``act_dim``, ``obs_keys``, ``obs_horizon``, ``action_horizon``, ``action_low`` / ``action_high`` (raw
units, from the file's ``env_args`` or [-1, 1] per dimension), ``env_args``, ``model_type`` and the
episode names of each split.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from robo_flows.config import DataConfig, PolicyExperimentConfig, config_to_dict
from robo_flows.data import DemoDataset
from robo_flows.policy import build_policy_model
from robo_flows.training.rng import seed_everything
from robo_flows.training.trainer import Trainer


def build_datasets(data: DataConfig) -> tuple[DemoDataset, DemoDataset]:
    """The ``(train, valid)`` window datasets the data section describes."""
    common = {
        "obs_keys": data.obs_keys,
        "obs_horizon": data.obs_horizon,
        "action_horizon": data.action_horizon,
        "valid_fraction": data.valid_fraction,
        "split_seed": data.split_seed,
    }
    return DemoDataset(data.path, split="train", **common), DemoDataset(data.path, split="valid", **common)


def action_bounds(env_args: dict[str, Any], act_dim: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``(low, high)`` of the action box: ``env_args["action_low"/"action_high"]`` if given, else [-1, 1]."""
    bounds = []
    for key, default in (("action_low", -1.0), ("action_high", 1.0)):
        value = torch.as_tensor(env_args.get(key, [default] * act_dim), dtype=torch.float32).reshape(-1)
        if value.numel() == 1:
            value = value.expand(act_dim).clone()
        if value.numel() != act_dim:
            raise ValueError(
                f"env_args[{key!r}] has {value.numel()} values, the actions have {act_dim} dimensions"
            )
        bounds.append(value)
    low, high = bounds
    if not (low < high).all():
        raise ValueError(f"action bounds need low < high in every dimension, got low={low}, high={high}")
    return low, high


def train_policy(cfg: PolicyExperimentConfig, out_dir: str | Path, resume: bool = False) -> dict[str, Any]:
    """Train the configured policy into ``out_dir``; returns the Trainer's summary (best_valid, steps...)."""
    train_set, valid_set = build_datasets(cfg.data)
    obs_norm, act_norm = train_set.fit_normalizers(cfg.data.normalization)
    low, high = action_bounds(train_set.env_args, train_set.act_dim)
    seed_everything(cfg.train.seed)  # the same initial weights in every process
    model = build_policy_model(
        cfg.model,
        obs_dim=train_set.obs_dim,
        act_dim=train_set.act_dim,
        obs_horizon=cfg.data.obs_horizon,
        action_horizon=cfg.data.action_horizon,
        obs_normalizer=obs_norm,
        action_normalizer=act_norm,
        action_low=low,
        action_high=high,
    )
    extra = {
        "kind": "policy",
        "config": config_to_dict(cfg),
        "meta": {
            "obs_dim": train_set.obs_dim,
            "act_dim": train_set.act_dim,
            "obs_keys": list(train_set.obs_keys),
            "obs_horizon": cfg.data.obs_horizon,
            "action_horizon": cfg.data.action_horizon,
            "action_low": low.tolist(),
            "action_high": high.tolist(),
            "env_args": train_set.env_args,
            "model_type": cfg.model.kind,
            "train_episodes": list(train_set.episodes),
            "valid_episodes": list(valid_set.episodes),
        },
        "normalizer": {"obs": obs_norm.state_dict(), "action": act_norm.state_dict()},
    }
    return Trainer(model, train_set, valid_set, cfg.train, out_dir, extra).fit(resume=resume)
