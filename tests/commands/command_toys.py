"""A tiny pure-numpy gymnasium task, its demo file and a trained checkpoint, for the command-line tests.

``RoboFlowsTest/CmdReach-v0``: a point ``pos [2]`` moves by ``0.5 * action`` toward ``goal [2]``; an episode
ends within 0.1 of the goal (terminated, reward 1) or after 8 steps (truncated, reward 0).  The kwarg
``success_info`` says where the env reports success: under ``info["is_success"]``, ``info["success"]``, or
nowhere (``"none"``: only the terminal reward tells).  ``RoboFlowsTest/CmdOther-v0`` is the same task under
another id (an env the checkpoint was not trained on).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import yaml

from robo_flows.data import write_demo_file

REACH_ID = "RoboFlowsTest/CmdReach-v0"
OTHER_ID = "RoboFlowsTest/CmdOther-v0"
TRAINED_KWARGS = {"success_info": "is_success"}
MAX_STEPS = 8


class CmdReachEnv(gym.Env):
    """Reach a goal in the plane; success reported as ``success_info`` says (module doc)."""

    metadata = {"render_modes": ["rgb_array"], "render_fps": 10}
    obs_layout = {"pos": 2, "goal": 2}

    def __init__(self, success_info: str = "is_success", render_mode: str | None = None) -> None:
        if success_info not in ("is_success", "success", "none"):
            raise ValueError(f"success_info must be is_success, success or none, got {success_info!r}")
        self.success_info, self.render_mode = success_info, render_mode
        self.observation_space = gym.spaces.Box(-np.inf, np.inf, (4,), np.float32)
        self.action_space = gym.spaces.Box(-1.0, 1.0, (2,), np.float32)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        self.pos = self.np_random.uniform(-1, 1, 2)
        self.goal = self.np_random.uniform(-1, 1, 2)
        return self._obs(), {}

    def _obs(self) -> np.ndarray:
        return np.concatenate([self.pos, self.goal]).astype(np.float32)

    def step(self, action):
        self.pos = self.pos + 0.5 * np.clip(np.asarray(action, dtype=np.float64), -1, 1)
        success = bool(np.linalg.norm(self.pos - self.goal) < 0.1)
        info = {} if self.success_info == "none" else {self.success_info: success}
        return self._obs(), float(success), success, False, info

    def expert_action(self) -> np.ndarray:
        return np.clip(self.goal - self.pos, -1, 1).astype(np.float32)

    def render(self) -> np.ndarray:
        return np.zeros((8, 8, 3), dtype=np.uint8)


for env_id in (REACH_ID, OTHER_ID):
    if env_id not in gym.registry:
        gym.register(env_id, entry_point=CmdReachEnv, max_episode_steps=MAX_STEPS)


def write_reach_demos(path: Path, episodes: int = 16, env_kwargs: dict[str, Any] | None = None) -> Path:
    """Expert demonstrations of ``REACH_ID`` (kwargs: ``TRAINED_KWARGS`` by default), by the one writer."""
    env_kwargs = TRAINED_KWARGS if env_kwargs is None else env_kwargs
    env = gym.make(REACH_ID, **env_kwargs)
    records = []
    for seed in range(episodes):
        obs, _ = env.reset(seed=seed)
        observations, actions, done = [], [], False
        while not done:
            action = env.unwrapped.expert_action()
            observations.append(obs)
            actions.append(action)
            obs, _, terminated, truncated, _ = env.step(action)
            done = terminated or truncated
        o = np.asarray(observations, dtype=np.float32)
        records.append({"obs": {"pos": o[:, :2], "goal": o[:, 2:]}, "actions": np.asarray(actions)})
    env.close()
    env_args = {
        "env_name": REACH_ID,
        "env_kwargs": env_kwargs,
        "obs_layout": CmdReachEnv.obs_layout,
        "action_low": [-1.0, -1.0],
        "action_high": [1.0, 1.0],
    }
    return write_demo_file(path, records, env_args)


def tiny_config(path: Path, demos: Path, kind: str = "mse") -> Path:
    """A preset of a tiny model on ``demos`` that trains in a second or two."""
    config = {
        "data": {"path": str(demos), "action_horizon": 2, "valid_fraction": 0.25},
        "model": {
            "kind": kind,
            "hidden_features": [16],
            "encoder_hidden": [16],
            "context_features": 8,
            "flow_layers": 2,
            "obs_monitor": False,
        },
        "sampling": {"n_action_steps": 1},
        "train": {"steps": 6, "batch_size": 8, "valid_every": 3, "checkpoint_every": 3, "device": "cpu"},
    }
    path.write_text(yaml.safe_dump(config))
    return path


def error_line(captured: str, command: str) -> str:
    """The one line a refused command writes on stderr (asserted to be exactly one, with its prefix)."""
    lines = captured.strip().splitlines()
    assert len(lines) == 1, captured
    assert lines[0].startswith(f"robo-flows {command}: error: "), captured
    return lines[0]
