"""Headless rgb frames."""

from __future__ import annotations

import numpy as np
import pytest
from robo_flows_envs import TASKS


@pytest.mark.parametrize("env_id", list(TASKS))
def test_rgb_frames_are_uint8_height_width_3_and_show_a_scene(make_env, env_id):
    env = make_env(env_id, render_mode="rgb_array", width=64, height=48)
    env.reset(seed=0)
    env.step(env.action_space.sample())
    frame = env.render()
    assert frame.dtype == np.uint8 and frame.shape == (48, 64, 3)
    assert frame.std() > 10.0  # not a blank image


def test_frames_follow_the_motion(make_env):
    env = make_env("RoboFlows/PandaReach-v0", render_mode="rgb_array", width=48, height=48)
    env.reset(seed=0)
    before = env.render().astype(int)
    for _ in range(5):
        env.step(np.array([0.0, 1.0, 0.0, 0.0], dtype=np.float32))
    assert np.abs(env.render().astype(int) - before).sum() > 0


def test_no_render_mode_renders_nothing(make_env):
    env = make_env("RoboFlows/PandaReach-v0")
    env.reset(seed=0)
    assert env.render() is None
