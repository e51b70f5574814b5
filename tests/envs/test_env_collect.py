"""The demo collector writes the robomimic layout and reading it back gives exactly what was written."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time

import gymnasium as gym
import h5py
import numpy as np
import pytest
from robo_flows_envs.collect import collect_demos, run_expert_episode

from robo_flows.commands import main as cli_main
from robo_flows.data import read_demo_file, resolve_action_box

ENV_ID = "RoboFlows/PandaDetour-v0"


def read_demo(group: h5py.Group, layout: dict[str, int]) -> dict[str, np.ndarray]:
    return {
        "obs": np.concatenate([group["obs"][name][()] for name in layout], axis=1),
        "actions": group["actions"][()],
        "rewards": group["rewards"][()],
        "dones": group["dones"][()],
    }


def test_file_round_trips_the_expert_episodes(tmp_path, make_env):
    out = tmp_path / "demos.hdf5"
    summary = collect_demos(ENV_ID, episodes=3, seed=10, out=out, progress=False)
    assert summary["attempted"] == 3 and summary["kept"] == 3 and summary["success_rate"] == 1.0
    assert summary["path"] == str(out) and sum(summary["modes"].values()) == 3
    env = make_env(ENV_ID)
    with h5py.File(out, "r") as f:
        data = f["data"]
        env_args = json.loads(data.attrs["env_args"])
        assert env_args["env_name"] == ENV_ID and env_args["env_kwargs"] == {}
        layout = env_args["obs_layout"]
        assert layout == env.unwrapped.obs_layout and list(layout) == list(env.unwrapped.obs_layout)
        assert sorted(data) == ["demo_0", "demo_1", "demo_2"]
        total = 0
        for i in range(3):
            group = data[f"demo_{i}"]
            episode = run_expert_episode(env, 10 + i)
            stored = read_demo(group, layout)
            np.testing.assert_array_equal(stored["obs"], episode.obs)
            np.testing.assert_array_equal(stored["actions"], episode.actions)
            np.testing.assert_array_equal(stored["rewards"], episode.rewards)
            np.testing.assert_array_equal(stored["dones"], episode.dones)
            assert stored["dones"][-1] == 1 and stored["dones"][:-1].sum() == 0
            assert all(group["obs"][k].dtype == np.float32 for k in layout)
            attrs = group.attrs
            assert attrs["num_samples"] == len(episode.actions)
            assert attrs["seed"] == 10 + i and attrs["expert_mode"] == episode.expert_mode
            assert bool(attrs["success"]) and attrs["mode"] == episode.mode
            total += attrs["num_samples"]
        assert data.attrs["total"] == total


def test_two_workers_write_the_same_file_as_one(tmp_path):
    one, two = tmp_path / "one.hdf5", tmp_path / "two.hdf5"
    collect_demos("RoboFlows/PandaReach-v0", episodes=4, seed=3, out=one, progress=False)
    collect_demos("RoboFlows/PandaReach-v0", episodes=4, seed=3, out=two, workers=2, progress=False)
    with h5py.File(one, "r") as a, h5py.File(two, "r") as b:
        assert sorted(a["data"]) == sorted(b["data"])
        for name in a["data"]:
            np.testing.assert_array_equal(a["data"][name]["actions"][()], b["data"][name]["actions"][()])
            assert a["data"][name].attrs["seed"] == b["data"][name].attrs["seed"]


def test_refuses_to_overwrite_without_force(tmp_path):
    out = tmp_path / "demos.hdf5"
    out.write_bytes(b"precious")
    with pytest.raises(FileExistsError, match="force"):
        collect_demos("RoboFlows/PandaReach-v0", episodes=1, seed=0, out=out, progress=False)
    assert out.read_bytes() == b"precious"
    assert list(tmp_path.iterdir()) == [out]  # no temp file left behind
    collect_demos("RoboFlows/PandaReach-v0", episodes=1, seed=0, out=out, force=True, progress=False)
    with h5py.File(out, "r") as f:
        assert "demo_0" in f["data"]


def test_bad_arguments_raise_value_error(tmp_path):
    with pytest.raises(ValueError, match="unknown env id"):
        collect_demos("RoboFlows/Nope-v0", episodes=1, seed=0, out=tmp_path / "x.hdf5")
    with pytest.raises(ValueError, match="episodes"):
        collect_demos("RoboFlows/PandaReach-v0", episodes=0, seed=0, out=tmp_path / "x.hdf5")
    with pytest.raises(ValueError, match="workers"):
        collect_demos("RoboFlows/PandaReach-v0", episodes=1, seed=0, out=tmp_path / "x.hdf5", workers=0)
    for sigma in (-0.1, float("nan")):
        with pytest.raises(ValueError, match="action_noise"):
            collect_demos("RoboFlows/PandaReach-v0", 1, 0, tmp_path / "x.hdf5", action_noise=sigma)


def test_cli_collects_and_refuses_overwrite(tmp_path, capsys):
    out = tmp_path / "demos.hdf5"
    args = [
        "collect",
        "--env",
        "RoboFlows/PandaReach-v0",
        "--episodes",
        "2",
        "--out",
        str(out),
        "--no-progress",
    ]
    assert cli_main(args) == 0
    assert json.loads(capsys.readouterr().out)["kept"] == 2
    assert cli_main(args) == 2
    assert "exists; pass --force" in capsys.readouterr().err
    assert gym.spec("RoboFlows/PandaReach-v0") is not None


def test_failures_are_dropped_unless_kept(tmp_path):
    short = {"max_episode_steps": 2}  # too short for the Reach expert: every episode truncates unsuccessful
    dropped = collect_demos(
        "RoboFlows/PandaReach-v0", 3, 0, tmp_path / "a.hdf5", progress=False, env_kwargs=short
    )
    assert dropped["attempted"] == 3 and dropped["kept"] == 0 and dropped["success_rate"] == 0.0
    kept = collect_demos(
        "RoboFlows/PandaReach-v0",
        3,
        0,
        tmp_path / "b.hdf5",
        keep_failures=True,
        progress=False,
        env_kwargs=short,
    )
    assert kept["kept"] == 3
    with h5py.File(tmp_path / "b.hdf5", "r") as f:
        assert json.loads(f["data"].attrs["env_args"])["env_kwargs"] == short
        for name in f["data"]:
            demo = f["data"][name]
            assert not demo.attrs["success"] and demo.attrs["num_samples"] == 2 and demo["dones"][-1] == 1


def test_noisy_collection_records_clean_expert_actions_of_the_visited_states(tmp_path, make_env):
    out = tmp_path / "noisy.hdf5"
    collect_demos(ENV_ID, episodes=2, seed=4, out=out, progress=False, action_noise=0.2)
    env = make_env(ENV_ID)
    with h5py.File(out, "r") as f:
        data = f["data"]
        assert data.attrs["action_noise"] == 0.2 and json.loads(data.attrs["env_args"])["action_noise"] == 0.2
        layout = json.loads(data.attrs["env_args"])["obs_layout"]
        for name in data:
            group = data[name]
            stored = read_demo(group, layout)
            env.reset(seed=int(group.attrs["seed"]))
            noise = np.random.default_rng(int(group.attrs["seed"]))
            for obs, action in zip(stored["obs"], stored["actions"], strict=True):
                np.testing.assert_allclose(obs, env.unwrapped._obs(), rtol=0, atol=1e-6)
                np.testing.assert_array_equal(action, env.unwrapped.expert_action())  # the clean label
                env.step(np.clip(action + 0.2 * noise.standard_normal(4), -1.0, 1.0))
    clean = run_expert_episode(env, 4)
    noisy = run_expert_episode(env, 4, action_noise=0.2)
    assert not np.allclose(clean.obs[1:5], noisy.obs[1:5])  # the noise moves the visited states


def test_file_records_the_env_action_box_as_the_policys_box(tmp_path, make_env):
    out = tmp_path / "demos.hdf5"
    collect_demos("RoboFlows/PandaReach-v0", episodes=1, seed=0, out=out, progress=False)
    space = make_env("RoboFlows/PandaReach-v0").action_space
    demos = read_demo_file(out)
    assert demos.env_args["action_low"] == space.low.tolist()
    assert demos.env_args["action_high"] == space.high.tolist()
    low, high = resolve_action_box(demos, "env")
    np.testing.assert_array_equal(low, space.low)
    np.testing.assert_array_equal(high, space.high)


def test_collected_file_gets_the_umask_mode(tmp_path):
    old = os.umask(0o022)
    try:
        out = collect_demos("RoboFlows/PandaReach-v0", 1, 0, tmp_path / "d.hdf5", progress=False)["path"]
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o644


def test_a_sigkilled_collection_leaves_no_temp_file_after_the_next_one(tmp_path):
    out = tmp_path / "demos.hdf5"
    code = (
        "import sys\n"
        "from robo_flows_envs.collect import collect_demos\n"
        "collect_demos('RoboFlows/PandaReach-v0', 10000, 0, sys.argv[1], progress=False)\n"
    )
    child = subprocess.Popen([sys.executable, "-c", code, str(out)])
    try:
        deadline = time.monotonic() + 120
        while not list(tmp_path.glob(".demos.hdf5.*.tmp")) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert child.poll() is None, "the collection ended before it could be killed"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    assert len(list(tmp_path.glob(".demos.hdf5.*.tmp"))) == 1 and not out.exists()
    collect_demos("RoboFlows/PandaReach-v0", 1, 0, out, progress=False)
    assert [p.name for p in tmp_path.iterdir()] == ["demos.hdf5"]
