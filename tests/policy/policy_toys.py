"""Policy test helpers: a small bimodal demonstration set and policy models built on it (no simulator)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from robo_flows.data import DemoDataset
from robo_flows.policy import ModelConfig, build_policy_model

LAYOUT = {"pos": 2, "vel": 2, "goal": 2}
ACT_DIM = 3  # (vx, vy, gripper); the gripper is always -1, on the box's face
TOY_BOX = {"action_low": [-1.0] * ACT_DIM, "action_high": [1.0] * ACT_DIM}


def toy_episodes(n: int, seed: int = 0) -> list[dict]:
    """Go from near (0, 0) to a goal at x = 1 passing y = +0.5 or y = -0.5 (the two modes)."""
    rng = np.random.default_rng(seed)
    episodes = []
    for i in range(n):
        side = 1.0 if i % 2 == 0 else -1.0
        pos = rng.normal(0.0, 0.02, 2)
        goal = np.array([1.0, 0.0]) + rng.normal(0.0, 0.02, 2)
        obs, acts = {"pos": [], "vel": [], "goal": []}, []
        vel = np.zeros(2)
        for t in range(12):
            target = np.array([0.5, 0.5 * side]) if t < 6 else goal
            action = np.clip(4.0 * (target - pos), -1.0, 1.0)
            obs["pos"].append(pos.copy())
            obs["vel"].append(vel.copy())
            obs["goal"].append(goal.copy())
            acts.append(np.array([*action, -1.0]))
            vel = 0.1 * action
            pos = pos + vel
        episodes.append({"obs": {k: np.array(v) for k, v in obs.items()}, "actions": np.array(acts)})
    return episodes


def make_model(
    toy_file: Path,
    kind: str = "flow",
    action_horizon: int = 4,
    obs_keys: list[str] | None = None,
    obs_horizon: int = 1,
    **cfg_overrides,
):
    """An untrained model of ``kind`` on the toy data (``obs_keys``: all), small enough for fast tests."""
    torch.manual_seed(0)
    data = DemoDataset(
        toy_file, obs_keys=obs_keys, obs_horizon=obs_horizon, action_horizon=action_horizon, split="all"
    )
    obs_norm, act_norm = data.fit_normalizers("meanstd")
    settings = {
        "flow_layers": 2,
        "hidden_features": (32, 32),
        "encoder_hidden": (32,),
        "context_features": 8,
        "monitor_steps": 20,
        **cfg_overrides,
    }
    cfg = ModelConfig(kind=kind, **settings)
    model = build_policy_model(
        cfg,
        obs_dim=data.obs_dim,
        act_dim=data.act_dim,
        obs_horizon=obs_horizon,
        action_horizon=action_horizon,
        obs_normalizer=obs_norm,
        action_normalizer=act_norm,
        action_low=-torch.ones(ACT_DIM),
        action_high=torch.ones(ACT_DIM),
    )
    return model, data
