"""The point-cloud GraspFlow: PointNet ignores point order, one cloud is shared by a batch, the batch loss
encodes each cloud once and equals the per-grasp NLL."""

from __future__ import annotations

import math

import pytest
import torch

from robo_flows.config import GraspModelConfig
from robo_flows.geometry import random_rotations, rotation_about_z
from robo_flows.grasps import GraspFlow
from robo_flows.grasps.encoders import PointNetEncoder

CFG = GraspModelConfig(layers=2, hidden_features=(32,), charts=2, encoder="pointnet", encoder_hidden=(16, 32))


def _model(seed: int = 0) -> GraspFlow:
    torch.manual_seed(seed)
    model = GraspFlow(CFG)
    with torch.no_grad():  # off the identity start, so the context matters
        for p in model.pose_flow.parameters():
            p.add_(0.2 * torch.randn_like(p))
    return model


def test_encoder_ignores_point_order_but_not_the_points():
    torch.manual_seed(0)
    enc = PointNetEncoder((16, 32))
    points = torch.randn(3, 200, 3)
    shuffled = points[:, torch.randperm(200)]
    torch.testing.assert_close(enc(shuffled), enc(points), atol=0, rtol=0)
    moved = points.clone()
    moved[:, 0] += 5.0
    assert (enc(moved) - enc(points)).abs().max() > 1e-3
    assert enc(points[:, :7]).shape == (3, 32)  # any number of points
    with pytest.raises(ValueError, match=r"points must have shape \[..., N >= 1, 3\]"):
        enc(torch.randn(10, 2))


def test_one_cloud_is_shared_by_the_batch_and_the_density_is_jaw_symmetric():
    model = _model()
    cloud = 0.03 * torch.randn(128, 3)
    R = random_rotations(8, generator=torch.Generator().manual_seed(1))
    t = 0.02 * torch.randn(8, 3)
    shared = model.log_prob(R, t, cloud)
    per_grasp = model.log_prob(R, t, cloud.expand(8, 128, 3))
    torch.testing.assert_close(shared, per_grasp)
    other = model.log_prob(R, t, 2 * cloud)
    assert (other - shared).abs().max() > 1e-3  # the cloud conditions the density
    flipped = model.log_prob(R @ rotation_about_z(math.pi), t, cloud)
    torch.testing.assert_close(flipped, shared, atol=1e-4, rtol=0)
    with pytest.raises(ValueError, match=r"point clouds \[..., N, 3\]"):
        model.log_prob(R, t, torch.randn(8, 6))


def test_batch_loss_equals_the_mean_per_grasp_nll():
    model = _model()
    clouds = 0.03 * torch.randn(3, 64, 3)
    ids = torch.tensor([2, 0, 2, 1, 0, 2])
    R = random_rotations(6, generator=torch.Generator().manual_seed(2))
    t = 0.02 * torch.randn(6, 3)
    batch = {"rotation": R, "translation": t, "points": clouds[ids], "cloud": ids}
    expected = -torch.stack([model.log_prob(R[i], t[i], clouds[ids[i]]) for i in range(6)]).mean()
    torch.testing.assert_close(model.loss(batch), expected, atol=1e-5, rtol=0)


def test_sample_shapes_for_one_and_several_clouds():
    model = _model()
    R, t = model.sample(0.03 * torch.randn(100, 3), 7)
    assert R.shape == (7, 3, 3) and t.shape == (7, 3)
    R, t = model.sample(0.03 * torch.randn(4, 100, 3), 7)
    assert R.shape == (7, 4, 3, 3) and t.shape == (7, 4, 3)
