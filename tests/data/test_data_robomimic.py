"""The robomimic format: what the one writer writes, the reader reads back; bad files are DataErrors."""

from __future__ import annotations

import json
import os
import stat

import h5py
import numpy as np
import pytest

from robo_flows.data import DemoRecord, read_demo_file, write_demo_file
from robo_flows.errors import DataError

BOX = {"action_low": [-1.0, -2.0], "action_high": [1.0, 0.5]}


def record(length: int, offset: float = 0.0, **attrs) -> DemoRecord:
    t = np.arange(length, dtype=np.float64)
    return DemoRecord(
        obs={"pos": np.stack([t, -t], 1) + offset, "cam_image": np.full((length, 2, 2, 3), 7, np.uint8)},
        actions=np.stack([np.linspace(-1, 1, length), np.linspace(-2, 0.5, length)], 1),
        rewards=t / 10,
        attrs=attrs,
    )


def test_written_demos_read_back_exactly_with_the_layouts_dtypes(tmp_path):
    path = tmp_path / "d.hdf5"

    def stream():  # a generator: the writer never needs the whole collection
        yield record(4, seed=3, expert_mode="left", success=True)
        yield record(2, offset=10.0, seed=4, expert_mode="right", success=False)

    env_args = {"env_name": "Toy-v0", "obs_layout": {"pos": 2, "cam_image": 12}, **BOX}
    write_demo_file(path, stream(), env_args, masks={"valid": ["demo_1"]}, attrs={"action_noise": 0.1})
    with h5py.File(path, "r") as f:
        data = f["data"]
        assert json.loads(data.attrs["env_args"]) == env_args
        assert data.attrs["total"] == 6 and data.attrs["action_noise"] == 0.1
        demo = data["demo_0"]
        assert demo["obs/pos"].dtype == np.float32 and demo["obs/cam_image"].dtype == np.uint8
        assert demo["actions"].dtype == np.float32 and demo["rewards"].dtype == np.float32
        assert demo["dones"][()].tolist() == [0, 0, 0, 1] and demo.attrs["num_samples"] == 4
        assert demo.attrs["seed"] == 3 and demo.attrs["expert_mode"] == "left" and bool(demo.attrs["success"])
    demos = read_demo_file(path, ["pos"])
    assert [ep.name for ep in demos.episodes] == ["demo_0", "demo_1"] and demos.masks == {"valid": ["demo_1"]}
    np.testing.assert_array_equal(demos.episodes[1].obs, record(2, offset=10.0).obs["pos"].astype(np.float32))
    np.testing.assert_array_equal(demos.episodes[0].actions, record(4).actions.astype(np.float32))


def test_writer_refuses_actions_outside_its_own_box_naming_demo_step_and_dimension(tmp_path):
    bad = record(5)
    bad.actions[3, 1] = 0.75  # above high = 0.5
    with pytest.raises(DataError, match=r"demo 'demo_1' step 3: action\[1\] = 0.75 lies outside"):
        write_demo_file(tmp_path / "d.hdf5", [record(3), bad], {**BOX})
    assert list(tmp_path.iterdir()) == []  # nothing half-written is left


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"actions": np.zeros((3,))}, r"actions \[T >= 1, act_dim\]"),
        ({"actions": np.full((3, 2), np.nan)}, "non-finite actions"),
        ({"rewards": np.zeros(2)}, r"rewards \[3\]"),
        ({"obs": {"pos": np.zeros((2, 2))}}, "2 steps of obs/pos but 3 actions"),
    ],
)
def test_writer_rejects_malformed_records(tmp_path, change, message):
    fields = {"obs": {"pos": np.zeros((3, 2))}, "actions": np.zeros((3, 2)), **change}
    with pytest.raises(DataError, match=message):
        write_demo_file(tmp_path / "d.hdf5", [fields])


def test_writer_refuses_to_overwrite_unless_asked(tmp_path):
    path = write_demo_file(tmp_path / "d.hdf5", [record(2)])
    with pytest.raises(FileExistsError, match="never overwritten"):
        write_demo_file(path, [record(3)])
    write_demo_file(path, [record(3)], overwrite=True)
    assert len(read_demo_file(path, ["pos"]).episodes[0].actions) == 3


def test_demo_file_gets_the_umask_mode(tmp_path):
    old = os.umask(0o022)
    try:
        path = write_demo_file(tmp_path / "d.hdf5", [record(2)])
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_a_file_that_is_not_hdf5_is_a_data_error_naming_it(tmp_path):
    path = tmp_path / "notes.hdf5"
    path.write_text("these are not demonstrations")
    with pytest.raises(DataError, match=r"notes\.hdf5 is not an HDF5 file"):
        read_demo_file(path)


def test_missing_groups_are_data_errors_listing_what_the_file_holds(tmp_path):
    path = tmp_path / "other.hdf5"
    with h5py.File(path, "w") as f:  # an HDF5 file of some other layout
        f.create_dataset("weights", data=np.zeros(3))
    with pytest.raises(DataError, match=r"no 'data' group.*\['weights'\]"):
        read_demo_file(path)
    path = write_demo_file(tmp_path / "d.hdf5", [record(2)])
    with h5py.File(path, "r+") as f:
        del f["data/demo_0/actions"]
    with pytest.raises(DataError, match=r"demo 'demo_0' has no 'actions'"):
        read_demo_file(path)
