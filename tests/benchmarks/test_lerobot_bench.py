"""``robo-flows bench lerobot`` on a tiny camera folder: what it counts and that it never overwrites."""

from __future__ import annotations

import json

import numpy as np
import pytest

from robo_flows.benchmarks.lerobot import main
from robo_flows.data import DemoRecord
from robo_flows.data.lerobot import write_lerobot

STEPS, SIZE = (5, 3), 16


@pytest.fixture
def folder(tmp_path):
    rng = np.random.default_rng(0)
    records = [
        DemoRecord(
            obs={
                "pos": rng.normal(size=(t, 2)),
                "agentview_image": rng.integers(0, 255, (t, SIZE, SIZE, 3), dtype=np.uint8),
                "eye_in_hand_image": rng.integers(0, 255, (t, SIZE, SIZE, 3), dtype=np.uint8),
            },
            actions=rng.uniform(-1, 1, (t, 2)),
        )
        for t in STEPS
    ]
    return write_lerobot(tmp_path / "folder", records, {"obs_layout": {"pos": 2}}, fps=10)


def test_frames_and_sizes_are_counted_from_the_folder(folder, tmp_path, capsys):
    out = tmp_path / "bench.json"
    assert main([str(folder), "--repeats", "1", "--obs-horizon", "2", "--out", str(out)]) == 0
    results = json.loads(out.read_text())["results"]
    frames = sum(STEPS)
    assert results["frames_per_epoch"] == frames * 2 * 2  # one window per step, 2 observations, 2 cameras
    assert results["sizes_bytes"]["raw_frames"] == frames * SIZE * SIZE * 3 * 2
    assert set(results["frames_per_s"]) == {"lerobot mp4", "lerobot png", "robomimic hdf5"}
    assert results["time_ratio_to_hdf5"]["robomimic hdf5"] == 1.0
    with pytest.raises(FileExistsError):
        main([str(folder), "--repeats", "1", "--out", str(out)])
