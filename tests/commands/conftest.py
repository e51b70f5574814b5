"""Fixtures of the command-line tests: a toy env's demo file, a tiny preset and a checkpoint trained by
``robo-flows train`` itself (``command_toys``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from command_toys import tiny_config, write_reach_demos

from robo_flows.commands import main


@pytest.fixture(scope="session")
def demos(tmp_path_factory) -> Path:
    return write_reach_demos(tmp_path_factory.mktemp("demos") / "reach.hdf5")


@pytest.fixture(scope="session")
def preset(tmp_path_factory, demos) -> Path:
    return tiny_config(tmp_path_factory.mktemp("preset") / "tiny.yaml", demos)


@pytest.fixture(scope="session")
def checkpoint(tmp_path_factory, preset) -> Path:
    out = tmp_path_factory.mktemp("run") / "run"
    assert main(["train", "--config", str(preset), "--out", str(out)]) == 0
    return out / "checkpoints" / "last.pt"
