"""FlowPolicy in the control loop: shapes, observation forms, receding horizon, bad input, checkpoints."""

from __future__ import annotations

import os
import stat

import numpy as np
import pytest
import torch
from policy_toys import LAYOUT, TOY_BOX, make_model

from robo_flows.config import PolicyExperimentConfig, load_config
from robo_flows.policy import FlowPolicy
from robo_flows.policy.loading import load_policy_model
from robo_flows.training import FORMAT_VERSION, CheckpointError, load_checkpoint, save_checkpoint

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


def test_observation_windows_slide_and_restart_at_a_reset(toy_file):
    """With obs_horizon 3 and replanning every step, each action is the deterministic (mse) chunk of the
    window the loop kept: the last three observations, padded by the first of the episode, restarted at a
    reset of that row."""
    model, data = make_model(toy_file, "mse", obs_horizon=3)
    policy = FlowPolicy(model, data.obs_keys, {"obs_layout": LAYOUT}, n_action_steps=1)
    obs = observations(8).reshape(4, 2, OBS_DIM)  # 4 steps of 2 episodes
    actions = []
    for t in range(4):
        if t == 2:
            policy.reset(np.array([False, True]))  # episode 1 restarts at step 2
        actions.append(policy.select_action(obs[t]))
    windows = {  # (step, row): the expected window
        (0, 0): obs[[0, 0, 0], 0],
        (3, 0): obs[[1, 2, 3], 0],
        (2, 1): obs[[2, 2, 2], 1],
        (3, 1): obs[[2, 2, 3], 1],
    }
    for (t, row), window in windows.items():
        with torch.no_grad():
            expected = model.sample_chunk(torch.from_numpy(window)[None])[0, 0].numpy()
        np.testing.assert_allclose(actions[t][row], expected, rtol=1e-6, atol=1e-6)


def test_receding_horizon_executes_n_action_steps_then_replans(toy_file):
    """n_action_steps = 3: actions 0-2 are the chunk planned at step 0, 3-5 the one planned at step 3 from
    that step's observation, 6 the first of the chunk planned at step 6 (obs_horizon 1, deterministic mse)."""
    policy = toy_policy(toy_file, "mse", n_action_steps=3)
    obs = observations(7)
    actions = np.stack([policy.select_action(o) for o in obs])
    chunks = {t: policy.predict_action_chunk(obs[t]) for t in (0, 3, 6)}
    expected = np.stack([chunks[t - t % 3][t % 3] for t in range(7)])
    np.testing.assert_allclose(actions, expected, rtol=1e-6, atol=1e-6)
    assert not np.allclose(chunks[0][:3], chunks[3][:3])  # the plans differ, so replanning is visible


def test_reset_of_some_rows_replans_only_those(toy_file):
    policy = toy_policy(toy_file, "mse", n_action_steps=4)
    first, later = observations(3), observations(6)[3:]
    policy.select_action(first)
    policy.select_action(later)
    policy.reset(np.array([1]))
    third = policy.select_action(later)
    np.testing.assert_allclose(third[[0, 2]], policy.predict_action_chunk(first)[[0, 2], 2], atol=1e-6)
    np.testing.assert_allclose(third[1], policy.predict_action_chunk(later[1])[0], atol=1e-6)
    with pytest.raises(ValueError, match="call reset"):
        policy.select_action(observations(2))


@pytest.mark.parametrize("temperature", [float("nan"), float("inf"), -0.5])
def test_a_temperature_that_is_not_a_finite_positive_number_is_refused(toy_file, temperature):
    with pytest.raises(ValueError, match=r"temperature must be a finite number > 0, got"):
        toy_policy(toy_file, "flow", temperature=temperature)


@pytest.mark.parametrize(
    ("obs", "message"),
    [
        (np.full(OBS_DIM, np.nan, dtype=np.float32), "NaN or inf"),
        (np.array([0.0, np.inf, 0, 0, 0, 0]), "NaN or inf"),
        (np.zeros(5), "has 5 values, the policy was trained on 6"),
        (np.zeros((2, 7)), "has 7 values, the policy was trained on 6"),
        (np.zeros((2, 2, 6)), r"shape \[obs_dim\] or \[N, obs_dim\]"),
        ({"pos": np.zeros(2), "vel": np.zeros(2)}, r"lacks keys \['goal'\]"),
        (np.array([0.0, 1e39, 0, 0, 0, 0]), r"NaN or inf \(after the cast to float32\) at positions \[1\]"),
        (np.array(["0.1"] * OBS_DIM), "must hold real numbers, got an array of dtype <U3"),
        ({"pos": np.zeros(2), "vel": np.zeros(2), "goal": np.array(["a", "b"])}, "dtype <U"),
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
    """Same seed, same observations: the loaded policy's actions and densities are those of a model holding
    the checkpoint's EMA weights, and differ from those of its raw (non-averaged) weights."""
    policy = FlowPolicy.from_checkpoint(trained_checkpoint, n_action_steps=2)
    assert policy.kind == "gmm" and policy.n_action_steps == 2 and policy.obs_keys == ["pos", "vel", "goal"]
    ckpt = load_checkpoint(trained_checkpoint)

    def acting(weights: str) -> FlowPolicy:
        model, _ = load_policy_model(trained_checkpoint)
        model.load_state_dict(ckpt[weights])
        return FlowPolicy(model, policy.obs_keys, policy.env_args, n_action_steps=2)

    def actions(p: FlowPolicy) -> np.ndarray:
        torch.manual_seed(7)
        return np.stack([p.select_action(o) for o in observations(5)])

    ema, raw = acting("ema"), acting("model")
    np.testing.assert_array_equal(actions(policy), actions(ema))
    assert not np.allclose(actions(policy), actions(raw), atol=1e-4)
    chunk = ema.predict_action_chunk(observations(2))
    np.testing.assert_array_equal(
        policy.log_prob(observations(2), chunk), ema.log_prob(observations(2), chunk)
    )


def test_checkpoint_stores_the_statistics_once_in_the_weights(trained_checkpoint, toy_file):
    ckpt = load_checkpoint(trained_checkpoint)
    assert "normalizer" not in ckpt and "action_low" not in ckpt["meta"]
    assert ckpt["model"]["action_low"].tolist() == TOY_BOX["action_low"]
    policy = FlowPolicy.from_checkpoint(trained_checkpoint)
    np.testing.assert_array_equal(policy.action_high, TOY_BOX["action_high"])


def test_flow_checkpoint_keeps_its_chain_in_step_with_the_stored_statistics(toy_file, tmp_path):
    """The flow's Standardize / Bounded layers are derived from the stored statistics, not stored again."""
    model, data = make_model(toy_file, "flow")
    weights = model.state_dict()
    assert not any(k.startswith(("flow.transforms.0.", "flow.transforms.1.")) for k in weights)
    fresh, _ = make_model(toy_file, "flow", obs_keys=["pos", "vel", "goal"])
    fresh.action_normalizer.shift.add_(1.0)  # other statistics, then the stored ones loaded back
    fresh.load_state_dict(weights)
    batch = torch.utils.data.default_collate([data[i] for i in range(8)])
    with torch.no_grad():
        torch.testing.assert_close(
            fresh.log_prob(batch["obs"], batch["actions"].clamp(-0.99, 0.99)),
            model.log_prob(batch["obs"], batch["actions"].clamp(-0.99, 0.99)),
        )


def test_a_pickled_checkpoint_is_refused_as_unsafe_without_advice_to_turn_safety_off(tmp_path):
    path = tmp_path / "pickled.pt"
    torch.save({"format_version": FORMAT_VERSION, "kind": "policy", "payload": Pickled()}, path)
    with pytest.raises(CheckpointError) as info:
        FlowPolicy.from_checkpoint(path)
    message = str(info.value)
    assert "not a robo_flows checkpoint" in message and "unsafe content refused" in message
    assert "weights_only" not in message
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a checkpoint at all")
    with pytest.raises(CheckpointError, match="not a robo_flows checkpoint") as info:
        FlowPolicy.from_checkpoint(junk)
    assert "weights_only" not in str(info.value)


def test_checkpoint_gets_the_umask_mode(trained_checkpoint, tmp_path):
    old = os.umask(0o022)
    try:
        path = save_checkpoint(load_checkpoint(trained_checkpoint), tmp_path / "copy.pt")
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


class Pickled:
    """An arbitrary Python object: unpickling it would import and build it."""


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
