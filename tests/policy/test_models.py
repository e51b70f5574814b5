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


def rescaled_twins(kind: str, scale: torch.Tensor, shift: torch.Tensor):
    """Two untrained models of ``kind`` with the same weights, one on actions ``a`` in [-1, 1]^2, the other on
    ``scale * a + shift`` (normalizers fitted to correspondingly rescaled data, box rescaled)."""
    torch.manual_seed(5)
    data = torch.rand(200, 2) * 1.6 - 0.8
    models = []
    for s, b in ((torch.ones(2), torch.zeros(2)), (scale, shift)):
        torch.manual_seed(0)
        models.append(small_model(kind, Normalizer.fit(data * s + b), 3, -s + b, s + b))
    return models


@pytest.mark.parametrize("kind", ["flow", "gmm"])
def test_log_prob_in_raw_units_changes_by_the_jacobian_of_a_rescaling_of_the_actions(kind):
    """Change of variables: for a' = s * a + b per action dimension, p'(a') = p(a) / prod |s| per step, so
    over a chunk of H steps log p' = log p - H * sum_d log s_d, whatever the model's weights."""
    scale, shift = torch.tensor([3.0, 0.25]), torch.tensor([-2.0, 5.0])
    unit, rescaled = rescaled_twins(kind, scale, shift)
    torch.manual_seed(1)
    a = torch.rand(16, 3, 2) * 1.8 - 0.9
    obs = torch.randn(16, 1, 6)
    with torch.no_grad():
        expected = unit.log_prob(obs, a) - 3 * torch.log(scale).sum()
        torch.testing.assert_close(rescaled.log_prob(obs, a * scale + shift), expected, rtol=1e-5, atol=1e-4)


def test_flow_density_integrates_to_one_over_the_action_box():
    """One action dim, horizon 2: the raw-unit density over [-1, 1]^2 has mass 1 (midpoint rule)."""
    torch.manual_seed(1)
    act_norm = Normalizer.fit(torch.rand(100, 1) * 1.2 - 0.7)  # non-trivial shift and scale
    model = small_model("flow", act_norm, 2, -torch.ones(1), torch.ones(1))
    n = 300
    grid = (torch.arange(n) + 0.5) / n * 2 - 1  # midpoints of [-1, 1]
    a = torch.cartesian_prod(grid, grid).reshape(-1, 2, 1)
    obs = torch.zeros(len(a), 1, model.obs_dim)
    with torch.no_grad():
        density = model.log_prob(obs, a).exp()
    mass = float(density.sum() * (2 / n) ** 2)
    assert mass == pytest.approx(1.0, abs=0.02)


def small_model(kind: str, act_norm: Normalizer, action_horizon: int, low: torch.Tensor, high: torch.Tensor):
    """An untrained small model of ``kind`` (6 observation values) over the action box ``[low, high]``."""
    cfg = ModelConfig(
        kind=kind,
        flow_layers=2,
        hidden_features=(16,),
        encoder_hidden=(16,),
        context_features=4,
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
    model = small_model("flow", Normalizer.fit(torch.randn(50, 3)), 4, low, high)
    chunks = model.sample_chunk(torch.randn(2000, 1, 6) * 3, temperature=temperature)
    assert chunks.shape == (2000, 4, 3)
    assert bool((chunks >= low).all() and (chunks <= high).all())


def test_best_of_keeps_the_draw_of_highest_log_density(toy_file):
    """The kept chunk is one of the N draws, and no other draw has a higher density (by ``log_prob``)."""
    model, data = make_model(toy_file, "flow")
    obs = torch.utils.data.default_collate([data[i] for i in range(5)])["obs"]
    torch.manual_seed(3)
    draws, _ = model.sample_actions_and_log_prob(model.context(obs), 7, 1.0)  # [7, 5, H*A]
    torch.manual_seed(3)
    chosen = model.sample_chunk(obs, best_of=7, temperature=1.0).flatten(1)  # the same 7 draws, one kept
    draws = draws.detach()
    assert all(bool((draws[:, b] == chosen[b]).all(-1).any()) for b in range(5))
    with torch.no_grad():
        density = torch.stack([model.log_prob(obs, d.unflatten(-1, (4, 3))) for d in draws])  # [7, 5]
        kept = model.log_prob(obs, chosen.unflatten(-1, (4, 3)))
    torch.testing.assert_close(kept, density.max(0).values, rtol=0, atol=1e-3)


@pytest.mark.parametrize("kind", ["mse"])
def test_best_of_is_refused_for_kinds_without_a_density(toy_file, kind):
    model, data = make_model(toy_file, kind)
    obs = torch.utils.data.default_collate([data[0]])["obs"]
    with pytest.raises(ValueError, match="best_of=3 ranks samples by log-density"):
        model.sample_chunk(obs, best_of=3)


@pytest.mark.parametrize("temperature", [float("nan"), float("inf"), 0.0, -1.0])
def test_a_temperature_that_is_not_a_finite_positive_number_is_refused(toy_file, temperature):
    model, data = make_model(toy_file, "flow")
    obs = torch.utils.data.default_collate([data[0]])["obs"]
    with pytest.raises(ValueError, match=r"temperature must be a finite number > 0, got"):
        model.sample_chunk(obs, temperature=temperature)


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
    with pytest.raises(ValueError, match="outside the action box"):  # never folded back silently
        dequantize_in_box(torch.tensor([[1.5, 0.0, 0.0]]), *box, torch.zeros(1, 3))


def test_gmm_density_integrates_to_one_in_one_dimension():
    """One action dim, horizon 1, an asymmetric box: the raw-unit mixture density has mass 1 on a wide grid
    (its samples are clamped into the box, its density is the unclamped mixture's)."""
    torch.manual_seed(2)
    model = small_model(
        "gmm", Normalizer.fit(torch.rand(100, 1) * 3 + 1), 1, torch.tensor([1.0]), torch.tensor([4.0])
    )
    grid = torch.linspace(-30, 35, 20001)
    obs = torch.randn(1, 1, 6).expand(len(grid), 1, 6)
    with torch.no_grad():
        density = model.log_prob(obs, grid.reshape(-1, 1, 1)).exp()
    assert float(torch.trapezoid(density, grid)) == pytest.approx(1.0, abs=1e-3)


def test_mse_recovers_the_conditional_mean_of_bimodal_actions():
    """Regression to the mean: where half the demonstrations go +0.6 and half -0.2 from the same state, the
    mse model learns 0.2 there (and 0.5 for a unimodal state) -- the failure the flow policy avoids."""
    torch.manual_seed(0)
    obs = torch.cat([torch.zeros(200, 1, 6), torch.ones(200, 1, 6)])
    actions = torch.cat([torch.where(torch.arange(200) % 2 == 0, 0.6, -0.2), torch.full((200,), 0.5)])
    actions = actions.reshape(-1, 1, 1)
    model = small_model("mse", Normalizer.fit(actions.reshape(-1, 1)), 1, -torch.ones(1), torch.ones(1))
    model.obs_normalizer = Normalizer.fit(obs.reshape(-1, 6))
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(300):
        loss = model.loss({"obs": obs, "actions": actions})
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        predicted = model.sample_chunk(torch.stack([obs[0], obs[-1]]))[:, 0, 0]
    torch.testing.assert_close(predicted, torch.tensor([0.2, 0.5]), rtol=0, atol=0.02)


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
