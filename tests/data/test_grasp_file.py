"""The grasp file (robo_flows.data.grasp_file): what the writer writes the reader returns; bad files and bad
arrays are rejected naming the problem."""

from __future__ import annotations

import h5py
import numpy as np
import pytest
import torch

from robo_flows.data.grasp_file import GRASP_FORMAT_VERSION, read_grasp_file, write_grasp_file
from robo_flows.errors import DataError
from robo_flows.geometry import random_rotations


def _arrays(objects: int = 3, grasps: int = 5, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    n = objects * grasps
    return {
        "object_kind": ["box", "cylinder", "sphere"][:objects],
        "object_dims": rng.uniform(0.02, 0.06, (objects, 3)),
        "object_descriptor": rng.normal(size=(objects, 6)),
        "object_index": np.repeat(np.arange(objects), grasps),
        "rotations": random_rotations(n, generator=torch.Generator().manual_seed(seed), dtype=torch.float64),
        "translations": rng.normal(0, 0.02, (n, 3)),
        "success": rng.random(n) < 0.5,
    }


@pytest.fixture
def grasp_path(tmp_path):
    path = tmp_path / "grasps.h5"
    write_grasp_file(path, **_arrays(), attrs={"seed": 7, "note": "made by a test"})
    return path


def test_reader_returns_what_the_writer_wrote(grasp_path):
    arrays = _arrays()
    data = read_grasp_file(grasp_path)
    assert data.object_kind == ("box", "cylinder", "sphere") and data.descriptor_dim == 6
    np.testing.assert_array_equal(data.object_index, arrays["object_index"])
    np.testing.assert_array_equal(data.success, arrays["success"])
    np.testing.assert_allclose(data.rotations, arrays["rotations"].numpy(), atol=1e-7)
    np.testing.assert_allclose(data.translations, arrays["translations"], atol=1e-8)
    assert data.rotations.dtype == np.float32 and data.object_dims.dtype == np.float64
    with h5py.File(grasp_path, "r") as f:
        attrs = dict(f.attrs)
    assert attrs["format_version"] == GRASP_FORMAT_VERSION and attrs["kind"] == "grasps"
    assert attrs["descriptor_dim"] == 6 and attrs["seed"] == 7 and attrs["note"] == "made by a test"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"translations": np.zeros((4, 3))}, r"translations has shape \[4, 3\], expected \[15, 3\]"),
        ({"object_index": np.full(15, 3)}, r"object_index must lie in \[0, 3\)"),
        ({"rotations": np.tile(2 * np.eye(3), (15, 1, 1))}, "not orthonormal"),
        ({"translations": np.full((15, 3), np.nan)}, "translations holds NaN or inf"),
        ({"object_descriptor": np.zeros(3)}, r"must be \[M, K\]"),
    ],
)
def test_writer_refuses_bad_arrays_and_writes_nothing(tmp_path, change, message):
    with pytest.raises(DataError, match=message):
        write_grasp_file(tmp_path / "bad.h5", **{**_arrays(), **change})
    assert not any(tmp_path.iterdir())


def test_writer_keeps_the_format_attributes_its_own(tmp_path):
    with pytest.raises(DataError, match="set by the writer"):
        write_grasp_file(tmp_path / "g.h5", **_arrays(), attrs={"format_version": 2})


@pytest.mark.parametrize(
    ("attr", "value", "message"),
    [("kind", "demos", "kind='demos', expected a 'grasps' file"), ("format_version", 2, "format_version=2")],
)
def test_reader_rejects_another_kind_or_version(grasp_path, attr, value, message):
    with h5py.File(grasp_path, "r+") as f:
        f.attrs[attr] = value
    with pytest.raises(DataError, match=message):
        read_grasp_file(grasp_path)


def test_reader_names_missing_datasets_and_corrupt_rotations(grasp_path):
    with h5py.File(grasp_path, "r+") as f:
        f["rotations"][0] = 2 * np.eye(3)
    with pytest.raises(DataError, match=r"rotations\[0\] is not orthonormal"):
        read_grasp_file(grasp_path)
    with h5py.File(grasp_path, "r+") as f:
        del f["success"]
    with pytest.raises(DataError, match="lacks dataset"):
        read_grasp_file(grasp_path)


def test_missing_and_non_hdf5_files(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_grasp_file(tmp_path / "nope.h5")
    (tmp_path / "text.h5").write_text("not hdf5")
    with pytest.raises(DataError, match="not a readable HDF5 file"):
        read_grasp_file(tmp_path / "text.h5")


def _clouds(objects: int = 3, points: int = 16, views: int = 2) -> dict:
    rng = np.random.default_rng(5)
    return {
        "object_source": ["duck", "random_urdfs/001", "box:0.04,0.05,0.1"][:objects],
        "object_scale": np.array([0.03, 0.01, 1.0])[:objects],
        "object_points": rng.normal(0, 0.02, (objects, points, 3)),
        "object_partial_points": rng.normal(0, 0.02, (objects, views, points, 3)),
    }


def test_object_clouds_round_trip_and_come_together(tmp_path):
    path = tmp_path / "clouds.h5"
    clouds = _clouds()
    write_grasp_file(path, **_arrays(), **clouds)
    data = read_grasp_file(path)
    assert data.has_clouds and data.object_source == tuple(clouds["object_source"])
    np.testing.assert_allclose(data.object_points, clouds["object_points"], atol=1e-7)
    np.testing.assert_allclose(data.object_partial_points, clouds["object_partial_points"], atol=1e-7)
    assert not read_grasp_file(_write_plain(tmp_path)).has_clouds
    with pytest.raises(DataError, match="come together"):
        write_grasp_file(tmp_path / "x.h5", **_arrays(), object_points=clouds["object_points"])
    with pytest.raises(DataError, match=r"objects/partial_points has shape \[3, 2, 8, 3\]"):
        bad = {**clouds, "object_partial_points": clouds["object_partial_points"][:, :, :8]}
        write_grasp_file(tmp_path / "x.h5", **_arrays(), **bad)
    with h5py.File(path, "r+") as f:
        del f["objects/partial_points"]
    with pytest.raises(DataError, match="the object clouds come together"):
        read_grasp_file(path)


def _write_plain(tmp_path):
    return write_grasp_file(tmp_path / "plain.h5", **_arrays())
