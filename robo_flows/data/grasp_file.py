"""Grasp datasets for training: the HDF5 file written by ``robo-flows grasps generate``, as torch data.

File layout (``format_version`` 1, root attrs ``kind="grasps"``, ``descriptor_dim`` = K)::

    objects/kind        str [M]            primitive kind per object
    objects/dims        float [M, 3]       dimensions (zero padded)
    objects/descriptor  float32 [M, K]     conditioning descriptor per object
    object_index        int [N]            object of each grasp
    rotations           float [N, 3, 3]    TCP rotation in the object frame (+z approach, +y closing)
    translations        float [N, 3]       TCP position in the object frame, metres
    success             bool [N]           outcome of the simulated trial

This reader needs only h5py (no simulator).  Training pairs a grasp with its object's descriptor.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import h5py
import numpy as np
import torch
from torch.utils.data import Dataset

from robo_flows.geometry.validation import check_rotation_matrices

GRASP_FORMAT_VERSION = 1
GRASP_FILE_KIND = "grasps"


@dataclass(frozen=True)
class GraspData:
    """A grasp file in memory (shapes in the module docstring)."""

    path: str
    object_kind: tuple[str, ...]
    object_dims: np.ndarray
    object_descriptor: np.ndarray
    object_index: np.ndarray
    rotations: np.ndarray
    translations: np.ndarray
    success: np.ndarray

    @property
    def descriptor_dim(self) -> int:
        return int(self.object_descriptor.shape[1])

    @property
    def num_objects(self) -> int:
        return len(self.object_kind)


def read_grasp_file(path: str | os.PathLike) -> GraspData:
    """Read and validate a grasp file.  Raises FileNotFoundError, or ValueError naming the problem."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"grasp dataset {path!r} does not exist")
    try:
        f = h5py.File(path, "r")
    except OSError as exc:
        raise ValueError(f"{path} is not a readable HDF5 file ({exc})") from None
    with f:
        kind, version = (_plain(f.attrs.get(name)) for name in ("kind", "format_version"))
        if kind != GRASP_FILE_KIND:
            raise ValueError(f"{path} holds kind={kind!r}, expected a {GRASP_FILE_KIND!r} file")
        if version != GRASP_FORMAT_VERSION:
            raise ValueError(
                f"{path} has format_version={version!r}, this reader reads {GRASP_FORMAT_VERSION}"
            )
        names = ("objects/kind", "objects/dims", "objects/descriptor", "object_index", "rotations")
        names += ("translations", "success")
        missing = [n for n in names if n not in f]
        if missing:
            raise ValueError(f"{path} lacks dataset(s) {', '.join(missing)}")
        data = GraspData(
            path=path,
            object_kind=tuple(k.decode() if isinstance(k, bytes) else str(k) for k in f["objects/kind"][()]),
            object_dims=np.asarray(f["objects/dims"][()], dtype=np.float64),
            object_descriptor=np.asarray(f["objects/descriptor"][()], dtype=np.float32),
            object_index=np.asarray(f["object_index"][()], dtype=np.int64),
            rotations=np.asarray(f["rotations"][()], dtype=np.float32),
            translations=np.asarray(f["translations"][()], dtype=np.float32),
            success=np.asarray(f["success"][()], dtype=bool),
        )
        declared = _plain(f.attrs.get("descriptor_dim"))
    _check(data, declared)
    return data


def _plain(value):
    """An HDF5 attribute as a plain Python value (numpy scalars unwrapped, bytes decoded)."""
    value = value.item() if isinstance(value, np.generic) else value
    return value.decode() if isinstance(value, bytes) else value


def _check(d: GraspData, declared_dim) -> None:
    m, n = d.num_objects, len(d.success)
    expected = {
        "objects/dims": (d.object_dims, (m, 3)),
        "objects/descriptor": (d.object_descriptor, (m, declared_dim)),
        "object_index": (d.object_index, (n,)),
        "rotations": (d.rotations, (n, 3, 3)),
        "translations": (d.translations, (n, 3)),
    }
    for name, (value, shape) in expected.items():
        if value.shape != shape:
            raise ValueError(f"{d.path}: {name} has shape {list(value.shape)}, expected {list(shape)}")
    if n and (d.object_index.min() < 0 or d.object_index.max() >= m):
        raise ValueError(f"{d.path}: object_index must lie in [0, {m}), got values in "
                         f"[{d.object_index.min()}, {d.object_index.max()}]")  # fmt: skip
    for name, value in (("translations", d.translations), ("objects/descriptor", d.object_descriptor)):
        if not np.isfinite(value).all():
            raise ValueError(f"{d.path}: {name} holds NaN or inf")
    check_rotation_matrices(torch.from_numpy(d.rotations), f"{d.path}: rotations")


def split_objects(num_objects: int, valid_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Seeded split of object ids into (train, valid); valid gets round(fraction·M) objects (≥ 1 if > 0)."""
    if not 0.0 <= valid_fraction < 1.0:
        raise ValueError(f"valid_fraction must be in [0, 1), got {valid_fraction}")
    order = np.random.default_rng(seed).permutation(num_objects)
    n_valid = max(1, round(valid_fraction * num_objects)) if valid_fraction > 0 else 0
    if n_valid >= num_objects:
        raise ValueError(f"cannot hold out {n_valid} of {num_objects} objects and still train")
    return np.sort(order[n_valid:]), np.sort(order[:n_valid])


class GraspDataset(Dataset):
    """Grasps of the given objects (successful ones only with ``success_only``) as training items.

    Item ``i``: ``{"rotation": [3, 3], "translation": [3], "descriptor": [K]}`` float32 tensors.
    """

    def __init__(self, data: GraspData, objects: np.ndarray | None = None, success_only: bool = True) -> None:
        keep = (
            np.ones(len(data.success), dtype=bool) if objects is None else np.isin(data.object_index, objects)
        )
        if success_only:
            keep &= data.success
        self.data = data
        self.rows = np.flatnonzero(keep)
        self.rotations = torch.from_numpy(data.rotations[self.rows])
        self.translations = torch.from_numpy(data.translations[self.rows])
        self.descriptors = torch.from_numpy(data.object_descriptor[data.object_index[self.rows]])

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        return {
            "rotation": self.rotations[i],
            "translation": self.translations[i],
            "descriptor": self.descriptors[i],
        }
