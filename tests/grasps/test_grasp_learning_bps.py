"""The basis-point-set encoder, the centroid frame of point-cloud models, yaw augmentation, and the
precomputed-feature training path agreeing with the points path."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from robo_flows.config import GraspModelConfig
from robo_flows.geometry import random_rotations
from robo_flows.grasps import GraspFlow
from robo_flows.grasps.dataset import GraspDataset
from robo_flows.grasps.encoders import BPSEncoder, basis_points

BPS = GraspModelConfig(layers=2, hidden_features=(32,), charts=2, encoder="bps", bps_points=32,
                       encoder_hidden=(16, 16))  # fmt: skip


def _model(cfg: GraspModelConfig = BPS, seed: int = 0) -> GraspFlow:
    torch.manual_seed(seed)
    model = GraspFlow(cfg)
    with torch.no_grad():  # off the identity start, so context and translation matter
        for p in model.pose_flow.parameters():
            p.add_(0.2 * torch.randn_like(p))
    return model


def test_bps_distances_are_the_nearest_point_distances_and_ignore_point_order():
    torch.manual_seed(0)
    enc = BPSEncoder(20, (8,))
    points = torch.randn(3, 50, 3)
    brute = (enc.basis[None, :, None] - points[:, None]).norm(dim=-1).amin(dim=-1)
    torch.testing.assert_close(enc.distances(points, chunk=2), brute, atol=1e-5, rtol=0)
    torch.testing.assert_close(enc(points[:, torch.randperm(50)]), enc(points), atol=1e-6, rtol=0)
    torch.testing.assert_close(basis_points(20), enc.basis)  # the same fixed basis every time
    assert basis_points(500).norm(dim=1).max() <= 2.5


@pytest.mark.parametrize("encoder", ["bps", "pointnet"])
def test_density_moves_with_the_cloud(encoder):
    """p(R, t + a | P + a) = p(R, t | P): grasps are modelled from the cloud's centroid."""
    cfg = GraspModelConfig(layers=2, hidden_features=(32,), charts=2, encoder=encoder, bps_points=32,
                           encoder_hidden=(16, 16))  # fmt: skip
    model = _model(cfg)
    cloud = 0.03 * torch.randn(100, 3)
    R = random_rotations(6, generator=torch.Generator().manual_seed(1))
    t = 0.02 * torch.randn(6, 3)
    shift = torch.tensor([0.3, -0.2, 0.1])
    torch.testing.assert_close(model.log_prob(R, t + shift, cloud + shift), model.log_prob(R, t, cloud),
                               atol=1e-4, rtol=0)  # fmt: skip
    torch.manual_seed(3)
    _, t_a = model.sample(cloud, 5)
    torch.manual_seed(3)
    _, t_b = model.sample(cloud + shift, 5)
    torch.testing.assert_close(t_b, t_a + shift, atol=1e-5, rtol=0)


def test_yaw_augmented_items_turn_cloud_and_grasp_together(grasp_file_with_clouds):
    data, plain, turned = grasp_file_with_clouds
    torch.manual_seed(0)
    for i in range(5):
        a, b = plain[i], turned[i]
        # one rotation Q about z maps the plain item onto the turned one: Q = R_b R_aᵀ
        Q = b["rotation"] @ a["rotation"].T
        torch.testing.assert_close(Q[2], torch.tensor([0.0, 0.0, 1.0]), atol=1e-5, rtol=0)
        torch.testing.assert_close(b["translation"], Q @ a["translation"], atol=1e-6, rtol=0)
        torch.testing.assert_close(b["points"], a["points"] @ Q.T, atol=1e-6, rtol=0)


def test_precomputed_features_give_the_loss_of_the_points(grasp_file_with_clouds):
    data, plain, _ = grasp_file_with_clouds
    model = _model()
    batch = torch.utils.data.default_collate([plain[i] for i in range(8)])
    expected = -model.log_prob(batch["rotation"], batch["translation"], batch["points"]).mean()
    fixed = GraspDataset(data, view="both")
    fixed.precompute(model.cloud_features, turns=1)
    features = torch.utils.data.default_collate([fixed[i] for i in range(8)])
    assert "points" not in features
    torch.testing.assert_close(model.loss(features), expected, atol=1e-5, rtol=0)
    turned = GraspDataset(data, view="both", augment_yaw=True)
    turned.precompute(model.cloud_features, turns=4)
    torch.manual_seed(1)
    item = turned[0]
    k = int(item["cloud"]) % 4  # the turn this item drew
    Q = turned.turns[k]
    cloud = plain[0]["points"] @ Q.T
    torch.testing.assert_close(item["features"], model.cloud_features(cloud), atol=1e-5, rtol=0)
    torch.testing.assert_close(item["origin"], cloud.mean(0), atol=1e-6, rtol=0)
    assert math.isclose(float(torch.linalg.det(Q)), 1.0, abs_tol=1e-6)


@pytest.fixture
def grasp_file_with_clouds(tmp_path):
    from robo_flows.data.grasp_file import read_grasp_file, write_grasp_file

    rng = np.random.default_rng(0)
    m, n = 3, 24
    R = random_rotations(n, generator=torch.Generator().manual_seed(0)).numpy()
    path = write_grasp_file(
        tmp_path / "clouds.hdf5", object_kind=["mesh"] * m, object_dims=np.full((m, 3), 0.05),
        object_descriptor=np.zeros((m, 0)), object_index=np.repeat(np.arange(m), n // m), rotations=R,
        translations=0.02 * rng.normal(size=(n, 3)), success=np.ones(n, dtype=bool),
        object_source=[f"o{i}" for i in range(m)], object_scale=np.ones(m),
        object_points=0.03 * rng.normal(size=(m, 64, 3)),
        object_partial_points=0.03 * rng.normal(size=(m, 2, 64, 3)),
    )  # fmt: skip
    data = read_grasp_file(path)
    return data, GraspDataset(data, view="both"), GraspDataset(data, view="both", augment_yaw=True)
