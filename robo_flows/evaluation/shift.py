"""A shifted start distribution: ``PerturbedStart`` pushes the end effector away from its sampled start.

After every reset the wrapper drives ``steps`` control steps of a unit horizontal velocity command in a
direction drawn from the reset seed (the Panda tasks' action convention: ``a[:2]`` x/y velocity, ``a[2]`` z,
``a[3:]`` gripper, kept at the scripted expert's command when the env has one).  The episode then starts from
there, so the policy faces states its demonstrations did not cover: what the observation monitor
should flag.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

PERTURB_SALT = 7919  # separates the direction's random stream from the env's own use of the seed


class PerturbedStart(gym.Wrapper):
    """Start each episode ``steps`` control steps of a random horizontal push away from the sampled start."""

    def __init__(self, env: gym.Env, steps: int) -> None:
        super().__init__(env)
        if steps < 1:
            raise ValueError(f"PerturbedStart needs steps >= 1, got {steps}")
        shape = env.action_space.shape
        if not isinstance(env.action_space, gym.spaces.Box) or shape is None or shape[0] < 2:
            raise ValueError(
                f"PerturbedStart needs a Box action space with >= 2 dims, got {env.action_space}"
            )
        self.steps = int(steps)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[Any, dict]:
        obs, info = self.env.reset(seed=seed, options=options)
        rng = np.random.default_rng(None if seed is None else seed + PERTURB_SALT)
        angle = rng.uniform(0.0, 2.0 * np.pi)
        expert = getattr(self.env.unwrapped, "expert_action", None)
        for _ in range(self.steps):
            action = np.zeros(self.env.action_space.shape, dtype=np.float32)
            if expert is not None and action.shape[0] > 3:
                action[3:] = expert()[3:]
            action[:2] = np.cos(angle), np.sin(angle)
            obs, _, terminated, truncated, _ = self.env.step(action)
            if terminated or truncated:
                break
        return obs, info
