r"""The ``diffusion`` baseline: Diffusion Policy (Chi et al., RSS 2023, arXiv:2303.04137) in this house.

On the normalized flat chunk ``y_0 = normalize(a)`` with ``alpha_bar_t`` from diffusers' beta schedule
(``squaredcos_cap_v2``: the cosine schedule of Nichol & Dhariwal 2021), training is DDPM's (Ho et al. 2020):

    t ~ U{0..T-1},  eps ~ N(0, I),  y_t = sqrt(alpha_bar_t) y_0 + sqrt(1 - alpha_bar_t) eps,
    loss = mean || f(y_t, t, c) - target ||^2,   target = eps ("epsilon") or y_0 ("sample"),

with ``f`` the conditional 1-D U-Net (``policy/unet1d.py``) on the encoder's context ``c``.  Sampling starts
from ``y_T ~ N(0, T_s^2 I)`` (``T_s`` the sampling temperature, 1 = the model) and walks the scheduler's
timesteps.  At each step the prediction becomes a clean-chunk estimate

    y0_hat = (y_t - sqrt(1 - alpha_bar_t) f) / sqrt(alpha_bar_t)   (epsilon),   y0_hat = f   (sample),

clamped per dimension into the normalized action box when ``clip_sample`` (Diffusion Policy clamps to
[-1, 1] because it min-max normalizes; the box here is the one the flow's ``Bounded`` layer uses), and the
scheduler's update (DDIM with eta = 0, or DDPM's ancestral step, both from ``diffusers``) is handed that
estimate (the schedulers are built with ``prediction_type="sample"``).  DDPM's injected noise is not
tempered.  The returned raw chunk is clamped into the action box, as the mse / gmm outputs are.

The inference scheduler is configured once at construction (``set_timesteps``) and only read afterwards
(``step`` keeps no state), so one model may sample from several threads.  ``diffusers`` is imported when a
model is built (the ``baselines`` extra), not when ``robo_flows`` is.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch

from robo_flows.config.schema import DiffusionConfig, ModelConfig
from robo_flows.policy.models.base import PolicyModel
from robo_flows.policy.unet1d import ConditionalUnet1d

Denoiser = Callable[[torch.Tensor, int], torch.Tensor]


def _diffusers() -> Any:
    try:
        import diffusers
    except ImportError as exc:  # pragma: no cover - the baselines extra is part of the dev install
        raise ImportError(
            "model.kind 'diffusion' needs the diffusers package: pip install 'robo_flows[baselines]'"
        ) from exc
    return diffusers


def noise_schedule(cfg: DiffusionConfig) -> torch.Tensor:
    """``alpha_bar_t`` ``[train_timesteps]`` (float64) of the configured beta schedule (diffusers' betas)."""
    scheduler = _diffusers().DDPMScheduler(
        num_train_timesteps=cfg.train_timesteps, beta_schedule=cfg.beta_schedule, clip_sample=False
    )
    return scheduler.alphas_cumprod.double()


def inference_scheduler(cfg: DiffusionConfig, steps: int | None = None) -> Any:
    """A diffusers ``DDIMScheduler`` (eta = 0 at ``step``) or ``DDPMScheduler`` set to ``steps`` timesteps
    (default ``cfg.inference_steps``), taking clean-chunk estimates (``prediction_type="sample"``)."""
    diffusers = _diffusers()
    common = {
        "num_train_timesteps": cfg.train_timesteps,
        "beta_schedule": cfg.beta_schedule,
        "clip_sample": False,
        "prediction_type": "sample",
    }
    if cfg.inference == "ddim":
        scheduler = diffusers.DDIMScheduler(**common, set_alpha_to_one=True, steps_offset=0)
    else:
        scheduler = diffusers.DDPMScheduler(**common, variance_type="fixed_small")
    scheduler.set_timesteps(cfg.inference_steps if steps is None else int(steps))
    return scheduler


def denoise(
    predict_clean: Denoiser, scheduler: Any, y: torch.Tensor, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Run ``scheduler`` from ``y`` (the noise at its first timestep) to a clean sample.

    ``predict_clean(y_t, t)`` returns the clean-sample estimate ``y0_hat`` at the integer timestep ``t``
    (already clamped if clamping is wanted).  Shapes: ``y [B, D]`` -> ``[B, D]``.
    """
    for t in scheduler.timesteps.tolist():
        y = scheduler.step(predict_clean(y, t), t, y, generator=generator).prev_sample
    return y


class DiffusionChunkModel(PolicyModel):
    """``kind="diffusion"``: ``loss`` is the mean squared noise (or clean-chunk) error, normalized units."""

    kind = "diffusion"
    has_density = False
    clips_samples = True

    def __init__(self, cfg: ModelConfig, **dims: Any) -> None:
        super().__init__(cfg, **dims)
        d = cfg.diffusion
        self.net = ConditionalUnet1d.from_config(self.act_dim, cfg.context_features, cfg.unet)
        alpha_bar = noise_schedule(d)
        self.alpha_bar_list = alpha_bar.tolist()
        self.register_buffer("sqrt_alpha_bar", alpha_bar.sqrt().float(), persistent=False)
        self.register_buffer("sqrt_one_minus_alpha_bar", (1 - alpha_bar).sqrt().float(), persistent=False)
        self.scheduler = inference_scheduler(d)

    def chunk_loss(self, ctx: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
        y0 = self.normalize_chunk(actions)
        eps = torch.randn_like(y0)
        t = torch.randint(0, self.cfg.diffusion.train_timesteps, (y0.shape[0],), device=y0.device)
        y_t = self.sqrt_alpha_bar[t, None] * y0 + self.sqrt_one_minus_alpha_bar[t, None] * eps
        target = eps if self.cfg.diffusion.prediction == "epsilon" else y0
        return torch.mean((self.net.forward_chunk(y_t, t.to(y0.dtype), ctx) - target) ** 2)

    def clean_estimate(
        self, y_t: torch.Tensor, t: int, ctx: torch.Tensor, box: tuple[torch.Tensor, torch.Tensor]
    ) -> torch.Tensor:
        """``y0_hat`` of noisy flat chunks ``y_t [B, D]`` at timestep ``t``, clamped into ``box`` (the
        normalized action box, two ``[D]`` tensors) if ``clip_sample``; see the module docstring."""
        out = self.net.forward_chunk(y_t, torch.full((y_t.shape[0],), float(t), device=y_t.device), ctx)
        if self.cfg.diffusion.prediction == "epsilon":
            a = self.alpha_bar_list[t]
            out = (y_t - math.sqrt(1 - a) * out) / math.sqrt(a)
        if self.cfg.diffusion.clip_sample:
            out = torch.maximum(torch.minimum(out, box[1]), box[0])
        return out

    def sample_normalized(self, ctx: torch.Tensor, n: int, temperature: float) -> torch.Tensor:
        b = ctx.shape[0]
        ctx_n = ctx.repeat(n, 1)
        y = temperature * torch.randn(n * b, self.chunk_features, device=ctx.device, dtype=ctx.dtype)
        box = self.normalized_bounds()  # from the current normalizer and bounds (a loaded state_dict's)
        y = denoise(lambda y_t, t: self.clean_estimate(y_t, t, ctx_n, box), self.scheduler, y)
        return y.reshape(n, b, self.chunk_features)
