"""paths.png for an env whose observation does not locate the end effector: said so, never silently blank."""

from __future__ import annotations

import gymnasium as gym
import imageio.v3 as iio
import numpy as np
from eval_toys import ToyDetourEnv

from robo_flows.evaluation.actors import ExpertActor
from robo_flows.evaluation.evaluate import evaluate
from robo_flows.evaluation.plots import missing_paths_reason, plot_paths
from robo_flows.evaluation.rollout import EpisodeRecord

NO_EE_ID = "RoboFlowsTest/ToyDetourNoEE-v0"


class ToyDetourNoEE(ToyDetourEnv):
    """The toy task with its position part named ``point`` instead of ``ee_pos``."""

    obs_layout = {"point": 3, "goal": 3}


if NO_EE_ID not in gym.registry:
    gym.register(NO_EE_ID, entry_point=ToyDetourNoEE, max_episode_steps=40)


def _record(path: np.ndarray) -> EpisodeRecord:
    return EpisodeRecord(seed=0, success=True, mode="left", length=len(path), ee_path=path)


def test_the_reason_names_the_missing_part_and_the_layout():
    assert missing_paths_reason([_record(np.zeros((3, 2)))], {"ee_pos": 3}) is None
    reason = missing_paths_reason([_record(np.zeros((0, 2)))], {"point": 3, "goal": 3})
    assert "no 'ee_pos' part" in reason and "obs_layout has point, goal" in reason


def test_the_figure_carries_the_reason_instead_of_staying_blank(tmp_path):
    blank = plot_paths([_record(np.zeros((0, 2)))], tmp_path / "p.png", "toy")
    image = iio.imread(blank)[..., :3]
    h, w = image.shape[:2]
    centre = image[h // 3 : 2 * h // 3, w // 4 : 3 * w // 4]
    assert (centre.min(axis=-1) < 128).any(), "the middle of the plot is empty"


def test_evaluation_reports_why_there_are_no_paths(tmp_path, capsys):
    ToyDetourEnv.reset_seeds.clear()
    results = evaluate(ExpertActor(), NO_EE_ID, 2, 0, tmp_path / "eval")
    assert any("no end-effector paths" in note for note in results["notes"])
    assert "paths.png has no end-effector paths" in capsys.readouterr().err
    ok = evaluate(ExpertActor(), "RoboFlowsTest/ToyDetour-v0", 2, 0, tmp_path / "eval_ee")
    assert "notes" not in ok
