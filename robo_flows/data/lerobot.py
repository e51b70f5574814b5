"""LeRobotDataset v3.0 folders: schema, reader and writer (pyarrow for parquet, PyAV for mp4).

Layout (LeRobot's ``codebase_version`` "v3.0"; ``{c}`` / ``{f}`` are 3-digit chunk and file indices)::

    meta/info.json                  codebase_version, fps, features {name: {dtype, shape, names, [info]}},
                                    total_episodes, total_frames, total_tasks, chunks_size, splits,
                                    data_path, video_path (templates), and ours: "robo_flows": {env_args,
                                    state_parts, attrs, masks}
    meta/stats.json                 per feature: min, max, mean, std, count [1], q01, q10, q50, q90, q99
    meta/tasks.parquet              task (the task string), task_index
    meta/episodes/chunk-{c}/file-{f}.parquet
                                    one row per episode: episode_index, tasks, length, data/chunk_index,
                                    data/file_index, dataset_from_index, dataset_to_index ([from, to) of the
                                    global ``index``), videos/<key>/{chunk_index, file_index, from_timestamp,
                                    to_timestamp}, meta/episodes/{chunk_index, file_index},
                                    stats/<feature>/<stat>
    data/chunk-{c}/file-{f}.parquet one row per frame: the features, timestamp (= frame_index / fps),
                                    frame_index, episode_index, index (global, continuous), task_index
    videos/<key>/chunk-{c}/file-{f}.mp4
                                    the frames of many episodes one after the other; episode e's frame t is
                                    shown at ``from_timestamp(e) + t / fps`` seconds

Image features are ``dtype: "video"`` (mp4) or ``dtype: "image"`` (a parquet struct ``{bytes: PNG, path}``).

**Names.** robomimic part ``obs/<part>`` (state) becomes a slice of ``observation.state`` (parts
concatenated in ``env_args["obs_layout"]`` order, the order kept in ``robo_flows.state_parts``),
``obs/<cam>_image`` becomes ``observation.images.<cam>``, ``actions`` -> ``action``, ``rewards`` ->
``next.reward``, ``dones`` -> ``next.done``; demo ``i`` (natural order) -> episode ``i``, read back as
``episode_<i>``.  ``obs_keys`` for training take LeRobot feature names (``observation.state``,
``observation.images.top``) or, in folders with ``state_parts``, the robomimic part names; there
``observation.state`` expands to its parts and image features are named ``<cam>_image``, so a policy trained
on a folder runs on the env's observation like one trained on the robomimic file.

**Statistics** (as LeRobot computes them): per episode and numeric feature, over its frames, ``min``, ``max``,
``mean``, ``std`` (population), the quantiles ``q01 .. q99`` (exact here; LeRobot uses histograms) and
``count = [T]``; images per channel over every pixel of every frame, in ``[0, 1]`` (pixels / 255), shaped
``[3, 1, 1]``.  The dataset's stats aggregate the episodes' (LeRobot's rule): count-weighted mean,
``var = sum_e n_e (std_e^2 + (mean_e - mean)^2) / sum_e n_e``, min of mins, max of maxes, and for each
quantile the min over episodes (q <= 50) or the max (q > 50) -- an envelope, not a global quantile.

**Video.** h264 (libx264), yuv420p, ``crf`` 18 by default, a key frame at every episode start, so an episode
decodes from its own start.  Frames are located by time: the reader seeks to ``from_timestamp``, decodes the
episode's frames once (a small per-episode cache holds the last few), and every decoded frame must fall within
``TIMESTAMP_TOLERANCE_S`` of ``from_timestamp + frame_index / fps`` (DataError otherwise).  mp4 is lossy;
``images="png"`` stores lossless PNG bytes in the parquet instead.

The writer is atomic: the folder is built beside the target under a hidden temporary name and renamed at the
end, so a crash leaves the old folder or none.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from robo_flows.data.action_box import check_actions_in_box, recorded_action_box
from robo_flows.data.image_windows import split_keys
from robo_flows.data.robomimic import (
    IMAGE_SUFFIX,
    DemoFile,
    DemoRecord,
    Episode,
    default_obs_keys,
    record_arrays,
)
from robo_flows.errors import DataError

CODEBASE_VERSION = "v3.0"
INFO_PATH = "meta/info.json"
STATS_PATH = "meta/stats.json"
TASKS_PATH = "meta/tasks.parquet"
CHUNK_FILE = "chunk-{chunk_index:03d}/file-{file_index:03d}"
EPISODES_PATH = "meta/episodes/" + CHUNK_FILE + ".parquet"
DATA_PATH = "data/" + CHUNK_FILE + ".parquet"
VIDEO_PATH = "videos/{video_key}/" + CHUNK_FILE + ".mp4"
CHUNKS_SIZE = 1000
OUR_KEY = "robo_flows"

STATE = "observation.state"
IMAGES_PREFIX = "observation.images."
ACTION = "action"
REWARD = "next.reward"
DONE = "next.done"
INDEX_FEATURES = ("timestamp", "frame_index", "episode_index", "index", "task_index")

QUANTILES = (0.01, 0.10, 0.50, 0.90, 0.99)
STAT_NAMES = ("min", "max", "mean", "std", "count", *(f"q{round(q * 100):02d}" for q in QUANTILES))
IMAGE_MODES = ("mp4", "png")
TIMESTAMP_TOLERANCE_S = 1e-4
DECODED_CACHE_MB = 256.0  # decoded episodes kept per folder and process (LRU)
VIDEO_CODEC = "libx264"
VIDEO_PIX_FMT = "yuv420p"
VIDEO_CRF = 18


def _require(module: str) -> Any:
    """Import pyarrow / av, with the extra to install named when they are absent."""
    try:
        return __import__(module, fromlist=["_"])
    except ImportError as exc:
        raise DataError(
            f"LeRobot folders need {module.split('.')[0]!r}: pip install 'robo-flows[lerobot]'"
        ) from exc


def is_lerobot_folder(path: str | Path) -> bool:
    """Whether ``path`` is a folder holding ``meta/info.json`` (selects this reader)."""
    return (Path(path) / INFO_PATH).is_file()


def image_feature(key: str) -> str:
    """``agentview_image`` -> ``observation.images.agentview`` (a LeRobot name is returned as it is)."""
    if key.startswith(IMAGES_PREFIX):
        return key
    return IMAGES_PREFIX + (key[: -len(IMAGE_SUFFIX)] if key.endswith(IMAGE_SUFFIX) else key)


def robomimic_image_key(feature: str) -> str:
    """``observation.images.agentview`` -> ``agentview_image``."""
    return feature[len(IMAGES_PREFIX) :] + IMAGE_SUFFIX


# ---- statistics ------------------------------------------------------------------------------------------


def feature_stats(values: np.ndarray, *, image: bool = False) -> dict[str, np.ndarray]:
    """One episode's stats of a feature (module doc): ``values [T, ...]``; images uint8 ``[T, H, W, 3]``."""
    if image:
        flat = values.reshape(-1, values.shape[-1]).astype(np.float64) / 255.0  # [T*H*W, 3]
        shape: tuple[int, ...] = (values.shape[-1], 1, 1)
    else:
        flat = values.reshape(len(values), -1).astype(np.float64)
        shape = flat.shape[1:]
    stats = {
        "min": flat.min(axis=0),
        "max": flat.max(axis=0),
        "mean": flat.mean(axis=0),
        "std": flat.std(axis=0),
    }
    for q, value in zip(STAT_NAMES[5:], np.quantile(flat, QUANTILES, axis=0), strict=True):
        stats[q] = value
    out = {k: v.reshape(shape) for k, v in stats.items()}
    out["count"] = np.array([len(values)], dtype=np.int64)
    return out


def aggregate_stats(per_episode: Sequence[Mapping[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """The dataset's stats of a feature from its episodes' (LeRobot's rule, module doc)."""
    counts = np.array([float(s["count"][0]) for s in per_episode])
    means = np.stack([s["mean"] for s in per_episode])
    w = counts.reshape(-1, *([1] * (means.ndim - 1)))
    mean = (means * w).sum(axis=0) / counts.sum()
    var = ((np.stack([s["std"] for s in per_episode]) ** 2 + (means - mean) ** 2) * w).sum(
        axis=0
    ) / counts.sum()
    out = {
        "min": np.min([s["min"] for s in per_episode], axis=0),
        "max": np.max([s["max"] for s in per_episode], axis=0),
        "mean": mean,
        "std": np.sqrt(var),
        "count": np.array([int(counts.sum())], dtype=np.int64),
    }
    for q in STAT_NAMES[5:]:
        stack = np.stack([s[q] for s in per_episode])
        out[q] = stack.min(axis=0) if int(q[1:]) <= 50 else stack.max(axis=0)
    return out


def _jsonable(stats: Mapping[str, np.ndarray]) -> dict[str, list]:
    return {k: np.asarray(v).tolist() for k, v in stats.items()}


# ---- images: PNG and mp4 ---------------------------------------------------------------------------------


def encode_png(frame: np.ndarray) -> bytes:
    """uint8 ``[H, W, 3]`` -> PNG bytes (lossless, PyAV's png encoder)."""
    av = _require("av")
    codec = av.CodecContext.create("png", "w")
    codec.width, codec.height, codec.pix_fmt = frame.shape[1], frame.shape[0], "rgb24"
    packets = codec.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24"))
    packets += codec.encode(None)
    return b"".join(bytes(p) for p in packets)


def decode_png(data: bytes, source: str) -> np.ndarray:
    """PNG bytes -> uint8 ``[H, W, 3]``; DataError naming ``source`` for bytes that are no image."""
    av = _require("av")
    try:
        frames = av.CodecContext.create("png", "r").decode(av.Packet(data))
    except av.FFmpegError as exc:
        raise DataError(f"{source}: the image bytes are not a PNG ({exc})") from exc
    if len(frames) != 1:
        raise DataError(f"{source}: expected one PNG frame, decoded {len(frames)}")
    return frames[0].to_ndarray(format="rgb24")


class _VideoWriter:
    """Appends episodes to one mp4 (h264, yuv420p), a key frame at each episode start; times in frames."""

    def __init__(self, path: Path, fps: int, height: int, width: int, key: str) -> None:
        av = _require("av")
        if height % 2 or width % 2:
            raise DataError(
                f"{key}: {height}x{width} frames cannot be stored as yuv420p mp4 (even sizes needed); "
                "use images='png'"
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        self._av = av
        self.container = av.open(str(path), "w")
        self.stream = self.container.add_stream(VIDEO_CODEC, rate=fps)
        self.stream.width, self.stream.height, self.stream.pix_fmt = width, height, VIDEO_PIX_FMT
        self.stream.codec_context.time_base = Fraction(1, fps)
        self.stream.options = {"crf": str(VIDEO_CRF)}
        self.frames = 0

    def add_episode(self, frames: np.ndarray) -> int:
        """Append ``frames [T, H, W, 3]``; returns the index of the episode's first frame in the file."""
        start = self.frames
        for t, image in enumerate(frames):
            frame = self._av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="rgb24")
            frame.pts = start + t
            if t == 0:
                frame.pict_type = self._av.video.frame.PictureType.I
            for packet in self.stream.encode(frame):
                self.container.mux(packet)
        self.frames += len(frames)
        return start

    def close(self) -> None:
        for packet in self.stream.encode(None):
            self.container.mux(packet)
        self.container.close()


class VideoReader:
    """One mp4 file opened for reading segments (kept open between episodes; one per file and process)."""

    def __init__(self, path: str | Path) -> None:
        av = _require("av")
        self.path = Path(path)
        try:
            self.container = av.open(str(path))
        except (av.FFmpegError, OSError) as exc:
            raise DataError(f"{path}: cannot open the video ({exc})") from exc
        self.stream = self.container.streams.video[0]
        self._time_base = float(self.stream.time_base)
        self._rgb = av.video.reformatter.VideoReformatter()  # reused: no conversion context per frame
        self._pid = os.getpid()

    def segment(
        self, from_timestamp: float, timestamps: np.ndarray, tolerance_s: float = TIMESTAMP_TOLERANCE_S
    ) -> np.ndarray:
        """The frames shown at ``from_timestamp + timestamps`` (seconds): uint8 ``[T, H, W, 3]``.

        Seeks to the key frame at or before ``from_timestamp`` and decodes forward once.  Every wanted time
        must be matched by a decoded frame within ``tolerance_s``, else DataError (missing or shifted frames).
        """
        wanted = from_timestamp + np.asarray(timestamps, dtype=np.float64)
        out: list[np.ndarray | None] = [None] * len(wanted)
        self.container.seek(max(0, int(from_timestamp / self._time_base)), stream=self.stream, backward=True)
        last = wanted[-1] + tolerance_s
        for frame in self.container.decode(self.stream):
            time = frame.pts * self._time_base
            if time > last:
                break
            i = int(np.searchsorted(wanted, time - tolerance_s))
            if i < len(wanted) and abs(wanted[i] - time) <= tolerance_s:
                out[i] = self._rgb.reformat(frame, format="rgb24").to_ndarray()
        missing = [i for i, f in enumerate(out) if f is None]
        if missing:
            raise DataError(
                f"{self.path}: no frame within {tolerance_s} s of {len(missing)} of the {len(wanted)} "
                f"timestamps of the episode starting at {from_timestamp:.4f} s (first missing: "
                f"{wanted[missing[0]]:.4f} s); the video does not match the frame timestamps"
            )
        return np.stack(out)  # type: ignore[arg-type]

    def close(self) -> None:
        if self._pid == os.getpid():  # never close a handle inherited across a fork
            self.container.close()


# ---- writer ----------------------------------------------------------------------------------------------


def _state_parts(obs: Mapping[str, np.ndarray], env_args: Mapping[str, Any]) -> list[tuple[str, int]]:
    """The record's state parts, in ``obs_layout`` order (others after, sorted), with their sizes."""
    state = [k for k in obs if not k.endswith(IMAGE_SUFFIX)]
    layout = default_obs_keys(env_args, []) if env_args.get("obs_layout") else []
    ordered = [k for k in layout if k in state] + sorted(k for k in state if k not in layout)
    return [(k, int(np.asarray(obs[k]).reshape(len(obs[k]), -1).shape[1])) for k in ordered]


def _features(
    parts: list[tuple[str, int]], images: dict[str, tuple[int, ...]], act_dim: int, fps: int, mode: str
) -> dict[str, dict[str, Any]]:
    features: dict[str, dict[str, Any]] = {}
    if parts:
        names = [f"{k}.{j}" if n > 1 else k for k, n in parts for j in range(n)]
        features[STATE] = {"dtype": "float32", "shape": [len(names)], "names": names}
    for key, (h, w, c) in images.items():
        feature = {"dtype": "video" if mode == "mp4" else "image", "shape": [h, w, c]}
        feature["names"] = ["height", "width", "channels"]
        if mode == "mp4":
            feature["info"] = {
                "video.height": h,
                "video.width": w,
                "video.codec": "h264",
                "video.pix_fmt": VIDEO_PIX_FMT,
                "video.is_depth_map": False,
                "video.fps": fps,
                "video.channels": c,
                "has_audio": False,
            }
        features[image_feature(key)] = feature
    features[ACTION] = {
        "dtype": "float32",
        "shape": [act_dim],
        "names": [f"action.{j}" for j in range(act_dim)],
    }
    features[REWARD] = {"dtype": "float32", "shape": [1], "names": None}
    features[DONE] = {"dtype": "bool", "shape": [1], "names": None}
    for name in INDEX_FEATURES:
        features[name] = {"dtype": "float32" if name == "timestamp" else "int64", "shape": [1], "names": None}
    return features


def _temp_folder(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    tmp.mkdir()  # the user's umask applies
    return tmp


def _replace_folder(tmp: Path, path: Path) -> None:
    """Rename the finished ``tmp`` to ``path``; an old ``path`` is moved aside first and removed after."""
    old = None
    if path.exists():
        old = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.old")
        os.replace(path, old)
    os.replace(tmp, path)
    if old is not None:
        shutil.rmtree(old) if old.is_dir() else old.unlink()


def write_lerobot(
    path: str | Path,
    episodes: Iterable[DemoRecord | Mapping[str, Any]],
    env_args: Mapping[str, Any] | None = None,
    *,
    fps: int,
    images: str = "mp4",
    task: str = "",
    masks: Mapping[str, list[str]] | None = None,
    attrs: Mapping[str, Any] | None = None,
    overwrite: bool = False,
) -> Path:
    """Write demonstrations as a LeRobotDataset v3.0 folder (module doc); episode ``i`` gets index ``i``.

    ``episodes`` are :class:`DemoRecord` s (or dicts of their fields), as for ``write_demo_file``, and may be
    a generator: frames go to the parquet and mp4 files episode by episode.  ``fps``: frames per second (the
    env's control rate); ``images``: "mp4" (h264) or "png" (PNG bytes in the parquet).  ``env_args``, the
    record's per-demo ``attrs``, the file-level ``attrs`` and ``masks`` (split -> demo names ``demo_<i>``)
    are kept under ``info.json["robo_flows"]``.  Actions must lie in the box of ``env_args`` (DataError).
    Refuses an existing non-empty ``path`` unless ``overwrite`` (FileExistsError); atomic.  Returns ``path``.
    """
    pa = _require("pyarrow")
    pq = _require("pyarrow.parquet")
    path = Path(path)
    if images not in IMAGE_MODES:
        raise ValueError(f"images must be one of {IMAGE_MODES}, got {images!r}")
    if int(fps) != fps or fps < 1:
        raise ValueError(f"fps must be a positive integer (LeRobot's info.json), got {fps!r}")
    fps = int(fps)
    if path.exists() and not overwrite and (not path.is_dir() or any(path.iterdir())):
        raise FileExistsError(f"{path} exists; demonstrations are never overwritten unless asked to")
    env_args = dict(env_args or {})
    try:
        json.dumps(env_args)
    except TypeError as exc:
        raise DataError(f"env_args must be JSON-serialisable (lists, not arrays): {exc}") from exc
    tmp = _temp_folder(path)
    try:
        _write_folder(tmp, episodes, env_args, fps, images, task, masks, attrs, pa, pq, str(path))
        _replace_folder(tmp, path)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    return path


def _write_folder(
    root: Path,
    episodes: Iterable[DemoRecord | Mapping[str, Any]],
    env_args: dict[str, Any],
    fps: int,
    mode: str,
    task: str,
    masks: Mapping[str, list[str]] | None,
    attrs: Mapping[str, Any] | None,
    pa: Any,
    pq: Any,
    source: str,
) -> None:
    data_file = root / DATA_PATH.format(chunk_index=0, file_index=0)
    data_file.parent.mkdir(parents=True)
    writer = None
    videos: dict[str, _VideoWriter] = {}
    rows: list[dict[str, Any]] = []  # the episodes parquet
    per_episode: list[dict[str, dict[str, np.ndarray]]] = []
    episode_attrs: list[dict[str, Any]] = []
    parts: list[tuple[str, int]] = []
    image_shapes: dict[str, tuple[int, ...]] = {}
    keys: list[str] | None = None
    features: dict[str, dict[str, Any]] = {}
    box = None
    total = 0
    try:
        for i, item in enumerate(episodes):
            name = f"demo_{i}"
            record = item if isinstance(item, DemoRecord) else DemoRecord(**item)
            actions, rewards, dones = record_arrays(record, name, source)
            if keys is None:
                keys = list(record.obs)
                parts = _state_parts(record.obs, env_args)
                image_shapes = {
                    k: np.asarray(v).shape[1:] for k, v in record.obs.items() if k.endswith(IMAGE_SUFFIX)
                }
                features = _features(parts, image_shapes, actions.shape[1], fps, mode)
                box = recorded_action_box(env_args, actions.shape[1], source)
            elif list(record.obs) != keys:
                raise DataError(f"{source}: demo {name!r} has obs keys {list(record.obs)}, demo_0 has {keys}")
            if box is not None:
                check_actions_in_box(actions, *box, source=f"{source}: demo {name!r}")
            steps = len(actions)
            columns: dict[str, np.ndarray] = {}
            if parts:
                state = [np.asarray(record.obs[k], dtype=np.float32).reshape(steps, -1) for k, _ in parts]
                for (k, _), values in zip(parts, state, strict=True):
                    if len(values) != steps:
                        raise DataError(
                            f"{source}: demo {name!r} has {len(values)} steps of obs/{k} but {steps} actions"
                        )
                columns[STATE] = np.concatenate(state, axis=1)
            frames = {}
            for key, shape in image_shapes.items():
                values = np.asarray(record.obs[key])
                if values.dtype != np.uint8 or values.shape != (steps, *shape):
                    raise DataError(
                        f"{source}: demo {name!r} needs obs/{key} uint8 {[steps, *shape]}, "
                        f"got {values.dtype} {list(values.shape)}"
                    )
                frames[image_feature(key)] = values
            columns[ACTION] = actions
            columns[REWARD] = rewards
            columns[DONE] = dones.astype(bool)
            frame_index = np.arange(steps, dtype=np.int64)
            columns["timestamp"] = (frame_index / fps).astype(np.float32)
            columns["frame_index"] = frame_index
            columns["episode_index"] = np.full(steps, i, dtype=np.int64)
            columns["index"] = total + frame_index
            columns["task_index"] = np.zeros(steps, dtype=np.int64)
            table = {k: _arrow_column(pa, v) for k, v in columns.items()}
            if mode == "png":
                for feature, values in frames.items():
                    table[feature] = pa.array(
                        [{"bytes": encode_png(f), "path": None} for f in values],
                        type=pa.struct([("bytes", pa.binary()), ("path", pa.string())]),
                    )
            ordered = {k: table[k] for k in features if k in table}
            batch = pa.table(ordered)
            if writer is None:
                writer = pq.ParquetWriter(str(data_file), batch.schema)
            writer.write_table(batch)
            stats = {k: feature_stats(v) for k, v in columns.items()}
            stats.update({k: feature_stats(v, image=True) for k, v in frames.items()})
            row: dict[str, Any] = {
                "episode_index": i,
                "tasks": [task],
                "length": steps,
                "data/chunk_index": 0,
                "data/file_index": 0,
                "dataset_from_index": total,
                "dataset_to_index": total + steps,
            }
            if mode == "mp4":
                for feature, values in frames.items():
                    if feature not in videos:
                        video_path = root / VIDEO_PATH.format(video_key=feature, chunk_index=0, file_index=0)
                        videos[feature] = _VideoWriter(video_path, fps, *values.shape[1:3], feature)
                    start = videos[feature].add_episode(values)
                    row[f"videos/{feature}/chunk_index"] = 0
                    row[f"videos/{feature}/file_index"] = 0
                    row[f"videos/{feature}/from_timestamp"] = start / fps
                    row[f"videos/{feature}/to_timestamp"] = (start + steps) / fps
            row["meta/episodes/chunk_index"] = 0
            row["meta/episodes/file_index"] = 0
            for feature, feature_stat in stats.items():
                for stat, value in feature_stat.items():
                    row[f"stats/{feature}/{stat}"] = np.asarray(value).tolist()
            rows.append(row)
            per_episode.append(stats)
            episode_attrs.append(_plain(dict(record.attrs)))
            total += steps
    finally:
        if writer is not None:
            writer.close()
        for video in videos.values():
            video.close()
    if not rows:
        raise DataError(f"{source}: no demonstrations to write")
    episodes_file = root / EPISODES_PATH.format(chunk_index=0, file_index=0)
    episodes_file.parent.mkdir(parents=True)
    pq.write_table(pa.Table.from_pylist(rows), str(episodes_file))
    pq.write_table(
        pa.table({"task": [task], "task_index": pa.array([0], pa.int64())}), str(root / TASKS_PATH)
    )
    stats = {k: _jsonable(aggregate_stats([s[k] for s in per_episode])) for k in per_episode[0]}
    (root / STATS_PATH).write_text(json.dumps(stats, indent=2))
    ours = {
        "env_args": env_args,
        "state_parts": [[k, n] for k, n in parts],
        "attrs": _plain(dict(attrs or {})),
        "episode_attrs": episode_attrs,
        "masks": {
            split: [_demo_position(n, source) for n in names] for split, names in (masks or {}).items()
        },
    }
    info = {
        "codebase_version": CODEBASE_VERSION,
        "robot_type": None,
        "total_episodes": len(rows),
        "total_frames": total,
        "total_tasks": 1,
        "chunks_size": CHUNKS_SIZE,
        "data_files_size_in_mb": 100,
        "video_files_size_in_mb": 200,
        "fps": fps,
        "splits": {"train": f"0:{len(rows)}"},
        "data_path": DATA_PATH,
        "video_path": VIDEO_PATH if videos else None,
        "features": features,
        OUR_KEY: ours,
    }
    (root / INFO_PATH).write_text(json.dumps(info, indent=2))


def _arrow_column(pa: Any, values: np.ndarray) -> Any:
    """A ``[T]`` array as a scalar column, a ``[T, n]`` one as fixed-size lists (LeRobot's shape [n])."""
    values = np.asarray(values)
    if values.ndim == 1:
        return pa.array(values)
    return pa.FixedSizeListArray.from_arrays(pa.array(values.reshape(-1)), values.shape[1])


def _plain(attrs: dict[str, Any]) -> dict[str, Any]:
    """Attribute values as JSON values (numpy scalars -> Python numbers)."""
    return {k: v.item() if isinstance(v, np.generic) else v for k, v in attrs.items()}


def _demo_position(name: str, source: str) -> int:
    """``demo_<i>`` -> ``i``; a mask naming another demo is a DataError."""
    head, _, tail = name.rpartition("_")
    if head not in ("demo", "episode") or not tail.isdigit():
        raise DataError(f"{source}: mask entry {name!r} is not a demo name demo_<i>")
    return int(tail)


# ---- reader ----------------------------------------------------------------------------------------------


@dataclass
class EpisodeInfo:
    """One row of ``meta/episodes``: where the episode's frames are."""

    index: int
    length: int
    from_index: int
    to_index: int
    data_file: Path
    videos: dict[str, tuple[Path, float]] = field(default_factory=dict)  # feature -> (mp4, from_timestamp)


class LeRobotFolder:
    """An opened v3.0 folder: ``info``, ``features``, ``fps``, ``episodes`` (:class:`EpisodeInfo`, by index),
    ``env_args`` / ``state_parts`` / ``masks`` (ours, empty for folders of other writers).

    State features are read once (:meth:`column`); images are decoded per episode (:meth:`episode_frames`)
    with an LRU cache of decoded (episode, feature) pairs of at most ``cache_mb`` megabytes (the last one
    decoded is always kept, so a window never decodes its episode twice).
    """

    def __init__(self, path: str | Path, cache_mb: float = DECODED_CACHE_MB) -> None:
        self.path = Path(path)
        if not self.path.is_dir():
            raise FileNotFoundError(f"LeRobot folder {str(self.path)!r} does not exist")
        info_path = self.path / INFO_PATH
        if not info_path.is_file():
            raise DataError(f"{self.path}: no {INFO_PATH} (not a LeRobot dataset folder)")
        try:
            self.info: dict[str, Any] = json.loads(info_path.read_text())
        except json.JSONDecodeError as exc:
            raise DataError(f"{info_path} is not valid JSON ({exc})") from exc
        version = self.info.get("codebase_version")
        if version != CODEBASE_VERSION:
            raise DataError(
                f"{self.path}: LeRobot codebase_version {version!r} is not supported, expected "
                f"{CODEBASE_VERSION!r} (convert older datasets with LeRobot's own v2.1 -> v3.0 script)"
            )
        for key in ("fps", "features", "data_path"):
            if key not in self.info:
                raise DataError(f"{info_path} lacks {key!r}")
        self.features: dict[str, dict[str, Any]] = self.info["features"]
        self.fps = float(self.info["fps"])
        ours = self.info.get(OUR_KEY) or {}
        self.env_args: dict[str, Any] = dict(ours.get("env_args") or {})
        self.state_parts: list[tuple[str, int]] = [(str(k), int(n)) for k, n in ours.get("state_parts") or []]
        self.attrs: dict[str, Any] = dict(ours.get("attrs") or {})
        self.episode_attrs: list[dict[str, Any]] = list(ours.get("episode_attrs") or [])
        self.masks = {s: [f"episode_{i}" for i in idx] for s, idx in (ours.get("masks") or {}).items()}
        self.episodes = self._read_episodes()
        self._columns: dict[str, np.ndarray] = {}
        self._cache: OrderedDict[tuple[int, str], np.ndarray] = OrderedDict()
        self._cached_bytes = 0
        self._videos: dict[Path, VideoReader] = {}
        if cache_mb < 0:
            raise ValueError(f"cache_mb must be >= 0, got {cache_mb}")
        self.cache_mb = float(cache_mb)

    @property
    def image_features(self) -> list[str]:
        """The features holding camera images (``dtype`` video or image), in info.json order."""
        return [k for k, f in self.features.items() if f.get("dtype") in ("video", "image")]

    def _read_episodes(self) -> list[EpisodeInfo]:
        pq = _require("pyarrow.parquet")
        files = sorted((self.path / "meta" / "episodes").glob("chunk-*/file-*.parquet"))
        if not files:
            raise DataError(f"{self.path}: no meta/episodes/chunk-*/file-*.parquet")
        rows: list[dict[str, Any]] = []
        for file in files:
            rows.extend(pq.read_table(str(file)).to_pylist())
        rows.sort(key=lambda r: r["episode_index"])
        episodes = []
        for expected, row in enumerate(rows):
            if row["episode_index"] != expected:
                raise DataError(f"{self.path}: episode indices are not 0..N-1 (found {row['episode_index']})")
            data = self.path / self.info["data_path"].format(
                chunk_index=row["data/chunk_index"], file_index=row["data/file_index"]
            )
            videos = {}
            for key in self.image_features:
                if self.features[key]["dtype"] != "video":
                    continue
                template = self.info.get("video_path")
                if template is None or f"videos/{key}/chunk_index" not in row:
                    raise DataError(
                        f"{self.path}: video feature {key!r} has no video pointers in meta/episodes"
                    )
                video = self.path / template.format(
                    video_key=key,
                    chunk_index=row[f"videos/{key}/chunk_index"],
                    file_index=row[f"videos/{key}/file_index"],
                )
                videos[key] = (video, float(row[f"videos/{key}/from_timestamp"]))
            episodes.append(
                EpisodeInfo(
                    index=expected,
                    length=int(row["length"]),
                    from_index=int(row["dataset_from_index"]),
                    to_index=int(row["dataset_to_index"]),
                    data_file=data,
                    videos=videos,
                )
            )
        return episodes

    def _check_feature(self, feature: str) -> None:
        if feature not in self.features:
            raise DataError(
                f"{self.path}: feature {feature!r} not found; the dataset's features: {sorted(self.features)}"
            )

    def column(self, feature: str) -> np.ndarray:
        """Every frame's value of a parquet feature in global ``index`` order: ``[total_frames, ...]``.

        DataError for a missing feature, an index that is not continuous within each episode, or frame
        indices that do not count 0..length-1.
        """
        if feature in self._columns:
            return self._columns[feature]
        self._check_feature(feature)
        pq = _require("pyarrow.parquet")
        files = sorted({ep.data_file for ep in self.episodes})
        parts, index, frame_index, episode_index = [], [], [], []
        for file in files:
            if not file.is_file():
                raise DataError(f"{self.path}: data file {file} named by meta/episodes does not exist")
            table = pq.read_table(str(file), columns=[feature, "index", "frame_index", "episode_index"])
            parts.append(_to_numpy(table.column(feature), feature, self.features[feature]))
            index.append(table.column("index").to_numpy())
            frame_index.append(table.column("frame_index").to_numpy())
            episode_index.append(table.column("episode_index").to_numpy())
        values, idx = np.concatenate(parts), np.concatenate(index)
        order = np.argsort(idx, kind="stable")
        values, idx = values[order], idx[order]
        frames, eps = np.concatenate(frame_index)[order], np.concatenate(episode_index)[order]
        for ep in self.episodes:
            rows = slice(ep.from_index, ep.to_index)
            if (
                ep.to_index - ep.from_index != ep.length
                or not np.array_equal(idx[rows], np.arange(ep.from_index, ep.to_index))
                or not np.array_equal(frames[rows], np.arange(ep.length))
                or not (eps[rows] == ep.index).all()
            ):
                raise DataError(
                    f"{self.path}: the frames of episode {ep.index} are not rows index {ep.from_index}.."
                    f"{ep.to_index - 1} with frame_index 0..{ep.length - 1} (broken index continuity)"
                )
        self._columns[feature] = values
        return values

    def episode_frames(self, feature: str, episode: int) -> np.ndarray:
        """The images of ``feature`` in ``episode``: uint8 ``[T, H, W, 3]``, decoded once (LRU cache)."""
        cached = self._cache.get((episode, feature))
        if cached is not None:
            self._cache.move_to_end((episode, feature))
            return cached
        self._check_feature(feature)
        ep = self.episodes[episode]
        dtype = self.features[feature].get("dtype")
        if dtype == "video":
            video, start = ep.videos[feature]
            frames = self._video(video, feature).segment(start, np.arange(ep.length) / self.fps)
        elif dtype == "image":
            pq = _require("pyarrow.parquet")
            table = pq.read_table(
                str(ep.data_file),
                columns=[feature, "episode_index"],
                filters=[("episode_index", "==", episode)],
            )
            cells = table.column(feature).to_pylist()
            frames = np.stack([decode_png(c["bytes"], f"{ep.data_file}: {feature}") for c in cells])
        else:
            raise DataError(f"{self.path}: feature {feature!r} has dtype {dtype!r}, not an image or video")
        shape = tuple(self.features[feature].get("shape", frames.shape[1:]))
        if frames.shape != (ep.length, *shape):
            raise DataError(
                f"{self.path}: {feature!r} of episode {episode} decodes to {list(frames.shape)}, "
                f"info.json says [{ep.length}, {', '.join(map(str, shape))}]"
            )
        self._cache[(episode, feature)] = frames
        self._cached_bytes += frames.nbytes
        while len(self._cache) > 1 and self._cached_bytes > self.cache_mb * 2**20:
            self._cached_bytes -= self._cache.popitem(last=False)[1].nbytes
        return frames

    def _video(self, path: Path, feature: str) -> VideoReader:
        reader = self._videos.get(path)
        if reader is None or reader._pid != os.getpid():  # a forked worker opens its own
            if not path.is_file():
                raise DataError(f"{self.path}: video {path} of {feature!r} does not exist")
            reader = self._videos[path] = VideoReader(path)
        return reader

    def frames(self, episode_name: str, key: str, steps: np.ndarray) -> np.ndarray:
        """``image_windows.FrameSource``: ``key``'s frames at ``steps`` of ``episode_name`` (``episode_<i>``),
        from the episode decoded once (then cached)."""
        return self.episode_frames(image_feature(key), _demo_position(episode_name, str(self.path)))[steps]

    # -- what training reads: the same DemoFile as the robomimic reader --

    def default_obs_keys(self) -> list[str]:
        """Our folders: the state parts; others: every non-image ``observation.*`` feature, in info order."""
        if self.state_parts:
            return [k for k, _ in self.state_parts]
        keys = [
            k
            for k, f in self.features.items()
            if k.startswith("observation.") and k not in self.image_features
        ]
        if not keys:
            raise DataError(
                f"{self.path}: no observation.* state features; features: {sorted(self.features)}"
            )
        return keys

    def state_values(self, key: str) -> np.ndarray:
        """``[total_frames, n]`` float32 of a state key: a feature, or one of ``state_parts`` (a slice)."""
        parts = dict(self.state_parts)
        if key in parts and key not in self.features:
            start = sum(n for k, n in self.state_parts[: [k for k, _ in self.state_parts].index(key)])
            return self.column(STATE)[:, start : start + parts[key]]
        self._check_feature(key)
        if key in self.image_features:
            raise DataError(
                f"{self.path}: {key!r} is an image feature; image observations are read through the image "
                "windows, not concatenated into the state vector"
            )
        values = self.column(key)
        return values.reshape(len(values), -1).astype(np.float32)

    def read(self, obs_keys: list[str] | None = None, action_key: str = ACTION) -> DemoFile:
        """The folder as a :class:`DemoFile` (episodes ``episode_<i>``), images through this folder's
        :meth:`frames`.  In our folders ``observation.state`` expands to its parts and image features are
        named as the env names them (``agentview_image``), so a policy trained here runs on the env.
        DataError for a missing feature or non-finite values."""
        keys = list(obs_keys) if obs_keys is not None else self.default_obs_keys()
        if not keys:
            raise DataError(f"{self.path}: no observation keys chosen; features: {sorted(self.features)}")
        if self.state_parts:
            parts = [n for n, _ in self.state_parts]
            keys = [p for k in keys for p in (parts if k == STATE else [k])]
            keys = [robomimic_image_key(k) if k.startswith(IMAGES_PREFIX) else k for k in keys]
        state_keys, image_keys = split_keys(keys)
        shapes = {}
        for key in image_keys:
            feature = image_feature(key)
            self._check_feature(feature)
            if feature not in self.image_features:
                raise DataError(f"{self.path}: {feature!r} is not an image or video feature")
            shapes[key] = tuple(int(n) for n in self.features[feature]["shape"])
        self._check_feature(action_key)
        actions = self.column(action_key)
        actions = actions.reshape(len(actions), -1).astype(np.float32)
        obs = (
            np.concatenate([self.state_values(k) for k in state_keys], axis=1)
            if state_keys
            else np.zeros((len(actions), 0), np.float32)
        )
        episodes = []
        for ep in self.episodes:
            rows = slice(ep.from_index, ep.to_index)
            for label, array in (("obs", obs[rows]), ("actions", actions[rows])):
                if not np.isfinite(array).all():
                    raise DataError(
                        f"{self.path}: episode {ep.index} has non-finite values (NaN/inf) in its {label}"
                    )
            episodes.append(Episode(name=f"episode_{ep.index}", obs=obs[rows], actions=actions[rows]))
        return DemoFile(
            path=str(self.path),
            obs_keys=keys,
            episodes=episodes,
            env_args=self.env_args,
            masks=self.masks,
            image_shapes=shapes,
            frames=self if image_keys else None,
        )

    def close(self) -> None:
        """Drop the decoded frames and close the open videos (a later read reopens them)."""
        self._cache.clear()
        self._cached_bytes = 0
        for reader in self._videos.values():
            reader.close()
        self._videos.clear()

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_cache"], state["_cached_bytes"] = OrderedDict(), 0  # a worker starts with an empty cache
        state["_videos"] = {}  # and opens its own videos
        return state

    def records(self) -> Iterator[DemoRecord]:
        """Every episode as a writer's :class:`DemoRecord` (state parts split, images decoded)."""
        parts = self.state_parts or [(k, None) for k in self.default_obs_keys()]
        for ep in self.episodes:
            rows = slice(ep.from_index, ep.to_index)
            obs: dict[str, np.ndarray] = {}
            for key, _ in parts:
                name = key[len("observation.") :] if key.startswith("observation.") else key
                obs[name] = self.state_values(key)[rows]
            for feature in self.image_features:
                obs[robomimic_image_key(feature)] = self.episode_frames(feature, ep.index)
            rewards = self.column(REWARD)[rows].astype(np.float32) if REWARD in self.features else None
            dones = self.column(DONE)[rows].astype(np.uint8) if DONE in self.features else None
            attrs = self.episode_attrs[ep.index] if ep.index < len(self.episode_attrs) else {}
            yield DemoRecord(
                obs=obs,
                actions=self.column(ACTION)[rows].reshape(ep.length, -1).astype(np.float32),
                rewards=None if rewards is None else rewards.reshape(ep.length),
                dones=None if dones is None else dones.reshape(ep.length),
                attrs=attrs,
            )


def _to_numpy(column: Any, name: str, feature: Mapping[str, Any]) -> np.ndarray:
    """A parquet column (scalars or fixed-size lists) as ``[rows]`` / ``[rows, n]``."""
    pa = _require("pyarrow")
    column = column.combine_chunks() if hasattr(column, "combine_chunks") else column
    if (
        pa.types.is_list(column.type)
        or pa.types.is_fixed_size_list(column.type)
        or pa.types.is_large_list(column.type)
    ):
        n = int(np.prod(feature.get("shape", [1])))
        flat = column.flatten().to_numpy(zero_copy_only=False)
        if flat.size != len(column) * n:
            raise DataError(
                f"feature {name!r}: {flat.size} values in {len(column)} rows, shape {feature.get('shape')}"
            )
        return flat.reshape(len(column), n)
    if pa.types.is_struct(column.type):
        raise DataError(f"feature {name!r} holds images; read it with episode_frames")
    return column.to_numpy(zero_copy_only=False)


def read_lerobot(path: str | Path, obs_keys: list[str] | None = None) -> DemoFile:
    """Read a v3.0 folder the way ``read_demo_file`` reads an HDF5 file (see :meth:`LeRobotFolder.read`)."""
    return LeRobotFolder(path).read(obs_keys)
