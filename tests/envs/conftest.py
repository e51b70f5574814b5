"""Shared fixtures for the environment tests."""

from __future__ import annotations

import gymnasium as gym
import pytest
import robo_flows_envs  # noqa: F401  (registers the ids)


@pytest.fixture
def make_env():
    """``make_env(env_id, **kwargs)``: a gymnasium env closed after the test."""
    made: list[gym.Env] = []

    def make(env_id: str, **kwargs) -> gym.Env:
        env = gym.make(env_id, **kwargs)
        made.append(env)
        return env

    yield make
    for env in made:
        env.close()
