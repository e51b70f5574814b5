"""The ``diffusion`` kind: DDPM training, DDIM / DDPM sampling, box clipping, checkpoints, refusals."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from baseline_toys import SMALL_UNET, first_windows, fit, make_baseline, mode_shares, train_tiny_run
from policy_toys import make_model

from robo_flows.config.schema import DiffusionConfig, ModelConfig
from robo_flows.data import Normalizer
from robo_flows.policy import FlowPolicy, build_policy_model
from robo_flows.policy.models.diffusion import inference_scheduler
from robo_flows.training.checkpoint import load_checkpoint


class GaussianEpsilon(torch.nn.Module):
    r"""The exact noise predictor of clean chunks ``y_0 ~ N(mu, s^2 I)``:
    ``E[eps | y_t] = sqrt(1 - ab) (y_t - sqrt(ab) mu) / (ab s^2 + 1 - ab)`` with ``ab = alpha_bar_t``."""

    def __init__(self, alpha_bar: list[float], mu: torch.Tensor, s: float) -> None:
        super().__init__()
        self.alpha_bar, self.mu, self.s = torch.tensor(alpha_bar, dtype=torch.float64), mu, s

    def forward_chunk(self, y: torch.Tensor, t: torch.Tensor, ctx: torch.Tensor) -> torch.Tensor:
        ab = self.alpha_bar[t.long()][:, None].to(y.dtype)
        return (1 - ab).sqrt() * (y - ab.sqrt() * self.mu) / (ab * self.s**2 + 1 - ab)


def test_loss_falls_and_samples_cover_both_modes(toy_file):
    model, data = make_baseline(toy_file, "diffusion")
    batch = first_windows(data)
    losses = fit(model, batch)
    assert np.mean(losses[-10:]) < 0.3 * np.mean(losses[:10])
    up, down = mode_shares(model, batch["obs"][:1])
    assert up > 0.25 and down > 0.25 and up + down > 0.75, (up, down)


def test_ddim_with_every_training_step_reproduces_ddpm_mean_and_spread(toy_file):
    """With the exact denoiser of a Gaussian, DDPM-100 and deterministic DDIM-100 both land on N(mu, s^2)."""
    model, _ = make_baseline(toy_file, "diffusion", diffusion=DiffusionConfig(clip_sample=False))
    mu, s, n = torch.linspace(-1.0, 1.0, model.chunk_features), 0.3, 20000
    model.net = GaussianEpsilon(model.alpha_bar_list, mu, s)
    ctx = torch.zeros(n, model.cfg.context_features)
    results = {}
    for inference in ("ddpm", "ddim"):
        model.scheduler = inference_scheduler(DiffusionConfig(inference=inference), steps=100)
        torch.manual_seed(0)
        results[inference] = model.sample_normalized(ctx, 1, 1.0)[0]
    standard_error = s / math.sqrt(n)
    for y in results.values():
        assert (y.mean(0) - mu).abs().max() < 5 * standard_error
        assert ((y.std(0) / s - 1).abs() < 0.1).all()
    gap = (results["ddim"].mean(0) - results["ddpm"].mean(0)).abs().max()
    assert gap < 6 * standard_error


def test_epsilon_loss_vanishes_for_the_exact_noise_of_a_single_chunk(toy_file):
    """One demonstrated chunk y*: eps = (y_t - sqrt(ab) y*) / sqrt(1 - ab) exactly, so the loss is 0."""
    model, data = make_baseline(toy_file, "diffusion")
    batch = torch.utils.data.default_collate([data[0]] * 64)
    y_star = model.normalize_chunk(batch["actions"])[0]
    model.net = GaussianEpsilon(model.alpha_bar_list, y_star, 0.0)
    assert model.loss(batch).item() < 1e-8


def test_clipped_denoising_ends_inside_the_normalized_box():
    """An untrained U-Net at temperature 3: every clean estimate, so the last step, is clamped to the box."""
    low, high = torch.tensor([-0.3, -2.0, 0.5]), torch.tensor([0.2, 1.0, 0.6])
    for inference in ("ddim", "ddpm"):
        torch.manual_seed(0)
        cfg = ModelConfig(
            kind="diffusion",
            encoder_hidden=(16,),
            context_features=4,
            obs_monitor=False,
            unet=SMALL_UNET,
            diffusion=DiffusionConfig(inference=inference),
        )
        model = build_policy_model(
            cfg,
            obs_dim=6,
            act_dim=3,
            obs_horizon=1,
            action_horizon=4,
            obs_normalizer=Normalizer.fit(torch.randn(100, 6)),
            action_normalizer=Normalizer.fit(torch.randn(50, 3)),
            action_low=low,
            action_high=high,
        )
        box_low, box_high = model.normalized_bounds()
        with torch.no_grad():
            y = model.sample_normalized(model.context(torch.randn(50, 1, 6) * 3), 4, 3.0)
        assert bool(((y >= box_low - 1e-5) & (y <= box_high + 1e-5)).all()), inference


def test_default_inference_is_ten_ddim_steps_and_ddpm_a_hundred(toy_file):
    model, _ = make_baseline(toy_file, "diffusion")
    assert type(model.scheduler).__name__ == "DDIMScheduler"
    assert model.scheduler.timesteps.tolist() == list(range(90, -1, -10))
    ddpm, _ = make_baseline(
        toy_file, "diffusion", diffusion=DiffusionConfig(inference="ddpm", inference_steps=100)
    )
    assert type(ddpm.scheduler).__name__ == "DDPMScheduler"
    assert ddpm.scheduler.timesteps.tolist() == list(range(99, -1, -1))


@pytest.mark.parametrize("batched", [False, True])
def test_state_dict_round_trip_gives_identical_samples(toy_file, batched):
    model, data = make_baseline(toy_file, "diffusion")
    fit(model, first_windows(data), steps=5)
    torch.manual_seed(7)
    other, _ = make_model(toy_file, "diffusion", unet=model.cfg.unet, obs_monitor=False)
    other.load_state_dict(model.state_dict())
    obs = torch.utils.data.default_collate([data[i] for i in range(3 if batched else 1)])["obs"]
    draws = []
    for m in (model.eval(), other.eval()):
        torch.manual_seed(3)
        draws.append(m.sample_chunk(obs))
    assert draws[0].shape == (len(obs), 4, 3)
    assert torch.equal(draws[0], draws[1])


@pytest.fixture(scope="module")
def diffusion_run(toy_file, tmp_path_factory):
    return train_tiny_run(toy_file, "diffusion", tmp_path_factory.mktemp("diffusion_run"))


def test_policy_from_checkpoint_samples_like_the_saved_ema_model(diffusion_run, toy_file):
    path = diffusion_run["checkpoints"]["last"]
    policy = FlowPolicy.from_checkpoint(path)
    assert policy.kind == "diffusion" and policy.n_action_steps == 2 and policy.temperature == 1.0
    model, _ = make_model(
        toy_file,
        "diffusion",
        encoder_hidden=(16,),
        context_features=8,
        monitor_steps=5,
        unet=policy.model.cfg.unet,
    )
    model.load_state_dict(load_checkpoint(path)["ema"])
    obs = np.zeros((5, 6), dtype=np.float32)
    torch.manual_seed(4)
    chunk = policy.predict_action_chunk(obs)
    torch.manual_seed(4)
    expected = model.eval().sample_chunk(torch.from_numpy(obs)[:, None])
    assert chunk.shape == (5, 4, 3)
    np.testing.assert_array_equal(chunk, expected.numpy())
    assert policy.select_action(obs[0]).shape == (3,)
    assert np.isfinite(policy.model.obs_log_prob(torch.zeros(2, 6)).numpy()).all()  # the monitor still works


def test_log_prob_and_best_of_are_refused_with_clear_errors(diffusion_run):
    policy = FlowPolicy.from_checkpoint(diffusion_run["checkpoints"]["last"])
    obs = np.zeros(6, dtype=np.float32)
    with pytest.raises(TypeError, match="'diffusion' model has no exact density"):
        policy.log_prob(obs, np.zeros((4, 3), dtype=np.float32))
    with pytest.raises(
        ValueError, match="best_of=3 ranks samples by log-density; the 'diffusion' model has none"
    ):
        FlowPolicy.from_checkpoint(diffusion_run["checkpoints"]["last"], best_of=3).select_action(obs)
