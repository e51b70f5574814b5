"""Fixtures of the policy tests: the toy demonstration file (see ``policy_toys``)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from policy_toys import LAYOUT, TOY_BOX, toy_episodes

from robo_flows.data import write_demo_file

torch.set_num_threads(1)  # tiny models: threads only contend on a shared machine


@pytest.fixture(scope="session")
def toy_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("demos") / "toy.hdf5"
    env_args = {"env_name": "Toy-v0", "env_kwargs": {}, "obs_layout": LAYOUT, **TOY_BOX}
    return write_demo_file(path, toy_episodes(40), env_args=env_args)
