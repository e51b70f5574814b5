"""Fixtures of the evaluation tests: the registered toy task (see ``eval_toys``)."""

from __future__ import annotations

import pytest
from eval_toys import TOY_ID, ToyDetourEnv


@pytest.fixture
def toy_env_id() -> str:
    ToyDetourEnv.reset_seeds.clear()
    return TOY_ID
