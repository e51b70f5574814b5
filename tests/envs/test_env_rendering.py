"""Headless rgb frames."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from robo_flows_envs import TASKS


@pytest.mark.parametrize("env_id", list(TASKS))
def test_rgb_frames_are_uint8_height_width_3_and_show_a_scene(make_env, env_id):
    env = make_env(env_id, render_mode="rgb_array", width=64, height=48)
    env.reset(seed=0)
    env.step(env.action_space.sample())
    frame = env.render()
    assert frame.dtype == np.uint8 and frame.shape == (48, 64, 3)
    assert frame.std() > 10.0  # not a blank image


def test_frames_follow_the_motion(make_env):
    env = make_env("RoboFlows/PandaReach-v0", render_mode="rgb_array", width=48, height=48)
    env.reset(seed=0)
    before = env.render().astype(int)
    for _ in range(5):
        env.step(np.array([0.0, 1.0, 0.0, 0.0], dtype=np.float32))
    assert np.abs(env.render().astype(int) - before).sum() > 0


def test_no_render_mode_renders_nothing(make_env):
    env = make_env("RoboFlows/PandaReach-v0")
    env.reset(seed=0)
    assert env.render() is None


def _volume(points: np.ndarray, triangles) -> float:
    """Signed volume enclosed by the triangles (positive when wound outward)."""
    return sum(float(np.dot(points[a], np.cross(points[b], points[c]))) for a, b, c in triangles) / 6.0


def test_convex_hull_of_a_cube_is_twelve_outward_triangles_of_unit_volume():
    from robo_flows_envs.rendering import convex_hull

    cube = np.array([[x, y, z] for x in (0, 1) for y in (0, 1) for z in (0, 1)], dtype=float)
    cube = np.concatenate([cube, [[0.5, 0.5, 0.5], [0.5, 0.5, 1.0]]])  # an inner point, a face centre
    triangles = convex_hull(cube)
    assert len(triangles) == 12  # the inner point and the face centre are no corners
    assert _volume(cube, triangles) == pytest.approx(1.0)


def test_convex_hull_holds_every_point_inside_every_outward_face():
    from robo_flows_envs.rendering import convex_hull

    points = np.random.default_rng(0).normal(size=(30, 3))
    triangles = convex_hull(points)
    for a, b, c in triangles:
        normal = np.cross(points[b] - points[a], points[c] - points[a])
        assert ((points - points[a]) @ normal <= 1e-9).all()
    # a closed surface: every edge is used once in each direction
    edges = [(t[i], t[(i + 1) % 3]) for t in triangles for i in range(3)]
    assert sorted(edges) == sorted((b, a) for a, b in edges)
    pytest.importorskip("scipy")
    from scipy.spatial import ConvexHull

    assert _volume(points, triangles) == pytest.approx(ConvexHull(points).volume)


def test_the_default_panda_is_drawn_with_few_triangle_hulls_and_the_same_collision_meshes():
    import re

    from robo_flows_envs.robots.panda import urdf_path

    coarse, original = (Path(urdf_path(d)).read_text() for d in (False, True))
    visuals = re.findall(r"<visual>.*?</visual>", coarse, flags=re.S)
    meshes = [re.search(r'filename="([^"]+)"', v).group(1) for v in visuals]
    faces = sum(Path(m).read_text().count("\nf ") for m in meshes)
    assert len(meshes) == 11 and faces <= 11 * 60
    collisions = [re.findall(r"<collision>.*?</collision>", t, flags=re.S) for t in (coarse, original)]
    names = [[re.search(r"(\w+)\.obj", c).group(1) for c in cs] for cs in collisions]
    assert names[0] == names[1]


def _one_pass(env) -> np.ndarray:
    from robo_flows_envs.rendering import FixedCamera

    u = env.unwrapped
    camera = u.cameras["agentview_image"]
    return FixedCamera(u.agentview_pose, camera.width, camera.height, layered=False).render(u.sim.cid)


@pytest.mark.parametrize("env_id", list(TASKS))
def test_layered_agentview_equals_the_one_pass_frame_across_episodes(make_env, env_id):
    env = make_env(env_id, obs_mode="rgb", cameras=["agentview"], camera_width=48, camera_height=40)
    u = env.unwrapped
    for seed in (0, 1):  # the second reset moves the still bodies (walls, goals): the still layer is redrawn
        obs, _ = env.reset(seed=seed)
        for t in range(12):
            np.testing.assert_array_equal(
                obs["agentview_image"], _one_pass(env), err_msg=f"seed {seed} t {t}"
            )
            obs, *_ = env.step(u.expert_action())


def test_a_still_body_moved_or_recoloured_mid_episode_is_drawn_where_and_as_it_is(make_env):
    import pybullet as p

    env = make_env("RoboFlows/PandaDetour-v0", obs_mode="rgb", cameras=["agentview"])
    u = env.unwrapped
    env.reset(seed=0)
    camera = u.cameras["agentview_image"]
    before = camera.render(u.sim.cid)
    u.sim.set_pose(u.wall, (0.5, 0.15, 0.1))
    moved = camera.render(u.sim.cid)
    np.testing.assert_array_equal(moved, _one_pass(env))
    assert (moved != before).any()
    p.changeVisualShape(u.wall, -1, rgbaColor=(0.1, 0.1, 0.9, 1.0), physicsClientId=u.sim.cid)
    np.testing.assert_array_equal(camera.render(u.sim.cid), _one_pass(env))


def test_rendering_leaves_every_colour_as_it_was(make_env):
    import pybullet as p

    env = make_env("RoboFlows/PandaPickPlace-v0", obs_mode="rgb", render_mode="rgb_array")
    u = env.unwrapped
    env.reset(seed=0)
    cid = u.sim.cid

    def colours():
        return [
            s[7]
            for b in range(p.getNumBodies(physicsClientId=cid))
            for s in p.getVisualShapeData(b, physicsClientId=cid)
        ]

    before = colours()
    env.step(u.expert_action())
    env.render()
    assert colours() == before
