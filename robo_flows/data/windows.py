"""Window indices over concatenated episodes, padded at the episode edges by repetition.

For an episode occupying rows ``[s, s + T)`` of the concatenated arrays, the window at step ``t`` (one per
step, ``0 <= t < T``) reads

    observations  s + clip(t - obs_horizon + 1 + j, 0, T - 1),   j = 0 .. obs_horizon - 1
    actions       s + clip(t + j, 0, T - 1),                     j = 0 .. action_horizon - 1

so the first observation is repeated before the start and the last action after the end; a window never
crosses into a neighbouring episode.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def window_indices(
    lengths: Sequence[int], obs_horizon: int, action_horizon: int
) -> tuple[np.ndarray, np.ndarray]:
    """Row indices ``(obs_idx [N, obs_horizon], act_idx [N, action_horizon])``, ``N = sum(lengths)``."""
    if obs_horizon < 1 or action_horizon < 1:
        raise ValueError(
            f"horizons must be >= 1, got obs_horizon={obs_horizon}, action_horizon={action_horizon}"
        )
    if any(int(n) < 1 for n in lengths):
        raise ValueError(f"every episode needs at least one step, got lengths {list(lengths)}")
    obs_offsets = np.arange(obs_horizon) - (obs_horizon - 1)
    act_offsets = np.arange(action_horizon)
    obs_rows, act_rows = [], []
    start = 0
    for n in (int(n) for n in lengths):
        t = np.arange(n)[:, None]
        obs_rows.append(start + np.clip(t + obs_offsets, 0, n - 1))
        act_rows.append(start + np.clip(t + act_offsets, 0, n - 1))
        start += n
    if not obs_rows:
        return np.zeros((0, obs_horizon), dtype=np.int64), np.zeros((0, action_horizon), dtype=np.int64)
    return np.concatenate(obs_rows).astype(np.int64), np.concatenate(act_rows).astype(np.int64)
