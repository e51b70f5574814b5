"""Rollout videos (tiled, labelled mp4 with the policy's camera images) and the scene in the path plot."""

from __future__ import annotations

import imageio.v3 as iio
import matplotlib.pyplot as plt
import numpy as np
import pytest

from robo_flows.evaluation.actors import ExpertActor
from robo_flows.evaluation.plots import draw_scene, observation_part
from robo_flows.evaluation.rollout import EpisodeRecord
from robo_flows.evaluation.video import EpisodeFrames, record_video, tile_episodes, write_video


def flat_episode(seed: int, length: int, value: int, success: bool) -> EpisodeFrames:
    frames = [np.full((40, 60, 3), value + t, np.uint8) for t in range(length)]
    return EpisodeFrames(seed, frames, success, "left")


def test_tiles_hold_the_last_frame_of_shorter_episodes_and_carry_labels():
    episodes = [flat_episode(0, 3, 10, True), flat_episode(1, 5, 100, False), flat_episode(2, 2, 200, True)]
    frames = tile_episodes(episodes)
    assert len(frames) == 5 and frames[0].shape == (80, 120, 3)  # 2 x 2 grid of 40 x 60 tiles
    assert np.all(frames[-1][76:, :60] == 200 + 1)  # episode 2 holds its last frame (below its label)
    assert np.all(frames[-1][40:, 60:] == 0)  # the empty fourth tile: no label spilt into it
    label = frames[-1][4:30, 4:56]  # episode 0's label box: white text on green (its success)
    assert (label == 255).all(axis=-1).any() and (label == (40, 160, 40)).all(axis=-1).any()
    failed = frames[-1][4:30, 64:116]
    assert (failed == (200, 40, 40)).all(axis=-1).any()
    with pytest.raises(ValueError, match="at least one"):
        tile_episodes([])


def test_mp4_round_trips_its_frames_and_gif_only_when_asked(tmp_path):
    frames = [np.full((64, 96, 3), 20 * t, np.uint8) for t in range(6)]
    mp4 = write_video(frames, tmp_path / "v.mp4", fps=12)
    assert mp4.suffix == ".mp4"
    back = iio.imread(mp4, plugin="pyav", index=None)
    assert back.shape == (6, 64, 96, 3)
    assert np.abs(back[5].astype(int) - 100).max() < 8  # lossy, but the same picture
    gif = write_video(frames, tmp_path / "v.gif", fps=12)
    assert gif.suffix == ".gif" and iio.imread(gif, index=None).shape[0] == 6


def test_detour_video_shows_the_scene_and_the_policy_cameras(tmp_path):
    kwargs = {"obs_mode": "rgb", "camera_width": 32, "camera_height": 32}
    path = record_video("RoboFlows/PandaDetour-v0", ExpertActor(), [0], tmp_path / "r.mp4", kwargs)
    frames = iio.imread(path, plugin="pyav", index=None)
    n, h, w, _ = frames.shape
    assert h >= 256 and w >= 256 + 128  # the 256 px scene and the column of both 128 px camera images
    assert 15 < n <= 40  # every control step of the episode (about 20 to 24 steps)
    column = frames[n // 2, : h // 2, 256:].astype(int)  # the agentview image: the red wall in it
    assert ((column[..., 0] > column[..., 1] + 60) & (column[..., 0] > 100)).sum() > 20


def test_scene_of_the_path_plot_comes_from_the_first_observations():
    layout = {"ee_pos": 3, "obstacle_pos": 3, "goal": 3}
    flat = np.array([0, 0, 0, 0.5, 0.01, 0.1, 0.66, -0.02, 0.07])
    as_dict = {"ee_pos": flat[:3], "obstacle_pos": flat[3:6], "goal": flat[6:]}
    np.testing.assert_array_equal(observation_part(flat, layout, "goal"), [0.66, -0.02, 0.07])
    np.testing.assert_array_equal(observation_part(as_dict, None, "obstacle_pos"), [0.5, 0.01, 0.1])
    assert observation_part(flat, layout, "cube_pos") is None and observation_part(flat, None, "goal") is None
    records = [
        EpisodeRecord(s, True, "left", 3, np.zeros((4, 2)), first_obs=o) for s, o in ((0, flat), (1, as_dict))
    ]
    fig, ax = plt.subplots()
    draw_scene(ax, records, layout, {"obstacle_pos": (0.015, 0.1)})
    boxes = ax.patches
    assert len(boxes) == 2 and boxes[0].get_xy() == pytest.approx((0.485, -0.09))
    assert boxes[0].get_width() == pytest.approx(0.03) and boxes[0].get_height() == pytest.approx(0.2)
    goals = [line for line in ax.lines if line.get_marker() == "*"]
    assert len(goals) == 2 and goals[0].get_xdata()[0] == pytest.approx(0.66)
    plt.close(fig)


def test_the_scene_of_an_image_policy_is_read_from_state_copies_of_its_episode_starts():
    import gymnasium as gym

    from robo_flows.evaluation.plots import scene_observations

    assert scene_observations("RoboFlows/PandaDetour-v0", {}, [0]) is None  # state obs hold their scene
    kwargs = {"obs_mode": "rgb", "cameras": ["agentview"], "camera_width": 16, "camera_height": 16}
    scenes = scene_observations("RoboFlows/PandaDetour-v0", kwargs, [3, 4])
    env = gym.make("RoboFlows/PandaDetour-v0", obs_mode="state+rgb", cameras=["agentview"])
    try:
        layout = env.unwrapped.obs_layout
        for seed, scene in zip((3, 4), scenes, strict=True):
            obs, _ = env.reset(seed=seed)  # the wall and goal this seed's episode starts with
            for part in ("obstacle_pos", "goal"):
                np.testing.assert_allclose(observation_part(scene, layout, part), obs[part], atol=1e-6)
    finally:
        env.close()
    records = [
        EpisodeRecord(s, True, "left", 3, np.zeros((4, 2)), first_obs={"ee_pos": np.zeros(3)}) for s in (3, 4)
    ]
    fig, ax = plt.subplots()
    draw_scene(ax, records, layout, {"obstacle_pos": (0.015, 0.1)}, scenes)
    assert len(ax.patches) == 2 and len([ln for ln in ax.lines if ln.get_marker() == "*"]) == 2
    plt.close(fig)
