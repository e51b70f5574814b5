"""Mesh objects: files load the same whatever their format, broken files are refused naming the problem,
one scaling rule, and the object split."""

from __future__ import annotations

import numpy as np
import pytest
import trimesh
from robo_flows_envs.grasp_sim.meshes import (
    GRASPABLE_EXTENT,
    NAMED_MESHES,
    graspable_scale,
    load_trimesh,
    mesh_split,
    resolve_mesh,
)

from robo_flows.errors import DataError


@pytest.fixture
def box_files(tmp_path):
    box = trimesh.creation.box(extents=(2.0, 3.0, 4.0))
    box.export(tmp_path / "box.obj")
    box.export(tmp_path / "box.stl")
    (tmp_path / "box.urdf").write_text(
        '<robot name="b"><link name="l"><collision><geometry><mesh filename="box.obj" scale="0.5 0.5 0.5"/>'
        "</geometry></collision></link></robot>"
    )
    return tmp_path


def test_obj_stl_and_urdf_load_in_the_file_frame_and_units(box_files):
    cases = [("box.obj", 1.0, (2, 3, 4)), ("box.stl", 0.01, (0.02, 0.03, 0.04)),
             ("box.urdf", 1.0, (1, 1.5, 2)), ("box.urdf", 0.1, (0.1, 0.15, 0.2))]  # fmt: skip
    for name, scale, expected in cases:
        mesh = load_trimesh(resolve_mesh(str(box_files / name), scale))
        np.testing.assert_allclose(mesh.extents, expected, rtol=1e-6)
        np.testing.assert_allclose(mesh.bounds.mean(0), 0.0, atol=1e-9)  # the file's own origin is kept


def test_broken_files_are_rejected_naming_the_problem(tmp_path):
    (tmp_path / "junk.obj").write_text("this is not a mesh\n")
    (tmp_path / "nan.obj").write_text("v nan 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n")
    (tmp_path / "empty.urdf").write_text("<robot name='r'><link name='l'/></robot>")
    (tmp_path / "bad.urdf").write_text("<robot")
    (tmp_path / "box.ply").write_text("ply")
    with pytest.raises(DataError, match="no triangles"):
        load_trimesh(resolve_mesh(str(tmp_path / "junk.obj")))
    with pytest.raises(DataError, match="NaN or inf"):
        load_trimesh(resolve_mesh(str(tmp_path / "nan.obj")))
    with pytest.raises(DataError, match="no collision or visual"):
        resolve_mesh(str(tmp_path / "empty.urdf"))
    with pytest.raises(DataError, match="not a readable URDF"):
        resolve_mesh(str(tmp_path / "bad.urdf"))
    with pytest.raises(DataError, match="unsupported mesh file type '.ply'"):
        resolve_mesh(str(tmp_path / "box.ply"))
    with pytest.raises(FileNotFoundError, match="does not exist"):
        resolve_mesh(str(tmp_path / "missing.obj"))
    with pytest.raises(DataError, match="scale must be a finite number > 0"):
        resolve_mesh(str(tmp_path / "junk.obj"), scale=0.0)


@pytest.mark.parametrize("name", ["duck", "teddy", "random_urdfs/000", "random_urdfs/999"])
def test_scaling_rule_puts_the_middle_extent_at_5_cm(name):
    mesh = load_trimesh(graspable_scale(resolve_mesh(name)))
    extents = np.sort(mesh.extents)
    assert extents[1] == pytest.approx(GRASPABLE_EXTENT, rel=1e-6)
    assert extents[0] <= GRASPABLE_EXTENT


def test_split_is_disjoint_and_every_named_mesh_is_held_out():
    splits = {name: set(mesh_split(name)) for name in ("train", "val", "held-out")}
    assert [len(s) for s in splits.values()] == [800, 100, 100 + len(NAMED_MESHES)]
    assert not (splits["train"] & splits["val"] or splits["train"] & splits["held-out"])
    assert not splits["val"] & splits["held-out"] and set(NAMED_MESHES) <= splits["held-out"]
    assert mesh_split("train") == mesh_split("train")
    with pytest.raises(ValueError, match="unknown mesh split"):
        mesh_split("test")
