"""``DemoDataset``: windows of past observations and future actions from a demonstration file.

Item ``i`` is one window (see ``windows.window_indices``)::

    {"obs":     float32 [obs_horizon, obs_dim]      raw observations up to and including step t,
     "actions": float32 [action_horizon, act_dim]   raw actions from step t on}

The file is read once (``read_demo_file``); ``DemoDataset.splits`` builds train and valid from that one
``DemoFile``.  Episodes are split, never windows: the file's ``mask/train`` / ``mask/valid`` when present
(one of them is enough, the other split is its complement), else a split seeded by ``split_seed`` that holds
out ``round(valid_fraction * n_episodes)`` episodes (at least one when ``valid_fraction > 0`` and there are
two or more episodes).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from robo_flows.data.normalizer import Normalizer
from robo_flows.data.robomimic import DemoFile, Episode, read_demo_file
from robo_flows.data.windows import window_indices
from robo_flows.errors import DataError

SPLITS: tuple[str, ...] = ("train", "valid", "all")


def split_episodes(
    names: list[str], masks: dict[str, list[str]], valid_fraction: float, split_seed: int
) -> dict[str, list[str]]:
    """Episode names of the train and valid splits (file order kept within each)."""
    if masks.get("train") is not None or masks.get("valid") is not None:
        for split, listed in masks.items():
            if split not in ("train", "valid"):
                continue
            unknown = sorted(set(listed) - set(names))
            if unknown:
                raise DataError(f"mask/{split} names demos that are not in the file: {unknown[:5]}")
        if "train" in masks:
            train = set(masks["train"])
            valid = set(masks["valid"]) if "valid" in masks else set(names) - train
        else:
            valid = set(masks["valid"])
            train = set(names) - valid
        return {"train": [n for n in names if n in train], "valid": [n for n in names if n in valid]}
    if not 0.0 <= valid_fraction < 1.0:
        raise ValueError(f"valid_fraction must be in [0, 1), got {valid_fraction}")
    n_valid = int(round(valid_fraction * len(names)))
    if valid_fraction > 0 and len(names) >= 2:
        n_valid = min(max(n_valid, 1), len(names) - 1)
    order = np.random.default_rng(split_seed).permutation(len(names))
    valid = {names[i] for i in order[:n_valid]}
    return {"train": [n for n in names if n not in valid], "valid": [n for n in names if n in valid]}


class DemoDataset(Dataset):
    """Windows over the episodes of one split of a demonstration file (raw values, see module doc).

    ``source`` is a path (read here) or an already read :class:`DemoFile` (then ``obs_keys`` must be None
    or the file's own).  Attributes: ``obs_dim``, ``act_dim``, ``obs_keys`` (concatenation order),
    ``env_args`` (dict from the file's ``data`` attrs), ``episodes`` (names in this split), ``group_sizes``
    (the number of windows of each of them, consecutive, for per-demo validation), ``obs_horizon``,
    ``action_horizon``, ``demo_file`` (the whole file in memory, shared between splits).
    """

    def __init__(
        self,
        source: str | Path | DemoFile,
        obs_keys: list[str] | None = None,
        obs_horizon: int = 1,
        action_horizon: int = 8,
        split: str = "train",
        valid_fraction: float = 0.1,
        split_seed: int = 0,
    ) -> None:
        if split not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
        if isinstance(source, DemoFile):
            if obs_keys is not None and list(obs_keys) != source.obs_keys:
                raise ValueError(f"obs_keys {obs_keys} differ from the read file's {source.obs_keys}")
            demo_file = source
        else:
            demo_file = read_demo_file(source, obs_keys)
        self.demo_file = demo_file
        names = [ep.name for ep in demo_file.episodes]
        chosen = (
            names
            if split == "all"
            else split_episodes(names, demo_file.masks, valid_fraction, split_seed)[split]
        )
        chosen_set = set(chosen)
        episodes: list[Episode] = [ep for ep in demo_file.episodes if ep.name in chosen_set]
        first = demo_file.episodes[0]
        self.path = demo_file.path
        self.obs_keys = demo_file.obs_keys
        self.env_args: dict[str, Any] = demo_file.env_args
        self.episodes = [ep.name for ep in episodes]
        self.group_sizes = [len(ep.obs) for ep in episodes]  # windows per episode, in order
        self.split = split
        self.obs_dim = int(first.obs.shape[1])
        self.act_dim = int(first.actions.shape[1])
        for ep in demo_file.episodes:
            if ep.obs.shape[1] != self.obs_dim or ep.actions.shape[1] != self.act_dim:
                raise DataError(
                    f"{self.path}: demo {ep.name!r} has obs_dim {ep.obs.shape[1]} / act_dim "
                    f"{ep.actions.shape[1]}, "
                    f"demo {first.name!r} has {self.obs_dim} / {self.act_dim}"
                )
        self.obs_horizon = int(obs_horizon)
        self.action_horizon = int(action_horizon)
        self._obs = np.concatenate([ep.obs for ep in episodes]) if episodes else np.zeros((0, self.obs_dim))
        self._actions = (
            np.concatenate([ep.actions for ep in episodes]) if episodes else np.zeros((0, self.act_dim))
        )
        self._obs = self._obs.astype(np.float32)
        self._actions = self._actions.astype(np.float32)
        self._obs_idx, self._act_idx = window_indices(
            [len(ep.obs) for ep in episodes], self.obs_horizon, self.action_horizon
        )

    @classmethod
    def splits(
        cls,
        source: str | Path | DemoFile,
        obs_keys: list[str] | None = None,
        *,
        obs_horizon: int = 1,
        action_horizon: int = 8,
        valid_fraction: float = 0.1,
        split_seed: int = 0,
    ) -> tuple[DemoDataset, DemoDataset]:
        """``(train, valid)`` of one file, read once."""
        demo_file = source if isinstance(source, DemoFile) else read_demo_file(source, obs_keys)
        common = {
            "obs_horizon": obs_horizon,
            "action_horizon": action_horizon,
            "valid_fraction": valid_fraction,
            "split_seed": split_seed,
        }
        return cls(demo_file, split="train", **common), cls(demo_file, split="valid", **common)

    def __len__(self) -> int:
        return len(self._obs_idx)

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        if not -len(self) <= index < len(self):
            raise IndexError(f"window {index} out of range for {len(self)} windows")
        return {
            "obs": torch.from_numpy(self._obs[self._obs_idx[index]]),
            "actions": torch.from_numpy(self._actions[self._act_idx[index]]),
        }

    def fit_normalizers(self, mode: str = "meanstd") -> tuple[Normalizer, Normalizer]:
        """``(obs_normalizer, action_normalizer)`` fitted to every step of this split."""
        if len(self._obs) == 0:
            raise DataError(f"cannot fit normalizers on the empty {self.split!r} split of {self.path}")
        return (
            Normalizer.fit(torch.from_numpy(self._obs), mode),
            Normalizer.fit(torch.from_numpy(self._actions), mode),
        )

    def __repr__(self) -> str:
        return (
            f"DemoDataset({self.path!r}, split={self.split!r}, episodes={len(self.episodes)}, "
            f"windows={len(self)}, "
            f"obs_dim={self.obs_dim}, act_dim={self.act_dim}, obs_keys={self.obs_keys})"
        )
