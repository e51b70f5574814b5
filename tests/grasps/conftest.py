"""Fixtures of the grasp-learning tests."""

from __future__ import annotations

import pytest
import torch
from grasp_learning_files import synthetic_grasp_file


@pytest.fixture
def grasp_file(tmp_path) -> str:
    return synthetic_grasp_file(tmp_path / "grasps.hdf5")


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Latency-bound small fits run faster on one intra-op thread on the shared 2-core machines."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
