"""The action box: the recorded env box, errors for demo actions outside it, widening from the data."""

from __future__ import annotations

import h5py
import numpy as np
import pytest

from robo_flows.data import read_demo_file, resolve_action_box, write_demo_file
from robo_flows.errors import DataError


def demos(tmp_path, actions: list[np.ndarray], env_args: dict | None = None):
    episodes = [{"obs": {"x": np.zeros((len(a), 1))}, "actions": a} for a in actions]
    return read_demo_file(write_demo_file(tmp_path / "d.hdf5", episodes, env_args))


def test_the_recorded_box_is_the_policys_box(tmp_path):
    box = {"action_low": [-1.0, 0.0], "action_high": [1.0, 3.0]}
    low, high = resolve_action_box(demos(tmp_path, [np.array([[0.5, 3.0], [-1.0, 0.0]])], box))
    assert low.tolist() == [-1.0, 0.0] and high.tolist() == [1.0, 3.0]
    assert low.dtype == np.float32


def test_a_file_without_bounds_tells_how_to_proceed(tmp_path):
    with pytest.raises(DataError, match=r"d\.hdf5 records no action bounds.*re-collect.*action_bounds: data"):
        resolve_action_box(demos(tmp_path, [np.zeros((2, 2))]), "env")


def test_a_demo_action_outside_the_box_names_file_demo_and_step(tmp_path):
    path = write_demo_file(
        tmp_path / "d.hdf5",
        [{"obs": {"x": np.zeros((4, 1))}, "actions": np.zeros((4, 2))}] * 2,
        {"action_low": [-1.0, -1.0], "action_high": [1.0, 1.0]},
    )
    with h5py.File(path, "r+") as f:  # another tool wrote an action beyond the env's bound
        f["data/demo_1/actions"][2, 0] = 1.5
    with pytest.raises(DataError, match=r"d\.hdf5: demo 'demo_1' step 2: action\[0\] = 1\.5 lies outside"):
        resolve_action_box(read_demo_file(path), "env")
    low, high = resolve_action_box(read_demo_file(path), "data")  # ... unless asked to widen the box
    assert low.tolist() == [-1.0, -1.0] and high.tolist() == [1.5, 1.0]


def test_widening_from_the_data_covers_every_action_and_keeps_a_positive_width(tmp_path):
    actions = [np.array([[0.2, 5.0, -3.0], [0.4, 5.0, 2.0]]), np.array([[-0.1, 5.0, 0.0]])]
    low, high = resolve_action_box(demos(tmp_path, actions), "data")
    assert low.tolist() == pytest.approx([-0.1, 4.0, -3.0]) and high.tolist() == pytest.approx(
        [0.4, 6.0, 2.0]
    )
    every = np.concatenate(actions)
    assert (every >= low).all() and (every <= high).all() and (high > low).all()


@pytest.mark.parametrize(
    ("env_args", "message"),
    [
        ({"action_low": [-1.0, -1.0]}, "not the other action bound"),
        ({"action_low": [-1.0], "action_high": [1.0, 1.0, 1.0]}, "has 3 values, the actions have 2"),
        ({"action_low": [1.0, -1.0], "action_high": [1.0, 1.0]}, "low < high"),
        ({"action_low": ["a", "b"], "action_high": [1.0, 1.0]}, "must be numbers"),
    ],
)
def test_malformed_recorded_bounds_are_data_errors(tmp_path, env_args, message):
    with pytest.raises(DataError, match=message):
        write_demo_file(
            tmp_path / "d.hdf5", [{"obs": {"x": np.zeros((1, 1))}, "actions": np.zeros((1, 2))}], env_args
        )


def test_an_unknown_mode_is_refused(tmp_path):
    with pytest.raises(DataError, match=r"one of \('env', 'data'\)"):
        resolve_action_box(demos(tmp_path, [np.zeros((1, 1))]), "clip")
