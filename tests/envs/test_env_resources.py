"""Making and closing envs leaks no pybullet connections, file descriptors or memory; vector envs run."""

from __future__ import annotations

import os
import resource

import gymnasium as gym
import numpy as np
import pybullet as p
import pytest

CYCLES = 50


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20


def make_step_close(env_id: str, **kwargs) -> int:
    env = gym.make(env_id, **kwargs)
    env.reset(seed=0)
    env.step(env.action_space.sample())
    cid = env.unwrapped.sim.cid
    env.close()
    assert not p.isConnected(cid)
    return cid


@pytest.mark.parametrize(
    "kwargs", [{}, {"obs_mode": "state+rgb", "render_mode": "rgb_array", "width": 32, "height": 32}]
)
def test_fifty_make_close_cycles_leak_no_connections_fds_or_memory(kwargs):
    env_id = "RoboFlows/PandaPickPlace-v0"
    for _ in range(5):  # warm caches (URDF, meshes, allocator pools) before measuring
        make_step_close(env_id, **kwargs)
    probe = p.connect(p.DIRECT)  # lowest free client slot now
    p.disconnect(probe)
    fds, rss = open_fds(), rss_mb()
    for _ in range(CYCLES):
        make_step_close(env_id, **kwargs)
    after = p.connect(p.DIRECT)
    p.disconnect(after)
    assert after == probe, "a client slot stayed connected: some env did not disconnect"
    assert open_fds() <= fds
    assert rss_mb() - rss < 20.0, f"RSS grew {rss_mb() - rss:.1f} MB over {CYCLES} cycles"


def test_async_vector_env_of_two_runs():
    envs = gym.vector.AsyncVectorEnv([lambda: gym.make("RoboFlows/PandaDetour-v0")] * 2)
    try:
        obs, info = envs.reset(seed=[0, 1])
        assert obs.shape == (2, 13) and obs.dtype == np.float32
        assert not np.array_equal(obs[0], obs[1])
        envs.action_space.seed(0)
        for _ in range(10):
            obs, reward, terminated, truncated, info = envs.step(envs.action_space.sample())
        assert obs.shape == (2, 13) and reward.shape == (2,)
        assert info["is_success"].shape == (2,)
    finally:
        envs.close()


def test_async_vector_env_batches_image_observations():
    make = lambda: gym.make("RoboFlows/PandaDetour-v0", obs_mode="rgb", camera_width=20, camera_height=12)  # noqa: E731
    envs = gym.vector.AsyncVectorEnv([make] * 2)
    try:
        obs, _ = envs.reset(seed=[0, 1])
        obs, *_ = envs.step(np.zeros((2, 4), dtype=np.float32))
        assert obs["agentview_image"].shape == (2, 12, 20, 3) and obs["agentview_image"].dtype == np.uint8
        assert obs["ee_pos"].shape == (2, 3) and not np.array_equal(obs["ee_pos"][0], obs["ee_pos"][1])
    finally:
        envs.close()
