"""Mesh objects: ``pybullet_data`` meshes by name and user meshes (``.obj``, ``.stl``, URDF), read by trimesh.

Names: ``"duck"``, ``"mug"``, ``"teddy"``, ``"bunny"`` (the named meshes) and ``"random_urdfs/NNN"``
(NNN = 000 … 999, procedurally generated). A plain name (a string) loads the pybullet_data URDF as it is, at
the file's own scale; the grasp datasets use :class:`MeshObject`, a mesh file with an explicit scale.

Object frame and units: those of the mesh file (for a URDF: its first collision mesh, with the URDF's
``scale``; a non-zero collision ``origin`` is rejected), times ``scale``.

**Scaling rule** (:func:`graspable_scale`, the same for every dataset object): one uniform scale such
that the middle of the three extents of the mesh's axis-aligned bounding box is ``GRASPABLE_EXTENT``
(5 cm). The smallest extent is then at most 5 cm, below the hand's 7 cm grasp width, so every object has a
side the hand can close across, and objects of any file units come out hand-sized.

Object split (:func:`mesh_split`): the 1000 random objects are split by a fixed seeded permutation into
train (800), validation (100) and held-out (100); held-out also holds every named mesh.
"""

from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass

import numpy as np
import pybullet_data

from robo_flows.errors import DataError

NAMED_MESHES: dict[str, str] = {
    "duck": "duck_vhacd.urdf",
    "mug": os.path.join("objects", "mug.urdf"),
    "teddy": "teddy_vhacd.urdf",
    "bunny": "bunny.obj",
}
"""The named pybullet_data meshes (all in the held-out split), by name: file relative to the data path."""
RANDOM_MESHES = 1000
GRASPABLE_EXTENT = 0.05
"""Middle bounding-box extent of every dataset object after scaling, metres (the scaling rule)."""
MESH_SUFFIXES = (".obj", ".stl", ".urdf")
SPLIT_SEED = 0
SPLIT_SIZES = {"train": 800, "val": 100, "held-out": 100}
_RANDOM = re.compile(r"random_urdfs/(\d{3})")


def mesh_urdf_path(name: str) -> str:
    """Absolute path of the pybullet_data file of mesh object ``name``; ValueError for unknown names."""
    match = _RANDOM.fullmatch(name)
    rel = os.path.join("random_urdfs", match[1], f"{match[1]}.urdf") if match else NAMED_MESHES.get(name)
    if rel is None:
        raise ValueError(
            f"unknown mesh object {name!r}; expected one of {', '.join(NAMED_MESHES)} or 'random_urdfs/NNN'"
        )
    path = os.path.join(pybullet_data.getDataPath(), rel)
    if not os.path.exists(path):
        raise ValueError(f"mesh object {name!r}: {path} does not exist in this pybullet_data")
    return path


@dataclass(frozen=True)
class MeshObject:
    """A mesh file at a uniform scale; its object frame is the file's.  Picklable (worker processes).

    name: the pybullet_data name or the file given; mesh_file: absolute path of the mesh PyBullet and
    trimesh read; scale: metres per file unit (a URDF's own scale included).
    """

    name: str
    mesh_file: str
    scale: float

    @property
    def spec(self) -> str:
        return f"mesh:{self.name}@{self.scale:.6g}"


def _urdf_mesh(path: str) -> tuple[str, float]:
    """(absolute mesh path, uniform scale) of a URDF's first collision mesh (else its first visual mesh)."""
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as exc:
        raise DataError(f"{path} is not a readable URDF ({exc})") from None
    for tag in ("collision", "visual"):
        for element in root.iter(tag):
            mesh = element.find("geometry/mesh")
            if mesh is None or not mesh.get("filename"):
                continue
            origin = element.find("origin")
            offsets = [origin.get(k, "0 0 0") for k in ("xyz", "rpy")] if origin is not None else []
            if any(float(v) != 0 for o in offsets for v in o.split()):
                raise DataError(f"{path}: a {tag} mesh with a non-zero origin is not supported ({offsets})")
            scale = [float(v) for v in mesh.get("scale", "1 1 1").split()]
            if len(set(scale)) != 1:
                raise DataError(f"{path}: only uniform mesh scales are supported, got {scale}")
            filename = mesh.get("filename").removeprefix("package://")
            return os.path.join(os.path.dirname(os.path.abspath(path)), filename), scale[0]
    raise DataError(f"{path} has no collision or visual <mesh filename=...> to load")


def resolve_mesh(source: str, scale: float = 1.0) -> MeshObject:
    """A named mesh (``"duck"``, ``"random_urdfs/042"``) or a file (.obj, .stl, .urdf) at ``scale``
    times its file units.  Raises FileNotFoundError, or DataError naming what is wrong with the file."""
    if not (np.isfinite(scale) and scale > 0):
        raise DataError(f"mesh scale must be a finite number > 0, got {scale}")
    path = mesh_urdf_path(source) if source in NAMED_MESHES or _RANDOM.fullmatch(source) else source
    if not os.path.isfile(path):
        raise FileNotFoundError(f"mesh file {path!r} does not exist")
    suffix = os.path.splitext(path)[1].lower()
    if suffix not in MESH_SUFFIXES:
        raise DataError(f"{path}: unsupported mesh file type {suffix!r}; expected one of {MESH_SUFFIXES}")
    file_scale = 1.0
    if suffix == ".urdf":
        path, file_scale = _urdf_mesh(path)
        if not os.path.isfile(path):
            raise FileNotFoundError(f"mesh file {path!r} named by the URDF does not exist")
    return MeshObject(source, os.path.abspath(path), float(scale * file_scale))


def load_trimesh(obj: MeshObject):
    """The object's mesh as a ``trimesh.Trimesh`` in metres (object frame), checked: faces, finite vertices.

    Raises DataError for files trimesh cannot read, without faces, or with NaN / inf vertices.
    """
    import trimesh

    try:
        mesh = trimesh.load(obj.mesh_file, force="mesh", process=False)  # keep what the file holds
    except Exception as exc:  # trimesh raises many types for corrupt files
        raise DataError(f"{obj.mesh_file} is not a readable mesh ({type(exc).__name__}: {exc})") from None
    if not isinstance(mesh, trimesh.Trimesh) or len(mesh.faces) == 0:
        raise DataError(f"{obj.mesh_file} holds no triangles (an empty or non-mesh file)")
    if not np.isfinite(mesh.vertices).all():
        raise DataError(f"{obj.mesh_file} has NaN or inf vertex coordinates")
    mesh.apply_scale(obj.scale)
    return mesh


def graspable_scale(obj: MeshObject) -> MeshObject:
    """``obj`` rescaled by the scaling rule (module docstring): middle bounding-box extent = 5 cm."""
    extents = np.sort(load_trimesh(obj).extents)
    if extents[1] <= 0:
        raise DataError(f"{obj.mesh_file} is degenerate (bounding-box extents {extents.tolist()})")
    return MeshObject(obj.name, obj.mesh_file, obj.scale * GRASPABLE_EXTENT / float(extents[1]))


def mesh_split(split: str) -> list[str]:
    """Names of the mesh objects of ``split`` ("train", "val" or "held-out"; module docstring)."""
    if split not in SPLIT_SIZES:
        raise ValueError(f"unknown mesh split {split!r}; expected one of {', '.join(SPLIT_SIZES)}")
    order = np.random.default_rng(SPLIT_SEED).permutation(RANDOM_MESHES)
    start = {"train": 0, "val": SPLIT_SIZES["train"], "held-out": SPLIT_SIZES["train"] + SPLIT_SIZES["val"]}
    ids = np.sort(order[start[split] : start[split] + SPLIT_SIZES[split]])
    names = [f"random_urdfs/{i:03d}" for i in ids]
    return (list(NAMED_MESHES) + names) if split == "held-out" else names
