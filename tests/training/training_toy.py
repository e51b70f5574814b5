"""A small real training problem shared by the training tests and the torchrun worker script.

Demonstrations: 24 episodes of 20 steps, obs [4] = (position [2], goal [2]), actions [2] = 0.5 * (goal - pos)
+ noise; the model is an MLP from the normalized observation window to the normalized action chunk, trained
by mean squared error (a regression policy, enough to exercise every part of the Trainer).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

from robo_flows.config import TrainConfig
from robo_flows.data import DemoDataset, write_demo_file


def write_toy_demos(path: Path, episodes: int = 24, length: int = 20, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    eps = []
    for _ in range(episodes):
        goal = rng.uniform(-1, 1, 2)
        pos = np.zeros((length, 2))
        pos[0] = rng.uniform(-1, 1, 2)
        actions = np.zeros((length, 2))
        for t in range(length):
            actions[t] = 0.5 * (goal - pos[t]) + rng.normal(0, 0.02, 2)
            if t + 1 < length:
                pos[t + 1] = pos[t] + actions[t]
        eps.append({"obs": {"pos": pos, "goal": np.tile(goal, (length, 1))}, "actions": actions})
    env_args = {"env_name": "Toy-v0", "env_kwargs": {}, "obs_layout": {"pos": 2, "goal": 2}}
    return write_demo_file(path, eps, {**env_args, "action_low": [-2.0, -2.0], "action_high": [2.0, 2.0]})


def toy_datasets(path: Path) -> tuple[DemoDataset, DemoDataset]:
    kwargs = {"obs_horizon": 2, "action_horizon": 3, "valid_fraction": 0.25, "split_seed": 0}
    return DemoDataset(path, split="train", **kwargs), DemoDataset(path, split="valid", **kwargs)


class SimulatedKill(BaseException):
    """Raised by ``ToyRegression.loss`` at call ``die_at_call``: the run stops as if it were killed."""


class ToyRegression(nn.Module):
    """MSE regression of the normalized action chunk from the normalized observation window."""

    die_at_call = 0  # > 0: raise SimulatedKill in that training-mode loss call

    def __init__(self, train_set: DemoDataset, hidden: int = 32, noise: float = 0.0) -> None:
        super().__init__()
        self.noise = (
            noise  # std of Gaussian noise added to normalized observations in training (uses torch's RNG)
        )
        self.obs_norm, self.act_norm = train_set.fit_normalizers("meanstd")
        self.chunk = (train_set.action_horizon, train_set.act_dim)
        self.net = nn.Sequential(
            nn.Linear(train_set.obs_horizon * train_set.obs_dim, hidden),
            nn.Tanh(),
            nn.Linear(hidden, train_set.action_horizon * train_set.act_dim),
        )
        self.extra_fits = 0
        self.calls = 0

    def fit_extra(self, train_set: DemoDataset) -> dict[str, float]:
        self.extra_fits += 1
        return {}

    def loss(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        if self.training:
            self.calls += 1
            if self.calls == self.die_at_call:
                raise SimulatedKill(f"killed in loss call {self.calls}")
        obs = self.obs_norm.normalize(batch["obs"]).flatten(1)
        if self.training and self.noise > 0:
            obs = obs + self.noise * torch.randn_like(obs)
        target = self.act_norm.normalize(batch["actions"])
        return ((self.net(obs).view(-1, *self.chunk) - target) ** 2).mean()


def toy_model(train_set: DemoDataset, seed: int = 0, noise: float = 0.0) -> ToyRegression:
    torch.manual_seed(seed)
    return ToyRegression(train_set, noise=noise)


def toy_config(**overrides) -> TrainConfig:
    values = {
        "steps": 60,
        "batch_size": 16,
        "lr": 3e-2,
        "warmup_steps": 5,
        "ema_decay": 0.9,
        "valid_every": 20,
        "checkpoint_every": 20,
        "log_every": 10,
        "seed": 3,
        "device": "cpu",
    }
    values.update(overrides)
    return TrainConfig(**values)


EXTRA = {"kind": "policy", "config": {"toy": True}, "meta": {"obs_dim": 4, "act_dim": 2}}
