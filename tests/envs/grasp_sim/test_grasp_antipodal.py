import numpy as np
import pytest
from robo_flows_envs.grasp_sim.antipodal import MAX_BACKOFF, antipodal_grasps, label_object
from robo_flows_envs.grasp_sim.evaluator import GraspEvaluator
from robo_flows_envs.grasp_sim.gripper import check_poses
from robo_flows_envs.grasp_sim.meshes import mesh_urdf_path


def test_candidates_on_a_box_close_across_a_narrow_pair_of_faces():
    with GraspEvaluator() as ev:
        R, t = antipodal_grasps(ev, "box:0.04,0.2,0.2", np.random.default_rng(0), 30)
    check_poses(R, t)
    # Only the x faces are close enough to span: every closing axis is within the 20° cone of ±x.
    assert (np.abs(R[:, 0, 1]) >= np.cos(np.deg2rad(20))).all()
    # TCP midway between the faces, up to a back-off along an approach at most 20° off the face planes.
    assert np.abs(t[:, 0]).max() <= MAX_BACKOFF * np.sin(np.deg2rad(20)) + 1e-9


def test_duck_is_labelled_with_a_mix_of_outcomes():
    R, t, success = label_object("duck", 16, seed=0)
    assert R.shape == (16, 3, 3) and success.dtype == bool
    assert 0 < success.sum() < 16
    again = label_object("duck", 16, seed=0)
    np.testing.assert_array_equal(again[2], success)


def test_mesh_names_resolve_and_unknown_names_are_rejected():
    assert mesh_urdf_path("random_urdfs/042").endswith("random_urdfs/042/042.urdf")
    with pytest.raises(ValueError, match="unknown mesh object 'random_urdfs/42'"):
        mesh_urdf_path("random_urdfs/42")


def test_candidates_do_not_depend_on_where_the_last_trial_left_the_hand():
    with GraspEvaluator() as fresh:
        expected = antipodal_grasps(fresh, "duck", np.random.default_rng(1), 12)
    with GraspEvaluator() as used:
        R, t = antipodal_grasps(used, "duck", np.random.default_rng(2), 3)
        used.evaluate("duck", R, t, seed=0)  # leaves the hand next to the duck
        got = antipodal_grasps(used, "duck", np.random.default_rng(1), 12)
    np.testing.assert_array_equal(got[0], expected[0])
    np.testing.assert_array_equal(got[1], expected[1])


def test_collision_free_candidates_reach_the_grasp_pose_untouched():
    with GraspEvaluator() as ev:
        R, t = antipodal_grasps(ev, "duck", np.random.default_rng(0), 60)
        clear = ev.approach_clear("duck", R, t)
        assert 0 < clear.sum() < len(clear)  # plain candidates are a mix
        R, t = antipodal_grasps(ev, "duck", np.random.default_rng(0), 10, collision_free=True)
        assert ev.approach_clear("duck", R, t).all()
