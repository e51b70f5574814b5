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
layout (robomimic's own included): the chosen state keys are concatenated per step in the given order, so an
episode becomes ``obs [T, obs_dim]`` and ``actions [T, act_dim]`` (float32).  Chosen image keys (``*_image``)
are checked (uint8 ``[T, H, W, 3]``, one size per key) but not read: their frames are read lazily through
``DemoFile.frames`` (``robo_flows.data.image_windows``).  Bad content is a
:class:`~robo_flows.errors.DataError` naming the file and the part.

Image keys are written one frame per chunk (``chunks=(1, H, W, 3)``), compressed with ``IMAGE_COMPRESSION``,
so reading a frame decodes that frame only.

:func:`write_demo_file` is the one writer (the collector and the tests call it): atomic
(``robo_flows.atomic``: a crash leaves the old file or none, the new file gets the user's umask), and it
refuses to write actions outside the box its own ``env_args`` declare.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from robo_flows.atomic import atomic_write
from robo_flows.data.action_box import check_actions_in_box, recorded_action_box
from robo_flows.data.image_windows import (
    IMAGE_SUFFIX,
    FrameSource,
    HDF5Frames,
    is_image_key,
    split_keys,
)
from robo_flows.errors import DataError

__all__ = [
    "IMAGE_SUFFIX",
    "DemoFile",
    "DemoRecord",
    "Episode",
    "DemoLayout",
    "DemoSpec",
    "default_obs_keys",
    "read_demo_file",
    "read_demo_layout",
    "write_demo_file",
]

DATA_GROUP = "data"
MASK_GROUP = "mask"
IMAGE_COMPRESSION = "lzf"  # h5py's own filter (always available); fast to decode in a training loop


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
    """The parts of a demo file a dataset needs: state observations and actions in memory (read once per
    training run); camera images through ``frames`` (None without image keys), ``image_shapes`` per key.

    ``obs_keys`` are the chosen keys in order, state and image keys mixed; ``Episode.obs`` concatenates the
    state keys (:attr:`state_keys`) only.
    """

    path: str
    obs_keys: list[str]
    episodes: list[Episode]
    env_args: dict[str, Any] = field(default_factory=dict)
    masks: dict[str, list[str]] = field(default_factory=dict)
    image_shapes: dict[str, tuple[int, int, int]] = field(default_factory=dict)
    frames: FrameSource | None = None

    @property
    def state_keys(self) -> list[str]:
        return split_keys(self.obs_keys)[0]

    @property
    def image_keys(self) -> list[str]:
        return split_keys(self.obs_keys)[1]


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
    with h5py.File(_open_check(path), "r") as f:
        data = f[DATA_GROUP]
        env_args = _parse_env_args(data, path)
        names = _demo_names(data, path)
        available = sorted(data[names[0]]["obs"].keys()) if "obs" in data[names[0]] else []
        keys = list(obs_keys) if obs_keys is not None else default_obs_keys(env_args, available)
        state_keys, image_keys = split_keys(keys)
        if not state_keys:
            raise DataError(
                f"{path}: the observation keys {keys} hold no state key; a policy needs at least one "
                f"(available keys: {available})"
            )
        episodes = [_read_episode(data[name], name, state_keys, path) for name in names]
        shapes = _check_images(data, names, image_keys, episodes, path)
        masks = _read_masks(f)
    return DemoFile(
        path=path,
        obs_keys=keys,
        episodes=episodes,
        env_args=env_args,
        masks=masks,
        image_shapes=shapes,
        frames=HDF5Frames(path) if image_keys else None,
    )


def _check_images(
    data: h5py.Group, names: list[str], keys: list[str], episodes: list[Episode], path: str
) -> dict[str, tuple[int, int, int]]:
    """The frame shape ``(H, W, 3)`` of each image key, after checking every demo's dataset (metadata only:
    no frame is decoded)."""
    shapes: dict[str, tuple[int, int, int]] = {}
    for name, episode in zip(names, episodes, strict=True):
        obs = data[name]["obs"]
        for key in keys:
            if key not in obs:
                raise DataError(
                    f"{path}: observation key {key!r} not found in demo {name!r}; "
                    f"available keys: {sorted(obs.keys())}"
                )
            ds = obs[key]
            if ds.dtype != np.uint8 or ds.ndim != 4 or ds.shape[-1] != 3:
                raise DataError(
                    f"{path}: demo {name!r} obs/{key} must be uint8 [T, H, W, 3] camera images, "
                    f"got {ds.dtype} {list(ds.shape)}"
                )
            if len(ds) != len(episode.actions):
                raise DataError(
                    f"{path}: demo {name!r} has {len(ds)} steps of obs/{key} but "
                    f"{len(episode.actions)} actions"
                )
            shape = tuple(int(s) for s in ds.shape[1:])
            if shapes.setdefault(key, shape) != shape:
                raise DataError(
                    f"{path}: demo {name!r} obs/{key} has frames of {list(shape)}, "
                    f"demo {names[0]!r} of {list(shapes[key])}"
                )
    return shapes


def _demo_names(data: h5py.Group, path: str) -> list[str]:
    """The demo groups of ``data`` in demo order (``demo_2`` before ``demo_10``); DataError if none."""
    names = sorted((n for n in data if isinstance(data[n], h5py.Group)), key=_demo_order)
    if not names:
        raise DataError(f"{path}: the 'data' group holds no demos")
    return names


def _read_masks(f: h5py.File) -> dict[str, list[str]]:
    """The ``mask/`` splits: split name -> demo names (empty without a ``mask`` group)."""
    if MASK_GROUP not in f:
        return {}
    return {split: [_decode(n) for n in f[MASK_GROUP][split][()]] for split in f[MASK_GROUP]}


def _check_demo_parts(demo: h5py.Group, name: str, path: str) -> None:
    """DataError naming the demo when it lacks ``actions`` or ``obs``."""
    for part in ("actions", "obs"):
        if part not in demo:
            raise DataError(f"{path}: demo {name!r} has no {part!r}; it holds {sorted(demo.keys())}")


def _open_check(path: str) -> str:
    """``path`` if it is an HDF5 file with a ``data`` group; FileNotFoundError / DataError otherwise."""
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
    return path


def _read_episode(demo: h5py.Group, name: str, keys: list[str], path: str) -> Episode:
    _check_demo_parts(demo, name, path)
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
            arrays = record_arrays(record, name, path)
            actions = arrays[0]
            if i == 0:
                box = recorded_action_box(env_args, actions.shape[1], str(path))
            if box is not None:
                check_actions_in_box(actions, *box, source=f"{path}: demo {name!r}")
            keys = list(record.obs)
            if obs_keys is None:
                obs_keys = keys
            elif keys != obs_keys:
                raise DataError(f"{path}: demo {name!r} has obs keys {keys}, demo_0 has {obs_keys}")
            _write_record(data.create_group(name), record, arrays, name, path)
            total += len(actions)
        data.attrs["total"] = total
        data.attrs["env_args"] = env_json
        for key, value in (attrs or {}).items():
            data.attrs[key] = value
        for split, names in (masks or {}).items():
            f.create_dataset(f"{MASK_GROUP}/{split}", data=np.array([n.encode() for n in names], dtype="S"))
    return path


def record_arrays(
    record: DemoRecord, name: str, source: str | Path
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(actions float32 [T, A], rewards float32 [T], dones uint8 [T])`` of a record, defaults filled in
    (rewards 0, dones 1 at the last step only); DataError naming ``source`` and demo for bad shapes or
    NaN/inf.
    Shared by every writer of demonstrations (robomimic here, LeRobot in ``data/lerobot.py``)."""
    actions = np.asarray(record.actions, dtype=np.float32)
    if actions.ndim != 2 or len(actions) == 0:
        raise DataError(f"{source}: demo {name!r} needs actions [T >= 1, act_dim], got shape {actions.shape}")
    if not np.isfinite(actions).all():
        raise DataError(f"{source}: demo {name!r} has non-finite actions (NaN/inf)")
    steps = len(actions)
    dones = np.zeros(steps, dtype=np.uint8) if record.dones is None else np.asarray(record.dones, np.uint8)
    if record.dones is None:
        dones[-1] = 1
    rewards = (
        np.zeros(steps, np.float32) if record.rewards is None else np.asarray(record.rewards, np.float32)
    )
    for label, array in (("rewards", rewards), ("dones", dones)):
        if array.shape != (steps,):
            raise DataError(f"{source}: demo {name!r} needs {label} [{steps}], got shape {array.shape}")
    return actions, rewards, dones


def _write_record(
    group: h5py.Group, record: DemoRecord, arrays: tuple[np.ndarray, ...], name: str, path: Path
) -> None:
    actions, rewards, dones = arrays
    steps = len(actions)
    for key, values in record.obs.items():
        values = np.asarray(values)
        if len(values) != steps:
            raise DataError(f"{path}: demo {name!r} has {len(values)} steps of obs/{key} but {steps} actions")
        if is_image_key(key):
            if values.dtype != np.uint8 or values.ndim != 4 or values.shape[-1] != 3:
                raise DataError(
                    f"{path}: demo {name!r} obs/{key} must be uint8 [T, H, W, 3] camera images, "
                    f"got {values.dtype} {list(values.shape)}"
                )
            group.create_dataset(
                f"obs/{key}",
                data=values,
                chunks=(1, *values.shape[1:]),
                compression=IMAGE_COMPRESSION,
            )
        else:
            group.create_dataset(f"obs/{key}", data=values.astype(np.float32, copy=False))
    group.create_dataset("actions", data=actions)
    group.create_dataset("rewards", data=rewards)
    group.create_dataset("dones", data=dones)
    group.attrs["num_samples"] = steps
    for key, value in record.attrs.items():
        group.attrs[key] = value


@dataclass
class DemoSpec:
    """One demo's layout, from HDF5 metadata only: steps, per-step ``(shape, dtype)`` of each obs key (file
    order) and of the actions."""

    name: str
    steps: int
    obs: dict[str, tuple[tuple[int, ...], str]]
    actions: tuple[tuple[int, ...], str]


@dataclass
class DemoLayout:
    """What a demo file holds without reading its arrays: ``env_args``, the ``data`` attrs (``total`` and
    ``env_args`` left out), the ``mask/`` splits and each demo's :class:`DemoSpec` in demo order."""

    path: str
    env_args: dict[str, Any]
    attrs: dict[str, Any]
    masks: dict[str, list[str]]
    demos: list[DemoSpec]


def read_demo_layout(path: str | Path) -> DemoLayout:
    """The layout of every demo of ``path`` (metadata only: no array is read, no frame decoded).

    Checks what a reader or a copy needs: each demo has ``obs`` and ``actions``, every obs dataset has as
    many steps as the actions, and ``mask/`` names only demos of the file.  FileNotFoundError for a missing
    file; DataError naming the file otherwise (not HDF5, missing parts, unreadable metadata).
    """
    path = str(path)
    try:
        with h5py.File(_open_check(path), "r") as f:
            data = f[DATA_GROUP]
            env_args = _parse_env_args(data, path)
            attrs = {k: _attr_value(v) for k, v in data.attrs.items() if k not in ("env_args", "total")}
            names = _demo_names(data, path)
            demos = [_demo_spec(data[name], name, path) for name in names]
            masks = _read_masks(f)
    except (OSError, KeyError, RuntimeError) as exc:  # h5py's errors of a damaged file
        raise DataError(f"{path}: cannot read the demo file (damaged or truncated?): {exc}") from exc
    for split, listed in masks.items():
        unknown = sorted(set(listed) - set(names), key=_demo_order)
        if unknown:
            raise DataError(f"{path}: mask/{split} names demos that are not in the file: {unknown[:5]}")
    return DemoLayout(path=path, env_args=env_args, attrs=attrs, masks=masks, demos=demos)


def _demo_spec(demo: h5py.Group, name: str, path: str) -> DemoSpec:
    _check_demo_parts(demo, name, path)
    actions = demo["actions"]
    steps = len(actions)
    if steps == 0:
        raise DataError(f"{path}: demo {name!r} is empty")
    obs = {}
    for key, ds in demo["obs"].items():
        if len(ds) != steps:
            raise DataError(f"{path}: demo {name!r} has {len(ds)} steps of obs/{key} but {steps} actions")
        obs[key] = (tuple(int(s) for s in ds.shape[1:]), str(ds.dtype))
    return DemoSpec(name, steps, obs, (tuple(int(s) for s in actions.shape[1:]), str(actions.dtype)))


def read_demo_records(
    path: str | Path,
) -> tuple[dict[str, Any], dict[str, Any], dict[str, list[str]], Iterator[DemoRecord]]:
    """``(env_args, data attrs, masks, records)`` of a file: every demo whole (all obs keys in file order,
    actions, rewards, dones, attrs) for conversion; ``records`` reads one demo at a time."""
    path = str(path)
    with h5py.File(_open_check(path), "r") as f:
        data = f[DATA_GROUP]
        env_args = _parse_env_args(data, path)
        attrs = {k: _attr_value(v) for k, v in data.attrs.items() if k not in ("env_args", "total")}
        masks = _read_masks(f)
        names = sorted((n for n in data if isinstance(data[n], h5py.Group)), key=_demo_order)

    def records() -> Iterator[DemoRecord]:
        with h5py.File(path, "r") as f:
            for name in names:
                demo = f[DATA_GROUP][name]
                if "actions" not in demo or "obs" not in demo:
                    raise DataError(
                        f"{path}: demo {name!r} lacks 'actions' or 'obs'; it holds {sorted(demo)}"
                    )
                yield DemoRecord(
                    obs={key: demo["obs"][key][()] for key in demo["obs"]},
                    actions=demo["actions"][()],
                    rewards=demo["rewards"][()] if "rewards" in demo else None,
                    dones=demo["dones"][()] if "dones" in demo else None,
                    attrs={k: _attr_value(v) for k, v in demo.attrs.items() if k != "num_samples"},
                )

    return env_args, attrs, masks, records()


def _attr_value(value: Any) -> Any:
    """An HDF5 attribute as a plain Python value (bytes decoded, numpy scalars unwrapped)."""
    if isinstance(value, bytes):
        return value.decode()
    return value.item() if isinstance(value, np.generic) else value
