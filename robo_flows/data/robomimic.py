"""Reading demonstrations stored in the robomimic HDF5 layout into memory.

Layout (see DESIGN.md)::

    data/               attrs: total, env_args (JSON)
      demo_<i>/obs/<key>  [T, ...]  -> flattened per step to [T, prod(...)]
      demo_<i>/actions    [T, act_dim] (or [T] -> [T, 1])
    mask/<split>        optional: names of the demos in that split

The chosen observation keys are concatenated per step in the given order, so an episode becomes
``obs [T, obs_dim]`` and ``actions [T, act_dim]`` (float32). Any file in this layout can be read, not only the
ones our collector writes.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import h5py
import numpy as np


@dataclass
class Episode:
    """One demonstration: ``obs [T, obs_dim]`` and ``actions [T, act_dim]``, both float32."""

    name: str
    obs: np.ndarray
    actions: np.ndarray


@dataclass
class DemoFile:
    """The parts of a robomimic file a dataset needs, held in memory."""

    path: str
    obs_keys: list[str]
    episodes: list[Episode]
    env_args: dict[str, Any] = field(default_factory=dict)
    masks: dict[str, list[str]] = field(default_factory=dict)


def _demo_order(name: str) -> tuple[int, str]:
    """Natural order, so demo_10 comes after demo_9."""
    match = re.search(r"(\d+)$", name)
    return (int(match.group(1)) if match else -1, name)


def _decode(name: Any) -> str:
    return name.decode() if isinstance(name, bytes) else str(name)


def _parse_env_args(data: h5py.Group, path: str) -> dict[str, Any]:
    raw = data.attrs.get("env_args")
    if raw is None:
        return {}
    raw = _decode(raw)
    try:
        env_args = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: data.attrs['env_args'] is not valid JSON ({exc})") from exc
    if not isinstance(env_args, dict):
        raise ValueError(
            f"{path}: data.attrs['env_args'] must be a JSON object, got {type(env_args).__name__}"
        )
    return env_args


def default_obs_keys(env_args: dict[str, Any], available: list[str]) -> list[str]:
    """The keys used when none are asked for: ``env_args["obs_layout"]`` order if given, else sorted."""
    layout = env_args.get("obs_layout")
    if isinstance(layout, dict):
        return [str(k) for k in layout]
    if isinstance(layout, list):
        return [str(k[0]) if isinstance(k, (list, tuple)) else str(k) for k in layout]
    return sorted(available)


def read_demo_file(path: str | Path, obs_keys: list[str] | None = None) -> DemoFile:
    """Read every demo of ``path``; ``obs_keys`` None picks ``default_obs_keys``.

    Raises FileNotFoundError for a missing file, KeyError naming a missing group or observation key and
    listing what the file holds, ValueError for inconsistent lengths or non-finite values.
    """
    path = str(path)
    if not Path(path).is_file():
        raise FileNotFoundError(f"demonstration file {path!r} does not exist")
    with h5py.File(path, "r") as f:
        if "data" not in f:
            raise KeyError(f"{path}: no 'data' group (robomimic layout); top-level keys: {sorted(f.keys())}")
        data = f["data"]
        env_args = _parse_env_args(data, path)
        names = sorted((n for n in data if isinstance(data[n], h5py.Group)), key=_demo_order)
        if not names:
            raise ValueError(f"{path}: the 'data' group holds no demos")
        available = sorted(data[names[0]]["obs"].keys()) if "obs" in data[names[0]] else []
        keys = list(obs_keys) if obs_keys is not None else default_obs_keys(env_args, available)
        if not keys:
            raise ValueError(f"{path}: no observation keys chosen; available keys: {available}")
        episodes = [_read_episode(data[name], name, keys, path) for name in names]
        masks = {}
        if "mask" in f:
            masks = {split: [_decode(n) for n in f["mask"][split][()]] for split in f["mask"]}
    return DemoFile(path=path, obs_keys=keys, episodes=episodes, env_args=env_args, masks=masks)


def _read_episode(demo: h5py.Group, name: str, keys: list[str], path: str) -> Episode:
    if "actions" not in demo:
        raise KeyError(f"{path}: demo {name!r} has no 'actions'; it holds {sorted(demo.keys())}")
    if "obs" not in demo:
        raise KeyError(f"{path}: demo {name!r} has no 'obs' group; it holds {sorted(demo.keys())}")
    actions = np.asarray(demo["actions"][()], dtype=np.float32)
    actions = actions.reshape(len(actions), -1)
    parts = []
    for key in keys:
        if key not in demo["obs"]:
            raise KeyError(
                f"{path}: observation key {key!r} not found in demo {name!r}; "
                f"available keys: {sorted(demo['obs'].keys())}"
            )
        values = np.asarray(demo["obs"][key][()], dtype=np.float32)
        if len(values) != len(actions):
            raise ValueError(
                f"{path}: demo {name!r} has {len(values)} steps of obs/{key} but {len(actions)} actions"
            )
        parts.append(values.reshape(len(values), -1))
    obs = np.concatenate(parts, axis=1)
    if len(actions) == 0:
        raise ValueError(f"{path}: demo {name!r} is empty")
    for label, array in (("obs", obs), ("actions", actions)):
        if not np.isfinite(array).all():
            raise ValueError(f"{path}: demo {name!r} has non-finite values (NaN/inf) in its {label}")
    return Episode(name=name, obs=obs, actions=actions)


def write_demo_file(
    path: str | Path,
    episodes: list[dict[str, Any]],
    env_args: dict[str, Any] | None = None,
    masks: dict[str, list[str]] | None = None,
) -> Path:
    """Write demonstrations in the robomimic layout (e.g. to convert other data, or for tests).

    ``episodes[i]`` = {"obs": {key: array [T, ...]}, "actions": array [T, act_dim]} becomes ``data/demo_<i>``
    with ``rewards`` and ``dones`` zeros except ``dones[-1] = 1``. Refuses to overwrite an existing file.
    """
    path = Path(path)
    if path.exists():
        raise FileExistsError(f"{path} exists; remove it first, demonstrations are never overwritten")
    with h5py.File(path, "w") as f:
        data = f.create_group("data")
        data.attrs["total"] = int(sum(len(ep["actions"]) for ep in episodes))
        data.attrs["env_args"] = json.dumps(env_args or {})
        for i, ep in enumerate(episodes):
            demo = data.create_group(f"demo_{i}")
            actions = np.asarray(ep["actions"], dtype=np.float32)
            demo.attrs["num_samples"] = len(actions)
            demo.create_dataset("actions", data=actions)
            for key, values in ep["obs"].items():
                demo.create_dataset(f"obs/{key}", data=np.asarray(values, dtype=np.float32))
            dones = np.zeros(len(actions), dtype=np.int64)
            dones[-1:] = 1
            demo.create_dataset("rewards", data=np.zeros(len(actions), dtype=np.float32))
            demo.create_dataset("dones", data=dones)
        for split, names in (masks or {}).items():
            f.create_dataset(f"mask/{split}", data=np.array([n.encode() for n in names], dtype="S"))
    return path
