"""Which checkpoint becomes best.pt: a planted outlier demo owns the plain mean, not the per-demo median."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from robo_flows.config import PolicyExperimentConfig, load_config
from robo_flows.data import DemoDataset, write_demo_file
from robo_flows.policy.loading import load_policy_model
from robo_flows.training.experiment import train_policy
from robo_flows.training.selection import improves
from robo_flows.training.validation import validation_stats

STEPS = 150
VALID = ["demo_20", "demo_21", "demo_22", "demo_23"]  # demo_23 is the planted outlier
BOX = {"action_low": [-1.0, -1.0], "action_high": [1.0, 1.0]}


def _reaching(rng: np.random.Generator, length: int) -> dict:
    """pos moves by a = 0.5 (goal - pos) + noise: the expert every normal demo follows."""
    goal = rng.uniform(-0.8, 0.8, 2)
    pos = np.zeros((length, 2))
    pos[0] = rng.uniform(-0.8, 0.8, 2)
    actions = np.zeros((length, 2))
    for t in range(length):
        actions[t] = 0.5 * (goal - pos[t]) + rng.normal(0, 0.02, 2)
        if t + 1 < length:
            pos[t + 1] = pos[t] + actions[t]
    return {"obs": {"pos": pos, "goal": np.tile(goal, (length, 1))}, "actions": actions}


def _stuck(rng: np.random.Generator, length: int) -> dict:
    """An expert stuck for ``length`` steps: it pushes away from the goal and nothing moves."""
    goal, pos = rng.uniform(-0.8, 0.8, 2), rng.uniform(-0.8, 0.8, 2)
    actions = np.tile(np.clip(-0.5 * (goal - pos), -0.9, 0.9), (length, 1))
    return {"obs": {"pos": np.tile(pos, (length, 1)), "goal": np.tile(goal, (length, 1))}, "actions": actions}


@pytest.fixture(scope="module")
def outlier_file(tmp_path_factory):
    rng = np.random.default_rng(0)
    episodes = [_reaching(rng, 20) for _ in range(23)] + [_stuck(rng, 600)]
    env_args = {"env_name": "Toy-v0", "env_kwargs": {}, "obs_layout": {"pos": 2, "goal": 2}, **BOX}
    path = tmp_path_factory.mktemp("outlier") / "outlier.hdf5"
    return write_demo_file(path, episodes, env_args, masks={"valid": VALID})


def _train(path, out, select_by: str | None) -> dict:
    """Train a small flow policy; ``select_by=None`` keeps the default selection rule."""
    cfg = load_config(
        {
            "data": {"path": str(path), "obs_horizon": 1, "action_horizon": 2},
            "sampling": {"n_action_steps": 1},
            "model": {
                "kind": "flow",
                "flow_layers": 2,
                "hidden_features": [32, 32],
                "encoder_hidden": [32],
                "context_features": 16,
                "obs_monitor": False,
            },
            "train": {
                "steps": STEPS,
                "batch_size": 64,
                "lr": 3e-3,
                "warmup_steps": 5,
                "valid_every": 10,
                "checkpoint_every": 0,
                "log_every": 10,
                "device": "cpu",
                **({"select_by": select_by} if select_by else {}),
            },
        },
        PolicyExperimentConfig,
    )
    return train_policy(cfg, out)


def _normal_demo_nll(checkpoint, path) -> float:
    """Mean NLL of the checkpoint's policy on the three normal held-out demos (the policy's quality)."""
    model, _ = load_policy_model(checkpoint)
    normal = DemoDataset(path, obs_horizon=1, action_horizon=2, split="valid")
    return float(np.mean(validation_stats(model, normal, 64, torch.device("cpu")).per_group[:3]))


def test_an_outlier_demo_owns_the_mean_but_not_the_median(outlier_file, tmp_path):
    torch.set_num_threads(1)
    by_mean = _train(outlier_file, tmp_path / "mean", "val_mean")
    by_median = _train(outlier_file, tmp_path / "median", None)  # the default: val_median
    early, late = by_mean["best"]["step"], by_median["best"]["step"]
    assert by_mean["best"]["select_by"] == "val_mean" and by_median["best"]["select_by"] == "val_median"
    # the plain mean, owned by the outlier's 600 windows, picks an early, under-trained checkpoint ...
    assert early <= 0.2 * STEPS and any("first 20%" in w for w in by_mean["warnings"])
    # ... the per-demo median a late one, which models the normal held-out demos far better
    assert late >= 0.5 * STEPS and by_median["warnings"] == []
    nll_early = _normal_demo_nll(by_mean["checkpoints"]["best"], outlier_file)
    nll_late = _normal_demo_nll(by_median["checkpoints"]["best"], outlier_file)
    assert nll_late < nll_early - 1.0, (nll_early, nll_late)


def test_validation_median_is_over_demos_and_the_mean_over_windows(outlier_file):
    torch.manual_seed(0)
    from training_toy import ToyRegression

    valid = DemoDataset(outlier_file, obs_horizon=1, action_horizon=2, split="valid")
    assert valid.episodes == VALID and valid.group_sizes == [20, 20, 20, 600]
    model = ToyRegression(valid)
    stats = validation_stats(model, valid, 16, torch.device("cpu"))
    with torch.no_grad():
        per_window = [float(model.loss({k: v[None] for k, v in valid[i].items()})) for i in range(len(valid))]
    assert stats.mean == pytest.approx(np.mean(per_window), rel=1e-5)
    starts = np.cumsum([0, *valid.group_sizes])
    demo_means = [np.mean(per_window[a:b]) for a, b in zip(starts[:-1], starts[1:], strict=True)]
    assert stats.per_group == pytest.approx(demo_means, rel=1e-5)
    assert stats.median == pytest.approx(np.median(demo_means), rel=1e-5)


def test_rollout_success_ties_go_to_the_later_step_and_losses_need_a_strict_drop():
    assert improves("rollout_success", 0.5, 0.5) and not improves("rollout_success", 0.4, 0.5)
    assert not improves("val_median", 1.0, 1.0) and improves("val_mean", 0.9, 1.0)
    assert improves("val_median", 3.0, None) and not improves("val_mean", float("nan"), None)
    assert not improves("val_mean", float("inf"), 1.0)


def _reach_config(path, **train) -> PolicyExperimentConfig:
    settings = {"steps": 6, "batch_size": 8, "warmup_steps": 1, "valid_every": 3, "checkpoint_every": 0}
    return load_config(
        {
            "data": {"path": str(path), "action_horizon": 2},
            "model": {"hidden_features": [32], "encoder_hidden": [32], "obs_monitor": False},
            "sampling": {"n_action_steps": 1},
            "train": {**settings, "log_every": 3, "device": "cpu", **train},
        },
        PolicyExperimentConfig,
    )


def test_rollout_success_selects_best_pt_and_leaves_training_untouched(task_demos, tmp_path):
    import csv

    from robo_flows.training import load_checkpoint

    torch.set_num_threads(1)
    demos = task_demos("reach")
    plain = train_policy(_reach_config(demos), tmp_path / "plain")
    rolled = train_policy(
        _reach_config(demos, select_by="rollout_success", eval_every=3, eval_episodes=2), tmp_path / "rolled"
    )
    with (tmp_path / "rolled" / "log.csv").open() as f:
        success = {
            int(r["step"]): float(r["rollout_success"]) for r in csv.DictReader(f) if r["rollout_success"]
        }
    assert sorted(success) == [3, 6] and all(0.0 <= s <= 1.0 for s in success.values())
    best = max(sorted(success), key=lambda step: success[step] + 1e-9 * step)  # ties: the later step
    assert rolled["best"] == {**rolled["best"], "select_by": "rollout_success", "step": best}
    assert rolled["best"]["score"] == success[best]
    # rollouts sample under their own seeded RNG: the training itself is the run without rollouts
    want = load_checkpoint(plain["checkpoints"]["last"])["model"]
    got = load_checkpoint(rolled["checkpoints"]["last"])["model"]
    assert all(torch.equal(got[name], value) for name, value in want.items())


def test_rollouts_need_an_env_and_a_period(outlier_file, tmp_path):
    from robo_flows.config import ConfigError
    from robo_flows.errors import EnvError
    from robo_flows.training.selection import policy_rollout_score

    with pytest.raises(ConfigError, match="needs train.eval_every > 0"):
        _reach_config(outlier_file, select_by="rollout_success")
    with pytest.raises(EnvError, match="cannot make env 'Toy-v0'"):  # checked before the first step
        train_policy(_reach_config(outlier_file, eval_every=3), tmp_path / "run")
    assert not (tmp_path / "run").exists()
    with pytest.raises(ConfigError, match="name none"):
        policy_rollout_score({"obs_layout": {"pos": 2}}, ["pos"], None, 2, 0)
