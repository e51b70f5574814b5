"""Point clouds: full clouds lie on the surface, farthest-point subsampling spreads them, a camera's cloud
holds only what the camera sees."""

from __future__ import annotations

import numpy as np
import pytest
from robo_flows_envs.grasp_sim.evaluator import GraspEvaluator
from robo_flows_envs.grasp_sim.meshes import graspable_scale, resolve_mesh
from robo_flows_envs.grasp_sim.objects import parse_object_spec
from robo_flows_envs.grasp_sim.point_clouds import camera_view, full_cloud, partial_cloud, subsample

BOX = parse_object_spec("box:0.04,0.06,0.1")


def _on_box_surface(points: np.ndarray) -> np.ndarray:
    """max_i |p_i| / half_i: 1 on the box surface."""
    return np.abs(points / (np.asarray(BOX.dims) / 2)).max(axis=1)


def test_full_cloud_has_n_points_on_the_surface_spread_by_area():
    points = full_cloud(BOX, np.random.default_rng(0), 512, method="random")
    assert points.shape == (512, 3) and points.dtype == np.float32
    np.testing.assert_allclose(_on_box_surface(points), 1.0, atol=1e-5)
    # Area weighting: the two 0.06 x 0.1 faces (x = ±0.02) hold 0.006 / 0.0248 of the area.
    share = np.mean(np.abs(np.abs(points[:, 0]) - 0.02) < 1e-6)
    assert share == pytest.approx(2 * 0.006 / (2 * (0.006 + 0.004 + 0.0024)), abs=0.06)
    noisy = full_cloud(BOX, np.random.default_rng(0), 512, method="random", noise=0.002)
    assert 0.0018 < (noisy - points).std() < 0.0022  # the same draws plus N(0, 2 mm²) per coordinate


def test_farthest_point_subsampling_spreads_the_points_more_than_random():
    rng = np.random.default_rng(1)
    dense = rng.normal(size=(2000, 3))

    def closest_pair(p):
        d = np.linalg.norm(p[:, None] - p[None], axis=-1) + np.eye(len(p)) * 1e9
        return d.min()

    assert closest_pair(subsample(dense, 100, rng, "fps")) > 2 * closest_pair(
        subsample(dense, 100, rng, "random")
    )
    assert subsample(dense[:10], 50, rng).shape == (50, 3)  # fewer points than asked: drawn with replacement


def test_camera_sees_exactly_the_box_faces_that_face_it():
    rng = np.random.default_rng(3)
    with GraspEvaluator() as ev:
        for _ in range(3):
            view = camera_view(ev, BOX, rng)
            eye, seen = view["eye"], view["points"]
            half = np.asarray(BOX.dims) / 2
            # On the surface, up to PyBullet's collision margin (< 1 mm) that the rays meet.
            assert np.abs((np.abs(seen) - half).max(axis=1)).max() < 1e-3
            face_axis = np.argmax(np.abs(seen) - half, axis=1)  # the face each point lies on
            for axis in range(3):
                for sign in (-1.0, 1.0):
                    mine = (face_axis == axis) & (np.sign(seen[:, axis]) == sign)
                    faces_camera = sign * eye[axis] > half[axis]  # the eye is outside that face's plane
                    if faces_camera:
                        assert mine.sum() > 20  # a face the camera faces is seen ...
                    else:
                        # ... and a face turned away only points on its edges (rounded by the margin).
                        outside = np.sort(np.abs(seen[mine]) - half, axis=1)
                        assert (outside[:, 1] > -1.5e-3).all()


@pytest.mark.parametrize("obj", [BOX, "duck"])
def test_camera_cloud_holds_only_points_the_camera_sees(obj):
    obj = graspable_scale(resolve_mesh(obj)) if isinstance(obj, str) else obj
    rng = np.random.default_rng(2)
    with GraspEvaluator() as ev:
        view = camera_view(ev, obj, rng)
        eye, seen = view["eye"], view["points"]
        everything = full_cloud(obj, rng, 400, method="random")

        def occluded(points):
            """Whether a surface lies more than 4 mm in front of each point along the ray from the eye."""
            ends = eye + 1.02 * (points - eye)
            hits = ev.client.rayTestBatch([eye.tolist()] * len(points), ends.tolist())
            first = np.array([h[3] if h[0] >= 0 else p for h, p in zip(hits, points, strict=True)])
            return np.linalg.norm(first - eye, axis=1) < np.linalg.norm(points - eye, axis=1) - 0.004

        assert len(seen) > 300
        assert occluded(seen).mean() < 0.01
        assert occluded(everything).mean() > 0.3  # the test can tell: a full cloud is half hidden
        assert partial_cloud(ev, obj, rng, 256).shape == (256, 3)
