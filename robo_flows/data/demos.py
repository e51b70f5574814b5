"""``DemoDataset``: windows of past observations and future actions from a demonstration file.

Item ``i`` is one window (see ``windows.window_indices``)::

    {"obs":     float32 [obs_horizon, obs_dim]      raw observations up to and including step t,
     "actions": float32 [action_horizon, act_dim]   raw actions from step t on}

With image keys among the observation keys, ``"obs"`` is a dict ``{"state": float32 [obs_horizon, obs_dim],
<image key>: uint8 [obs_horizon, H, W, 3], ...}``: the state parts stay in memory, the frames are read from
the file when asked for (``robo_flows.data.image_windows.ImageWindows``: an LRU cache of ``image_cache_mb``
megabytes per process; a DataLoader batch reads each distinct frame once through ``__getitems__``).

The file is read once (``read_demos``: a folder with ``meta/info.json`` is a LeRobot v3.0 dataset, read by
``robo_flows.data.lerobot``; anything else a robomimic HDF5 file, ``read_demo_file``);
``DemoDataset.splits`` builds train and valid from that one ``DemoFile``.  Episodes are split, never
windows: the file's ``mask/train`` / ``mask/valid`` when present (one of them is enough, the other split is
its complement), else a split seeded by ``split_seed`` that holds
out ``round(valid_fraction * n_episodes)`` episodes (at least one when ``valid_fraction > 0`` and there are
two or more episodes).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from robo_flows.data.image_windows import DEFAULT_CACHE_MB, ImageWindows
from robo_flows.data.normalizer import Normalizer
from robo_flows.data.robomimic import DemoFile, Episode, read_demo_file
from robo_flows.data.windows import window_indices
from robo_flows.errors import DataError

SPLITS: tuple[str, ...] = ("train", "valid", "all")


def read_demos(path: str | Path, obs_keys: list[str] | None = None) -> DemoFile:
    """The demonstrations at ``path`` as one :class:`DemoFile`, whatever the format: a folder holding
    ``meta/info.json`` (LeRobotDataset v3.0) or a robomimic HDF5 file."""
    if (Path(path) / "meta" / "info.json").is_file():
        from robo_flows.data.lerobot import read_lerobot  # pyarrow / av: the lerobot extra

        return read_lerobot(path, obs_keys)
    return read_demo_file(path, obs_keys)


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
    or the file's own).  Attributes: ``obs_dim`` (of the state keys), ``act_dim``, ``obs_keys`` (the chosen
    keys, state and image), ``image_keys``, ``image_shapes`` (``{key: (H, W, 3)}``), ``images`` (the lazy
    :class:`ImageWindows`, None without image keys),
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
        image_cache_mb: float = DEFAULT_CACHE_MB,
    ) -> None:
        if split not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
        if isinstance(source, DemoFile):
            if obs_keys is not None and list(obs_keys) != source.obs_keys:
                raise ValueError(f"obs_keys {obs_keys} differ from the read file's {source.obs_keys}")
            demo_file = source
        else:
            demo_file = read_demos(source, obs_keys)
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
        self.image_keys = demo_file.image_keys
        self.image_shapes = dict(demo_file.image_shapes)
        self.images: ImageWindows | None = None
        if self.image_keys:
            assert demo_file.frames is not None, "a DemoFile with image keys carries its frame source"
            self.images = ImageWindows(
                demo_file.frames,
                self.image_keys,
                self.episodes,
                self.group_sizes,
                self.image_shapes,
                cache_mb=image_cache_mb,
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
        image_cache_mb: float = DEFAULT_CACHE_MB,
    ) -> tuple[DemoDataset, DemoDataset]:
        """``(train, valid)`` of one file, read once (each split with its own image cache)."""
        demo_file = source if isinstance(source, DemoFile) else read_demos(source, obs_keys)
        common = {
            "obs_horizon": obs_horizon,
            "action_horizon": action_horizon,
            "valid_fraction": valid_fraction,
            "split_seed": split_seed,
            "image_cache_mb": image_cache_mb,
        }
        return cls(demo_file, split="train", **common), cls(demo_file, split="valid", **common)

    def __len__(self) -> int:
        return len(self._obs_idx)

    def __getitem__(self, index: int) -> dict[str, Any]:
        return self.__getitems__([index])[0]

    def __getitems__(self, indices: list[int]) -> list[dict[str, Any]]:
        """The windows ``indices`` (the DataLoader's batched fetch): their frames are gathered in one read,
        so a frame shared by overlapping windows is decoded once."""
        n = len(self)
        for index in indices:
            if not -n <= index < n:
                raise IndexError(f"window {index} out of range for {n} windows")
        idx = np.asarray(indices, dtype=np.int64) % max(n, 1)
        obs_rows = self._obs_idx[idx]
        items: list[dict[str, Any]] = [
            {
                "obs": torch.from_numpy(self._obs[rows]),
                "actions": torch.from_numpy(self._actions[self._act_idx[i]]),
            }
            for i, rows in zip(idx, obs_rows, strict=True)
        ]
        if self.images is not None:
            frames = self.images.gather(obs_rows)  # {key: [len(indices), obs_horizon, H, W, 3]}
            for j, item in enumerate(items):
                item["obs"] = {"state": item["obs"], **{k: torch.from_numpy(v[j]) for k, v in frames.items()}}
        return items

    def current_observations(self) -> torch.Tensor:
        """The raw state observation of every window's current (last) step, ``[len(self), obs_dim]``
        (no image is read)."""
        return torch.from_numpy(self._obs[self._obs_idx[:, -1]])

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
