"""The scripted experts solve their tasks, in every mode, and the executed mode is read from the motion."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from robo_flows_envs import TASKS
from robo_flows_envs.collect import run_expert_episode
from robo_flows_envs.experts.reach import reach_action

SEEDS = range(6)


@pytest.mark.parametrize("env_id", list(TASKS))
def test_expert_succeeds_on_seeded_batch_and_executes_its_mode(make_env, env_id):
    env = make_env(env_id)
    episodes = [run_expert_episode(env, seed) for seed in SEEDS]
    assert all(e.success for e in episodes), [(e.seed, e.expert_mode) for e in episodes if not e.success]
    assert len(episodes[0].actions) < env.spec.max_episode_steps
    if env.unwrapped.mode_names:
        assert all(e.mode == e.expert_mode for e in episodes)
        assert set(Counter(e.expert_mode for e in episodes)) <= set(env.unwrapped.mode_names)


@pytest.mark.parametrize("env_id", [i for i in TASKS if i != "RoboFlows/PandaReach-v0"])
def test_expert_draws_every_mode(make_env, env_id):
    """Over 40 seeded resets every mode is drawn, none more than twice its fair share."""
    env = make_env(env_id)
    names = env.unwrapped.mode_names
    drawn = Counter(env.reset(seed=seed)[1]["expert_mode"] for seed in range(40))
    assert set(drawn) == set(names) and max(drawn.values()) <= 2 * 40 / len(names), drawn


@pytest.mark.parametrize("env_id", list(TASKS))
def test_expert_action_is_a_pure_function_of_the_state(make_env, env_id):
    env = make_env(env_id)
    env.reset(seed=1)
    for _ in range(5):
        a = env.unwrapped.expert_action()
        np.testing.assert_array_equal(a, env.unwrapped.expert_action())
        assert a.shape == (4,) and a.dtype == np.float32 and np.all(np.abs(a) <= 1.0)
        env.step(a)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_straight_line_through_detour_wall_collides(make_env, seed):
    env = make_env("RoboFlows/PandaDetour-v0")
    env.reset(seed=seed)
    u = env.unwrapped
    for _ in range(env.spec.max_episode_steps):
        _, _, terminated, truncated, info = env.step(reach_action(u.robot.ee_state()[0], u.goal))
        if terminated or truncated:
            break
    assert terminated and not info["is_success"]
    assert info["mode"] == "none"  # stopped by the wall before crossing its plane


@pytest.mark.parametrize(
    "env_id", ["RoboFlows/PandaDetour-v0", "RoboFlows/PandaPush-v0", "RoboFlows/PandaPickPlace-v0"]
)
def test_reported_mode_follows_the_executed_motion_not_the_drawn_one(make_env, env_id):
    """Drive each episode with the *other* mode's expert: info["mode"] names what was done."""
    env = make_env(env_id)
    u = env.unwrapped
    for seed in (0, 1):
        _, info = env.reset(seed=seed)
        other = next(m for m in u.mode_names if m != info["expert_mode"])
        u.expert_mode = other  # the expert now executes the other mode
        done = False
        while not done:
            _, _, terminated, truncated, info = env.step(u.expert_action())
            done = terminated or truncated
        assert info["is_success"] and info["mode"] == other


@pytest.mark.parametrize("seed", [0, 1])
def test_grasp_holds_the_cube_through_fast_carrying(make_env, seed):
    """The physics step (4 x 10 ms per control period) keeps a grasped cube in the fingers at full speed,
    through a reversal, and without creeping during a 1 s hold."""
    env = make_env("RoboFlows/PandaPickPlace-v0")
    u = env.unwrapped
    env.reset(seed=seed)
    cube = u.cubes[u.mode_names.index(u.expert_mode)]
    while u.sim.body_state(cube)[2] < 0.07:  # the expert grasps and lifts
        env.step(u.expert_action())

    def offset() -> np.ndarray:
        return u.sim.body_state(cube)[:3] - u.robot.ee_state()[0]

    start = offset()
    drifts = []
    for velocity in [(1, 0, 0)] * 3 + [(-1, 1, 0)] * 3 + [(0, -1, 1)] * 3 + [(0, 0, 0)] * 25:
        env.step(np.array([*velocity, -1.0], dtype=np.float32))
        drifts.append(offset() - start)
    assert max(np.linalg.norm(d) for d in drifts) < 0.02  # elastic lag in the fingers, no slip out
    assert np.linalg.norm(drifts[-1] - drifts[-20]) < 0.001  # no creep while held still


def test_expert_action_before_reset_raises(make_env):
    with pytest.raises(RuntimeError, match="reset"):
        make_env("RoboFlows/PandaReach-v0").unwrapped.expert_action()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_pickplace_committed_flags_name_the_cube_the_expert_works_on(make_env, seed):
    """cube_i_committed is 0 for both cubes at rest at the start, then one-hot on the cube the expert acts
    on from the first step, and that is the cube it lifts (the expert's choice is read from the state)."""
    env = make_env("RoboFlows/PandaPickPlace-v0")
    u = env.unwrapped
    obs, _ = env.reset(seed=seed)
    flags = slice(-2, None)  # cube_0_committed, cube_1_committed: the last two values of the layout
    assert list(u.obs_layout)[-2:] == ["cube_0_committed", "cube_1_committed"]
    assert np.all(obs[flags] == 0.0) and u.committed_cube() is None
    done = False
    while not done:
        obs, _, terminated, truncated, info = env.step(u.expert_action())
        done = terminated or truncated
        assert obs[flags].sum() == 1.0 or (u.committed_cube() is None and obs[flags].sum() == 0.0)
        if u.committed_cube() is not None:
            assert obs[flags][u.committed_cube()] == 1.0 and u.target_cube() == u.committed_cube()
    assert info["is_success"] and info["mode"] == u.mode_names[u.committed_cube()]
