"""RoboFlows/PandaPickObject-v0: the gymnasium contract, determinism, no leaks over make/close cycles and
resets, a depth camera that sees the object only, reachability that refuses poses under the table, and the
antipodal expert picking a primitive."""

from __future__ import annotations

import os
import resource

import gymnasium as gym
import numpy as np
import pybullet as p
import pytest
import trimesh
from gymnasium.utils.env_checker import check_env
from robo_flows_envs.grasp_sim.gripper import grasp_frames
from robo_flows_envs.grasp_sim.point_clouds import object_trimesh
from robo_flows_envs.tasks.pick_object import HOLD_PERIODS

from robo_flows.errors import EnvError

ENV = "RoboFlows/PandaPickObject-v0"
FEW = ["box:0.04,0.05,0.06", "cylinder:0.02,0.08", "random_urdfs/003"]  # fast: no split of 800 meshes


def random_rollout(env, seed: int, steps: int = 20) -> np.ndarray:
    obs, _ = env.reset(seed=seed)
    rng = np.random.default_rng(seed)
    rows = [obs]
    for _ in range(steps):
        obs, reward, *_ = env.step(rng.uniform(-1, 1, 7).astype(np.float32))
        rows.append(np.append(obs, reward))
    return np.concatenate(rows)


def test_passes_gymnasium_env_checker_with_a_seven_dim_pose_action(make_env):
    env = make_env(ENV, objects=FEW, render_mode="rgb_array", width=32, height=24)
    check_env(env.unwrapped, skip_render_check=False)
    assert env.action_space.shape == (7,)
    assert env.unwrapped.action_names == ("vx", "vy", "vz", "wx", "wy", "wz", "gripper")
    obs, _ = env.reset(seed=0)
    assert obs.shape == (sum(env.unwrapped.obs_layout.values()),)
    with pytest.raises(ValueError, match=r"shape \(7,\)"):
        env.step(np.zeros(4, dtype=np.float32))


def test_same_seed_gives_identical_trajectory_after_other_episodes(make_env):
    env = make_env(ENV, objects=FEW)
    first = random_rollout(env, seed=7)
    random_rollout(env, seed=8)  # another object in between
    np.testing.assert_array_equal(first, random_rollout(env, seed=7))
    np.testing.assert_array_equal(first, random_rollout(make_env(ENV, objects=FEW), seed=7))
    assert not np.array_equal(first, random_rollout(env, seed=9))


def test_resets_keep_one_object_and_make_close_cycles_leak_nothing():
    env = gym.make(ENV, objects=FEW)
    cid = env.unwrapped.sim.cid
    env.reset(seed=0)
    bodies = p.getNumBodies(physicsClientId=cid)
    for seed in range(1, 12):  # every object of the pool, several times
        env.reset(seed=seed)
        assert p.getNumBodies(physicsClientId=cid) == bodies
    assert len(env.unwrapped._shapes) <= len(FEW)  # shapes are made once per object
    env.close()
    with pytest.raises(EnvError, match="after close"):
        env.reset(seed=0)
    fds = len(os.listdir("/proc/self/fd"))
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    probe = p.connect(p.DIRECT)
    p.disconnect(probe)
    for _ in range(15):
        cycle = gym.make(ENV, objects=FEW)
        cycle.reset(seed=0)
        cycle.step(cycle.action_space.sample())
        cycle.unwrapped.expert_action()  # the expert's own simulator too
        cycle.close()
    after = p.connect(p.DIRECT)
    p.disconnect(after)
    assert after == probe, "a client slot stayed connected"
    assert len(os.listdir("/proc/self/fd")) <= fds
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss < 60_000  # kB


def test_depth_camera_sees_only_the_object_surface(make_env):
    env = make_env(ENV, objects=FEW)
    for seed in range(3):
        env.reset(seed=seed)
        u = env.unwrapped
        cloud = u.object_cloud(np.random.default_rng(0), 512)
        assert cloud.shape == (512, 3) and cloud.dtype == np.float32
        R, pos = u.object_pose()
        local = (cloud - pos) @ R  # back into the object frame
        surface, _ = trimesh.sample.sample_surface(object_trimesh(u.current), 20000, seed=0)
        distance = np.linalg.norm(local[:, None] - np.asarray(surface)[None], axis=-1).min(axis=1)
        assert distance.max() < 0.005  # on the object (hull, margin), nothing of the table or the arm
        eye = np.array([0.95, 0.0, 0.42])
        centre = pos
        assert ((cloud - centre) @ (eye - centre) > -0.01).mean() > 0.9  # the side facing the camera


def test_a_reset_does_not_depend_on_where_the_last_episode_left_the_arm(make_env):
    env = make_env(ENV, objects=FEW)
    env.reset(seed=3)
    u = env.unwrapped
    _, pos = u.object_pose()
    u.robot.reset(pos + np.array([0.03, 0.0, 0.04]), 0.08)  # the hand just above the object, camera side
    u.sim.step()  # collision objects move there
    env.reset(seed=3)  # the arm is teleported back to its start
    fresh = make_env(ENV, objects=FEW)
    fresh.reset(seed=3)
    np.testing.assert_array_equal(
        u.object_cloud(np.random.default_rng(0), 256),
        fresh.unwrapped.object_cloud(np.random.default_rng(0), 256),
    )


def test_reachability_refuses_grasps_under_the_table_and_keeps_the_state(make_env):
    env = make_env(ENV, objects=["box:0.04,0.05,0.06"])
    obs, _ = env.reset(seed=0)
    u = env.unwrapped
    _, pos = u.object_pose()
    down = np.array([[0.0, 0.0, -1.0]])
    up = -down
    closing = np.array([[0.0, 1.0, 0.0]])
    top = grasp_frames(closing, down)  # approach straight down onto the box top
    bottom = grasp_frames(closing, up)  # approach from below, through the table
    ok = u.reachable(np.concatenate([top, bottom]), np.stack([pos + [0, 0, 0.01], pos - [0, 0, 0.01]]), 0.1)
    assert ok.tolist() == [True, False]
    again, *_ = env.step(np.zeros(7, dtype=np.float32))
    fresh = make_env(ENV, objects=["box:0.04,0.05,0.06"])
    fresh.reset(seed=0)
    expected, *_ = fresh.step(np.zeros(7, dtype=np.float32))
    np.testing.assert_array_equal(again, expected)  # the check left no trace in the simulation


@pytest.mark.slow
def test_antipodal_expert_lifts_a_box_and_success_needs_a_second_of_holding(make_env):
    env = make_env(ENV, objects=["box:0.04,0.05,0.06"])
    env.reset(seed=1)
    lifted_at, info = None, {"is_success": False}
    for step in range(150):
        _, _, terminated, _, info = env.step(env.unwrapped.expert_action())
        if lifted_at is None and env.unwrapped._held_for == 1:
            lifted_at = step
        if terminated:
            break
    assert info["is_success"]
    assert step - lifted_at == HOLD_PERIODS - 1
