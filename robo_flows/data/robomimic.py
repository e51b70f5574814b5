"""The robomimic HDF5 demonstration format: its schema, its reader and its one writer.

Layout (DESIGN.md)::

    data/                 attrs: total (sum of num_samples), env_args (JSON object: env_name, env_kwargs,
                                 obs_layout, action_low, action_high, ...), any further attrs of the writer
      demo_<i>/           attrs: num_samples, any further per-demo attrs (seed, expert_mode, success, mode)
        obs/<key>         [T, ...]  float32 (state parts) or uint8 (camera images, key ends in ``_image``)
        actions           float32 [T, act_dim]
        rewards           float32 [T]
        dones             uint8 [T]   (1 at the episode's last step)
    mask/<split>          optional: names of the demos in a split (train / valid), bytes

``env_args["action_low"]`` / ``["action_high"]`` are the env's ``action_space`` bounds (lists of act_dim
numbers); the policy's action box (``robo_flows.data.action_box``).  The reader accepts any file in this
layout (robomimic's own included): the chosen observation keys are concatenated per step in the given order,
so an episode becomes ``obs [T, obs_dim]`` and ``actions [T, act_dim]`` (float32).  Bad content is a
:class:`~robo_flows.errors.DataError` naming the file and the part.

:func:`write_demo_file` is the one writer (the collector and the tests call it): atomic
(``robo_flows.atomic``: a crash leaves the old file or none, the new file gets the user's umask), and it
refuses to write actions outside the box its own ``env_args`` declare.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from robo_flows.atomic import atomic_write
from robo_flows.data.action_box import check_actions_in_box, recorded_action_box
from robo_flows.errors import DataError

DATA_GROUP = "data"
MASK_GROUP = "mask"
IMAGE_SUFFIX = "_image"


@dataclass
class DemoRecord:
    """One demonstration to write: ``obs {key: [T, ...]}``, ``actions [T, act_dim]``.

    ``rewards`` default to zeros, ``dones`` to zeros with a 1 at the last step; ``attrs`` become the demo
    group's attributes (numbers, strings, bools).
    """

    obs: Mapping[str, np.ndarray]
    actions: np.ndarray
    rewards: np.ndarray | None = None
    dones: np.ndarray | None = None
    attrs: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class Episode:
    """One demonstration as read: ``obs [T, obs_dim]`` (chosen keys in order), ``actions [T, act_dim]``."""

    name: str
    obs: np.ndarray
    actions: np.ndarray


@dataclass
class DemoFile:
    """The parts of a demo file a dataset needs, held in memory (read once per training run)."""

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
    try:
        env_args = json.loads(_decode(raw))
    except json.JSONDecodeError as exc:
        raise DataError(f"{path}: data.attrs['env_args'] is not valid JSON ({exc})") from exc
    if not isinstance(env_args, dict):
        raise DataError(
            f"{path}: data.attrs['env_args'] must be a JSON object, got {type(env_args).__name__}"
        )
    return env_args


def default_obs_keys(env_args: Mapping[str, Any], available: list[str]) -> list[str]:
    """The keys used when none are asked for: ``env_args["obs_layout"]`` order if given, else sorted."""
    layout = env_args.get("obs_layout")
    if isinstance(layout, dict):
        return [str(k) for k in layout]
    if isinstance(layout, list):
        return [str(k[0]) if isinstance(k, (list, tuple)) else str(k) for k in layout]
    return sorted(available)


def read_demo_file(path: str | Path, obs_keys: list[str] | None = None) -> DemoFile:
    """Read every demo of ``path``; ``obs_keys`` None picks ``default_obs_keys``.

    Raises FileNotFoundError for a missing file and DataError for a file that is not HDF5, lacks a group or
    an observation key (the message lists what the file holds), has inconsistent lengths or non-finite values.
    """
    path = str(path)
    if not Path(path).is_file():
        raise FileNotFoundError(f"demonstration file {path!r} does not exist")
    try:
        f = h5py.File(path, "r")
    except OSError as exc:
        raise DataError(
            f"{path} is not an HDF5 file (expected demonstrations in the robomimic layout): {exc}"
        ) from exc
    with f:
        if DATA_GROUP not in f:
            raise DataError(f"{path}: no 'data' group (robomimic layout); top-level keys: {sorted(f.keys())}")
        data = f[DATA_GROUP]
        env_args = _parse_env_args(data, path)
        names = sorted((n for n in data if isinstance(data[n], h5py.Group)), key=_demo_order)
        if not names:
            raise DataError(f"{path}: the 'data' group holds no demos")
        available = sorted(data[names[0]]["obs"].keys()) if "obs" in data[names[0]] else []
        keys = list(obs_keys) if obs_keys is not None else default_obs_keys(env_args, available)
        if not keys:
            raise DataError(f"{path}: no observation keys chosen; available keys: {available}")
        episodes = [_read_episode(data[name], name, keys, path) for name in names]
        masks = {}
        if MASK_GROUP in f:
            masks = {split: [_decode(n) for n in f[MASK_GROUP][split][()]] for split in f[MASK_GROUP]}
    return DemoFile(path=path, obs_keys=keys, episodes=episodes, env_args=env_args, masks=masks)


def _read_episode(demo: h5py.Group, name: str, keys: list[str], path: str) -> Episode:
    for part in ("actions", "obs"):
        if part not in demo:
            raise DataError(f"{path}: demo {name!r} has no {part!r}; it holds {sorted(demo.keys())}")
    actions = np.asarray(demo["actions"][()], dtype=np.float32)
    actions = actions.reshape(len(actions), -1)
    if len(actions) == 0:
        raise DataError(f"{path}: demo {name!r} is empty")
    parts = []
    for key in keys:
        if key not in demo["obs"]:
            raise DataError(
                f"{path}: observation key {key!r} not found in demo {name!r}; "
                f"available keys: {sorted(demo['obs'].keys())}"
            )
        values = np.asarray(demo["obs"][key][()], dtype=np.float32)
        if len(values) != len(actions):
            raise DataError(
                f"{path}: demo {name!r} has {len(values)} steps of obs/{key} but {len(actions)} actions"
            )
        parts.append(values.reshape(len(values), -1))
    obs = np.concatenate(parts, axis=1)
    for label, array in (("obs", obs), ("actions", actions)):
        if not np.isfinite(array).all():
            raise DataError(f"{path}: demo {name!r} has non-finite values (NaN/inf) in its {label}")
    return Episode(name=name, obs=obs, actions=actions)


def write_demo_file(
    path: str | Path,
    episodes: Iterable[DemoRecord | Mapping[str, Any]],
    env_args: Mapping[str, Any] | None = None,
    *,
    masks: Mapping[str, list[str]] | None = None,
    attrs: Mapping[str, Any] | None = None,
    overwrite: bool = False,
) -> Path:
    """Write demonstrations in the robomimic layout (module doc); episode ``i`` becomes ``data/demo_<i>``.

    Each episode is a :class:`DemoRecord` or a dict of its fields.  ``episodes`` may be a generator: each is
    written as it comes, so a long collection is never held in
    memory.  ``env_args`` must be JSON-serialisable; when it holds ``action_low`` / ``action_high``, every
    action must lie in that box (DataError naming demo, step and dimension otherwise).  ``attrs`` go to the
    ``data`` group.  Refuses an existing ``path`` unless ``overwrite`` (FileExistsError).  Returns ``path``.
    """
    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} exists; demonstrations are never overwritten unless asked to")
    env_args = dict(env_args or {})
    try:
        env_json = json.dumps(env_args)
    except TypeError as exc:
        raise DataError(f"env_args must be JSON-serialisable (lists, not arrays): {exc}") from exc
    with atomic_write(path) as tmp, h5py.File(tmp, "w") as f:
        data = f.create_group(DATA_GROUP)
        total = 0
        obs_keys: list[str] | None = None
        box = None
        for i, item in enumerate(episodes):
            name = f"demo_{i}"
            record = item if isinstance(item, DemoRecord) else DemoRecord(**item)
            actions = _record_actions(record, name, path)
            if i == 0:
                box = recorded_action_box(env_args, actions.shape[1], str(path))
            if box is not None:
                check_actions_in_box(actions, *box, source=f"{path}: demo {name!r}")
            keys = list(record.obs)
            if obs_keys is None:
                obs_keys = keys
            elif keys != obs_keys:
                raise DataError(f"{path}: demo {name!r} has obs keys {keys}, demo_0 has {obs_keys}")
            _write_record(data.create_group(name), record, actions, name, path)
            total += len(actions)
        data.attrs["total"] = total
        data.attrs["env_args"] = env_json
        for key, value in (attrs or {}).items():
            data.attrs[key] = value
        for split, names in (masks or {}).items():
            f.create_dataset(f"{MASK_GROUP}/{split}", data=np.array([n.encode() for n in names], dtype="S"))
    return path


def _record_actions(record: DemoRecord, name: str, path: Path) -> np.ndarray:
    actions = np.asarray(record.actions, dtype=np.float32)
    if actions.ndim != 2 or len(actions) == 0:
        raise DataError(f"{path}: demo {name!r} needs actions [T >= 1, act_dim], got shape {actions.shape}")
    if not np.isfinite(actions).all():
        raise DataError(f"{path}: demo {name!r} has non-finite actions (NaN/inf)")
    return actions


def _write_record(group: h5py.Group, record: DemoRecord, actions: np.ndarray, name: str, path: Path) -> None:
    steps = len(actions)
    for key, values in record.obs.items():
        values = np.asarray(values)
        if len(values) != steps:
            raise DataError(f"{path}: demo {name!r} has {len(values)} steps of obs/{key} but {steps} actions")
        dtype = np.uint8 if key.endswith(IMAGE_SUFFIX) else np.float32
        group.create_dataset(f"obs/{key}", data=values.astype(dtype, copy=False))
    dones = np.zeros(steps, dtype=np.uint8) if record.dones is None else np.asarray(record.dones, np.uint8)
    if record.dones is None:
        dones[-1] = 1
    rewards = (
        np.zeros(steps, np.float32) if record.rewards is None else np.asarray(record.rewards, np.float32)
    )
    for label, array in (("rewards", rewards), ("dones", dones)):
        if array.shape != (steps,):
            raise DataError(f"{path}: demo {name!r} needs {label} [{steps}], got shape {array.shape}")
    group.create_dataset("actions", data=actions)
    group.create_dataset("rewards", data=rewards)
    group.create_dataset("dones", data=dones)
    group.attrs["num_samples"] = steps
    for key, value in record.attrs.items():
        group.attrs[key] = value
