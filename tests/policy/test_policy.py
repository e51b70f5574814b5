"""FlowPolicy in the control loop: shapes, observation forms, receding horizon, bad input, checkpoints."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from policy_toys import LAYOUT, make_model

from robo_flows.config import PolicyExperimentConfig, load_config
from robo_flows.policy import FlowPolicy
from robo_flows.training import CheckpointError, load_checkpoint, save_checkpoint

OBS_DIM = sum(LAYOUT.values())


def toy_policy(toy_file, kind="flow", obs_keys=None, **kwargs) -> FlowPolicy:
    model, data = make_model(toy_file, kind)
    return FlowPolicy(model, obs_keys or data.obs_keys, {"obs_layout": LAYOUT}, **kwargs)


def observations(n: int) -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.normal(0.0, 0.1, (n, OBS_DIM)).astype(np.float32)


@pytest.mark.parametrize("kind", ["flow", "mse", "gmm"])
def test_single_and_batched_observations_give_matching_action_shapes(toy_file, kind):
    policy = toy_policy(toy_file, kind)
    assert policy.select_action(observations(1)[0]).shape == (3,)
    policy.reset()
    assert policy.select_action(observations(5)).shape == (5, 3)
    assert policy.predict_action_chunk(observations(1)[0]).shape == (4, 3)
    assert policy.predict_action_chunk(observations(5)).shape == (5, 4, 3)


def test_dict_observation_is_flattened_by_obs_keys(toy_file):
    policy = toy_policy(toy_file, "mse")
    flat = observations(3)
    as_dict = {"goal": flat[:, 4:6], "pos": flat[:, 0:2], "vel": flat[:, 2:4], "extra": np.zeros((3, 9))}
    np.testing.assert_array_equal(policy.predict_action_chunk(as_dict), policy.predict_action_chunk(flat))


def test_policy_on_a_subset_of_keys_reads_the_full_env_observation(toy_file):
    model, data = make_model(toy_file, "mse", obs_keys=["goal", "pos"])
    assert data.obs_dim == 4
    policy = FlowPolicy(model, data.obs_keys, {"obs_layout": LAYOUT})
    flat = observations(2)  # the env's full observation in layout order: pos, vel, goal
    subset = np.concatenate([flat[:, 4:6], flat[:, 0:2]], axis=1)
    np.testing.assert_array_equal(policy.predict_action_chunk(flat), policy.predict_action_chunk(subset))
    with pytest.raises(ValueError, match=r"or the environment's full 6"):
        policy.select_action(np.zeros(5))


def test_observation_windows_slide_and_restart_at_a_reset(toy_file, monkeypatch):
    model, data = make_model(toy_file, "flow", obs_horizon=3)
    policy = FlowPolicy(model, data.obs_keys, {"obs_layout": LAYOUT}, n_action_steps=1)
    windows = []

    def fake_sample(window):
        windows.append(window.copy())
        return np.zeros((len(window), 4, 3))

    monkeypatch.setattr(policy, "_sample", fake_sample)
    obs = observations(8).reshape(4, 2, OBS_DIM)  # 4 steps of 2 episodes
    for t in range(4):
        if t == 2:
            policy.reset(np.array([False, True]))  # episode 1 restarts at step 2
        policy.select_action(obs[t])
    np.testing.assert_array_equal(windows[0][0], obs[[0, 0, 0], 0])  # padded by the first observation
    np.testing.assert_array_equal(windows[3][0], obs[[1, 2, 3], 0])  # the last three observations
    np.testing.assert_array_equal(windows[2][1], obs[[2, 2, 2], 1])  # restarted: padded again
    np.testing.assert_array_equal(windows[3][1], obs[[2, 2, 3], 1])


def test_receding_horizon_executes_n_action_steps_then_replans(toy_file, monkeypatch):
    policy = toy_policy(toy_file, "flow", n_action_steps=3)
    chunks = [np.full((1, 4, 3), float(i)) + np.arange(4)[None, :, None] / 10 for i in range(3)]
    calls = []

    def fake_sample(window):
        calls.append(window.copy())
        return chunks[len(calls) - 1]

    monkeypatch.setattr(policy, "_sample", fake_sample)
    obs = observations(7)
    actions = [policy.select_action(o) for o in obs]
    assert len(calls) == 3  # steps 0, 3, 6
    expected = [chunks[t // 3][0, t % 3] for t in range(7)]
    np.testing.assert_allclose(np.stack(actions), np.stack(expected))
    np.testing.assert_array_equal(calls[1][0, -1], obs[3])  # replanned from the observation at that step


def test_reset_of_some_rows_replans_only_those(toy_file, monkeypatch):
    policy = toy_policy(toy_file, "flow", n_action_steps=4)
    sizes = []
    original = policy._sample
    monkeypatch.setattr(policy, "_sample", lambda w: sizes.append(len(w)) or original(w))
    obs = observations(3)
    policy.select_action(obs)
    policy.select_action(obs)
    policy.reset(np.array([1]))
    policy.select_action(obs)
    assert sizes == [3, 1]
    with pytest.raises(ValueError, match="call reset"):
        policy.select_action(observations(2))


@pytest.mark.parametrize(
    ("obs", "message"),
    [
        (np.full(OBS_DIM, np.nan, dtype=np.float32), "NaN or inf"),
        (np.array([0.0, np.inf, 0, 0, 0, 0]), "NaN or inf"),
        (np.zeros(5), "has 5 values, the policy was trained on 6"),
        (np.zeros((2, 7)), "has 7 values, the policy was trained on 6"),
        (np.zeros((2, 2, 6)), r"shape \[obs_dim\] or \[N, obs_dim\]"),
        ({"pos": np.zeros(2), "vel": np.zeros(2)}, r"lacks keys \['goal'\]"),
    ],
)
def test_bad_observations_raise_value_errors_naming_expected_and_given(toy_file, obs, message):
    policy = toy_policy(toy_file, "flow")
    with pytest.raises(ValueError, match=message):
        policy.select_action(obs)


def test_log_prob_of_a_chunk_matches_the_model(toy_file):
    policy = toy_policy(toy_file, "flow")
    obs = observations(4)
    chunk = policy.predict_action_chunk(obs)
    with torch.no_grad():
        expected = policy.model.log_prob(torch.from_numpy(obs)[:, None], torch.from_numpy(chunk)).numpy()
    np.testing.assert_allclose(policy.log_prob(obs, chunk), expected, rtol=1e-5)
    assert isinstance(policy.log_prob(obs[0], chunk[0]), float)
    with pytest.raises(ValueError, match=r"action_chunk must have shape \[4, 3\]"):
        policy.log_prob(obs[0], chunk[0, :2])


@pytest.fixture(scope="module")
def trained_checkpoint(toy_file, tmp_path_factory):
    from robo_flows.training.experiment import train_policy

    out = tmp_path_factory.mktemp("train")
    cfg = load_config(
        {
            "data": {"path": str(toy_file), "action_horizon": 4},
            "model": {"kind": "gmm", "hidden_features": [32], "encoder_hidden": [32], "monitor_steps": 10},
            "train": {"steps": 20, "batch_size": 32, "valid_every": 10, "log_every": 10, "warmup_steps": 2},
        },
        PolicyExperimentConfig,
    )
    summary = train_policy(cfg, out)
    return summary["checkpoints"]["best"]


def test_policy_from_checkpoint_acts_like_the_saved_ema_model(trained_checkpoint):
    policy = FlowPolicy.from_checkpoint(trained_checkpoint, n_action_steps=2)
    assert policy.kind == "gmm" and policy.n_action_steps == 2 and policy.obs_keys == ["pos", "vel", "goal"]
    ckpt = load_checkpoint(trained_checkpoint)
    saved = {k: v for k, v in ckpt["ema"].items() if k.startswith("head.")}
    for key, value in saved.items():
        torch.testing.assert_close(policy.model.state_dict()[key], value)
    assert np.isfinite(policy.log_prob(observations(2), policy.predict_action_chunk(observations(2)))).all()


def test_checkpoint_of_another_kind_or_model_is_refused(trained_checkpoint, tmp_path):
    ckpt = load_checkpoint(trained_checkpoint)
    grasp = tmp_path / "grasp.pt"
    save_checkpoint({**ckpt, "kind": "grasp"}, grasp)
    with pytest.raises(CheckpointError, match="grasp"):
        FlowPolicy.from_checkpoint(grasp)
    other = tmp_path / "other_model.pt"
    save_checkpoint(
        {**ckpt, "config": {**ckpt["config"], "model": {**ckpt["config"]["model"], "kind": "flow"}}}, other
    )
    with pytest.raises(ValueError, match="do not fit a 'flow' policy model"):
        FlowPolicy.from_checkpoint(other)
    unknown = tmp_path / "unknown.pt"
    save_checkpoint({**ckpt, "config": {**ckpt["config"], "model": {"kind": "diffusion"}}}, unknown)
    with pytest.raises(ValueError, match="'diffusion'"):
        FlowPolicy.from_checkpoint(unknown)
