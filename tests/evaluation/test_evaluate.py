"""Rollouts and the evaluation run folder on a pure-numpy toy task."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from eval_toys import ToyDetourEnv

from robo_flows.evaluation import evaluate, expert_actor
from robo_flows.evaluation.rollout import describe_env, make_vector_env, run_episodes
from robo_flows.evaluation.seeds import episode_seeds


@pytest.mark.parametrize("num_envs", [1, 3])
def test_every_episode_runs_once_with_its_own_seed(toy_env_id, num_envs):
    seeds = episode_seeds(0, 7)
    envs = make_vector_env(toy_env_id, num_envs, asynchronous=False)
    records = run_episodes(envs, expert_actor(), seeds, describe_env(toy_env_id).layout)
    envs.close()
    assert [r.seed for r in records] == seeds
    recorded = [s for s in ToyDetourEnv.reset_seeds if s in seeds]
    assert sorted(recorded) == seeds  # each evaluation seed reset exactly once
    assert all(r.success for r in records)
    assert {r.mode for r in records} <= {"left", "right"}
    assert all(r.ee_path.shape == (r.length + 1, 2) for r in records)


def test_results_do_not_depend_on_the_number_of_envs(toy_env_id, tmp_path):
    one = evaluate(expert_actor(), toy_env_id, 8, 0, tmp_path / "one", num_envs=1)
    three = evaluate(expert_actor(), toy_env_id, 8, 0, tmp_path / "three", num_envs=3)
    for key in ("success_rate", "modes", "mean_length"):
        assert one[key] == three[key]


def test_evaluation_writes_results_plots_and_video_and_refuses_to_overwrite(toy_env_id, tmp_path):
    out = tmp_path / "run"
    results = evaluate(expert_actor(), toy_env_id, 6, 1, out, num_envs=2, video=True)
    saved = json.loads((out / "results.json").read_text())
    assert saved["success_rate"] == results["success_rate"] == 1.0
    lo, hi = saved["success_ci"]
    assert lo < 1.0 and hi == 1.0
    assert sum(saved["modes"].values()) == saved["episodes"] == 6
    for name in ("paths.png", "modes.png", "rollouts.mp4"):
        assert (out / name).stat().st_size > 0
    with pytest.raises(FileExistsError, match="force"):
        evaluate(expert_actor(), toy_env_id, 6, 1, out)
    evaluate(expert_actor(), toy_env_id, 2, 1, out, force=True)


def test_perturbed_starts_move_the_first_observation(toy_env_id):
    seeds = episode_seeds(0, 4)
    nominal = run_episodes(make_vector_env(toy_env_id, 1), expert_actor(), seeds)
    shifted = run_episodes(make_vector_env(toy_env_id, 1, perturb_steps=3), expert_actor(), seeds)
    moved = [np.linalg.norm(a.first_obs[:2] - b.first_obs[:2]) for a, b in zip(nominal, shifted, strict=True)]
    assert min(moved) == pytest.approx(0.3, abs=1e-5)  # 3 unit steps of 0.1 in a random direction


def test_expert_on_an_env_without_one_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="no scripted expert"):
        evaluate(expert_actor(), "CartPole-v1", 1, 0, tmp_path)


class _NoisyActor:
    """Steers like the expert plus torch noise, as a sampling policy draws its actions; keeps what it did."""

    name = "noisy"

    def __init__(self) -> None:
        self.actions: list[np.ndarray] = []

    def reset(self, rows=None) -> None:
        pass

    def act(self, obs, envs) -> np.ndarray:
        action = expert_actor().act(obs, envs) + 0.5 * torch.randn(1, 4).numpy()
        self.actions.append(action)
        return action


def test_a_sampling_policy_acts_the_same_for_the_same_seed(toy_env_id, tmp_path):
    actors = [_NoisyActor(), _NoisyActor()]
    for i, actor in enumerate(actors):
        torch.manual_seed(100 + i)  # whatever the caller's RNG state, the evaluation seed decides
        before = torch.random.get_rng_state()
        evaluate(actor, toy_env_id, 3, 4, tmp_path / str(i))
        assert torch.equal(torch.random.get_rng_state(), before)  # and the caller's RNG is left alone
    np.testing.assert_array_equal(np.concatenate(actors[0].actions), np.concatenate(actors[1].actions))
