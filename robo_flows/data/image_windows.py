"""Camera images of a demonstration file, read lazily: per-key frame sources and an LRU cache of frames.

A dataset window at step ``t`` needs the images of steps ``t - obs_horizon + 1 .. t`` (clipped to the
episode, ``robo_flows.data.windows``).  Holding every frame of a large file in memory is not an option
(1000 demos x 2 cameras x 84 x 84 x 3 bytes is gigabytes), so the frames stay in the file and are read when a
batch asks for them:

* a :class:`FrameSource` returns ``uint8 [len(steps), H, W, 3]`` for ``(episode, key, steps)``.  This is the
  one seam between a file format and the windows: :class:`HDF5Frames` reads the robomimic layout
  (``data/<episode>/obs/<key>``, one compressed frame per chunk, so a read decodes only the frames asked for);
  another format (the LeRobot reader) implements the same two methods;
* :class:`ImageWindows` gathers the frames of a whole batch of windows, reads each distinct frame once (so
  nothing is decoded twice per batch, whatever the overlap of the windows), and keeps recently read frames
  in an LRU cache bounded by ``cache_mb`` megabytes per process.

Files are opened lazily, per process: after a ``fork`` (DataLoader workers) a source reopens its file in the
child, and a pickled source (spawned workers) carries only its path, so every worker has its own handle and
its own cache.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Sequence
from typing import Protocol

import h5py
import numpy as np

from robo_flows.errors import DataError

IMAGE_SUFFIX = "_image"
LEROBOT_IMAGE_PREFIX = "observation.images."
DEFAULT_CACHE_MB = 256.0


def is_image_key(key: str) -> bool:
    """A camera-image observation key: robomimic's ``<camera>_image`` or LeRobot's
    ``observation.images.<camera>``."""
    return key.endswith(IMAGE_SUFFIX) or key.startswith(LEROBOT_IMAGE_PREFIX)


def split_keys(keys: Sequence[str]) -> tuple[list[str], list[str]]:
    """``(state_keys, image_keys)`` of ``keys``, each in the given order."""
    return [k for k in keys if not is_image_key(k)], [k for k in keys if is_image_key(k)]


class FrameSource(Protocol):
    """Where the frames of one demonstration file come from (one implementation per file format)."""

    def frames(self, episode: str, key: str, steps: np.ndarray) -> np.ndarray:
        """``uint8 [len(steps), H, W, 3]``: the frames of camera ``key`` at ``steps`` (increasing, distinct)
        of ``episode``."""
        ...

    def close(self) -> None:
        """Release open files (a later ``frames`` call reopens them)."""
        ...


class HDF5Frames:
    """Frames of a robomimic HDF5 file (``data/<episode>/obs/<key>``, uint8 ``[T, H, W, 3]``)."""

    def __init__(self, path: str) -> None:
        self.path = str(path)
        self._file: h5py.File | None = None
        self._pid: int | None = None

    def _handle(self) -> h5py.File:
        if self._file is None or self._pid != os.getpid():  # never use a handle inherited across a fork
            self._file = h5py.File(self.path, "r")
            self._pid = os.getpid()
        return self._file

    def frames(self, episode: str, key: str, steps: np.ndarray) -> np.ndarray:
        dataset = self._handle()["data"][episode]["obs"][key]
        steps = np.asarray(steps, dtype=np.int64)
        if len(steps) == 0:
            return np.zeros((0, *dataset.shape[1:]), dtype=np.uint8)
        if np.any(np.diff(steps) <= 0) or steps[0] < 0 or steps[-1] >= len(dataset):
            raise DataError(
                f"{self.path}: frames of {episode}/{key} need increasing distinct steps in "
                f"[0, {len(dataset)}), got {steps.tolist()[:8]}"
            )
        return np.asarray(dataset[steps], dtype=np.uint8)

    def close(self) -> None:
        if self._file is not None and self._pid == os.getpid():
            self._file.close()
        self._file, self._pid = None, None

    def __getstate__(self) -> dict[str, object]:
        return {"path": self.path, "_file": None, "_pid": None}


class ImageWindows:
    """Image windows ``uint8 [obs_horizon, H, W, 3]`` per key, read from a :class:`FrameSource` with an LRU
    cache of at most ``cache_mb`` megabytes of frames (0 disables it).

    ``rows`` maps a row of the dataset's concatenated episodes to ``(episode index, step)``; the dataset's
    window indices (``windows.window_indices``) are such rows.
    """

    def __init__(
        self,
        source: FrameSource,
        keys: Sequence[str],
        episodes: Sequence[str],
        lengths: Sequence[int],
        shapes: dict[str, tuple[int, ...]],
        cache_mb: float = DEFAULT_CACHE_MB,
    ) -> None:
        if cache_mb < 0:
            raise ValueError(f"cache_mb must be >= 0, got {cache_mb}")
        self.source = source
        self.keys = list(keys)
        self.episodes = list(episodes)
        self.shapes = {k: tuple(int(s) for s in shapes[k]) for k in self.keys}
        self.cache_mb = float(cache_mb)
        lengths = np.asarray(lengths, dtype=np.int64)
        self._row_episode = np.repeat(np.arange(len(lengths)), lengths)
        self._row_step = np.arange(int(lengths.sum())) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        self._cache: OrderedDict[tuple[str, int], np.ndarray] = OrderedDict()
        self._cached_bytes = 0
        self.reads = 0  # frames read from the source (cache misses), for tests and measurements

    def __getstate__(self) -> dict[str, object]:
        state = dict(self.__dict__)
        state["_cache"], state["_cached_bytes"] = OrderedDict(), 0  # a worker starts with an empty cache
        return state

    @property
    def cached_bytes(self) -> int:
        return self._cached_bytes

    def gather(self, rows: np.ndarray) -> dict[str, np.ndarray]:
        """``{key: uint8 [*rows.shape, H, W, 3]}`` for an array of dataset rows (e.g. ``[B, obs_horizon]``),
        every distinct frame read at most once."""
        rows = np.asarray(rows, dtype=np.int64)
        unique, inverse = np.unique(rows.reshape(-1), return_inverse=True)
        out = {}
        for key in self.keys:
            frames = np.empty((len(unique), *self.shapes[key]), dtype=np.uint8)
            self._fill(key, unique, frames)
            out[key] = frames[inverse].reshape(*rows.shape, *self.shapes[key])
        return out

    def _fill(self, key: str, unique: np.ndarray, frames: np.ndarray) -> None:
        missing: list[int] = []
        for i, row in enumerate(unique.tolist()):
            hit = self._cache.get((key, row))
            if hit is None:
                missing.append(i)
            else:
                self._cache.move_to_end((key, row))
                frames[i] = hit
        if not missing:
            return
        positions = np.asarray(missing)
        episodes = self._row_episode[unique[positions]]
        for e in np.unique(episodes):  # one read per episode, its steps in increasing order
            at = positions[episodes == e]
            frames[at] = self.source.frames(self.episodes[e], key, self._row_step[unique[at]])
            self.reads += len(at)
        for i in missing:
            self._remember((key, int(unique[i])), frames[i])

    def _remember(self, item: tuple[str, int], frame: np.ndarray) -> None:
        limit = self.cache_mb * 1e6
        if frame.nbytes > limit:
            return
        self._cache[item] = frame.copy()
        self._cached_bytes += frame.nbytes
        while self._cached_bytes > limit:
            _, old = self._cache.popitem(last=False)
            self._cached_bytes -= old.nbytes

    def close(self) -> None:
        self.source.close()
