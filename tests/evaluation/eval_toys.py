"""A tiny pure-numpy gymnasium task with modes and an expert, so evaluation tests need no simulator."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

TOY_ID = "RoboFlowsTest/ToyDetour-v0"


class ToyDetourEnv(gym.Env):
    """A point in the plane goes around an obstacle at x = 0.5 on the left (+y) or the right (-y).

    Observation ``ee_pos [3], goal [3]``; action ``[vx, vy, vz, gripper]`` moves the point by 0.1 * a[:3].
    Success within 0.05 of the goal; the mode is the side of y = 0 the point was on when it crossed x = 0.5.
    Every reset seed is appended to ``ToyDetourEnv.reset_seeds`` (class-level, for the tests).
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 10}
    mode_names = ("left", "right")
    obs_layout = {"ee_pos": 3, "goal": 3}
    reset_seeds: list[int | None] = []

    def __init__(self, render_mode: str | None = None) -> None:
        self.render_mode = render_mode
        self.observation_space = gym.spaces.Box(-np.inf, np.inf, (6,), np.float32)
        self.action_space = gym.spaces.Box(-1.0, 1.0, (4,), np.float32)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        ToyDetourEnv.reset_seeds.append(seed)
        self.pos = np.array([0.0, 0.0, 0.0]) + self.np_random.normal(0, 0.02, 3)
        self.goal = np.array([1.0, 0.0, 0.0])
        self.side = 1.0 if self.np_random.random() < 0.5 else -1.0
        self.mode = "none"
        return self._obs(), {
            "is_success": False,
            "mode": "none",
            "expert_mode": "left" if self.side > 0 else "right",
        }

    def _obs(self) -> np.ndarray:
        return np.concatenate([self.pos, self.goal]).astype(np.float32)

    def step(self, action):
        prev = self.pos.copy()
        self.pos = self.pos + 0.1 * np.clip(np.asarray(action, dtype=np.float64)[:3], -1, 1)
        if self.mode == "none" and prev[0] < 0.5 <= self.pos[0]:
            self.mode = "left" if self.pos[1] > 0 else "right"
        success = bool(np.linalg.norm(self.pos - self.goal) < 0.05)
        return (
            self._obs(),
            -float(np.linalg.norm(self.pos - self.goal)),
            success,
            False,
            {
                "is_success": success,
                "mode": self.mode,
            },
        )

    def expert_action(self) -> np.ndarray:
        target = np.array([0.5, 0.4 * self.side, 0.0]) if self.pos[0] < 0.45 else self.goal
        return np.concatenate([np.clip(5 * (target - self.pos), -1, 1), [-1.0]]).astype(np.float32)

    def render(self) -> np.ndarray:
        frame = np.zeros((16, 16, 3), dtype=np.uint8)
        x, y = int(np.clip(self.pos[0] * 15, 0, 15)), int(np.clip(8 + self.pos[1] * 15, 0, 15))
        frame[y, x] = 255
        return frame


if TOY_ID not in gym.registry:
    gym.register(TOY_ID, entry_point=ToyDetourEnv, max_episode_steps=40)
