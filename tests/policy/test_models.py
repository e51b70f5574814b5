"""Properties of the policy models: exact densities, bounded samples, best-of selection, losses."""

from __future__ import annotations

import math

import pytest
import torch
from policy_toys import make_model

from robo_flows.data import Normalizer
from robo_flows.policy import ModelConfig, build_policy_model
from robo_flows.policy.dequantize import dequantize_in_box
from robo_flows.policy.models.gmm import mixture_log_prob


@pytest.mark.parametrize("kind", ["flow", "gmm"])
def test_log_prob_is_the_normalized_density_plus_the_normalizer_log_det(toy_file, kind):
    model, data = make_model(toy_file, kind)
    batch = torch.utils.data.default_collate([data[i] for i in range(0, 60, 6)])
    obs, actions = batch["obs"], batch["actions"].clamp(-0.99, 0.99)
    y = model.action_normalizer.normalize(actions).flatten(1)
    ctx = model.context(obs)
    inner = model.flow.log_prob(y, ctx) if kind == "flow" else model.normalized_log_prob(ctx, y)
    expected = inner - model.action_horizon * torch.log(model.action_normalizer.scale).sum()
    torch.testing.assert_close(model.log_prob(obs, actions), expected)


def test_flow_density_integrates_to_one_over_the_action_box():
    """One action dim, horizon 2: the raw-unit density over [-1, 1]^2 has mass 1 (midpoint rule)."""
    torch.manual_seed(1)
    act_norm = Normalizer.fit(torch.rand(100, 1) * 1.2 - 0.7)  # non-trivial shift and scale
    model = small_flow(act_norm, 2, -torch.ones(1), torch.ones(1))
    n = 300
    grid = (torch.arange(n) + 0.5) / n * 2 - 1  # midpoints of [-1, 1]
    a = torch.cartesian_prod(grid, grid).reshape(-1, 2, 1)
    obs = torch.zeros(len(a), 1, model.obs_dim)
    with torch.no_grad():
        density = model.log_prob(obs, a).exp()
    mass = float(density.sum() * (2 / n) ** 2)
    assert mass == pytest.approx(1.0, abs=0.02)


def small_flow(act_norm: Normalizer, action_horizon: int, low: torch.Tensor, high: torch.Tensor):
    """An untrained small flow model (6 observation values) over the action box ``[low, high]``."""
    cfg = ModelConfig(
        flow_layers=2,
        hidden_features=(16,),
        encoder_hidden=(16,),
        context_features=4,
        n_action_steps=1,
        obs_monitor=False,
    )
    return build_policy_model(
        cfg,
        obs_dim=6,
        act_dim=len(low),
        obs_horizon=1,
        action_horizon=action_horizon,
        obs_normalizer=Normalizer.fit(torch.randn(100, 6)),
        action_normalizer=act_norm,
        action_low=low,
        action_high=high,
    )


@pytest.mark.parametrize("temperature", [0.5, 1.0, 2.0])
def test_flow_samples_stay_inside_an_asymmetric_action_box(temperature):
    torch.manual_seed(0)
    low, high = torch.tensor([-0.3, -2.0, 0.5]), torch.tensor([0.2, 1.0, 0.6])
    model = small_flow(Normalizer.fit(torch.randn(50, 3)), 4, low, high)
    chunks = model.sample_chunk(torch.randn(2000, 1, 6) * 3, temperature=temperature)
    assert chunks.shape == (2000, 4, 3)
    assert bool((chunks >= low).all() and (chunks <= high).all())


def test_best_of_keeps_the_sample_of_highest_log_density(toy_file):
    model, data = make_model(toy_file, "flow")
    obs = torch.utils.data.default_collate([data[i] for i in range(5)])["obs"]
    torch.manual_seed(3)
    y, logp = model.sample_normalized_and_log_prob(model.context(obs), 7, 1.0)
    best = y[logp.argmax(0), torch.arange(5)]
    torch.manual_seed(3)
    chosen = model.sample_chunk(obs, best_of=7, temperature=1.0)
    torch.testing.assert_close(chosen, model.unnormalize_chunk(best))


def test_mixture_log_prob_matches_torch_distributions():
    torch.manual_seed(0)
    logits, mean, log_std, y = (
        torch.randn(4, 5),
        torch.randn(4, 5, 3),
        torch.randn(4, 5, 3) * 0.3,
        torch.randn(4, 3),
    )
    mix = torch.distributions.MixtureSameFamily(
        torch.distributions.Categorical(logits=logits),
        torch.distributions.Independent(torch.distributions.Normal(mean, log_std.exp()), 1),
    )
    torch.testing.assert_close(mixture_log_prob(logits, mean, log_std, y), mix.log_prob(y))


def test_dequantization_keeps_saturated_actions_strictly_inside_the_box():
    torch.manual_seed(0)
    a = torch.tensor([[-1.0, 1.0, 0.3]]).repeat(1000, 1)
    box = (-torch.ones(3), torch.ones(3))
    out = dequantize_in_box(a, *box, torch.randn_like(a), noise=0.005)
    assert bool((out > -1).all() and (out < 1).all())
    assert float((out[:, 2] - 0.3).abs().max()) < 0.06  # interior values move by the noise only
    clamped = dequantize_in_box(a, *box, torch.zeros_like(a))
    assert bool((clamped > -1).all() and (clamped < 1).all())


def test_validation_loss_is_deterministic(toy_file):
    model, data = make_model(toy_file, "flow")
    batch = torch.utils.data.default_collate([data[i] for i in range(16)])
    model.eval()
    with torch.no_grad():
        assert model.loss(batch).item() == model.loss(batch).item()


@pytest.mark.parametrize("kind", ["flow", "mse", "gmm"])
def test_a_few_steps_of_training_lower_the_loss(toy_file, kind):
    model, data = make_model(toy_file, kind)
    batch = torch.utils.data.default_collate([data[i] for i in range(0, len(data), 4)])
    opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=3e-3)
    model.train()
    with torch.no_grad():
        first = model.loss(batch).item()
    for _ in range(25):
        loss = model.loss(batch)
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        assert math.isfinite(first) and model.loss(batch).item() < first


def test_mse_model_has_no_density(toy_file):
    model, data = make_model(toy_file, "mse")
    batch = torch.utils.data.default_collate([data[0]])
    with pytest.raises(TypeError, match="no log_prob"):
        model.log_prob(batch["obs"], batch["actions"])


def test_observation_monitor_scores_shifted_states_lower(toy_file):
    model, data = make_model(toy_file, "flow", monitor_steps=150, monitor_hidden=(32,), monitor_layers=2)
    model.fit_extra(data)
    assert not any(p.requires_grad for p in model.monitor.parameters())
    obs = torch.stack([data[i]["obs"][-1] for i in range(len(data))])
    shifted = obs.clone()
    shifted[:, 1] += 1.0  # 1 m sideways of every demonstration
    with torch.no_grad():
        assert float(model.obs_log_prob(obs).mean()) > float(model.obs_log_prob(shifted).mean()) + 5.0


def test_wrong_shapes_are_rejected_with_the_expected_shape(toy_file):
    model, _ = make_model(toy_file, "flow")
    with pytest.raises(ValueError, match=r"obs must have shape \[B, 1, 6\]"):
        model.sample_chunk(torch.zeros(2, 1, 5))
    with pytest.raises(ValueError, match=r"actions must have shape \[B, 4, 3\]"):
        model.log_prob(torch.zeros(2, 1, 6), torch.zeros(2, 3, 3))
