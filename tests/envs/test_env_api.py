"""The gymnasium contract of every RoboFlows id, and the agreed observation/action/info interface."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from robo_flows_envs import TASKS
from robo_flows_envs.tasks.reach import PandaReachEnv


@pytest.mark.parametrize("env_id", list(TASKS))
def test_passes_gymnasium_env_checker(make_env, env_id):
    env = make_env(env_id, render_mode="rgb_array", width=32, height=24)
    check_env(env.unwrapped, skip_render_check=False)


@pytest.mark.parametrize("env_id", list(TASKS))
def test_obs_layout_tiles_the_observation(make_env, env_id):
    env = make_env(env_id)
    layout = env.unwrapped.obs_layout
    obs, _ = env.reset(seed=3)
    assert list(layout)[:3] == ["ee_pos", "ee_vel", "finger_width"]
    assert sum(layout.values()) == obs.shape[0] == env.observation_space.shape[0]
    assert obs.dtype == np.float32
    parts = split_obs(obs, layout)
    if "goal" in layout:  # PushTwo has two zones instead (tests/envs/test_env_push_two.py)
        np.testing.assert_allclose(parts["goal"], env.unwrapped.goal, rtol=0, atol=1e-6)
    # the EE position part is the EE position
    np.testing.assert_allclose(parts["ee_pos"], env.unwrapped.robot.ee_state()[0], atol=1e-6)


def split_obs(obs: np.ndarray, layout: dict[str, int]) -> dict[str, np.ndarray]:
    """The named parts of a flat observation, read in ``layout`` order."""
    ends = np.cumsum(list(layout.values()))
    return {name: obs[end - size : end] for (name, size), end in zip(layout.items(), ends, strict=True)}


@pytest.mark.parametrize(
    ("env_id", "pairs"),
    [
        (
            "RoboFlows/PandaPush-v0",
            {"cube_from_ee": ("cube_pos", "ee_pos"), "goal_from_cube": ("goal", "cube_pos")},
        ),
        (
            "RoboFlows/PandaPickPlace-v0",
            {
                "cube_0_from_ee": ("cube_0_pos", "ee_pos"),
                "cube_1_from_ee": ("cube_1_pos", "ee_pos"),
                "goal_from_cube_0": ("goal", "cube_0_pos"),
                "goal_from_cube_1": ("goal", "cube_1_pos"),
            },
        ),
    ],
)
def test_relative_parts_are_differences_of_absolute_parts(make_env, env_id, pairs):
    env = make_env(env_id)
    layout = env.unwrapped.obs_layout
    obs, _ = env.reset(seed=5)
    for _ in range(10):  # after some motion too, so the parts are read from the same state
        obs, *_ = env.step(env.unwrapped.expert_action())
    parts = split_obs(obs, layout)
    for name, (a, b) in pairs.items():
        np.testing.assert_allclose(parts[name], parts[a] - parts[b], rtol=0, atol=1e-6)


@pytest.mark.parametrize("env_id", list(TASKS))
def test_action_space_is_four_unit_box(make_env, env_id):
    space = make_env(env_id).action_space
    assert space.shape == (4,) and space.dtype == np.float32
    assert np.all(space.low == -1.0) and np.all(space.high == 1.0)


@pytest.mark.parametrize("env_id", list(TASKS))
def test_info_reports_success_every_step_and_mode_when_multimodal(make_env, env_id):
    env = make_env(env_id)
    modes = env.unwrapped.mode_names
    _, info = env.reset(seed=0)
    assert isinstance(info["expert_mode"], str)
    assert info["expert_mode"] in (modes or ("direct",))
    for _ in range(3):
        _, _, _, _, info = env.step(env.action_space.sample())
        assert isinstance(info["is_success"], bool)
        assert ("mode" in info) == bool(modes)


def test_wrong_action_shape_and_nan_raise_value_error(make_env):
    env = make_env("RoboFlows/PandaReach-v0")
    env.reset(seed=0)
    with pytest.raises(ValueError, match="shape"):
        env.step(np.zeros(3, dtype=np.float32))
    with pytest.raises(ValueError, match="finite"):
        env.step(np.array([0.0, np.nan, 0.0, 0.0], dtype=np.float32))


def test_bad_render_arguments_raise_value_error():
    with pytest.raises(ValueError, match="render_mode"):
        PandaReachEnv(render_mode="ansi")
    with pytest.raises(ValueError, match="width"):
        PandaReachEnv(render_mode="rgb_array", width=0)


def test_import_does_not_load_pybullet():
    code = "import sys, robo_flows_envs; sys.exit('pybullet' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


@pytest.mark.parametrize("env_id", list(TASKS))
def test_time_limit_is_registered(make_env, env_id):
    env = make_env(env_id)
    assert 0 < env.spec.max_episode_steps <= 300
