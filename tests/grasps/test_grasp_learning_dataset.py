"""Grasps as training items (robo_flows.grasps.dataset): the chosen objects and successes, seeded splits."""

from __future__ import annotations

import numpy as np
import pytest

from robo_flows.data.grasp_file import read_grasp_file
from robo_flows.grasps.dataset import GraspDataset, split_objects


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
