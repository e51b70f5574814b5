"""The grasp file: schema, reader and the one writer (HDF5, written by ``robo-flows grasps generate``).

Layout (``format_version`` 1)::

    /                   attrs: format_version=1, kind="grasps", descriptor_dim=K, and whatever the writer
                               adds (the generator: seed, held_out, noise_pos, noise_deg, trial_config JSON)
    objects/kind        str [M]            primitive kind per object ("box" | "cylinder" | "sphere")
    objects/dims        float64 [M, 3]     dimensions, zero padded
    objects/descriptor  float32 [M, K]     conditioning descriptor per object
    object_index        int64 [N]          row of objects/ each grasp belongs to
    rotations           float32 [N, 3, 3]  TCP rotation in the object frame (columns: gripper x, y closing,
                                           z approach)
    translations        float32 [N, 3]     TCP position in the object frame, metres
    success             bool [N]           outcome of the simulated trial

Optional, for mesh objects and point-cloud models (written together or not at all)::

    objects/source      str [M]            what the object was loaded from: a pybullet_data name or a mesh
                                           file, or the primitive spec
    objects/scale       float64 [M]        metres per mesh-file unit (1 for primitives)
    objects/points      float32 [M, P, 3]  full point cloud per object (object frame, metres)
    objects/partial_points float32 [M, V, P, 3]  V single-camera point clouds per object

Mesh objects have kind "mesh", their bounding-box extents as dims, and K = 0 descriptor features.

Only h5py is needed (no simulator).  The writer validates what it is given with the reader's checks and
writes atomically (temp file + rename, ``robo_flows.atomic.atomic_write``), so a file it wrote always reads.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import torch

from robo_flows.atomic import atomic_write
from robo_flows.errors import DataError
from robo_flows.geometry.validation import check_rotation_matrices

GRASP_FORMAT_VERSION = 1
GRASP_FILE_KIND = "grasps"
_RESERVED_ATTRS = ("format_version", "kind", "descriptor_dim")


@dataclass(frozen=True)
class GraspData:
    """A grasp file in memory (shapes in the module docstring); ``path`` names it in error messages."""

    path: str
    object_kind: tuple[str, ...]
    object_dims: np.ndarray
    object_descriptor: np.ndarray
    object_index: np.ndarray
    rotations: np.ndarray
    translations: np.ndarray
    success: np.ndarray
    object_source: tuple[str, ...] | None = None
    object_scale: np.ndarray | None = None
    object_points: np.ndarray | None = None
    object_partial_points: np.ndarray | None = None

    @property
    def has_clouds(self) -> bool:
        return self.object_points is not None

    @property
    def descriptor_dim(self) -> int:
        return int(self.object_descriptor.shape[1])

    @property
    def num_objects(self) -> int:
        return len(self.object_kind)


def read_grasp_file(path: str | os.PathLike) -> GraspData:
    """Read and validate a grasp file.  Raises FileNotFoundError, or DataError naming the problem."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"grasp dataset {path!r} does not exist")
    try:
        f = h5py.File(path, "r")
    except OSError as exc:
        raise DataError(f"{path} is not a readable HDF5 file ({exc})") from None
    with f:
        kind, version = (_plain(f.attrs.get(name)) for name in ("kind", "format_version"))
        if kind != GRASP_FILE_KIND:
            raise DataError(f"{path} holds kind={kind!r}, expected a {GRASP_FILE_KIND!r} file")
        if version != GRASP_FORMAT_VERSION:
            raise DataError(
                f"{path} has format_version={version!r}, this reader reads {GRASP_FORMAT_VERSION}"
            )
        names = ("objects/kind", "objects/dims", "objects/descriptor", "object_index", "rotations")
        names += ("translations", "success")
        missing = [n for n in names if n not in f]
        if missing:
            raise DataError(f"{path} lacks dataset(s) {', '.join(missing)}")
        data = GraspData(
            path=path,
            object_kind=tuple(k.decode() if isinstance(k, bytes) else str(k) for k in f["objects/kind"][()]),
            object_dims=np.asarray(f["objects/dims"][()], dtype=np.float64),
            object_descriptor=np.asarray(f["objects/descriptor"][()], dtype=np.float32),
            object_index=np.asarray(f["object_index"][()], dtype=np.int64),
            rotations=np.asarray(f["rotations"][()], dtype=np.float32),
            translations=np.asarray(f["translations"][()], dtype=np.float32),
            success=np.asarray(f["success"][()], dtype=bool),
            **_read_clouds(f, path),
        )
        declared = _plain(f.attrs.get("descriptor_dim"))
    _check(data, declared)
    return data


CLOUD_DATASETS = ("objects/source", "objects/scale", "objects/points", "objects/partial_points")


def _read_clouds(f: h5py.File, path: str) -> dict[str, Any]:
    """The optional object clouds: all four datasets or none."""
    present = [n for n in CLOUD_DATASETS if n in f]
    if not present:
        return {}
    if len(present) != len(CLOUD_DATASETS):
        missing = sorted(set(CLOUD_DATASETS) - set(present))
        raise DataError(f"{path} has {present} but lacks {missing} (the object clouds come together)")
    return {
        "object_source": tuple(
            s.decode() if isinstance(s, bytes) else str(s) for s in f["objects/source"][()]
        ),
        "object_scale": np.asarray(f["objects/scale"][()], dtype=np.float64),
        "object_points": np.asarray(f["objects/points"][()], dtype=np.float32),
        "object_partial_points": np.asarray(f["objects/partial_points"][()], dtype=np.float32),
    }


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
            raise DataError(f"{d.path}: {name} has shape {list(value.shape)}, expected {list(shape)}")
    if n and (d.object_index.min() < 0 or d.object_index.max() >= m):
        raise DataError(f"{d.path}: object_index must lie in [0, {m}), got values in "
                         f"[{d.object_index.min()}, {d.object_index.max()}]")  # fmt: skip
    finite = [("translations", d.translations), ("objects/descriptor", d.object_descriptor)]
    if d.has_clouds:
        points, partial = d.object_points, d.object_partial_points
        if points.ndim != 3 or points.shape[0] != m or points.shape[2] != 3:
            raise DataError(f"{d.path}: objects/points has shape {list(points.shape)}, expected [{m}, P, 3]")
        if partial.ndim != 4 or partial.shape[0] != m or partial.shape[2:] != points.shape[1:]:
            raise DataError(
                f"{d.path}: objects/partial_points has shape {list(partial.shape)}, expected "
                f"[{m}, V, {points.shape[1]}, 3]"
            )
        if len(d.object_source) != m or d.object_scale.shape != (m,):
            raise DataError(f"{d.path}: objects/source and objects/scale must hold {m} entries")
        finite += [("objects/points", points), ("objects/partial_points", partial)]
    for name, value in finite:
        if not np.isfinite(value).all():
            raise DataError(f"{d.path}: {name} holds NaN or inf")
    try:
        check_rotation_matrices(torch.from_numpy(d.rotations), f"{d.path}: rotations")
    except ValueError as exc:
        raise DataError(str(exc)) from None


def write_grasp_file(
    path: str | os.PathLike,
    *,
    object_kind: tuple[str, ...] | list[str],
    object_dims: np.ndarray,
    object_descriptor: np.ndarray,
    object_index: np.ndarray,
    rotations: np.ndarray,
    translations: np.ndarray,
    success: np.ndarray,
    object_source: tuple[str, ...] | list[str] | None = None,
    object_scale: np.ndarray | None = None,
    object_points: np.ndarray | None = None,
    object_partial_points: np.ndarray | None = None,
    attrs: Mapping[str, Any] | None = None,
) -> Path:
    """Write a grasp file (layout in the module docstring) atomically at ``path``, replacing any file there.

    The arrays are cast to the layout's dtypes and checked as the reader checks them (DataError naming the
    problem, nothing written).  The four object-cloud arrays are given together or not at all.
    ``attrs`` are extra root attributes (scalars or strings); the format's own
    (format_version, kind, descriptor_dim) are set here and may not be passed.  Callers that must not
    overwrite a user's file check first (``robo_flows.commands.output.claim_output``).
    """
    extra = dict(attrs or {})
    clash = [k for k in _RESERVED_ATTRS if k in extra]
    if clash:
        raise DataError(f"grasp file attrs {clash} are set by the writer, not by the caller")
    path = Path(path)
    descriptor = np.asarray(object_descriptor, dtype=np.float32)
    if descriptor.ndim != 2:
        raise DataError(f"{path}: objects/descriptor must be [M, K], got shape {list(descriptor.shape)}")
    data = GraspData(
        path=str(path),
        object_kind=tuple(str(k) for k in object_kind),
        object_dims=np.asarray(object_dims, dtype=np.float64),
        object_descriptor=descriptor,
        object_index=np.asarray(object_index, dtype=np.int64),
        rotations=np.asarray(rotations, dtype=np.float32),
        translations=np.asarray(translations, dtype=np.float32),
        success=np.asarray(success, dtype=bool),
        **_cloud_arrays(path, object_source, object_scale, object_points, object_partial_points),
    )
    _check(data, data.descriptor_dim)
    arrays = {
        "objects/kind": np.array(data.object_kind, dtype=h5py.string_dtype()),
        "objects/dims": data.object_dims,
        "objects/descriptor": data.object_descriptor,
        "object_index": data.object_index,
        "rotations": data.rotations,
        "translations": data.translations,
        "success": data.success,
    }
    if data.has_clouds:
        arrays["objects/source"] = np.array(data.object_source, dtype=h5py.string_dtype())
        arrays["objects/scale"] = data.object_scale
        arrays["objects/points"] = data.object_points
        arrays["objects/partial_points"] = data.object_partial_points
    with atomic_write(path) as tmp, h5py.File(tmp, "w") as f:
        f.attrs.update(
            {"format_version": GRASP_FORMAT_VERSION, "kind": GRASP_FILE_KIND,
             "descriptor_dim": data.descriptor_dim, **extra}
        )  # fmt: skip
        for name, value in arrays.items():
            f.create_dataset(name, data=value)
    return path


def _cloud_arrays(path: Path, source, scale, points, partial) -> dict[str, Any]:
    given = [v is not None for v in (source, scale, points, partial)]
    if not any(given):
        return {}
    if not all(given):
        raise DataError(f"{path}: object_source, object_scale, object_points and object_partial_points come "
                        "together (some were given, some not)")  # fmt: skip
    return {
        "object_source": tuple(str(s) for s in source),
        "object_scale": np.asarray(scale, dtype=np.float64),
        "object_points": np.asarray(points, dtype=np.float32),
        "object_partial_points": np.asarray(partial, dtype=np.float32),
    }
