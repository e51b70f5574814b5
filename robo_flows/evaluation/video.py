"""Recording rollouts as an animated GIF: a single rendered environment, the same actor, the given seeds."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import imageio.v2 as imageio
import numpy as np

from robo_flows.evaluation.actors import Actor
from robo_flows.evaluation.rollout import make_vector_env

FRAME_EVERY = 2  # keep every second control step: 12.5 frames per second of 25 Hz control


def record_video(
    env_id: str,
    actor: Actor,
    seeds: Sequence[int],
    path: Path,
    env_kwargs: dict[str, Any] | None = None,
    perturb_steps: int = 0,
    fps: int = 12,
) -> Path:
    """Run one episode per seed in a rendered env and write the frames to ``path`` (``.gif``)."""
    kwargs = {**(env_kwargs or {}), "render_mode": "rgb_array"}
    envs = make_vector_env(env_id, 1, kwargs, asynchronous=False, perturb_steps=perturb_steps)
    frames: list[np.ndarray] = []
    try:
        for seed in seeds:
            obs, _ = envs.reset(seed=[int(seed)])
            actor.reset()
            frames.append(np.asarray(envs.call("render")[0]))
            step, done = 0, False
            while not done:
                obs, _, terminated, truncated, _ = envs.step(actor.act(obs, envs))
                done = bool(terminated[0] or truncated[0])
                step += 1
                if done or step % FRAME_EVERY == 0:
                    frames.append(np.asarray(envs.call("render")[0]))
    finally:
        envs.close()
    imageio.mimsave(path, frames, duration=1.0 / fps, loop=0)
    return path
