import numpy as np
import pybullet
import pytest
import torch
from robo_flows_envs.grasp_sim.analytic import analytic_grasps
from robo_flows_envs.grasp_sim.evaluator import (
    GraspEvaluator,
    GraspJob,
    TrialConfig,
    evaluate_grasps,
    pybullet_quaternion,
)
from robo_flows_envs.grasp_sim.gripper import grasp_frames
from robo_flows_envs.grasp_sim.objects import parse_object_spec, sample_primitives

from robo_flows.geometry import exp_map, random_rotations


@pytest.fixture(scope="module")
def evaluator():
    with GraspEvaluator() as ev:
        yield ev


def _top_down(t) -> tuple[np.ndarray, np.ndarray]:
    """One grasp approaching along -z (from above), closing along x, TCP at t."""
    R = grasp_frames(np.array([[1.0, 0, 0]]), np.array([[0, 0, -1.0]]))
    return R, np.asarray([t], dtype=float)


def test_analytic_grasps_mostly_succeed(evaluator):
    rng = np.random.default_rng(11)
    outcomes = []
    for p in sample_primitives(rng, 6):
        R, t = analytic_grasps(p, rng, 8)
        outcomes.append(evaluator.evaluate(p, R, t, seed=0))
    assert np.concatenate(outcomes).mean() >= 0.9


def test_centred_top_down_grasp_of_a_box_succeeds(evaluator):
    R, t = _top_down([0.0, 0.0, 0.04])
    assert evaluator.evaluate("box:0.04,0.05,0.1", R, t, seed=0).all()


def test_grasp_far_from_the_object_fails(evaluator):
    R, t = _top_down([0.0, 0.0, 0.3])
    assert not evaluator.evaluate("box:0.04,0.05,0.1", R, t, seed=0).any()


def test_grasp_too_shallow_to_hold_fails(evaluator):
    # The TCP 25 mm above the top face: the fingertips stop 16 mm short of the box.
    R, t = _top_down([0.0, 0.0, 0.075])
    assert not evaluator.evaluate("box:0.04,0.05,0.1", R, t, seed=0).any()


def test_hand_touching_the_object_at_pregrasp_fails(evaluator):
    # A bar x in [-0.1, 0.1] approached along +x with the TCP at its far end: 0.1 m back from there
    # the palm is inside the bar.
    R = grasp_frames(np.array([[0.0, 1.0, 0.0]]), np.array([[1.0, 0.0, 0.0]]))
    t = np.array([[0.1, 0.0, 0.0]])
    assert evaluator.in_collision("box:0.2,0.04,0.04", R[0], t[0] - 0.1 * R[0, :, 2])
    assert not evaluator.evaluate("box:0.2,0.04,0.04", R, t, seed=0).any()
    # The same approach with the TCP 2 cm past the near end holds the bar.
    assert evaluator.evaluate("box:0.2,0.04,0.04", R, np.array([[-0.08, 0.0, 0.0]]), seed=0).all()


def test_outcomes_do_not_depend_on_history(evaluator):
    p = parse_object_spec("cylinder:0.025,0.09")
    R, t = analytic_grasps(p, np.random.default_rng(2), 8, noise_pos=0.008, noise_deg=10.0)
    first = evaluator.evaluate(p, R, t, seed=4)
    evaluator.evaluate("sphere:0.03", *_top_down([0.0, 0.01, 0.0]), seed=1)
    again = evaluator.evaluate(p, R, t, seed=4)
    np.testing.assert_array_equal(first, again)
    assert 0 < first.sum() < len(first)  # a mix, so the comparison can fail


def test_unknown_objects_and_bad_poses_are_rejected(evaluator):
    R, t = _top_down([0.0, 0.0, 0.04])
    with pytest.raises(ValueError, match="unknown mesh object 'banana'"):
        evaluator.evaluate("banana", R, t, seed=0)
    with pytest.raises(ValueError, match="not orthonormal"):
        evaluator.evaluate("sphere:0.03", R * 1.1, t, seed=0)
    with pytest.raises(ValueError, match="translations must have shape"):
        evaluator.evaluate("sphere:0.03", R, t[:, :2], seed=0)


def test_parallel_evaluation_matches_serial():
    rng = np.random.default_rng(3)
    jobs = [GraspJob(p, *analytic_grasps(p, rng, 4, 0.006, 8.0), seed=1) for p in sample_primitives(rng, 3)]
    serial = evaluate_grasps(jobs, workers=1)
    parallel = evaluate_grasps(jobs, workers=2)
    for a, b in zip(serial, parallel, strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("finger_force", 0.0, "finger_force must be > 0"),
        ("close_steps", 0, "step count"),
        ("solver_iterations", 30, ">= 50"),
    ],
)
def test_bad_trial_config_is_rejected(field, value, message):
    with pytest.raises(ValueError, match=message):
        TrialConfig(**{field: value})


def test_pybullet_reads_back_the_rotation_from_its_quaternion():
    R = random_rotations(200, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    near_pi = exp_map(torch.tensor([[np.pi - 1e-7, 0.0, 0.0], [0.0, 0.0, np.pi]], dtype=torch.float64))
    for Ri in torch.cat((R, near_pi)).numpy():
        back = np.reshape(pybullet.getMatrixFromQuaternion(pybullet_quaternion(Ri)), (3, 3))
        np.testing.assert_allclose(back, Ri, atol=1e-9)
