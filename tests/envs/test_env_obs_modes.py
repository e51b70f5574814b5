"""Camera observations (``obs_mode``), the physics settings and the closed-env error."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pybullet as p
import pytest
from gymnasium.utils.env_checker import check_env
from robo_flows_envs import TASKS
from robo_flows_envs.experts.detour import EDGE_CLEARANCE, FACE_CLEARANCE
from robo_flows_envs.robots.panda import ARM_POSITION_GAIN, step_gain
from robo_flows_envs.tasks.base import ROBOT_PARTS
from robo_flows_envs.tasks.detour import WALL_HALF

from robo_flows.errors import EnvError

SMALL = {"camera_width": 24, "camera_height": 16}


def rollout(env, seed: int, steps: int = 12) -> list:
    """Observations of a seeded random-action rollout (the actions drawn from their own seeded stream)."""
    obs, _ = env.reset(seed=seed)
    rng = np.random.default_rng(seed)
    out = [obs]
    for _ in range(steps):
        obs, _, terminated, truncated, _ = env.step(rng.uniform(-1, 1, 4).astype(np.float32))
        out.append(obs)
        if terminated or truncated:
            break
    return out


@pytest.mark.parametrize("env_id", list(TASKS))
@pytest.mark.parametrize("obs_mode", ["rgb", "state+rgb"])
def test_image_modes_pass_gymnasium_env_checker(make_env, env_id, obs_mode):
    env = make_env(env_id, obs_mode=obs_mode, **SMALL)
    check_env(env.unwrapped, skip_render_check=True)


@pytest.mark.parametrize("env_id", ["RoboFlows/PandaDetour-v0", "RoboFlows/PandaPickPlace-v0"])
def test_state_rgb_holds_every_state_part_equal_to_the_flat_observation(make_env, env_id):
    flat_env = make_env(env_id)
    dict_env = make_env(env_id, obs_mode="state+rgb", **SMALL)
    layout = flat_env.unwrapped.obs_layout
    assert dict_env.unwrapped.obs_layout == layout
    images = {"agentview_image", "eye_in_hand_image"}
    assert set(dict_env.observation_space.spaces) == set(layout) | images
    for flat, obs in zip(rollout(flat_env, 3), rollout(dict_env, 3), strict=True):
        np.testing.assert_array_equal(np.concatenate([obs[k] for k in layout]), flat)
        for key in images:
            assert obs[key].dtype == np.uint8 and obs[key].shape == (16, 24, 3)
        assert dict_env.observation_space.contains(obs)


def test_rgb_mode_holds_the_robot_state_and_the_chosen_cameras_only(make_env):
    env = make_env("RoboFlows/PandaPush-v0", obs_mode="rgb", cameras=["eye_in_hand"], **SMALL)
    obs, _ = env.reset(seed=0)
    assert set(obs) == set(ROBOT_PARTS) | {"eye_in_hand_image"}
    assert env.unwrapped.image_keys == ("eye_in_hand_image",)
    assert env.unwrapped.state_keys == ROBOT_PARTS


@pytest.mark.parametrize("obs_mode", ["rgb", "state+rgb"])
def test_same_seed_gives_identical_images_after_other_episodes(make_env, obs_mode):
    env = make_env("RoboFlows/PandaPickPlace-v0", obs_mode=obs_mode, **SMALL)
    first = rollout(env, 7)
    rollout(env, 8)
    for again in (
        rollout(env, 7),
        rollout(make_env("RoboFlows/PandaPickPlace-v0", obs_mode=obs_mode, **SMALL), 7),
    ):
        for a, b in zip(first, again, strict=True):
            assert a.keys() == b.keys()
            for key in a:
                np.testing.assert_array_equal(a[key], b[key])
    other = rollout(env, 9)
    assert not np.array_equal(first[3]["agentview_image"], other[3]["agentview_image"])


def pixel(camera, point) -> np.ndarray:
    """Where world ``point`` [3] lands in a fixed camera's frame: (column, row) in pixels."""
    view = np.asarray(camera.view).reshape(4, 4).T  # pybullet's matrices are column-major
    projection = np.asarray(camera.projection).reshape(4, 4).T
    clip = projection @ view @ np.append(point, 1.0)
    ndc = clip[:3] / clip[3]
    return np.array([(ndc[0] + 1) / 2 * camera.width, (1 - ndc[1]) / 2 * camera.height])


def test_detour_agentview_shows_the_wall_the_goal_and_both_detour_lanes(make_env):
    env = make_env("RoboFlows/PandaDetour-v0", obs_mode="rgb", cameras=["agentview"])
    obs, _ = env.reset(seed=0)
    u = env.unwrapped
    camera = u.cameras["agentview_image"]
    wall = u.wall_center
    points = [u.goal, wall + [0, 0, WALL_HALF[2]]]
    for side in (-1, 1):  # the lane past each edge, in front of and behind the wall, at the EE's height
        lane_y = wall[1] + side * (WALL_HALF[1] + EDGE_CLEARANCE)
        for x in (wall[0] - WALL_HALF[0] - FACE_CLEARANCE, wall[0] + WALL_HALF[0] + FACE_CLEARANCE):
            points.append(np.array([x, lane_y, 0.1]))
    for point in points:
        col, row = pixel(camera, point)
        assert 2 <= col < camera.width - 2 and 2 <= row < camera.height - 2, point
    image = obs["agentview_image"].astype(int)
    col, row = pixel(camera, wall + [0, 0, WALL_HALF[2] / 2])
    r, g, b = image[int(row), int(col)]
    assert r > g + 40 and r > b + 40  # the red wall is drawn where it projects


def test_eye_in_hand_image_moves_with_the_hand(make_env):
    env = make_env("RoboFlows/PandaReach-v0", obs_mode="rgb", **SMALL)
    obs, _ = env.reset(seed=0)
    for _ in range(6):  # the hand moves sideways over the table
        moved, *_ = env.step(np.array([0.0, 1.0, 0.0, -1.0], dtype=np.float32))
    assert not np.array_equal(obs["eye_in_hand_image"], moved["eye_in_hand_image"])
    u = env.unwrapped
    camera = u.cameras["eye_in_hand_image"]
    eye = np.linalg.inv(np.asarray(camera.view(u.sim.cid)).reshape(4, 4).T)[:3, 3]
    np.testing.assert_allclose(
        eye[:2], u.ee_pos[:2] + camera.EYE[:2] * [1, -1], atol=0.01
    )  # hand points down
    assert eye[2] > u.ee_pos[2] + 0.05  # above the fingertips


def test_bad_observation_arguments_raise_env_error():
    cases = [
        ({"obs_mode": "depth"}, "obs_mode"),
        ({"obs_mode": "rgb", "cameras": ["front"]}, "cameras"),
        ({"obs_mode": "rgb", "cameras": []}, "cameras"),
        ({"obs_mode": "rgb", "cameras": ["agentview", "agentview"]}, "cameras"),
        ({"cameras": ["agentview"]}, "obs_mode"),
        ({"obs_mode": "rgb", "camera_width": 0}, "camera_width"),
        ({"obs_mode": "rgb", "camera_height": 8.5}, "camera_height"),
    ]
    for kwargs, word in cases:
        with pytest.raises(EnvError, match=word):
            gym.make("RoboFlows/PandaReach-v0", **kwargs)


def test_physics_defaults_to_four_10ms_steps_and_explicit_defaults_change_nothing(make_env):
    env = make_env("RoboFlows/PandaPush-v0")
    assert (env.unwrapped.sim.timestep, env.unwrapped.sim.substeps) == (0.01, 4)
    explicit = make_env("RoboFlows/PandaPush-v0", physics_timestep=0.01, physics_substeps=4)
    np.testing.assert_array_equal(np.array(rollout(env, 2)), np.array(rollout(explicit, 2)))


def test_physics_timestep_and_substeps_set_the_simulator(make_env):
    for kwargs in (
        {"physics_substeps": 20},
        {"physics_timestep": 0.002},
        {"physics_timestep": 0.002, "physics_substeps": 20},
    ):
        sim = make_env("RoboFlows/PandaReach-v0", **kwargs).unwrapped.sim
        assert sim.substeps == 20 and abs(sim.timestep - 0.002) < 1e-15
        assert abs(p.getPhysicsEngineParameters(physicsClientId=sim.cid)["fixedTimeStep"] - 0.002) < 1e-12
    fine, coarse = make_env("RoboFlows/PandaPush-v0", physics_substeps=20), make_env("RoboFlows/PandaPush-v0")
    assert not np.array_equal(np.array(rollout(fine, 2)), np.array(rollout(coarse, 2)))


@pytest.mark.parametrize(
    ("kwargs", "word"),
    [
        ({"physics_timestep": 0.002, "physics_substeps": 10}, "control period"),
        ({"physics_timestep": 0.003}, "control period"),
        ({"physics_timestep": 0.0}, "physics_timestep"),
        ({"physics_timestep": -0.01, "physics_substeps": 4}, "physics_timestep"),
        ({"physics_timestep": float("nan")}, "physics_timestep"),
        ({"physics_substeps": 0}, "physics_substeps"),
        ({"physics_substeps": 2.5}, "physics_substeps"),
    ],
)
def test_bad_physics_settings_raise_env_error(kwargs, word):
    with pytest.raises(EnvError, match=word):
        gym.make("RoboFlows/PandaReach-v0", **kwargs)


@pytest.mark.parametrize("obs_mode", ["state", "state+rgb"])
def test_calls_after_close_say_the_env_was_closed(obs_mode):
    env = gym.make(
        "RoboFlows/PandaReach-v0",
        render_mode="rgb_array",
        obs_mode=obs_mode,
        **({} if obs_mode == "state" else SMALL),
    )
    env.reset(seed=0)
    env.close()
    env.close()  # twice is harmless
    with pytest.raises(EnvError, match="closed"):
        env.step(np.zeros(4, dtype=np.float32))
    with pytest.raises(EnvError, match="closed"):
        env.reset(seed=0)
    with pytest.raises(EnvError, match="closed"):
        env.render()
    with pytest.raises(EnvError, match="closed"):
        env.unwrapped.expert_action()


def test_motor_gains_give_the_same_response_per_second_at_every_physics_step():
    for gain in (ARM_POSITION_GAIN, 0.1):
        assert step_gain(gain, 0.01) == gain  # the defaults, bit for bit
        left = [(1 - step_gain(gain, dt)) ** (0.04 / dt) for dt in (0.01, 0.004, 0.002, 0.001)]
        np.testing.assert_allclose(left, left[0], rtol=1e-12)


@pytest.mark.parametrize("env_id", ["RoboFlows/PandaReach-v0", "RoboFlows/PandaPickPlace-v0"])
def test_the_same_actions_move_the_hand_alike_at_2ms_and_10ms(make_env, env_id):
    """The physics step is a fidelity setting, not a different robot: the 10 ms expert's actions replayed
    at 20 x 2 ms keep the EE within 5 cm of its 10 ms path (per-step motor gains overshot by 10-20 cm)."""
    coarse, fine = make_env(env_id), make_env(env_id, physics_substeps=20)
    coarse.reset(seed=0)
    fine.reset(seed=0)
    for _ in range(15):
        a = coarse.unwrapped.expert_action()
        coarse.step(a)
        fine.step(a)
        assert np.linalg.norm(coarse.unwrapped.ee_pos - fine.unwrapped.ee_pos) < 0.05
