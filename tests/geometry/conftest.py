"""Shared fixtures of the geometry tests."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Small-batch fits are latency-bound: one intra-op thread avoids oversubscribing the 2 shared cores
    (and the ``-n 2`` workers); the previous setting is restored afterwards."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
