"""PandaPushTwo: two cubes into two zones in one of four orders; the observation names its parts, success
needs both zones filled, and the expert carries out every order it is given."""

from __future__ import annotations

import numpy as np
import pytest
from robo_flows_envs.tasks.push_two import ORDERS
from test_env_api import split_obs

ENV_ID = "RoboFlows/PandaPushTwo-v0"


def test_observation_parts_are_the_scene(make_env):
    env = make_env(ENV_ID)
    obs, _ = env.reset(seed=4)
    u = env.unwrapped
    parts = split_obs(obs, u.obs_layout)
    for j, zone in enumerate(u.zones):
        np.testing.assert_allclose(parts[f"zone_{j}"], zone, atol=1e-6)
        for i in range(2):
            expected = zone - parts[f"cube_{i}_pos"]
            np.testing.assert_allclose(parts[f"zone_{j}_from_cube_{i}"], expected, atol=1e-6)
    for i in range(2):
        np.testing.assert_allclose(
            parts[f"cube_{i}_from_ee"], parts[f"cube_{i}_pos"] - parts["ee_pos"], atol=1e-6
        )


def test_each_cube_is_one_straight_push_from_either_zone(make_env):
    env = make_env(ENV_ID)
    u = env.unwrapped
    for seed in range(10):
        env.reset(seed=seed)
        for state in u.cube_states:
            for zone in u.zones:
                offset = np.abs(zone[:2] - state[:2])
                assert min(offset) < 1e-6 and max(offset) > 0.15  # along x or y, and a real push


def test_success_needs_a_cube_in_each_zone(make_env):
    env = make_env(ENV_ID)
    env.reset(seed=0)
    u = env.unwrapped
    u.sim.set_pose(u.cubes[0], u.zones[1])  # one zone filled
    _, _, terminated, _, info = env.step(np.zeros(4, np.float32))
    assert not info["is_success"] and not terminated and info["mode"] == "c0z1_c1z0"
    u.sim.set_pose(u.cubes[1], u.zones[0])  # both
    _, _, terminated, _, info = env.step(np.zeros(4, np.float32))
    assert info["is_success"] and terminated


@pytest.mark.parametrize("order", list(ORDERS))
def test_expert_carries_out_every_order(make_env, order):
    """Each of the four orders, forced on seeded episodes, succeeds and is the executed mode."""
    env = make_env(ENV_ID)
    u = env.unwrapped
    for seed in (0, 1):
        env.reset(seed=seed)
        u.expert_mode = order
        done = False
        while not done:
            _, _, terminated, truncated, info = env.step(u.expert_action())
            done = terminated or truncated
        assert info["is_success"] and info["mode"] == order, (seed, info)
