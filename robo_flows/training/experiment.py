"""``train_policy``: a ``PolicyExperimentConfig`` -> datasets, normalizers, policy model, Trainer.

The demo file is read once; both splits are views of it.  The action box comes from the file
(``robo_flows.data.action_box``, ``data.action_bounds``).  The checkpoint's ``meta`` carries what a policy
needs to run without the data file: ``obs_dim``, ``act_dim``, ``obs_keys``, ``image_shapes`` (``{camera key:
[H, W, 3]}``, empty for a state policy), ``obs_horizon``,
``action_horizon``, ``env_args``, ``model_type`` and the episode names of each split; the normalizers and the
action box are in the model's weights (stored once).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from robo_flows.config import DataConfig, PolicyExperimentConfig, config_to_dict
from robo_flows.data import DemoDataset, resolve_action_box
from robo_flows.policy import build_policy_model
from robo_flows.training.rng import seed_everything
from robo_flows.training.selection import policy_rollout_score
from robo_flows.training.trainer import Trainer


def build_datasets(data: DataConfig) -> tuple[DemoDataset, DemoDataset]:
    """The ``(train, valid)`` window datasets the data section describes, from one read of the file."""
    return DemoDataset.splits(
        data.path,
        data.obs_keys,
        obs_horizon=data.obs_horizon,
        action_horizon=data.action_horizon,
        valid_fraction=data.valid_fraction,
        split_seed=data.split_seed,
        image_cache_mb=data.image_cache_mb,
    )


def train_policy(cfg: PolicyExperimentConfig, out_dir: str | Path, resume: bool = False) -> dict[str, Any]:
    """Train the configured policy into ``out_dir``; returns the Trainer's summary (best_valid, steps...)."""
    return policy_trainer(cfg, out_dir).fit(resume=resume)


def policy_trainer(cfg: PolicyExperimentConfig, out_dir: str | Path) -> Trainer:
    """The Trainer of the configured policy, with the demo file read and the model built; writes nothing,
    so every data or model error (``DataError``, ``ConfigError``, ...) is raised before ``out_dir`` is used.
    """
    train_set, valid_set = build_datasets(cfg.data)
    obs_norm, act_norm = train_set.fit_normalizers(cfg.data.normalization)
    low, high = resolve_action_box(train_set.demo_file, cfg.data.action_bounds)
    seed_everything(cfg.train.seed)  # the same initial weights in every process
    model = build_policy_model(
        cfg.model,
        obs_dim=train_set.obs_dim,
        act_dim=train_set.act_dim,
        obs_horizon=cfg.data.obs_horizon,
        action_horizon=cfg.data.action_horizon,
        obs_normalizer=obs_norm,
        action_normalizer=act_norm,
        action_low=torch.from_numpy(low),
        action_high=torch.from_numpy(high),
    )
    extra = {
        "kind": "policy",
        "config": config_to_dict(cfg),
        "meta": {
            "obs_dim": train_set.obs_dim,
            "act_dim": train_set.act_dim,
            "obs_keys": list(train_set.obs_keys),
            "image_shapes": {k: list(v) for k, v in train_set.image_shapes.items()},
            "obs_horizon": cfg.data.obs_horizon,
            "action_horizon": cfg.data.action_horizon,
            "env_args": train_set.env_args,
            "model_type": cfg.model.kind,
            "train_episodes": list(train_set.episodes),
            "valid_episodes": list(valid_set.episodes),
        },
    }
    rollout_score = None
    if cfg.train.eval_every > 0:  # rollouts in the demo file's env: logged, and the selection score if asked
        rollout_score = policy_rollout_score(
            train_set.env_args,
            list(train_set.obs_keys),
            cfg.sampling,
            cfg.train.eval_episodes,
            cfg.train.seed,
            cfg.train.success_key,
            image_shapes=train_set.image_shapes,
        )
    return Trainer(model, train_set, valid_set, cfg.train, out_dir, extra, rollout_score=rollout_score)
