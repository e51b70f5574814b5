"""The grasp-file reader: contents, object splits, and clear errors for bad files."""

from __future__ import annotations

import numpy as np
import pytest
from grasp_learning_files import write_grasp_file

from robo_flows.data.grasps import GraspDataset, read_grasp_file, split_objects


def test_reader_returns_the_written_arrays(grasp_file):
    data = read_grasp_file(grasp_file)
    assert data.num_objects == 4 and data.descriptor_dim == 6
    assert data.rotations.shape == (256, 3, 3) and data.object_kind == ("box",) * 4
    ds = GraspDataset(data)
    assert len(ds) == int(data.success.sum())
    item = ds[3]
    row = ds.rows[3]
    np.testing.assert_array_equal(item["rotation"].numpy(), data.rotations[row])
    np.testing.assert_array_equal(item["descriptor"].numpy(), data.object_descriptor[data.object_index[row]])


def test_dataset_keeps_only_the_chosen_objects_and_successes(grasp_file):
    data = read_grasp_file(grasp_file)
    ds = GraspDataset(data, objects=np.array([1, 3]), success_only=True)
    assert set(data.object_index[ds.rows]) == {1, 3} and data.success[ds.rows].all()
    everything = GraspDataset(data, objects=np.array([1, 3]), success_only=False)
    assert len(everything) == 128


def test_object_split_is_seeded_and_disjoint():
    train, valid = split_objects(20, 0.25, seed=3)
    assert len(valid) == 5 and not set(train) & set(valid) and len(train) + len(valid) == 20
    again = split_objects(20, 0.25, seed=3)
    np.testing.assert_array_equal(valid, again[1])
    with pytest.raises(ValueError, match="valid_fraction"):
        split_objects(20, 1.0, seed=0)


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"kind": "demos"}, "kind='demos', expected a 'grasps' file"),
        ({"format_version": 2}, "format_version=2"),
        (
            {"translations": np.zeros((5, 3), np.float32)},
            r"translations has shape \[5, 3\], expected \[256, 3\]",
        ),
        ({"object_index": np.full(256, 7)}, r"object_index must lie in \[0, 4\)"),
        ({"rotations": np.tile(2 * np.eye(3, dtype=np.float32), (256, 1, 1))}, "not orthonormal"),
    ],
)
def test_bad_files_are_rejected_naming_the_problem(tmp_path, override, message):
    path = write_grasp_file(tmp_path / "bad.hdf5", **override)
    with pytest.raises(ValueError, match=message):
        read_grasp_file(path)


def test_missing_and_non_hdf5_files(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_grasp_file(tmp_path / "nope.hdf5")
    (tmp_path / "text.hdf5").write_text("not hdf5")
    with pytest.raises(ValueError, match="not a readable HDF5 file"):
        read_grasp_file(tmp_path / "text.hdf5")
