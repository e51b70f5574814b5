"""Helpers of the diffusion and flow-matching tests: small U-Net models on the toy data, a fit, modes."""

from __future__ import annotations

from pathlib import Path

import torch
from policy_toys import make_model

from robo_flows.config import PolicyExperimentConfig, load_config
from robo_flows.config.schema import UNetConfig

SMALL_UNET = UNetConfig(down_dims=(16,), n_groups=4, time_embed_dim=16)


def make_baseline(toy_file: Path, kind: str, **cfg_overrides):
    """An untrained ``kind`` model with a one-level U-Net of width 16 (fast on a loaded CPU)."""
    return make_model(toy_file, kind, unet=SMALL_UNET, obs_monitor=False, **cfg_overrides)


def first_windows(data) -> dict[str, torch.Tensor]:
    """The episodes' first windows: the observation is ~(0, 0) and the chunk goes up (+1) or down (-1)
    in y at full speed, half the episodes each -- a bimodal conditional distribution of chunks."""
    batch = torch.utils.data.default_collate([data[i] for i in range(len(data))])
    starts = batch["obs"][:, -1, 2] == 0.0  # zero velocity: the first step of an episode
    return {key: value[starts] for key, value in batch.items()}


def fit(model, batch: dict[str, torch.Tensor], steps: int = 200, lr: float = 1e-2) -> list[float]:
    """Full-batch Adam on ``batch``; returns the training losses."""
    torch.manual_seed(0)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    losses = []
    for _ in range(steps):
        loss = model.loss(batch)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


def mode_shares(model, obs: torch.Tensor, n: int = 400) -> tuple[float, float]:
    """Shares of ``n`` sampled chunks at the first observation ``obs [1, obs_horizon, obs_dim]`` whose mean
    y-velocity is near +1 (> 0.7) and near -1 (< -0.7)."""
    model.eval()
    torch.manual_seed(1)
    chunks = model.sample_chunk(obs.expand(n, -1, -1))
    vy = chunks[:, :, 1].mean(dim=1)
    return float((vy > 0.7).float().mean()), float((vy < -0.7).float().mean())


def train_tiny_run(toy_file: Path, kind: str, out: Path) -> dict:
    """``train_policy`` for four steps of a small ``kind`` model (a checkpoint to load); its summary."""
    from robo_flows.training.experiment import train_policy

    cfg = load_config(
        {
            "data": {"path": str(toy_file), "action_horizon": 4},
            "model": {
                "kind": kind,
                "encoder_hidden": [16],
                "context_features": 8,
                "monitor_steps": 5,
                "unet": {"down_dims": [16], "n_groups": 4, "time_embed_dim": 16},
            },
            "sampling": {"temperature": 1.0, "n_action_steps": 2},
            "train": {"steps": 4, "batch_size": 32, "valid_every": 2, "log_every": 2, "warmup_steps": 1},
        },
        PolicyExperimentConfig,
    )
    return train_policy(cfg, out)
