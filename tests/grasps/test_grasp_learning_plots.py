"""Grasp drawings: the fork geometry follows the grasp frame, and pictures are written for every kind."""

from __future__ import annotations

import numpy as np
import pytest

from robo_flows.grasps.plots import gripper_segments, plot_grasps


def test_fork_fingers_sit_across_the_closing_axis_and_behind_the_tcp():
    R = np.array([[0.0, 0.0, 1.0], [0.0, 1.0, 0.0], [-1.0, 0.0, 0.0]])  # approach +x, closing +y
    t = np.array([0.01, 0.02, 0.03])
    left, right, palm, stem = gripper_segments(R, t, opening=0.08, finger=0.05)
    np.testing.assert_allclose(left[1], t + [0, -0.04, 0])
    np.testing.assert_allclose(right[1], t + [0, 0.04, 0])
    np.testing.assert_allclose(left[0], t + [-0.05, -0.04, 0])
    np.testing.assert_allclose(stem[1] - stem[0], [-0.05, 0, 0])
    np.testing.assert_allclose(np.subtract(*palm[::-1]), [0, 0.08, 0])  # the palm spans the opening, along y


@pytest.mark.parametrize(
    ("kind", "dims"), [("box", (0.05, 0.04, 0.12)), ("cylinder", (0.03, 0.1)), ("sphere", (0.03,))]
)
def test_pictures_are_written_for_every_kind(tmp_path, kind, dims):
    rng = np.random.default_rng(0)
    R = np.tile(np.eye(3), (5, 1, 1))
    t = rng.normal(0, 0.02, (5, 3))
    path = plot_grasps(kind, dims, R, t, tmp_path / f"{kind}.png", scores=rng.normal(size=5))
    assert path.stat().st_size > 1000


def test_unknown_kind_is_rejected(tmp_path):
    with pytest.raises(ValueError, match="unknown object kind 'cone'"):
        plot_grasps("cone", (0.1,), np.eye(3)[None], np.zeros((1, 3)), tmp_path / "x.png")
