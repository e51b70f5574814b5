import numpy as np
import pytest
import torch
from robo_flows_envs.grasp_sim.analytic import DEPTH_MAX, DEPTH_MIN, analytic_grasps
from robo_flows_envs.grasp_sim.gripper import MAX_GRASP_WIDTH, PAD_HALF_WIDTH, PALM_DEPTH, check_poses
from robo_flows_envs.grasp_sim.objects import parse_object_spec

from robo_flows.geometry import half_turn_about_z

OBJECTS = [
    "box:0.05,0.03,0.12",
    "box:0.06,0.07,0.02",
    "cylinder:0.03,0.12",
    "cylinder:0.05,0.04",
    "sphere:0.03",
]


def _volume_points(spec: str, n: int = 20000) -> np.ndarray:
    """Uniform points filling the object, drawn independently of the grasp code."""
    p = parse_object_spec(spec)
    rng = np.random.default_rng(1)
    if p.kind == "box":
        return rng.uniform(-0.5, 0.5, (n, 3)) * np.asarray(p.dims)
    pts = rng.uniform(-1, 1, (3 * n, 3))
    if p.kind == "sphere":
        pts = pts[np.linalg.norm(pts, axis=1) <= 1] * p.dims[0]
    else:
        r, h = p.dims
        pts = pts[np.linalg.norm(pts[:, :2], axis=1) <= 1] * [r, r, h / 2]
    return pts[:n]


@pytest.mark.parametrize("spec", OBJECTS)
def test_rotations_are_orthonormal(spec):
    R, t = analytic_grasps(parse_object_spec(spec), np.random.default_rng(0), 300)
    check_poses(R, t)
    np.testing.assert_allclose(np.linalg.det(R), 1.0, atol=1e-9)


@pytest.mark.parametrize("spec", OBJECTS)
def test_open_fingers_fit_across_the_object(spec):
    R, t = analytic_grasps(parse_object_spec(spec), np.random.default_rng(0), 300, 0.0, 0.0)
    q = _volume_points(spec)
    # Extent of the object along each closing axis, and where it sits relative to the TCP.
    along = np.einsum("nk,mk->nm", R[:, :, 1], q) - np.einsum("nk,nk->n", R[:, :, 1], t)[:, None]
    assert (along.max(1) - along.min(1)).max() <= MAX_GRASP_WIDTH
    assert np.abs(along).max() <= MAX_GRASP_WIDTH / 2 + 1e-3


@pytest.mark.parametrize("spec", OBJECTS)
def test_tcp_depth_past_the_first_surface_point_keeps_the_palm_clear(spec):
    R, t = analytic_grasps(parse_object_spec(spec), np.random.default_rng(0), 300, 0.0, 0.0)
    q = _volume_points(spec)
    # Depth = how far the TCP lies past the object's nearest point along the approach z.
    depth = np.einsum("nk,nk->n", R[:, :, 2], t) - np.einsum("nk,mk->nm", R[:, :, 2], q).min(1)
    assert depth.min() >= DEPTH_MIN - 1e-3
    assert depth.max() <= DEPTH_MAX + 1e-9
    assert depth.max() < PALM_DEPTH


@pytest.mark.parametrize("spec", OBJECTS)
def test_object_lies_between_the_pads(spec):
    R, t = analytic_grasps(parse_object_spec(spec), np.random.default_rng(0), 200, 0.0, 0.0)
    q = _volume_points(spec)
    local = np.einsum("nki,nmk->nmi", R, q[None] - t[:, None])  # object points in each gripper frame
    on_pads = (
        (np.abs(local[..., 0]) <= PAD_HALF_WIDTH) & (local[..., 2] >= -PALM_DEPTH) & (local[..., 2] <= 0.0088)
    )
    assert on_pads.any(axis=1).all()


def test_both_symmetric_twins_are_drawn():
    R, _ = analytic_grasps(parse_object_spec("box:0.05,0.2,0.2"), np.random.default_rng(0), 400, 0.0, 0.0)
    # The only graspable side is x: half the closing axes point along +x, half along -x.
    assert np.allclose(np.abs(R[:, 0, 1]), 1.0)
    assert 0.4 < np.mean(R[:, 0, 1] > 0) < 0.6
    twin = half_turn_about_z(
        torch.from_numpy(R)
    ).numpy()  # the same grasp with the fingers swapped: closing and x axes flip, approach stays
    np.testing.assert_allclose(twin[:, :, :2], -R[:, :, :2])
    np.testing.assert_allclose(twin[:, :, 2], R[:, :, 2])


def test_noise_has_the_requested_scale():
    p = parse_object_spec("sphere:0.03")
    R0, t0 = analytic_grasps(p, np.random.default_rng(5), 4000, 0.0, 0.0)
    R1, t1 = analytic_grasps(p, np.random.default_rng(5), 4000, 0.003, 3.0)
    np.testing.assert_allclose((t1 - t0).std(0), 0.003, rtol=0.1)
    angle = np.arccos(np.clip((np.trace(R0.transpose(0, 2, 1) @ R1, axis1=1, axis2=2) - 1) / 2, -1, 1))
    # The angle of a rotation with N(0, s^2) per-axis vector has RMS sqrt(3) s.
    np.testing.assert_allclose(np.sqrt(np.mean(angle**2)), np.sqrt(3) * np.deg2rad(3.0), rtol=0.1)


def test_negative_noise_is_rejected():
    with pytest.raises(ValueError, match="noise must be >= 0"):
        analytic_grasps(parse_object_spec("sphere:0.03"), np.random.default_rng(0), 5, noise_pos=-1.0)


@pytest.mark.parametrize(
    ("R", "message"),
    [
        (np.eye(3)[None] * 2, "not orthonormal"),
        (np.diag([1.0, 1.0, -1.0])[None], r"not proper: \|det R - 1\| = 2"),
        (np.full((1, 3, 3), np.nan), "must be finite"),
        (np.eye(3), r"shape \[n, 3, 3\]"),
    ],
)
def test_bad_rotations_are_rejected(R, message):
    with pytest.raises(ValueError, match=message):
        check_poses(R, np.zeros((1, 3)))


def test_bad_translations_are_rejected_naming_the_grasp():
    t = np.zeros((3, 3))
    t[2, 1] = np.inf
    with pytest.raises(ValueError, match=r"translations\[2\] must be finite"):
        check_poses(np.tile(np.eye(3), (3, 1, 1)), t)
