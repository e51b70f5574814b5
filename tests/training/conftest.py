"""Shared fixtures of the training tests: tiny real demonstration files, collected once per test session."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from task_data import RGB_ENV_KWARGS, RGB_SUFFIX, TASK_ENVS, TINY_EPISODES


@pytest.fixture(scope="session")
def task_demos(tmp_path_factory) -> Callable[[str], Path]:
    """``task_demos(task)``: a demo file of ``TINY_EPISODES`` expert episodes of the task's env
    (``<task>_rgb``: with its camera images, ``RGB_ENV_KWARGS``).

    Written by the real collector from the real PyBullet env, once per task and session (seeds 0, 1, 2).
    """
    from robo_flows_envs.collect import collect_demos

    folder = tmp_path_factory.mktemp("task_demos")
    made: dict[str, Path] = {}

    def demos(task: str) -> Path:
        if task not in made:
            path = folder / f"{task}.hdf5"
            rgb = task.endswith(RGB_SUFFIX)
            env_kwargs = RGB_ENV_KWARGS if rgb else None
            collect_demos(
                TASK_ENVS[task.removesuffix(RGB_SUFFIX)],
                TINY_EPISODES,
                0,
                path,
                progress=False,
                env_kwargs=env_kwargs,
            )
            made[task] = path
        return made[task]

    return demos
