"""The evaluation seed scheme: every episode a distinct seeded initial state, disjoint from demonstrations.

Demonstrations are collected with seeds ``seed, seed+1, ...`` counted from small numbers (the collector's
default), so evaluation episode ``i`` of ``--seed S`` is reset with

    EVAL_SEED_OFFSET + S + i,       EVAL_SEED_OFFSET = 10**8,

far above any demonstration set we collect (fewer than 10**8 episodes).  When the policy's demonstration
record names its seeds, :func:`check_disjoint` verifies the two ranges do not meet.
"""

from __future__ import annotations

from collections.abc import Iterable

EVAL_SEED_OFFSET = 10**8


def episode_seeds(seed: int, episodes: int) -> list[int]:
    """The reset seeds of ``episodes`` evaluation episodes for the user's ``seed``."""
    if episodes < 1:
        raise ValueError(f"episodes must be >= 1, got {episodes}")
    if seed < 0:
        raise ValueError(f"seed must be >= 0, got {seed}")
    return [EVAL_SEED_OFFSET + seed + i for i in range(episodes)]


def seed_rule(seed: int) -> str:
    """How the episodes of ``--seed seed`` are seeded, in words (for results files and tables)."""
    return f"episode i is reset with seed {EVAL_SEED_OFFSET} + {seed} + i"


def check_disjoint(eval_seeds: Iterable[int], demo_seeds: Iterable[int]) -> None:
    """Raise ``ValueError`` if an evaluation seed was also a demonstration seed."""
    shared = sorted(set(eval_seeds) & set(demo_seeds))
    if shared:
        raise ValueError(f"evaluation seeds overlap the demonstration seeds, e.g. {shared[:5]}")
