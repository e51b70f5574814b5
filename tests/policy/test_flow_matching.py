"""The ``flow_matching`` kind: the rectified-path loss, Euler sampling, checkpoints, refusals."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from baseline_toys import first_windows, fit, make_baseline, mode_shares, train_tiny_run

from robo_flows.config.schema import FlowMatchingConfig
from robo_flows.policy import FlowPolicy
from robo_flows.policy.models.flow_matching import TIME_SCALE, euler_integrate


class StraightToTarget(torch.nn.Module):
    """The exact rectified-flow velocity towards one chunk y*: ``v(y, t) = (y* - y) / (1 - t)``
    (every path ``y_t = (1 - t) y_0 + t y*`` is a straight line at constant speed ``y* - y_0``)."""

    def __init__(self, target: torch.Tensor) -> None:
        super().__init__()
        self.target = target

    def forward_chunk(self, y: torch.Tensor, t: torch.Tensor, ctx: torch.Tensor) -> torch.Tensor:
        return (self.target - y) / (1 - t[:, None] / TIME_SCALE)


@pytest.mark.parametrize("steps", [1, 5, 10])
def test_euler_integration_of_straight_paths_is_exact(steps):
    torch.manual_seed(0)
    y0, target = torch.randn(8, 5, dtype=torch.float64), torch.randn(5, dtype=torch.float64)
    y1 = euler_integrate(lambda y, t: (target - y) / (1 - t), y0, steps)
    torch.testing.assert_close(y1, target.expand(8, -1), rtol=0, atol=1e-12)


@pytest.mark.parametrize("steps", [1, 5, 10])
def test_euler_integration_of_a_linear_field_is_the_discrete_exponential(steps):
    """dy/dt = A y with A = a I: Euler gives (1 + a / N)^N y0 exactly (not e^a y0)."""
    y0 = torch.linspace(-1.0, 2.0, 7, dtype=torch.float64)
    a = -1.5
    y1 = euler_integrate(lambda y, t: a * y, y0, steps)
    torch.testing.assert_close(y1, (1 + a / steps) ** steps * y0, rtol=1e-14, atol=0)


def test_sampling_lands_on_the_target_of_an_exact_velocity_field(toy_file):
    """Through the model: time scaling, noise and steps agree, so every noise draw reaches the one chunk."""
    model, _ = make_baseline(toy_file, "flow_matching", flow_matching=FlowMatchingConfig(inference_steps=5))
    target = torch.linspace(-1.0, 1.0, model.chunk_features)
    model.net = StraightToTarget(target)
    y = model.sample_normalized(torch.zeros(3, model.cfg.context_features), 4, 2.0)
    assert y.shape == (4, 3, model.chunk_features)
    torch.testing.assert_close(y, target.expand(4, 3, -1), rtol=0, atol=1e-5)


def test_velocity_loss_vanishes_for_the_exact_field_of_a_single_chunk(toy_file):
    model, data = make_baseline(toy_file, "flow_matching")
    batch = torch.utils.data.default_collate([data[0]] * 64)
    model.net = StraightToTarget(model.normalize_chunk(batch["actions"])[0])
    assert model.loss(batch).item() < 1e-8


def test_loss_falls_and_samples_cover_both_modes(toy_file):
    model, data = make_baseline(toy_file, "flow_matching")
    batch = first_windows(data)
    losses = fit(model, batch)
    assert np.mean(losses[-10:]) < 0.5 * np.mean(losses[:10])
    up, down = mode_shares(model, batch["obs"][:1])
    assert up > 0.25 and down > 0.25 and up + down > 0.75, (up, down)


@pytest.fixture(scope="module")
def flow_matching_run(toy_file, tmp_path_factory):
    return train_tiny_run(toy_file, "flow_matching", tmp_path_factory.mktemp("flow_matching_run"))


def test_checkpoint_round_trip_gives_identical_samples_single_and_batched(flow_matching_run):
    path = flow_matching_run["checkpoints"]["last"]
    first, second = FlowPolicy.from_checkpoint(path), FlowPolicy.from_checkpoint(path)
    assert first.kind == "flow_matching"
    obs = np.random.default_rng(0).normal(size=(5, 6)).astype(np.float32)
    draws = []
    for policy in (first, second):
        torch.manual_seed(2)
        draws.append((policy.predict_action_chunk(obs), policy.predict_action_chunk(obs[0])))
    assert draws[0][0].shape == (5, 4, 3) and draws[0][1].shape == (4, 3)
    np.testing.assert_array_equal(draws[0][0], draws[1][0])
    np.testing.assert_array_equal(draws[0][1], draws[1][1])
    assert bool(np.all(np.abs(draws[0][0]) <= 1.0))  # clamped into the toy's action box
    assert first.select_action(obs).shape == (5, 3)


def test_log_prob_and_best_of_are_refused_with_clear_errors(flow_matching_run):
    path = flow_matching_run["checkpoints"]["last"]
    policy = FlowPolicy.from_checkpoint(path)
    obs = np.zeros(6, dtype=np.float32)
    with pytest.raises(TypeError, match="'flow_matching' model has no exact density"):
        policy.log_prob(obs, np.zeros((4, 3), dtype=np.float32))
    with pytest.raises(ValueError, match="the 'flow_matching' model has none"):
        FlowPolicy.from_checkpoint(path, best_of=2).select_action(obs)
